"""Replays decode frames as the live link does: the same bytes, the same mappings.

Golden and property tests feed the service from recordings through ``cti.replay``; they
only prove something about the live product if what they feed is what the live link
delivers. Here a recording's events, with the headers that broke the link in issue 18
(``ChanVariable`` lines, a repeated ``Uniqueid``, an ``Event`` twice), go once over real TCP
to our ``AmiConnection`` and once through ``recorded_messages``: the mappings are equal,
``ChanVariable`` a dict of variables in both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from recorded_asterisk import RecordedAsterisk

from cti.ami.connection import AmiConnection, AmiParams
from cti.ami.frames import FrameSplitter, encode_frame
from cti.replay import read_server_chunks, recorded_messages

CAPTURE = (
    Path(__file__).resolve().parents[4] / "shared" / "ami-captures" / "04-inbound-answered.jsonl"
)


def hostile_stream() -> bytes:
    """The recording's events, each given the repeated headers real installations send."""
    out = b""
    splitter = FrameSplitter()
    for _, data in read_server_chunks(CAPTURE):
        for frame in splitter.feed(data):
            if frame.event in (None, "FullyBooted") or frame.get("ActionID"):
                continue
            headers = [
                *frame.headers,
                ("ChanVariable", "CTI_DID=0140000000"),
                ("ChanVariable", "AGENT=201"),
                ("Event", "Repeated"),
            ]
            if frame.get("Uniqueid"):
                headers.append(("Uniqueid", "repeated"))
            out += encode_frame(headers)
    return out


async def over_tcp(stream: bytes) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []

    def on_event(headers: Mapping[str, Any], at: float) -> None:
        if headers.get("Event") != "FullyBooted":  # the server's own, after the login
            received.append(dict(headers))

    server = RecordedAsterisk()
    await server.start()
    conn = AmiConnection(AmiParams(port=server.port, secret="cti-secret"), on_event)
    conn.start()
    try:
        await conn.wait_ready(10)
        base = conn.bytes_received
        await server.push(stream)
        async with asyncio.timeout(20):
            while conn.bytes_received < base + len(stream):
                await asyncio.sleep(0.001)
    finally:
        await conn.close()
        await server.stop()
    return received


def test_the_replay_hands_the_service_what_the_live_link_hands_it() -> None:
    stream = hostile_stream()
    live = asyncio.run(over_tcp(stream))
    text = stream.decode()
    half = len(text) // 2  # a replay's chunks are cut anywhere too
    replayed = [dict(m) for _, m in recorded_messages([(0.0, text[:half]), (1.0, text[half:])])]
    assert len(live) > 20
    assert replayed == live
    assert all(m["ChanVariable"] == {"CTI_DID": "0140000000", "AGENT": "201"} for m in live)
    assert all(m["Event"] != "Repeated" and m.get("Uniqueid") != "repeated" for m in live)
