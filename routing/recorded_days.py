"""Recorded calls turned into days the simulator replays (``routing.day_replay``).

Theory of operation: the product records each call once it ends (``interactions``): when it
reached its service's queue, which service, how it ended (answered, abandoned, overflowed),
how long it waited, how long it talked and who answered. ``recorded_days`` turns one
period's calls into one ``DaySpec`` and its ``CallPlan``s per day, for a given routing
configuration, so that two configurations replay exactly the same callers. What a record
does not say is estimated the same way for every configuration, without randomness that
depends on anything but the call's own id:

* arrival: the moment the call reached its queue (seconds since the day's midnight);
* talk time: the recorded one; a call that was not answered talks for its service's
  average recorded talk time over the period (``DEFAULT_TALK_S`` if none was answered);
* patience: a caller who hung up waited exactly her patience; for the others patience is
  only known to be longer than their wait. Patience is taken exponential (memoryless), its
  mean estimated per service as total wait / abandoned calls (the estimate for censored
  data), capped at ``MAX_PATIENCE_MEAN_S``; their patience is their wait plus a draw of
  that law seeded by the call's id;
* staff: an agent who answered calls that day is logged in from ``PRESENCE_MARGIN_S``
  before her first answer to as long after her last call; an agent absent from the
  records (one the draft adds) is logged in from the day's first arrival to its last call's
  end, with the same margins. Agents missing from the configuration are not staffed.
  Offers are always answered, after 2 to 6 s of ringing (the ring draws are seeded by the
  call's id too).
"""

from __future__ import annotations

import math
import random
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from routing.day_model import AppQueueSpec, DaySpec, RingSpec, StaffSchedule
from routing.day_records import Outcome
from routing.model import EngineConfig
from routing.traffic import CallPlan

DEFAULT_TALK_S = 180.0
MAX_PATIENCE_MEAN_S = 1800.0
PRESENCE_MARGIN_S = 900.0
MIN_PATIENCE_S = 1.0
RING = RingSpec(timeout_s=20.0, answer_delay_s=(2.0, 6.0), unpause_after_s=120.0)


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One recorded call that reached a service queue."""

    call_id: str
    day: date  # the town hall's (Paris) day
    queued_at: float  # seconds since that day's midnight
    service: str
    outcome: Outcome
    wait_s: float
    talk_s: float | None = None
    agent: str | None = None  # who answered

    @property
    def ended_talk_at(self) -> float:
        return self.queued_at + self.wait_s + (self.talk_s or 0.0)


@dataclass(frozen=True, slots=True)
class RecordedDay:
    day: date
    spec: DaySpec
    calls: tuple[CallPlan, ...]


@dataclass(frozen=True, slots=True)
class Estimates:
    """What the period's records say about each service's callers."""

    talk_mean_s: dict[str, float]
    patience_mean_s: dict[str, float]


def estimate(calls: Iterable[RecordedCall]) -> Estimates:
    talks: dict[str, list[float]] = defaultdict(list)
    waits: dict[str, float] = defaultdict(float)
    abandoned: dict[str, int] = defaultdict(int)
    for call in calls:
        waits[call.service] += call.wait_s
        if call.outcome is Outcome.ABANDONED:
            abandoned[call.service] += 1
        if call.outcome is Outcome.ANSWERED and call.talk_s is not None:
            talks[call.service].append(call.talk_s)
    return Estimates(
        talk_mean_s={s: sum(t) / len(t) for s, t in talks.items()},
        patience_mean_s={
            s: min(MAX_PATIENCE_MEAN_S, total / abandoned[s] if abandoned[s] else math.inf)
            for s, total in waits.items()
        },
    )


def _plan(call: RecordedCall, estimates: Estimates) -> CallPlan:
    rng = random.Random(call.call_id)  # a str seed is hashed with SHA-512: stable everywhere
    if call.outcome is Outcome.ABANDONED:
        patience = max(MIN_PATIENCE_S, call.wait_s)
    else:
        mean = estimates.patience_mean_s.get(call.service, MAX_PATIENCE_MEAN_S)
        patience = max(MIN_PATIENCE_S, call.wait_s + rng.expovariate(1 / mean))
    talk = call.talk_s
    if call.outcome is not Outcome.ANSWERED or talk is None:
        talk = estimates.talk_mean_s.get(call.service, DEFAULT_TALK_S)
    ring_seed = zlib.crc32(call.call_id.encode("utf-8"))
    return CallPlan(
        call.call_id, call.service, call.queued_at, patience, 0.0, ring_seed, talk_s=talk
    )


def _staff(calls: Sequence[RecordedCall], config: EngineConfig) -> dict[str, StaffSchedule]:
    first = min(c.queued_at for c in calls)
    last = max(c.ended_talk_at for c in calls)
    seen: dict[str, tuple[float, float]] = {}
    for call in calls:
        if call.outcome is not Outcome.ANSWERED or call.agent is None:
            continue
        answered = call.queued_at + call.wait_s
        start, end = seen.get(call.agent, (answered, call.ended_talk_at))
        seen[call.agent] = (min(start, answered), max(end, call.ended_talk_at))
    staff: dict[str, StaffSchedule] = {}
    for agent in sorted(config.agents):
        start, end = seen.get(agent, (first, last))
        shift = (max(0.0, start - PRESENCE_MARGIN_S), end + PRESENCE_MARGIN_S)
        staff[agent] = StaffSchedule(agent, (shift,), (), 0.0)
    return staff


def _recorded_agents(calls: Iterable[RecordedCall]) -> frozenset[str]:
    return frozenset(c.agent for c in calls if c.agent is not None)


def recorded_days(
    calls: Sequence[RecordedCall],
    config: EngineConfig,
    estimates: Estimates,
    known_agents: frozenset[str] | None = None,
) -> list[RecordedDay]:
    """One replayable day per recorded day, for ``config``, in date order.

    ``known_agents``: agents who keep their recorded presence (absent the days they answered
    nothing); the others (new in this configuration) work every day. Default: the agents
    found in the records. Calls of a service ``config`` lacks must be left out beforehand.
    """
    known = _recorded_agents(calls) if known_agents is None else known_agents
    by_day: dict[date, list[RecordedCall]] = defaultdict(list)
    for call in calls:
        by_day[call.day].append(call)
    days: list[RecordedDay] = []
    for day in sorted(by_day):
        day_calls = by_day[day]
        staff = {
            agent: schedule
            for agent, schedule in _staff(day_calls, config).items()
            if agent not in known or agent in _recorded_agents(day_calls)
        }
        spec = DaySpec(day.isoformat(), config, {}, staff, RING, AppQueueSpec())
        plans = tuple(sorted((_plan(c, estimates) for c in day_calls), key=lambda p: p.arrival))
        days.append(RecordedDay(day, spec, plans))
    return days
