"""An AMI stream cut anywhere over a real TCP link: every complete frame arrives once, in order.

TCP hands the client whatever the network delivered: half a frame, a read ending inside a
multi-byte UTF-8 character or inside the ``\\r\\n\\r\\n`` that closes a frame, a frame far
too long, a frame cut by a disconnect. Here a stream of recorded events (../shared/
ami-captures), marker frames (names in 2-, 3- and 4-byte UTF-8), frames with repeated
headers, frames with bytes that are not UTF-8 and oversized frames is written by the
recorded-behaviour server in chunks cut at positions hypothesis chooses (derandomised,
bounded), each chunk read by our ``AmiConnection`` before the next is written, so that
every cut is a read boundary. Some examples end with an unfinished frame and a dropped
link, then the reconnect.

Claims: every complete marker arrives exactly once, in order, with its name intact; the
link is never dropped by what it can skip (no reconnect but the ones we caused); nothing
escapes to the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from recorded_asterisk import RecordedAsterisk

from cti.ami.connection import AmiConnection, AmiParams
from cti.ami.frames import MAX_FRAME_CHARS, FrameSplitter, encode_frame
from cti.replay import read_server_chunks
from cti.service import CallService

CAPTURES = Path(__file__).resolve().parents[4] / "shared" / "ami-captures"
NAMES = ("Gaëlle Lefèvre", "Œuvray 電話", "Noël 🎄🔔")  # 2-, 3- and 4-byte characters
END = b"\r\n\r\n"
RAW = st.integers(0, 2**24)  # a position, folded onto a stream whose length is not drawn
RAW = st.integers(0, 2**24)


def recorded_events() -> list[bytes]:
    """Every event frame the recordings' server sent, as bytes (responses left out)."""
    frames: list[bytes] = []
    for path in sorted(CAPTURES.glob("[0-9]*.jsonl")):
        splitter = FrameSplitter()
        for _, data in read_server_chunks(path):
            frames += [
                encode_frame(f.headers)
                for f in splitter.feed(data)
                if f.event and not f.get("ActionID")
            ]
    return frames


CORPUS = recorded_events()


def marker(seq: int) -> bytes:
    return encode_frame(
        [
            ("Event", "UserEvent"),
            ("Privilege", "user,all"),
            ("UserEvent", "CutMarker"),
            ("Seq", str(seq)),
            ("Nom", NAMES[seq % len(NAMES)]),
        ]
    )


def not_utf8(frame: bytes, draw: st.DrawFn) -> bytes:
    """A recorded frame with bytes that are not UTF-8 in a value (never in the terminator)."""
    bad = draw(st.sampled_from([b"\xff", b"\xc3", b"\xe9t\xe9", b"\xf0\x9f\x8e", b"\xed\xa0\x80"]))
    at = frame.index(b": ") + 2
    return frame[:at] + bad + frame[at:]


def repeated(frame: bytes, draw: st.DrawFn) -> bytes:
    """A recorded frame with headers repeated as real installations repeat them
    (``ChanVariable`` lines) and as they broke the link (``Event`` or ``Uniqueid`` twice)."""
    lines = frame[: -len(END)].split(b"\r\n")
    extra = draw(
        st.lists(
            st.sampled_from([*lines, b"ChanVariable: CTI_DID=0140000000", b"ChanVariable: X"]),
            min_size=1,
            max_size=4,
        )
    )
    return b"\r\n".join(lines + extra) + END


def huge(chars: int) -> bytes:
    """A frame of ``chars`` two-byte characters (drawn as a size: its repr is short)."""
    return encode_frame([("Event", "UserEvent"), ("UserEvent", "Huge"), ("Data", "é" * chars)])


@dataclass(frozen=True)
class Plan:
    """One example: its frames (``None``: a marker, numbered when sent), the raw draws for
    the cuts (folded onto the stream once its length is known) and the unfinished frame."""

    parts: list[bytes | int | None]  # a frame, the size of a huge one, or a marker
    cuts: list[tuple[int, int]]
    unfinished: int | None


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    parts: list[bytes | int | None] = []
    kinds = st.sampled_from(["marker", "marker", "recorded", "repeated", "not-utf8", "huge"])
    for kind in draw(st.lists(kinds, min_size=1, max_size=8)):
        if kind == "marker":
            parts.append(None)
        elif kind == "recorded":
            parts.append(draw(st.sampled_from(CORPUS)))
        elif kind == "not-utf8":
            parts.append(not_utf8(draw(st.sampled_from(CORPUS)), draw))
        elif kind == "repeated":
            parts.append(repeated(draw(st.sampled_from(CORPUS)), draw))
        else:
            parts.append(draw(st.sampled_from([MAX_FRAME_CHARS + 1000, 2 * MAX_FRAME_CHARS])))
    cuts = draw(st.lists(st.tuples(st.integers(0, 2), RAW), max_size=12))
    return Plan(parts, cuts, draw(st.none() | RAW))


def cut_places(data: bytes) -> tuple[list[int], list[int]]:
    """Where decoders go wrong: inside each terminator, and inside multi-byte characters."""
    in_end: list[int] = []
    start = 0
    while (at := data.find(END, start)) >= 0:
        in_end += [at + 1, at + 2, at + 3, at + 4]
        start = at + 1
    # Before a continuation byte a character is split (the first 64 kB are enough).
    in_char = [i for i, byte in enumerate(data[:65536]) if byte & 0xC0 == 0x80]
    return [c for c in in_end if c < len(data)], in_char


def fold(data: bytes, cuts: list[tuple[int, int]]) -> list[int]:
    """The drawn cuts as positions: 0 anywhere, 1 inside a terminator, 2 inside a character."""
    in_end, in_char = cut_places(data)
    out = []
    for place, v in cuts:
        choices = [in_end, in_char][place - 1] if place else []
        out.append(choices[v % len(choices)] if choices else 1 + v % (len(data) - 1))
    return out


class Link:
    """The server, our connection and the call service behind it, on one event loop."""

    def __init__(self) -> None:
        self.server = RecordedAsterisk()
        self.service = CallService()
        self.markers: list[tuple[int, str]] = []
        self.loop_errors: list[dict[str, Any]] = []
        self.conn: AmiConnection | None = None
        self.drops = 0

    def on_event(self, headers: Mapping[str, Any], at: float) -> None:
        if headers.get("UserEvent") == "CutMarker":
            self.markers.append((int(str(headers.get("Seq"))), str(headers.get("Nom"))))
            return
        self.service.on_ami_event(headers, at)

    @property
    def connection(self) -> AmiConnection:
        assert self.conn is not None
        return self.conn

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: self.loop_errors.append(context))
        await self.server.start()
        params = AmiParams(
            port=self.server.port,
            secret="cti-secret",
            ping_interval=60.0,
            reconnect_min=0.01,
            reconnect_max=0.05,
        )
        self.conn = AmiConnection(params, self.on_event, self.service.on_resync)
        self.conn.start()
        await self.conn.wait_ready(10)

    async def write_cut(self, data: bytes, cuts: list[int]) -> None:
        """Write ``data`` in pieces; each is read by the client before the next is written."""
        base = self.connection.bytes_received
        bounds = [0, *sorted(set(cuts)), len(data)]
        for a, b in zip(bounds, bounds[1:], strict=False):
            if a == b:
                continue
            await self.server.push(data[a:b])
            await self.read_up_to(base + b)

    async def read_up_to(self, total: int) -> None:
        await until(lambda: self.connection.bytes_received >= total)

    async def drop_and_reconnect(self) -> None:
        self.drops += 1
        self.server.drop()
        await until(
            lambda: self.connection.reconnects == self.drops and self.connection.state == "ready"
        )

    async def stop(self) -> None:
        if self.conn is not None:
            await self.conn.close()
        await self.server.stop()


async def until(condition: Callable[[], bool], limit: float = 20.0) -> None:
    """Wait for ``condition`` (checked on each turn of the loop), failing after ``limit``."""
    async with asyncio.timeout(limit):
        while not condition():
            await asyncio.sleep(0.001)


def test_a_stream_cut_anywhere_delivers_every_complete_frame_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR)
    assert len(CORPUS) > 300
    with asyncio.Runner() as runner:
        link = Link()
        runner.run(link.start())
        seq = 0
        expected: list[tuple[int, str]] = []

        @settings(
            max_examples=100,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(plan=plans())
        # Found by this test: the end of an oversized frame split across two reads was not
        # seen, and the next frame was skipped with it.
        @example(plan=Plan(parts=[None, MAX_FRAME_CHARS + 1000], cuts=[(1, 4)], unfinished=0))
        def run_plan(plan: Plan) -> None:
            nonlocal seq
            # Numbers are given here, not in the strategy: an example hypothesis abandons
            # half-drawn must not leave a marker expected that was never sent.
            first, received = len(expected), len(link.markers)
            parts: list[bytes] = []
            for part in [*plan.parts, None]:  # something complete always ends the hostile part
                if part is None:
                    seq += 1
                    expected.append((seq, NAMES[seq % len(NAMES)]))
                    parts.append(marker(seq))
                else:
                    parts.append(huge(part) if isinstance(part, int) else part)
            stream = b"".join(parts)
            if plan.unfinished is not None:  # a frame cut by the disconnect: never delivered
                seq += 1
                cut_marker = marker(seq)
                stream += cut_marker[: 1 + plan.unfinished % (len(cut_marker) - 1)]
            runner.run(link.write_cut(stream, fold(stream, plan.cuts)))
            if plan.unfinished is not None:
                runner.run(link.drop_and_reconnect())
            # Frames are handled within the read that completes them: no waiting for them.
            assert link.markers[received:] == expected[first:]
            assert link.connection.reconnects == link.drops
            assert link.connection.state == "ready"
            assert link.loop_errors == []

        try:
            run_plan()
        finally:
            runner.run(link.stop())
    assert link.drops > 5  # the reconnect path was exercised, not only drawn
