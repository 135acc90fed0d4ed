"""Properties of the call tracker over the real recordings.

The tracker is judged on recordings it has never seen: other chunkings of the same bytes,
other calls happening at the same time. These tests build such streams from the recordings
we have and check that each call's life does not depend on them.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from panoramisk.message import Message

from cti.ami.events import parse_event
from cti.replay import read_server_chunks, recorded_messages, replay_chunks
from cti.tracker import CallTracker

CAPTURES = Path(__file__).resolve().parents[3] / "shared" / "ami-captures"
CALL_RECORDINGS = sorted(
    p for p in CAPTURES.glob("[0-9]*.jsonl") if "Event: Newchannel" in p.read_text()
)
# Asterisk restarting ends every call, so it cannot be overlaid on another scenario.
OVERLAYABLE = [p for p in CALL_RECORDINGS if not p.name.startswith("13")]


def _stream(path: Path) -> str:
    return "".join(data for _, data in read_server_chunks(path))


def _frames(path: Path) -> list[tuple[float, Message]]:
    return list(recorded_messages(read_server_chunks(path)))


def _by_call(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    calls: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        e = dict(e)
        e.pop("position", None)  # depends on the other calls waiting, by design
        calls[e["call_id"]].append(e)
    return dict(calls)


def _replay_frames(frames: list[tuple[float, dict[str, str]]]) -> list[dict[str, Any]]:
    tracker = CallTracker()
    out = []
    for t, headers in frames:
        event = parse_event(headers)
        if event is not None:
            out.extend(e.to_dict() for e in tracker.handle(event, t))
    return out


def test_recordings_with_calls_were_found() -> None:
    assert len(CALL_RECORDINGS) >= 12


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    recording=st.sampled_from(CALL_RECORDINGS),
    cuts=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=60),
)
def test_tcp_chunking_does_not_change_the_calls(recording: Path, cuts: list[int]) -> None:
    """The same bytes cut at other places (one byte, mid-header, mid-CRLF) give the same calls."""
    text = _stream(recording)
    chunks, pos, i = [], 0, 0
    while pos < len(text):
        step = cuts[i % len(cuts)]
        chunks.append((0.0, text[pos : pos + step]))
        pos += step
        i += 1
    expected = [
        {k: v for k, v in e.to_dict().items() if k != "at"}
        for e in replay_chunks((0.0, d) for _, d in read_server_chunks(recording))
    ]
    actual = [{k: v for k, v in e.to_dict().items() if k != "at"} for e in replay_chunks(chunks)]
    assert actual == expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.sampled_from(OVERLAYABLE),
    second=st.sampled_from(OVERLAYABLE),
    offset=st.floats(min_value=-10.0, max_value=10.0),
)
def test_a_call_lives_the_same_life_beside_another(
    first: Path, second: Path, offset: float
) -> None:
    """Two recordings played at once (interleaved by time) give each call the life it had alone."""
    if first == second:
        return
    a, b = _frames(first), _frames(second)
    shifted_b = [(t + offset, h) for t, h in b]
    merged = sorted(a + shifted_b, key=lambda item: item[0])  # stable: keeps each file's order
    alone = _by_call(_replay_frames(a)) | _by_call(_replay_frames(shifted_b))
    together = _by_call(_replay_frames(merged))
    assert together == alone


def test_every_call_starts_once_and_ends_once() -> None:
    for recording in CALL_RECORDINGS:
        for call_id, events in _by_call(_replay_frames(_frames(recording))).items():
            types = [e["type"] for e in events]
            assert types[0] == "CallArrived", (recording.name, call_id, types)
            assert types[-1] == "CallEnded", (recording.name, call_id, types)
            assert types.count("CallArrived") == 1 and types.count("CallEnded") == 1
            times = [e["at"] for e in events]
            assert times == sorted(times)


def test_tracker_forgets_calls_once_all_their_channels_are_gone() -> None:
    tracker = CallTracker()
    for recording in CALL_RECORDINGS:
        for t, headers in _frames(recording):
            event = parse_event(headers)
            if event is not None:
                tracker.handle(event, t)
    assert tracker.active_calls == []
    assert tracker.tracked_channel_count == 0
