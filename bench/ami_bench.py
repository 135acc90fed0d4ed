"""AMI throughput: raw socket vs panoramisk vs panoramisk + our parsing and call tracker.

One loopback TCP server streams the same bytes to each client: the banner, then the server
side of the real recordings (call scenarios), repeated until ``N`` events. Each client counts
what it received and we time from connect to the last event:

(a) raw: an asyncio Protocol that only counts ``\\r\\n\\r\\n`` frame ends;
(b) panoramisk: ``Manager`` with an event callback that counts;
(c) ours: the same Manager with our callback: typed parse + tracker, domain events counted.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from panoramisk import Manager

from cti.ami.events import parse_event
from cti.tracker import CallTracker

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT.parent / "shared" / "ami-captures"
BANNER = b"Asterisk Call Manager/11.0.0\r\n"


def recorded_stream(min_events: int) -> tuple[bytes, int]:
    """Event frames of the call recordings, repeated to reach ``min_events``."""
    frames: list[str] = []
    for path in sorted(CAPTURES.glob("[0-9]*.jsonl")):
        data = "".join(
            r["data"]
            for r in map(json.loads, path.read_text().splitlines())
            if r["dir"] == "server"
        )
        for block in data.split("\r\n\r\n"):
            # Shutdown makes panoramisk drop the link: not part of a steady stream.
            if (
                block.startswith("Event: ")
                and "ActionID:" not in block
                and not block.startswith("Event: Shutdown")
            ):
                frames.append(block + "\r\n\r\n")
    one = "".join(frames).encode()
    repeat = -(-min_events // len(frames))
    return one * repeat, len(frames) * repeat


async def _serve(payload: bytes) -> asyncio.Server:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(BANNER)
        view = memoryview(payload)
        for start in range(0, len(view), 65536):
            writer.write(view[start : start + 65536])
            await writer.drain()
        writer.close()

    return await asyncio.start_server(handler, "127.0.0.1", 0)


class _Counter(asyncio.Protocol):
    def __init__(self, done: asyncio.Future[int]) -> None:
        self.done = done
        self.frames = 0
        self.tail = b""

    def data_received(self, data: bytes) -> None:
        chunk = self.tail + data
        self.frames += chunk.count(b"\r\n\r\n")
        self.tail = chunk[-3:]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(self.frames)


async def _raw(port: int, expected: int) -> float:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[int] = loop.create_future()
    start = time.perf_counter()
    await loop.create_connection(lambda: _Counter(done), "127.0.0.1", port)
    await asyncio.wait_for(done, timeout=300)
    return time.perf_counter() - start


async def _panoramisk(port: int, expected: int, on_event: Callable[[Any], None] | None) -> float:
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    count = 0

    def callback(manager: Manager, message: Any) -> None:
        nonlocal count
        count += 1
        if on_event is not None:
            on_event(message)
        if count >= expected and not done.done():
            done.set_result(None)

    manager = Manager(host="127.0.0.1", port=port, loop=loop, ping_delay=3600, ping_interval=3600)
    manager.register_event("*", callback)
    start = time.perf_counter()
    await manager.connect()
    await asyncio.wait_for(done, timeout=300)
    elapsed = time.perf_counter() - start
    manager.close()
    return elapsed


def _tracker_callback() -> tuple[Callable[[Any], None], list[int]]:
    tracker = CallTracker()
    produced = [0]
    clock = [0.0]

    def on_event(message: Any) -> None:
        event = parse_event(message)
        if event is not None:
            clock[0] += 0.001
            produced[0] += len(tracker.handle(event, clock[0]))

    return on_event, produced


async def run_async(n_events: int = 200_000, rounds: int = 3) -> list[str]:
    payload, expected = recorded_stream(n_events)
    server = await _serve(payload)
    port = server.sockets[0].getsockname()[1]
    raw, pano, ours = [], [], []
    produced = 0
    for _ in range(rounds):
        raw.append(await _raw(port, expected))
        pano.append(await _panoramisk(port, expected, None))
        callback, counter = _tracker_callback()
        ours.append(await _panoramisk(port, expected, callback))
        produced = counter[0]
    server.close()
    await server.wait_closed()
    a = expected / statistics.median(raw)
    b = expected / statistics.median(pano)
    c = expected / statistics.median(ours)
    return [
        f"AMI stream: {expected} events ({len(payload) / 1e6:.1f} MB) from the recordings, "
        f"median of {rounds} runs",
        f"  (a) raw socket read        {a:12,.0f} events/s",
        f"  (b) panoramisk parsing     {b:12,.0f} events/s",
        f"  (c) panoramisk + tracker   {c:12,.0f} events/s  ({produced} domain events)",
        f"  ratio c/b = {c / b:.2f} (goal >= 0.7)   ratio b/a = {b / a:.3f}",
    ]


def run(n_events: int = 200_000) -> list[str]:
    return asyncio.run(run_async(n_events))


if __name__ == "__main__":
    print("\n".join(run()))
