"""Hostile AMI frames over a real TCP link: nothing escapes, the link stays, the rest arrives.

Frames of the recordings (../shared/ami-captures) are mutated (a header repeated, dropped,
emptied, its value replaced by any text or by bytes that are not UTF-8, a line that is not
a header, an oversized value) and pushed by the recorded-behaviour server to our
``AmiConnection``, in the same TCP write as a valid frame behind them. Behind the connection
is the real call service (tracker included). Every example must leave the link up (no
reconnect), raise nothing out of ``data_received`` (asyncio would log it and drop the link)
and deliver the valid frame.

One link serves every example (bounded and derandomised): a link that survives them all is
the claim.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from recorded_asterisk import RecordedAsterisk

from cti.ami.connection import AmiConnection, AmiParams
from cti.ami.frames import FrameSplitter, encode_frame
from cti.replay import read_server_chunks
from cti.service import CallService

CAPTURES = Path(__file__).resolve().parents[4] / "shared" / "ami-captures"
OVERSIZED = 300 * 1024  # beyond the connection's bound on one frame


def recorded_events() -> list[list[tuple[str, str]]]:
    """Every event frame the recordings' server sent (responses left out)."""
    frames: list[list[tuple[str, str]]] = []
    for path in sorted(CAPTURES.glob("[0-9]*.jsonl")):
        splitter = FrameSplitter()
        for _, data in read_server_chunks(path):
            frames += [f.headers for f in splitter.feed(data) if f.event and not f.get("ActionID")]
    return frames


CORPUS = recorded_events()

header_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"),
    max_size=40,
)


@st.composite
def mutated_frame(draw: st.DrawFn) -> bytes:
    """One recorded event, mutated, as the bytes of one complete AMI frame."""
    headers: list[tuple[bytes, bytes]] = [
        (k.encode(), v.encode()) for k, v in draw(st.sampled_from(CORPUS))
    ]
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(headers) - 1))
        key, value = headers[i]
        kind = draw(
            st.sampled_from(
                ["repeat", "repeat-other", "drop", "empty", "text", "bytes", "junk", "chanvar"]
            )
        )
        if kind == "repeat":  # Event: Hangup twice, two Uniqueid...
            headers.insert(draw(st.integers(0, len(headers))), (key, value))
        elif kind == "repeat-other":
            headers.append((key, draw(header_text).encode()))
        elif kind == "drop" and len(headers) > 1:
            del headers[i]
        elif kind == "empty":
            headers[i] = (key, b"")
        elif kind == "text":
            headers[i] = (key, draw(header_text).encode())
        elif kind == "bytes":  # anything but the end of a line: invalid UTF-8 included
            raw = draw(st.binary(max_size=24)).replace(b"\r", b"").replace(b"\n", b"")
            headers[i] = (key, raw)
        elif kind == "junk":
            headers.insert(i, (draw(header_text).encode(), b""))
        elif kind == "chanvar":
            headers.append((b"ChanVariable", draw(header_text).encode()))
    if draw(st.integers(0, 40)) == 0:
        headers.append((b"Data", b"x" * OVERSIZED))
    lines = [k + b": " + v if v or k else k for k, v in headers]
    return b"".join(line + b"\r\n" for line in lines if line) + b"\r\n"


def sentinel(n: int) -> bytes:
    return encode_frame(
        [
            ("Event", "UserEvent"),
            ("Privilege", "user,all"),
            ("Channel", "none"),
            ("Uniqueid", "none"),
            ("UserEvent", "FuzzSentinel"),
            ("Seq", str(n)),
        ]
    )


class Link:
    """The server, our connection and the call service behind it, on one event loop."""

    def __init__(self) -> None:
        self.server = RecordedAsterisk()
        self.service = CallService()
        self.sentinels: list[str] = []
        self.arrived = asyncio.Event()
        self.loop_errors: list[dict[str, Any]] = []
        self.conn: AmiConnection | None = None

    def on_event(self, headers: Mapping[str, Any], at: float) -> None:
        if headers.get("UserEvent") == "FuzzSentinel":
            self.sentinels.append(str(headers.get("Seq")))
            self.arrived.set()
        self.service.on_ami_event(headers, at)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: self.loop_errors.append(context))
        await self.server.start()
        params = AmiParams(
            port=self.server.port,
            secret="cti-secret",
            ping_interval=60.0,
            reconnect_min=0.05,
            reconnect_max=0.2,
        )
        self.conn = AmiConnection(params, self.on_event, self.service.on_resync)
        self.conn.start()
        await self.conn.wait_ready(10)

    async def send(self, bad: bytes, n: int) -> None:
        self.arrived.clear()
        await self.server.push(bad + sentinel(n))
        while str(n) not in self.sentinels:
            await asyncio.wait_for(self.arrived.wait(), 10)
            self.arrived.clear()

    async def stop(self) -> None:
        if self.conn is not None:
            await self.conn.close()
        await self.server.stop()


def test_mutated_recorded_frames_never_drop_the_link(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    assert len(CORPUS) > 300
    with asyncio.Runner() as runner:
        link = Link()
        runner.run(link.start())
        sent = 0

        @settings(
            max_examples=150,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(frames=st.lists(mutated_frame(), min_size=1, max_size=3))
        def example(frames: list[bytes]) -> None:
            nonlocal sent
            for bad in frames:
                sent += 1
                runner.run(link.send(bad, sent))
            assert link.conn is not None
            assert link.conn.state == "ready" and link.conn.reconnects == 0
            assert link.loop_errors == []

        try:
            example()
            assert link.sentinels == [str(n) for n in range(1, sent + 1)]
        finally:
            runner.run(link.stop())
