"""The call service lets a card leave before it goes on (``send_first``), in the same order.

A listener that queued something an agent waits for asks the service to yield: the other
listeners and the frames after it wait one turn of the event loop. Whatever the yields, every
listener must see the same events in the same order as without them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cti.ami.frames import FrameSplitter
from cti.replay import read_server_chunks
from cti.service import MAX_BACKLOG, CallService
from cti.tracker.events import DomainEvent

CAPTURES = Path(__file__).resolve().parents[2].parent / "shared" / "ami-captures"
RECORDINGS = {
    name: CAPTURES / f"{name}.jsonl"
    for name in (
        "04-inbound-answered",
        "05-no-answer-requeue",
        "07-blind-transfer",
        "14-two-simultaneous-calls",
    )
}


def _frames(path: Path) -> list[dict[str, str]]:
    splitter = FrameSplitter()
    return [f.as_dict() for _, data in read_server_chunks(path) for f in splitter.feed(data)]


class Listeners:
    """A first listener that may ask to send first, a second that only records."""

    def __init__(self, service: CallService, yield_on: set[int] | None = None) -> None:
        self.service = service
        self.log: list[str] = []
        self.first: list[DomainEvent] = []
        self.second: list[DomainEvent] = []
        self.yield_on = yield_on  # indices of events (as the first sees them); None: offers
        service.add_listener(self.on_first)
        service.add_listener(self.on_second)

    def on_first(self, event: DomainEvent) -> None:
        n = len(self.first)
        self.first.append(event)
        self.log.append(f"first {event.type}")
        wanted = event.type == "CallOffered" if self.yield_on is None else n in self.yield_on
        if wanted:
            loop = asyncio.get_running_loop()
            loop.call_soon(self.log.append, f"sent {event.type}")  # what the card's send is
            self.service.send_first()

    def on_second(self, event: DomainEvent) -> None:
        self.second.append(event)
        self.log.append(f"second {event.type}")


async def test_the_card_leaves_before_the_other_listeners_and_the_rest_of_the_chunk() -> None:
    service = CallService()
    listeners = Listeners(service)
    frames = _frames(RECORDINGS["04-inbound-answered"])
    for frame in frames:  # the whole recording as one chunk, in one callback
        service.on_ami_event(frame, 0.0)
    offered = listeners.log.index("first CallOffered")
    assert listeners.log[offered + 1 :] == []  # the rest waits for the loop
    done = asyncio.Event()
    asyncio.get_running_loop().call_soon(done.set)
    await done.wait()
    assert listeners.log[offered : offered + 3] == [
        "first CallOffered",
        "sent CallOffered",
        "second CallOffered",
    ]
    assert [e.type for e in listeners.second] == [e.type for e in listeners.first]
    assert "CallEnded" in [e.type for e in listeners.second]


async def test_a_resync_or_a_link_change_first_does_the_work_put_off() -> None:
    service = CallService()
    listeners = Listeners(service)
    for frame in _frames(RECORDINGS["04-inbound-answered"]):
        service.on_ami_event(frame, 0.0)
    service.on_link_state("disconnected")
    assert [e.type for e in listeners.second] == [e.type for e in listeners.first]
    assert "CallEnded" in [e.type for e in listeners.second]


def test_without_an_event_loop_nothing_is_put_off() -> None:
    service = CallService()
    seen: list[str] = []
    service.add_listener(lambda event: service.send_first())
    service.add_listener(lambda event: seen.append(event.type))
    for frame in _frames(RECORDINGS["04-inbound-answered"]):
        service.on_ami_event(frame, 0.0)
    assert "CallOffered" in seen and seen[-1] == "CallEnded"


def test_a_page_told_outside_the_services_dispatch_does_not_hold_the_next_event() -> None:
    service = CallService()
    seen: list[str] = []
    service.add_listener(lambda event: seen.append(event.type))

    async def run() -> None:
        service.send_first()  # e.g. an agent's state sent from a web request
        for frame in _frames(RECORDINGS["04-inbound-answered"]):
            service.on_ami_event(frame, 0.0)
        assert seen[-1] == "CallEnded"

    asyncio.run(run())


def _plain(frames: list[dict[str, str]]) -> list[DomainEvent]:
    service = CallService()
    seen: list[DomainEvent] = []
    service.add_listener(seen.append)
    for frame in frames:
        service.on_ami_event(frame, 0.0)
    return seen


@settings(max_examples=60, deadline=None)
@given(
    recording=st.sampled_from(sorted(RECORDINGS)),
    yields=st.sets(st.integers(0, 40)),
    cuts=st.sets(st.integers(1, 400)),
)
def test_listeners_see_the_same_events_in_the_same_order_whatever_the_yields(
    recording: str, yields: set[int], cuts: set[int]
) -> None:
    frames = _frames(RECORDINGS[recording])
    expected = _plain(frames)

    async def run() -> Listeners:
        service = CallService()
        listeners = Listeners(service, yield_on=yields)
        bounds = [0, *sorted(c for c in cuts if c < len(frames)), len(frames)]
        for start, end in zip(bounds, bounds[1:], strict=False):  # chunks, a loop turn apart
            for frame in frames[start:end]:
                service.on_ami_event(frame, 0.0)
            await asyncio.sleep(0)
        service.settle()
        return listeners

    listeners = asyncio.run(run())
    assert listeners.first == expected
    assert listeners.second == expected
    sent = [entry for entry in listeners.log if entry.startswith("sent")]
    assert len(sent) == len([i for i in yields if i < len(expected)])


async def test_under_overload_the_work_put_off_stays_bounded_and_in_order() -> None:
    """More frames than the loop gets through, every event yielding: the backlog never grows
    past its bound (it is caught up at once), and every event is seen once, in order."""
    frames = _frames(RECORDINGS["14-two-simultaneous-calls"]) * 300
    alone = CallService()
    expected = Listeners(alone, yield_on=set())
    for n, frame in enumerate(frames):
        alone.on_ami_event(frame, float(n))
    service = CallService()
    listeners = Listeners(service, yield_on=set(range(10**6)))  # every event yields
    highest = 0
    for n, frame in enumerate(frames):  # no loop turn between frames: a flood
        service.on_ami_event(frame, float(n))
        highest = max(highest, service.backlog)
    service.settle()
    assert highest <= MAX_BACKLOG + 1
    assert [e.to_dict() for e in listeners.second] == [e.to_dict() for e in expected.second]
