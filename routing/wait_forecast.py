"""A waiting caller's position and expected wait, from the routing engine's own view.

Theory of operation (pure: the engine's read-only views, the decisions it took and the time
in; numbers out; nothing here changes the engine):

* **Position** = 1 + the waiting calls that an agent able to take hers would take first.
  The engine gives a freed agent the call of the highest-priority service she qualifies
  for, then the highest call priority, then the longest wait (``routing.engine``), so a
  waiting call ``c'`` is ahead of ``c`` when it comes first in the order
  ``(-service priority, -call priority, since, call id)`` and its service shares with ``c``'s
  at least one logged-in agent who qualifies for both (at some relaxation step). A call
  ringing an agent is being served: it is not counted. A call held for its case owner is.
* **Expected wait**: each logged-in agent able to take her call gets the time she is next
  free: now when ready; for a ring, a ring and a handle time ahead; on a call, what is left
  of the service's mean talk time (at least a quarter of it: a call past its mean is not
  about to end) plus its wrap-up; in wrap-up, its end. Paused agents, agents at the front
  desk and agents who asked to leave after their call are not counted on: nobody knows
  when they come back. The calls ahead are then handed out in order, each to the agent
  free first, who is busy for that service's handle time (ring + talk + wrap-up); her own
  call goes to the agent who can take it first, an agent who only qualifies after a
  relaxation step not before her call reaches it. No agent to count on: no wait is given.
* **Handle times** (``HandleTimes``) come from the engine's decisions: an ``Offer`` then the
  agent ON_CALL is a ring, ON_CALL until she leaves it is a talk; per service, the mean of
  the last ``WINDOW``. Before the first call of a service: the mean of the others, else
  ``DEFAULT_TALK_S``.

What it leaves out, measured by the day simulator (``routing.day_report``): callers ahead
who will hang up (the forecast is then too long), calls of higher-priority services that
have not arrived yet (too short), and calls ahead that another service's agents take.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from routing.decisions import AgentStateChanged, Decision, Offer
from routing.model import EngineConfig, ServiceSpec
from routing.requirements import qualifying_level, requirements
from routing.states import AgentState
from routing.views import AgentView, WaitingCall

S = AgentState
WINDOW = 50  # talks and rings remembered per service
DEFAULT_TALK_S = 180.0  # a town hall's call, before any was measured
DEFAULT_RING_S = 5.0
RESIDUAL_SHARE = 0.25  # a call past its mean still has at least this share of it to go


class EngineView(Protocol):
    """What the forecast reads of the engine: ``routing.engine.RoutingEngine`` is one."""

    @property
    def config(self) -> EngineConfig: ...

    def waiting(self, service: str) -> list[WaitingCall]: ...

    def agents(self) -> list[AgentView]: ...


@dataclass(frozen=True, slots=True)
class Forecast:
    call_id: str
    service: str
    at: float
    position: int  # 1: the next call a capable agent takes
    wait_s: float | None  # expected remaining wait, from ``at``; None: nobody to count on
    same_service_position: int  # her rank in her own service's line (what app_queue says)


class HandleTimes:
    """Recent rings and talks per service, learnt from the engine's decisions."""

    def __init__(self) -> None:
        self._talks: dict[str, deque[float]] = {}
        self._rings: dict[str, deque[float]] = {}
        self._offered: dict[str, tuple[str, float]] = {}  # agent -> (service, at)
        self._talking: dict[str, tuple[str, float]] = {}  # agent -> (service, since)

    def observe(self, decisions: Iterable[Decision]) -> None:
        for d in decisions:
            if isinstance(d, Offer):
                self._offered[d.agent] = (d.service, d.at)
            elif isinstance(d, AgentStateChanged):
                self._state(d)

    def _state(self, d: AgentStateChanged) -> None:
        talking = self._talking.pop(d.agent, None)
        if talking is not None:
            service, since = talking
            self._talks.setdefault(service, deque(maxlen=WINDOW)).append(d.at - since)
        offered = self._offered.pop(d.agent, None)
        if d.state is S.ON_CALL and offered is not None:
            service, at = offered
            self._rings.setdefault(service, deque(maxlen=WINDOW)).append(d.at - at)
            self._talking[d.agent] = (service, d.at)

    def talking_since(self, agent: str) -> float | None:
        found = self._talking.get(agent)
        return None if found is None else found[1]

    def talk(self, service: str) -> float:
        return _mean(self._talks, service, DEFAULT_TALK_S)

    def ring(self, service: str) -> float:
        return _mean(self._rings, service, DEFAULT_RING_S)


def _mean(samples: Mapping[str, deque[float]], service: str, default: float) -> float:
    own = samples.get(service)
    if own:
        return sum(own) / len(own)
    every = [x for values in samples.values() for x in values]
    return sum(every) / len(every) if every else default


class Capability:
    """Which agent qualifies for which service, from which relaxation level (static for a
    configuration; rebuilt when it changes)."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.levels: dict[str, dict[str, int]] = {}  # service -> agent -> first level
        for name, spec in config.services.items():
            reqs = requirements(spec)
            self.levels[name] = {
                agent: level
                for agent, a in config.agents.items()
                if (level := qualifying_level(a.skills, reqs)) is not None
            }


def _order(spec: ServiceSpec, call: WaitingCall) -> tuple[int, int, float, str]:
    return (-spec.priority, -call.priority, call.since, call.call_id)


class Snapshot:
    """The engine's waiting calls and agents at one instant, read once for many forecasts."""

    def __init__(
        self, engine: EngineView, times: HandleTimes, now: float, capability: Capability
    ) -> None:
        config = engine.config
        self.now = now
        self.times = times
        self.services = config.services
        self.capability = capability
        self.agents = {a.agent: a for a in engine.agents()}
        online = {a for a, view in self.agents.items() if view.state is not S.OFFLINE}
        self.capable = {
            name: frozenset(a for a in levels if a in online)
            for name, levels in capability.levels.items()
        }
        self.calls: list[tuple[tuple[int, int, float, str], WaitingCall]] = sorted(
            (_order(self.services[name], call), call)
            for name in self.services
            for call in engine.waiting(name)
        )
        self.index = {call.call_id: i for i, (_, call) in enumerate(self.calls)}

    def handle(self, service: str) -> float:
        spec = self.services.get(service)
        wrap = spec.wrap_up_s if spec is not None else 0.0
        return self.times.ring(service) + self.times.talk(service) + wrap

    def free_at(self, view: AgentView) -> float | None:
        """When this agent can next take a call, or None if nobody knows."""
        now, times = self.now, self.times
        if view.pending is not None and view.pending is not S.READY:
            return None  # she leaves after this call
        if view.state is S.READY:
            if not view.phone_busy:
                return now
            return now + times.talk("") / 2  # a call of her own: half an average one
        if view.state is S.WRAP_UP:
            return max(now, view.wrap_up_until or now)
        service = view.service or ""
        spec = self.services.get(service)
        wrap = spec.wrap_up_s if spec is not None else 0.0
        if view.state is S.RINGING:
            return now + times.ring(service) + times.talk(service) + wrap
        if view.state is S.ON_CALL:
            talk = times.talk(service)
            since = times.talking_since(view.agent)
            left = talk / 2 if since is None else max(talk - (now - since), talk * RESIDUAL_SHARE)
            return now + left + wrap
        return None  # paused, at the front desk, offline

    def forecast(self, call_id: str) -> Forecast | None:
        """Her position and expected wait, or None if she is not waiting (ringing, gone)."""
        i = self.index.get(call_id)
        if i is None:
            return None
        _, call = self.calls[i]
        service = call.service
        mine = self.capable.get(service, frozenset())
        ahead = [
            other
            for _, other in self.calls[:i]
            if other.service == service or not mine.isdisjoint(self.capable[other.service])
        ]
        own_rank = 1 + sum(1 for other in ahead if other.service == service)
        return Forecast(
            call_id, service, self.now, len(ahead) + 1, self._wait(call, ahead, mine), own_rank
        )

    def _wait(
        self, call: WaitingCall, ahead: list[WaitingCall], mine: frozenset[str]
    ) -> float | None:
        free: list[tuple[float, str]] = []
        for agent in sorted(mine):
            at = self.free_at(self.agents[agent])
            if at is not None:
                free.append((at, agent))
        if not free:
            return None
        heapq.heapify(free)
        for other in ahead:
            at, agent = heapq.heappop(free)
            heapq.heappush(free, (at + self.handle(other.service), agent))
        spec = self.services[call.service]
        levels = self.capability.levels[call.service]
        best = math.inf
        for at, agent in free:
            level = levels[agent]
            reach = call.since + spec.relaxation[level - 1].after_s if level > 0 else call.since
            best = min(best, max(at, reach))
        return max(0.0, best - self.now)


class WaitForecaster:
    """Forecasts for the engine's waiting calls; feed it every decision the engine takes."""

    def __init__(self) -> None:
        self.times = HandleTimes()
        self._capability: Capability | None = None

    def observe(self, decisions: Iterable[Decision]) -> None:
        self.times.observe(decisions)

    def snapshot(self, engine: EngineView, now: float) -> Snapshot:
        config = engine.config
        if self._capability is None or self._capability.config is not config:
            self._capability = Capability(config)
        return Snapshot(engine, self.times, now, self._capability)

    def forecast(self, engine: EngineView, call_id: str, now: float) -> Forecast | None:
        return self.snapshot(engine, now).forecast(call_id)
