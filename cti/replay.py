"""``python -m cti.replay FILE.jsonl``: the life of the calls in a recorded AMI session.

Reads a recording in the format of ../shared/ami-captures (JSON Lines, one TCP read or write
per line: ``{"t": seconds, "dir": "server"|"client", "data": text}``), feeds what the server
sent through the same splitting, decoding (``frame_message``) and tracker as the live
service, and prints the domain events, one JSON object per line. ``at`` is the recording's
``t`` of the read that completed the frame.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from panoramisk.message import Message

from cti.ami.events import parse_event
from cti.ami.frames import FrameSplitter
from cti.ami.protocol import frame_message
from cti.tracker import CallTracker
from cti.tracker.events import DomainEvent


class RecordingError(ValueError):
    """A recording line that is not valid JSON of the expected shape."""

    def __init__(self, path: str, line_no: int, reason: str) -> None:
        super().__init__(f"{path}:{line_no}: {reason}")
        self.path = path
        self.line_no = line_no


def read_server_chunks(path: str | Path) -> Iterator[tuple[float, str]]:
    """``(t, data)`` for every chunk the server sent, in order."""
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                t, direction, data = float(record["t"]), record["dir"], record["data"]
            except (ValueError, KeyError, TypeError) as exc:
                raise RecordingError(str(path), line_no, f"not a recording record ({exc})") from exc
            if direction == "server":
                yield t, data


def recorded_messages(chunks: Iterable[tuple[float, str]]) -> Iterator[tuple[float, Message]]:
    """Every frame of ``chunks`` as the live link hands it to the service (the same
    splitter, the same ``frame_message``: repeated headers collapsed, ``ChanVariable``
    lines a dict), with the ``t`` of the read that completed it."""
    splitter = FrameSplitter()
    for t, data in chunks:
        for frame in splitter.feed(data):
            message = frame_message(frame)
            if message is not None:
                yield t, message


def replay_chunks(chunks: Iterable[tuple[float, str]]) -> Iterator[DomainEvent]:
    tracker = CallTracker()
    for t, message in recorded_messages(chunks):
        event = parse_event(message)
        if event is not None:
            yield from tracker.handle(event, t)


def replay(path: str | Path) -> list[DomainEvent]:
    return list(replay_chunks(read_server_chunks(path)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cti.replay",
        description="Print the domain events derived from a recorded AMI session.",
    )
    parser.add_argument("recording", help="a .jsonl recording (see ../shared/ami-captures)")
    args = parser.parse_args(argv)
    try:
        for event in replay(args.recording):
            sys.stdout.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
    except (OSError, RecordingError) as exc:
        print(f"cti.replay: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
