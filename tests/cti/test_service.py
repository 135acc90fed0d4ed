"""The call service hands each AMI event to the tracker and every listener, in order.

Recordings of a real Asterisk go through it frame by frame: every listener sees the tracker's
domain events in the order they happened, and a listener that fails is logged without
stopping the others.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from panoramisk.message import Message

from cti.ami.events import parse_event
from cti.replay import read_server_chunks, recorded_messages
from cti.service import CallService
from cti.tracker import CallTracker
from cti.tracker.events import DomainEvent

CAPTURES = Path(__file__).resolve().parents[2].parent / "shared" / "ami-captures"
RECORDINGS = (
    "04-inbound-answered",
    "05-no-answer-requeue",
    "07-blind-transfer",
    "14-two-simultaneous-calls",
)


def _frames(name: str) -> list[Message]:
    path = CAPTURES / f"{name}.jsonl"
    return [message for _, message in recorded_messages(read_server_chunks(path))]


@pytest.mark.parametrize("recording", RECORDINGS)
def test_every_listener_sees_the_trackers_events_in_order(recording: str) -> None:
    frames = _frames(recording)
    tracker = CallTracker()  # the same frames straight through a tracker of its own
    expected = [e for n, f in enumerate(frames) for e in _tracked(tracker, f, float(n))]
    service = CallService()
    first: list[DomainEvent] = []
    second: list[DomainEvent] = []
    service.add_listener(first.append)
    service.add_listener(second.append)
    for n, frame in enumerate(frames):
        service.on_ami_event(frame, float(n))
    assert [e.to_dict() for e in first] == [e.to_dict() for e in expected]
    assert second == first
    assert first and first[-1].type == "CallEnded"
    assert service.events_seen == len(frames)


def _tracked(tracker: CallTracker, frame: dict[str, str], at: float) -> list[DomainEvent]:
    event = parse_event(frame)
    return tracker.handle(event, at) if event is not None else []


def test_a_listener_that_fails_is_logged_and_the_others_go_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = CallService()
    seen: list[str] = []

    def broken(event: DomainEvent) -> None:
        if event.type == "CallOffered":
            raise RuntimeError("broken listener")

    service.add_listener(broken)
    service.add_listener(lambda event: seen.append(event.type))
    with caplog.at_level(logging.ERROR, logger="cti.service"):
        for frame in _frames("04-inbound-answered"):
            service.on_ami_event(frame, 0.0)
    assert "CallOffered" in seen and seen[-1] == "CallEnded"
    assert any("failed on CallOffered" in r.getMessage() for r in caplog.records)
