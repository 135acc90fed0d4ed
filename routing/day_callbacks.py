"""Callbacks in the replayed day: callers who gave up ask to be called back (our engine only).

Theory of operation: when a caller's patience runs out on a service whose routing
configuration has a ``callback:`` block, a draw fixed by her own seed decides whether she
asks to be called back instead (``CallbackSpec.share``; the draw is hers: it does not
depend on the router nor on the other callers). Her live leg still ends *abandoned*; her
request follows the production domain (``routing.callbacks``), on the simulated clock:

* it is a ``CallbackRequest`` asked at the moment she gave up, window « à la réouverture »
  (``rules.window_for``: at once while the town hall is open, else its next opening);
* ``CallbackQueue.sync`` hands the due ones (and the one on an agent's page) to the engine
  as callers who entered when they asked (``keeps_place``: never overflowed); the town hall
  is open from the first to the last slot of the scenario's profiles, every day alike;
* the engine's ``Offer`` of one is the agent's card: she accepts after a ring draw
  (``OfferAnswered``), then the citizen's phone rings: answered (ring, then the talk time
  she would have had on that service) or not (``no_answer``: the ring timeout, then
  ``rules.attempt_ended`` with NOANSWER: back in line after the service's spacing, until
  its attempts are used: failed). The agent is on the call the whole time; the engine's
  ``AgentFinished`` ends it and its wrap-up follows.

Requests still open when the day ends (a spacing past closing time, a caller who gave up
after it) stay pending: tomorrow's work. Draws are per request (its caller's seed), so the
day is deterministic; nothing here touches the live callers' draws.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from ivr_scripts.hours import WEEKDAYS, Calendar, WeeklyHours
from routing.callbacks import rules
from routing.callbacks.queueing import CallbackQueue, engine_call_id, request_id_of
from routing.callbacks.request import CallbackRequest, CallbackState, Source, Window
from routing.day_model import DaySpec
from routing.day_records import CallbackRecord
from routing.errors import RoutingError
from routing.events import CallQueued, Event, OfferAnswered

S = CallbackState
#: The simulated day's date: any, the calendar opens every day alike.
DAY = datetime(2026, 1, 6, tzinfo=UTC)
NO_ANSWER = "NOANSWER"


class CallbackWorldError(RoutingError):
    """The engine broke a rule of the callbacks (the message names the request and agent)."""


def instant(t: float) -> datetime:
    """The simulated clock's seconds since midnight as the domain's datetime."""
    return DAY + timedelta(seconds=t)


def seconds(at: datetime) -> float:
    return (at - DAY).total_seconds()


def _hhmm(t: float) -> str:
    minutes = int(t // 60)
    return f"{minutes // 60:02}:{minutes % 60:02}"


def town_hall_calendar(spec: DaySpec) -> Calendar:
    """Open from the first to the last slot of the day's profiles, every day."""
    start, end = spec.opening
    hours = f"{_hhmm(start)}-{_hhmm(min(end, 86400.0))}"
    weekly = WeeklyHours(**{day: [hours] for day in WEEKDAYS})
    return Calendar(timezone="UTC", weekly=weekly, public_holidays=False)


@dataclass(slots=True)
class _Attempt:
    agent: str
    offered_at: float
    status: str = ""
    status_at: float = 0.0  # when the citizen answered, or her phone stopped ringing
    ended_at: float | None = None


@dataclass(slots=True)
class _Asked:
    request: CallbackRequest
    leg_id: str
    asked_at: float  # on the simulated clock (the request's datetime rounds to the µs)
    talk_s: float  # the talk she would have had on her live call
    draws: random.Random
    attempts: list[_Attempt] = field(default_factory=list)


class CallbackDesk:
    """The simulated day's callback requests, between the callers and the engine."""

    def __init__(self, spec: DaySpec) -> None:
        self.spec = spec
        self.config = spec.callbacks
        self.calendar = town_hall_calendar(spec)
        self.close = spec.opening[1]
        self.queue = CallbackQueue()
        self.asked: dict[str, _Asked] = {}

    # ------------------------------------------------------------------ requests

    def wants(self, service: str, ring_seed: int, leg_id: str) -> bool:
        """Whether this caller, giving up on ``service``, asks to be called back instead."""
        if service not in self.config.services:
            return False
        return random.Random(f"ask:{ring_seed}:{leg_id}").random() < self.config.share

    def ask(
        self, leg_id: str, service: str, ring_seed: int, talk_s: float, at: float
    ) -> float | None:
        """Record her request; returns when it becomes due, if later today (else None).

        ``talk_s`` is the talk she would have had had her live call been answered."""
        when = instant(at)
        window, start, end = rules.window_for(Window.REOPENING, self.calendar, when)
        request = CallbackRequest(
            id=f"cb-{leg_id}",
            number="+33100000000",
            service=service,
            asked_at=when,
            window=window,
            window_start=start,
            window_end=end,
            source=Source.OVERFLOW,
            call_id=leg_id,
            updated_at=when,
        )
        draws = random.Random(f"callback:{ring_seed}:{leg_id}")
        self.asked[request.id] = _Asked(request, leg_id, at, talk_s, draws)
        due = seconds(start)
        return due if at < due < self.close else None

    def sync(self, at: float) -> list[Event]:
        """The engine's events that make it hold the due requests (and the offered ones)."""
        when = instant(at)
        wanted = [
            a.request
            for a in self.asked.values()
            if a.request.state is S.OFFERED or rules.is_due(a.request, self.calendar, when)
        ]
        events = self.queue.sync(wanted, at, self.spec.routing.services)
        # The domain gives the place in line in epoch seconds (production's clock); the
        # simulated clock counts from midnight: her place is when she asked, on it.
        return [
            replace(e, since=min(self._asked(e.call_id).asked_at, at))
            if isinstance(e, CallQueued)
            else e
            for e in events
        ]

    # ------------------------------------------------------------------ one attempt

    def offered(self, call_id: str, agent: str, at: float) -> float:
        """The engine offers the request to ``agent``: seconds until she accepts."""
        asked = self._asked(call_id)
        state = asked.request.state
        if state is not S.PENDING:
            raise CallbackWorldError(
                f"callback {asked.request.id} offered to {agent!r} while {state.value}"
            )
        asked.request = rules.offered(asked.request, agent, instant(at))
        asked.attempts.append(_Attempt(agent, at))
        low, high = self.spec.ring.answer_delay_s
        return low + asked.draws.random() * (high - low)

    def accepted(self, call_id: str, agent: str, at: float) -> tuple[list[Event], float]:
        """She accepts and the product calls: the engine's events and when the call ends."""
        asked = self._asked(call_id)
        request = asked.request
        if request.state is not S.OFFERED or request.agent != agent:
            raise CallbackWorldError(f"callback {request.id} accepted by {agent!r}: not hers")
        attempt = request.attempts + 1
        asked.request = rules.dialling(request, agent, f"sim-{request.id}-{attempt}", instant(at))
        self.queue.taken(request.id)
        ring = self.spec.ring
        answered = asked.draws.random() >= self.config.no_answer
        low, high = ring.answer_delay_s
        delay = low + asked.draws.random() * (high - low)
        step = asked.attempts[-1]
        if answered:
            step.status, step.status_at = rules.REACHED, at + delay
            end = at + delay + asked.talk_s
        else:
            step.status, step.status_at = NO_ANSWER, at + ring.timeout_s
            end = at + ring.timeout_s
        return [OfferAnswered(call_id, agent, at)], end

    def ended(self, call_id: str, at: float) -> float | None:
        """The callback's call ended: its outcome; returns when to look again, if today."""
        asked = self._asked(call_id)
        step = asked.attempts[-1]
        step.ended_at = at
        service = self.spec.routing.services[asked.request.service]
        asked.request = rules.attempt_ended(
            asked.request, step.status, service.callback, self.calendar, instant(step.status_at)
        )
        later = asked.request.not_before
        if asked.request.state is S.PENDING and later is not None and seconds(later) < self.close:
            return max(at, seconds(later))
        return None

    def _asked(self, call_id: str) -> _Asked:
        request_id = request_id_of(call_id)
        asked = self.asked.get(request_id or "")
        if asked is None:
            raise CallbackWorldError(f"no callback request behind call {call_id!r}")
        return asked

    # ------------------------------------------------------------------ the day's end

    def records(self) -> tuple[CallbackRecord, ...]:
        out = []
        for asked in sorted(self.asked.values(), key=lambda a: (a.request.asked_at, a.request.id)):
            r = asked.request
            reached = next((s.status_at for s in asked.attempts if s.status == rules.REACHED), None)
            out.append(
                CallbackRecord(
                    r.id,
                    asked.leg_id,
                    r.service,
                    asked.asked_at,
                    r.state.value,
                    r.attempts,
                    reached if r.state is S.REACHED else None,
                    tuple((s.agent, s.offered_at, s.ended_at) for s in asked.attempts),
                )
            )
        return tuple(out)


def is_callback(call_id: str) -> bool:
    return request_id_of(call_id) is not None


__all__ = ["CallbackDesk", "CallbackWorldError", "engine_call_id", "instant", "is_callback"]
