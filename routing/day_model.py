"""The simulator's view of a scenario: plain frozen dataclasses, no validation.

Theory of operation: ``routing.scenario`` validates a scenario YAML with pydantic and converts
it once into a ``DaySpec``; the traffic generator, the replay loop and the app_queue model
only read these. Times of day are seconds since midnight (08:30 is 30600.0), so the
simulated clock reads like a wall clock and the engine (which accepts any monotonic origin)
runs on it unchanged.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from routing.model import EngineConfig

SLOT_S = 1800.0  # traffic profiles and the chart use half-hour slots


class Strategy(enum.Enum):
    """The Asterisk app_queue strategies modelled as baselines."""

    RINGALL = "ringall"
    LEASTRECENT = "leastrecent"
    FEWESTCALLS = "fewestcalls"
    RRMEMORY = "rrmemory"


@dataclass(frozen=True, slots=True)
class ServiceTraffic:
    """Calls for one service over the day.

    ``slot_weights`` maps each half-hour slot start (seconds since midnight) to a weight;
    the expected calls of a slot are ``calls_per_day * weight / sum(weights)``. Handling
    times are log-normal with mean ``handle_mean_s`` and log-sigma ``handle_sigma``;
    patience is exponential with mean ``patience_mean_s``. ``transfers`` maps a target
    service to the share (0..1) of answered calls transferred to it after the talk.
    """

    service: str
    calls_per_day: float
    slot_weights: Mapping[float, float]
    handle_mean_s: float
    handle_sigma: float
    patience_mean_s: float
    transfers: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Break:
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class StaffSchedule:
    """When one agent works: logged in during each shift, paused during each break."""

    agent: str
    shifts: tuple[tuple[float, float], ...]  # sorted, disjoint
    breaks: tuple[Break, ...]  # sorted, each inside a shift
    no_answer: float  # probability that an offer to this agent is not answered


@dataclass(frozen=True, slots=True)
class RingSpec:
    timeout_s: float  # an unanswered offer fails after this (app_queue's ``timeout``)
    answer_delay_s: tuple[float, float]  # an answered offer rings uniformly this long
    unpause_after_s: float  # an agent paused for missed offers sets READY again after this


@dataclass(frozen=True, slots=True)
class AppQueueSpec:
    """Settings of the modelled app_queue queues (the same for every queue)."""

    retry_s: float = 5.0  # ``retry``: pause between two ring attempts of a caller
    shared_lastcall: bool = True  # ``shared_lastcall`` in [general]


@dataclass(frozen=True, slots=True)
class CallbackSpec:
    """Callbacks in the simulated day (our engine only: app_queue has none).

    ``share`` (0..1) of the callers whose patience runs out on a service in ``services`` ask
    to be called back instead (0: no callbacks, the day as before); ``no_answer`` (0..1) of
    the callback attempts find nobody (retried by the service's ``callback:`` rules).
    """

    share: float = 0.0
    no_answer: float = 0.25
    services: frozenset[str] = frozenset()

    @property
    def enabled(self) -> bool:
        return self.share > 0 and bool(self.services)


@dataclass(frozen=True, slots=True)
class DaySpec:
    name: str
    routing: EngineConfig
    traffic: Mapping[str, ServiceTraffic]
    staff: Mapping[str, StaffSchedule]
    ring: RingSpec
    app_queue: AppQueueSpec
    scale: float = 1.0  # multiplies every service's calls_per_day
    callbacks: CallbackSpec = CallbackSpec()

    @property
    def expected_calls(self) -> float:
        return self.scale * sum(t.calls_per_day for t in self.traffic.values())

    @property
    def opening(self) -> tuple[float, float]:
        """First slot start and last slot end over every service's profile."""
        starts = [s for t in self.traffic.values() for s in t.slot_weights]
        return (min(starts), max(starts) + SLOT_S)
