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
* **Expected wait**: the work ahead of her, over the agents who could take her call. Each
  call ahead weighs its service's handle time (ring + talk + wrap-up), times the share of
  its service's recent waiting callers who stayed until an offer (the others hung up or
  overflowed), times, for another service's call, the share of that service's agents who
  are also hers (the others take it elsewhere); her own call adds one handle time. Calls
  end one after another at random, about every handle time / agents, so the n-th in line
  waits about n such intervals (a queue whose servers are all busy): the work divided by
  the agents counted on. An agent counts when she is ready, ringing, on a call or in
  wrap-up; paused agents, agents at the front desk and agents who asked to leave after their
  call do not (nobody knows when they come back): with none, no wait is given. An agent who
  only qualifies after a relaxation step cannot take her call before it is reached.
  (Laying out each agent's own end of call instead was measured worse: the earliest of
  several uncertain ends comes much sooner than the earliest of their averages.)
* **Handle time**: learnt per service from the agents' own states (from ON_CALL to the end
  of the wrap-up: an exponential moving average, ``SMOOTHING``), plus ``RING_S``; until a
  call of the service has ended, ``RING_S + TALK_S`` plus its configured wrap-up.
* **Variability**: ``work / agents`` is the wait of a queue whose calls last an exponential
  time (as variable as their mean: a coefficient of variation of 1). Town-hall calls vary
  less, so agents free up more regularly and the line moves faster: the wait is scaled by
  ``(1 + cv²) / 2`` (Kingman's approximation), cv² learnt with the handle time (clamped to
  0.5-1.5 for the scale). Without it the forecast came out *too long*, not short: the
  signed median error (wait that followed minus forecast) was -6 to -13 s on the samples
  and -15 to -30 s on generated days with the constant; learning handle times alone made it
  longer on the samples (``-12 s``), as their learnt work exceeds 180 s on their slow
  services, hence the earlier "learning is worse". Median error before rounding, seeds 1-3:
  samples 26-33 -> 24-29 s; generated days 5, 13, 24, 27: 26.7 -> 22.5 s; held-out days 2,
  9, 16, 20, 30: 19.7 -> 16.8 s (2-4 s worse on the quiet days 2 and 20).
* **Who stayed**: of the calls given a forecast, those then offered to an agent stayed;
  those that overflowed, or that the edge says hung up (``left``), did not.

What it leaves out, measured by the day simulator (``routing.announce_report``): calls of
higher-priority services that have not arrived yet (counting them, from each service's
recent rate of offers times its handle time taken off the agents, made the forecast longer
still and worse: median error 27 -> 36 s), what each agent's call has already lasted, and
that only answered callers are scored (on a service where many give up, those answered
waited less than the forecast of everyone).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from routing.decisions import AgentStateChanged, Decision, Offer, Overflow
from routing.model import EngineConfig
from routing.records import CallRecord, CallStatus
from routing.requirements import qualifying_level, requirements
from routing.states import WORKING, AgentState
from routing.views import AgentView

S = AgentState
WINDOW = 50  # outcomes (stayed or left) remembered per service
SMOOTHING = 0.1  # weight of the newest handle time in the moving averages
TALK_S = 180.0  # a town hall's call (see the module's docstring)
RING_S = 5.0


class EngineView(Protocol):
    """What the forecast reads of the engine: ``routing.engine.RoutingEngine`` is one."""

    @property
    def config(self) -> EngineConfig: ...

    def call(self, call_id: str) -> CallRecord | None: ...

    def count_waiting(self, service: str, before: CallKey | None = None) -> int: ...


@dataclass(frozen=True, slots=True)
class Forecast:
    call_id: str
    service: str
    at: float
    position: int  # 1: the next call a capable agent takes
    wait_s: float | None  # expected remaining wait, from ``at``; None: nobody to count on
    same_service_position: int  # her rank in her own service's line (what app_queue says)


class Observations:
    """What the forecast learns from the engine's decisions: the agents' states and who of
    the callers given a forecast stayed until an offer."""

    def __init__(self) -> None:
        self._told: dict[str, str] = {}  # call id -> service, of the calls forecast
        self.states: dict[str, AgentState] = {}  # agent -> her state, as the engine said
        self.roster = 0  # moves whenever an agent logs in or out
        self._stayed: dict[str, deque[bool]] = {}  # per service: offered (True) or left
        self._serving: dict[str, str] = {}  # agent -> service of the last call offered her
        self._began: dict[str, tuple[str, float]] = {}  # agent on a call -> (service, since)
        self._work: dict[str, tuple[float, float]] = {}  # service -> (mean, mean of squares)

    def observe(self, decisions: Iterable[Decision]) -> None:
        for d in decisions:
            if isinstance(d, Offer):
                self._outcome(d.call_id, stayed=True)
                self._serving[d.agent] = d.service
            elif isinstance(d, Overflow):
                self._outcome(d.call_id, stayed=False)
            elif isinstance(d, AgentStateChanged):
                self._state(d)

    def forecast_for(self, call_id: str, service: str) -> None:
        """A forecast was made for this call: how it ends (offered or not) is counted."""
        self._told[call_id] = service

    def left(self, call_id: str) -> None:
        """The caller hung up while waiting (the shell or the simulator says so)."""
        self._outcome(call_id, stayed=False)

    def _outcome(self, call_id: str, stayed: bool) -> None:
        service = self._told.pop(call_id, None)
        if service is not None:
            self._stayed.setdefault(service, deque(maxlen=WINDOW)).append(stayed)

    def stays(self, service: str) -> float:
        """Share of the service's recent callers given a forecast who stayed until an
        offer (the others hung up or overflowed)."""
        outcomes = self._stayed.get(service)
        return sum(outcomes) / len(outcomes) if outcomes else 1.0

    def seed(self, views: Iterable[AgentView]) -> None:
        """The agents' states now (for an engine whose earlier decisions were not seen)."""
        for view in views:
            self.states[view.agent] = view.state
        self.roster += 1

    def work(self, service: str) -> tuple[float, float] | None:
        """The service's learnt handle time (talk and wrap-up, s) and its squared
        coefficient of variation, once a call of it has ended."""
        learnt = self._work.get(service)
        if learnt is None:
            return None
        mean, square = learnt
        return mean, max(0.0, square / (mean * mean) - 1.0) if mean > 0 else 1.0

    def _handled(self, agent: str, state: AgentState, at: float) -> None:
        """Time an agent's call from ON_CALL to the end of her wrap-up."""
        if state is S.ON_CALL:
            service = self._serving.get(agent)
            if service is not None:
                self._began[agent] = (service, at)
        elif state is not S.WRAP_UP and agent in self._began:
            service, since = self._began.pop(agent)
            took = at - since
            old = self._work.get(service)
            if old is None:
                self._work[service] = (took, took * took)
            else:
                mean, square = old
                self._work[service] = (
                    mean + SMOOTHING * (took - mean),
                    square + SMOOTHING * (took * took - square),
                )

    def _state(self, d: AgentStateChanged) -> None:
        before = self.states.get(d.agent, S.OFFLINE)
        self.states[d.agent] = d.state
        self._handled(d.agent, d.state, d.at)
        if (before is S.OFFLINE) is not (d.state is S.OFFLINE):
            self.roster += 1


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
        # Per service, the others whose calls may come first: as high a priority, and an
        # agent able to take both.
        self.related: dict[str, tuple[str, ...]] = {
            name: tuple(
                other
                for other, other_spec in sorted(config.services.items())
                if other != name
                and other_spec.priority >= spec.priority
                and not self.levels[name].keys().isdisjoint(self.levels[other].keys())
            )
            for name, spec in config.services.items()
        }


CallKey = tuple[int, float, str]  # (-call priority, since, call id): a service's order


class Snapshot:
    """The engine at one instant, read lazily and once, for one or many forecasts."""

    def __init__(
        self,
        engine: EngineView,
        observed: Observations,
        now: float,
        capability: Capability,
        capable: dict[str, frozenset[str]],
    ) -> None:
        self.engine = engine
        self.now = now
        self.observed = observed
        self.services = capability.config.services
        self.capability = capability
        self._capable = capable  # shared with the forecaster while nobody logs in or out

    def capable(self, service: str) -> frozenset[str]:
        """Logged-in agents who qualify for the service (at some relaxation level)."""
        found = self._capable.get(service)
        if found is None:
            states = self.observed.states
            found = self._capable[service] = frozenset(
                a
                for a in self.capability.levels[service]
                if states.get(a, S.OFFLINE) is not S.OFFLINE
            )
        return found

    def handle(self, service: str) -> float:
        learnt = self.observed.work(service)
        if learnt is not None:
            return RING_S + learnt[0]
        spec = self.services.get(service)
        wrap = spec.wrap_up_s if spec is not None else 0.0
        return RING_S + TALK_S + wrap

    def variability(self, service: str) -> float:
        """Kingman's ``(1 + cv²) / 2`` for the service's learnt handle times, clamped."""
        learnt = self.observed.work(service)
        if learnt is None:
            return 1.0
        return min(1.5, max(0.5, (1.0 + learnt[1]) / 2))

    def counted_on(self, agent: str) -> bool:
        """Whether this agent will take calls again soon (``routing.states.WORKING``)."""
        return self.observed.states.get(agent, S.OFFLINE) in WORKING

    def forecast(self, call_id: str) -> Forecast | None:
        """Her position and expected wait, or None if she is not waiting (ringing, gone)."""
        call = self.engine.call(call_id)
        if call is None or call.status not in (CallStatus.QUEUED, CallStatus.RESERVED):
            return None
        service, key = call.service, call.key
        own = self.engine.count_waiting(service, key)
        mine = self.capable(service)
        # Calls ahead per service: hers before her, then the services sharing her agents,
        # all of a higher-priority one, of an equal one those that came first.
        ahead: list[tuple[str, int, float]] = [(service, own, 1.0)]
        own_priority = self.services[service].priority
        for other in self.capability.related[service]:
            theirs = self.capable(other)
            shared = len(mine & theirs)
            if not shared:
                continue
            higher = self.services[other].priority > own_priority
            count = self.engine.count_waiting(other, None if higher else key)
            if count:
                ahead.append((other, count, shared / len(theirs)))
        self.observed.forecast_for(call_id, service)
        position = 1 + sum(count for _, count, _ in ahead)
        wait = self._wait(call, ahead, mine)
        return Forecast(call_id, service, self.now, position, wait, own + 1)

    def _wait(
        self, call: CallRecord, ahead: list[tuple[str, int, float]], mine: frozenset[str]
    ) -> float | None:
        counted = [a for a in sorted(mine) if self.counted_on(a)]
        if not counted:
            return None
        # Work ahead of her (each caller ahead may still hang up, as many as recently did;
        # another service's call falls to her agents in the share of its agents they are),
        # then her own call's turn.
        work = self.handle(call.service)
        for other, count, share in ahead:
            work += count * self.handle(other) * self.observed.stays(other) * share
        # Calls end one after another at random, about every handle time / agents: the
        # wait of the n-th in line is n such intervals (a queue with m servers all busy).
        estimate = self.now + work / len(counted) * self.variability(call.service)
        spec = self.services[call.service]
        levels = self.capability.levels[call.service]
        reach = min(
            call.since + spec.relaxation[levels[a] - 1].after_s if levels[a] > 0 else call.since
            for a in counted
        )
        return max(0.0, max(estimate, reach) - self.now)


class WaitForecaster:
    """Forecasts for the engine's waiting calls; feed it every decision the engine takes."""

    def __init__(self) -> None:
        self.observed = Observations()
        self._capability: Capability | None = None
        self._capable: dict[str, frozenset[str]] = {}
        self._capable_at: int | None = None

    def observe(self, decisions: Iterable[Decision]) -> None:
        self.observed.observe(decisions)

    def snapshot(self, engine: EngineView, now: float) -> Snapshot:
        config = engine.config
        if self._capability is None or self._capability.config is not config:
            self._capability = Capability(config)
            self._capable_at = None
        if self._capable_at != self.observed.roster:
            self._capable = {}
            self._capable_at = self.observed.roster
        return Snapshot(engine, self.observed, now, self._capability, self._capable)

    def forecast(self, engine: EngineView, call_id: str, now: float) -> Forecast | None:
        return self.snapshot(engine, now).forecast(call_id)

    def left(self, call_id: str) -> None:
        """The caller hung up while waiting."""
        self.observed.left(call_id)
