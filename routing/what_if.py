"""« Et si… » : the same recorded calls replayed with the configuration in force and a draft.

Theory of operation: ``compare`` keeps the calls of services both configurations know (the
others are counted in ``left_out``), builds each recorded day for each configuration
(``routing.recorded_days``: same callers, same patience, same talk times, same ring draws),
replays every day through a fresh ``RoutingEngine`` (``routing.day_replay``) and folds the
queue visits of all days per service (``Figures``: service level against that
configuration's own objective, average and 90th-percentile wait, abandoned and overflowed
calls). Agents the draft adds work every recorded day; everybody else works when the
records show them working. A draft equal to the configuration in force gives the very same
figures: nothing here reads a clock or draws a number not seeded by a call's id.
``routing.what_if_text`` says the differences in French.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from routing.day_records import LegRecord, Outcome
from routing.day_replay import replay
from routing.day_report import percentile
from routing.engine import RoutingEngine
from routing.model import EngineConfig
from routing.recorded_days import RecordedCall, estimate, recorded_days


@dataclass(frozen=True, slots=True)
class Figures:
    """One service's queue visits over the period under one configuration."""

    calls: int
    answered: int
    abandoned: int
    overflowed: int
    answered_in_time: int
    sl_target_pct: float
    sl_threshold_s: float
    avg_wait_s: float
    p90_wait_s: float

    @property
    def sl_pct(self) -> float | None:
        return 100 * self.answered_in_time / self.calls if self.calls else None

    @property
    def abandon_pct(self) -> float:
        return 100 * self.abandoned / self.calls if self.calls else 0.0

    @property
    def overflow_pct(self) -> float:
        return 100 * self.overflowed / self.calls if self.calls else 0.0


@dataclass(frozen=True, slots=True)
class ServiceComparison:
    service: str
    label: str
    current: Figures
    draft: Figures


@dataclass(frozen=True, slots=True)
class WhatIf:
    calls: int  # recorded calls replayed
    days: int  # recorded days they came from
    left_out: int  # calls of a service one of the configurations lacks
    added_agents: tuple[str, ...]  # agents the draft adds (they work every day)
    services: tuple[ServiceComparison, ...]

    @property
    def identical(self) -> bool:
        return all(s.current == s.draft for s in self.services)


def _figures(config: EngineConfig, service: str, legs: Sequence[LegRecord]) -> Figures:
    spec = config.services[service]
    waits = [leg.wait for leg in legs]
    answered = [leg for leg in legs if leg.outcome is Outcome.ANSWERED]
    return Figures(
        calls=len(legs),
        answered=len(answered),
        abandoned=sum(1 for leg in legs if leg.outcome is Outcome.ABANDONED),
        overflowed=sum(1 for leg in legs if leg.outcome is Outcome.OVERFLOWED),
        answered_in_time=sum(1 for leg in answered if leg.wait <= spec.sl_threshold_s),
        sl_target_pct=spec.sl_target_pct,
        sl_threshold_s=spec.sl_threshold_s,
        avg_wait_s=sum(waits) / len(waits) if waits else 0.0,
        p90_wait_s=percentile(waits, 90),
    )


def replay_period(
    calls: Sequence[RecordedCall], config: EngineConfig, known_agents: frozenset[str]
) -> dict[str, Figures]:
    """Every recorded day of ``calls`` replayed with ``config``: figures per service.

    Raises ``SimulationError`` if the engine breaks a rule of the simulated world."""
    estimates = estimate(calls)
    legs: dict[str, list[LegRecord]] = defaultdict(list)
    for day in recorded_days(calls, config, estimates, known_agents):
        routing = day.spec.routing  # phones rung together race as in the product
        parallel = routing.ring_together > 1
        record = replay(day.spec, day.calls, RoutingEngine(routing), "engine", parallel)
        for leg in record.legs:
            legs[leg.service].append(leg)
    return {name: _figures(config, name, legs.get(name, ())) for name in config.services}


def compare(calls: Sequence[RecordedCall], current: EngineConfig, draft: EngineConfig) -> WhatIf:
    """The recorded ``calls`` replayed with ``current`` and with ``draft``, side by side."""
    both = current.services.keys() & draft.services.keys()
    kept = [c for c in calls if c.service in both]
    recorded = frozenset(c.agent for c in kept if c.agent is not None)
    known = frozenset(current.agents) | recorded
    before = replay_period(kept, current, known)
    after = replay_period(kept, draft, known)
    # Services in order of the draft; those only one side has stay out (no calls kept).
    services = tuple(
        ServiceComparison(name, draft.services[name].label, before[name], after[name])
        for name in draft.services
        if name in both and (before[name].calls or after[name].calls)
    )
    return WhatIf(
        calls=len(kept),
        days=len({c.day for c in kept}),
        left_out=len(calls) - len(kept),
        added_agents=tuple(sorted(set(draft.agents) - known)),
        services=services,
    )
