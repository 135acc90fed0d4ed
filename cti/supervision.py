"""The supervisors' wallboard: a pure fold of calls, agents' states and the clock.

Theory of operation: ``SupervisionBoard`` is fed the tracker's domain events (``apply``), the
agents' state changes (``agent_state``), the routing configuration (``configure``) and the
time (``tick``); it never reads a clock and does no I/O. Its time is the latest instant it
was fed (inputs arriving late never move it back).

Per service and per local day (Europe/Paris; counters restart at midnight):

* *offered*: calls that waited for the service (a call counts once per service it waited for);
* each offered call has at most one *outcome* per service: answered (within the service's
  threshold or not), abandoned, or overflowed (the router's overflow or the dialplan's
  safety net), so ``answered + abandoned + overflowed <= offered``;
* the service level is ``answered within threshold / outcomes`` in percent, for the day and
  over the last 30 minutes (``None`` before any outcome);
* *waiting* calls are those queued for the service and not ringing, answered or gone (after
  a missed offer the call waits again); the longest wait counts from its entry in the queue.

Alerts are conditions with a key (kind, service or agent): an alert is raised when its
condition becomes true, stays one alert while it holds (``cleared_at`` is set when it stops
holding) and a new one is raised if it becomes true again. Supervisors acknowledge them.
The conditions: a service level under target over the last 30 minutes, a call waiting longer
than the service's maximum, a service open (``is_open``) with no logged-in agent able to
take it, an agent paused by the router for missed offers, records waiting for a database
that does not take them (``database``; its message follows the count), the product
running late (``overload``: AMI events or the event loop more than ``OVERLOAD_S`` behind, so
cards are late; its message follows the lag), and callbacks whose promised window ends
within 30 minutes or has ended (``callbacks``; ``cti.supervision_callbacks``).
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from cti import supervision_callbacks
from cti.supervision_alerts import (
    Alert,
    AlertBook,
    AlertEvent,
    AlertKind,
    Conditions,
)
from cti.supervision_callbacks import PromisedWindow
from cti.tracker import events as ev
from ivr_scripts import hours
from ivr_scripts.tree import Tree
from routing.decisions import NO_ANSWER_REASON
from routing.model import EngineConfig, ServiceSpec
from routing.requirements import qualifying_level, requirements

SL_WINDOW_S = 30 * 60.0
OFFLINE = "offline"
OVERLOAD_S = 5.0  # seconds behind past which the supervisors are told the cards are late

#: ``is_open(service, at)``: whether the service takes calls at epoch second ``at``.
IsOpen = Callable[[str, float], bool]


class Stage(enum.Enum):
    ARRIVED = "arrived"  # in the voice menu
    WAITING = "waiting"
    RINGING = "ringing"
    CONNECTED = "connected"
    ELSEWHERE = "elsewhere"  # transferred, overflowed, in the safety-net queue


@dataclass(frozen=True, slots=True)
class PastCall:
    """A call of today read back from the interactions table after a restart."""

    call_id: str
    service: str
    arrived_at: float
    outcome: str  # the interaction's outcome: answered, abandoned, overflow, safety_net...
    wait: float | None


@dataclass(slots=True)
class _Call:
    call_id: str
    caller_number: str | None
    caller_withheld: bool
    stage: Stage = Stage.ARRIVED
    since: float = 0.0
    service: str | None = None
    queued_at: float | None = None  # entry in the current service's queue
    agent: str | None = None


@dataclass(slots=True)
class _Counters:
    offered: int = 0
    answered: int = 0
    answered_in_time: int = 0
    abandoned: int = 0
    overflowed: int = 0


@dataclass(slots=True)
class _Agent:
    name: str
    state: str = OFFLINE
    reason: str | None = None
    since: float = 0.0


@dataclass(frozen=True, slots=True)
class ServiceTile:
    service: str
    label: str
    open: bool
    waiting: int
    longest_wait_s: float
    offered: int
    answered: int
    answered_in_time: int
    abandoned: int
    overflowed: int
    sl_today_pct: float | None
    sl_30min_pct: float | None
    sl_target_pct: float
    sl_threshold_s: float
    max_wait_s: float
    agents_logged_in: int


@dataclass(frozen=True, slots=True)
class CurrentCall:
    call_id: str
    caller_number: str | None
    caller_withheld: bool
    service: str | None
    stage: str
    since: float


@dataclass(frozen=True, slots=True)
class AgentRow:
    agent: str
    name: str
    state: str
    reason: str | None
    since: float
    in_state_s: float
    call: CurrentCall | None


@dataclass(frozen=True, slots=True)
class Board:
    now: float
    day: date
    services: list[ServiceTile]
    agents: list[AgentRow]
    alerts: list[Alert]


def _always_open(service: str, at: float) -> bool:
    return True


class SupervisionBoard:
    def __init__(
        self,
        config: EngineConfig,
        *,
        states: Mapping[str, tuple[str, str | None]] | None = None,
        default_service: str | None = None,
        is_open: IsOpen | None = None,
        now: float = 0.0,
        timezone: str = "Europe/Paris",
        sl_min_outcomes: int = 1,
        sl_clear_margin_pct: float = 0.0,
    ) -> None:
        self.tz = ZoneInfo(timezone)
        self.is_open = is_open or _always_open
        self.default_service = default_service
        # Hysteresis of the service-level alert: raised on at least this many outcomes in
        # the window, cleared only once the level is this many points above its target.
        self.sl_min_outcomes = sl_min_outcomes
        self.sl_clear_margin_pct = sl_clear_margin_pct
        self.now = now
        self.day = self._day(now)
        self.config = config
        self.agents: dict[str, _Agent] = {}
        self.calls: dict[str, _Call] = {}
        self.counters: dict[str, _Counters] = {}
        self._counted: set[tuple[str, str]] = set()  # (call, service) offered today
        self._settled: set[tuple[str, str]] = set()  # (call, service) with an outcome
        self._window: deque[tuple[float, str, bool]] = deque()  # outcomes: at, service, ok
        # Per service, in the window: [outcomes in time, outcomes] (kept as the window slides).
        self._window_counts: dict[str, list[int]] = {}
        # Per service, agents logged in who can take its calls, and the agents paused for
        # unanswered offers; None: to work out again (an agent's state or the setup changed).
        self._staffed: dict[str, int] | None = None
        self._missed_offers: list[str] = []
        self._pending_writes = 0
        self.book = AlertBook()
        self._lag = 0.0
        self._windows: list[PromisedWindow] = []
        self.configure(config, states or {}, now)

    # -- inputs -------------------------------------------------------------------------------

    def configure(
        self,
        config: EngineConfig,
        states: Mapping[str, tuple[str, str | None]],
        at: float,
    ) -> list[AlertEvent]:
        """A (new) routing configuration; ``states`` are agents' states known elsewhere."""
        self._advance(at)
        self.config = config
        for name in config.services:
            self.counters.setdefault(name, _Counters())
        agents: dict[str, _Agent] = {}
        for agent_id, spec in config.agents.items():
            row = self.agents.get(agent_id) or _Agent(spec.name, since=self.now)
            row.name = spec.name
            if agent_id in states:
                self._set_state(row, *states[agent_id])
            agents[agent_id] = row
        self.agents = agents
        self._staffed = None
        return self._evaluate()

    def restore_today(self, past: Iterable[PastCall]) -> None:
        """Refill today's counters after a restart (calls of other days are ignored)."""
        for call in past:
            if call.service not in self.counters or self._day(call.arrived_at) != self.day:
                continue
            key = (call.call_id, call.service)
            if key in self._counted:
                continue
            self._counted.add(key)
            self.counters[call.service].offered += 1
            end = call.arrived_at + (call.wait or 0.0)
            if call.outcome == "answered":
                self._settle(
                    key, end, in_time=self._in_time(call.service, call.wait), answered=True
                )
            elif call.outcome == "abandoned":
                self._settle(key, end, in_time=False, answered=False)
                self.counters[call.service].abandoned += 1
            elif call.outcome in ("overflow", "safety_net"):
                self._settle(key, end, in_time=False, answered=False)
                self.counters[call.service].overflowed += 1

    def apply(self, event: ev.DomainEvent) -> list[AlertEvent]:
        """One domain event of the call tracker."""
        self._advance(event.at)
        at = event.at
        call = self.calls.get(event.call_id)
        if isinstance(event, ev.CallEnded):
            if call is not None:
                del self.calls[event.call_id]
            return self._evaluate()
        if call is None:
            call = _Call(event.call_id, event.caller_number, event.caller_withheld, since=at)
            self.calls[event.call_id] = call
        call.caller_withheld = event.caller_withheld
        if event.caller_withheld:  # for good: the number it may have shown goes
            call.caller_number = None
        elif event.caller_number is not None:
            call.caller_number = event.caller_number
        if isinstance(event, ev.CallWaiting):
            service = self._service(event.service, call.service)
            if call.queued_at is None or service != call.service:
                call.queued_at = at
            call.service = service
            self._offered(call)
            self._move(call, Stage.WAITING, at, None)
        elif isinstance(event, ev.CallOffered):
            self._known_service(call, event.service)
            self._move(call, Stage.RINGING, at, event.agent)
        elif isinstance(event, ev.CallNoAnswer):
            self._known_service(call, event.service)
            if call.service is not None and call.queued_at is not None:
                self._move(call, Stage.WAITING, at, None)
            else:
                self._move(call, Stage.ARRIVED, at, None)
        elif isinstance(event, ev.CallAnswered):
            self._known_service(call, event.service)
            waited = at - call.queued_at if call.queued_at is not None else event.waited
            self._outcome(call, at, answered=True, in_time=self._in_time(call.service, waited))
            call.queued_at = None
            self._move(call, Stage.CONNECTED, at, event.agent)
        elif isinstance(event, ev.CallTransferred):
            call.queued_at = None
            stage = Stage.CONNECTED if event.to_agent else Stage.ELSEWHERE
            self._move(call, stage, at, event.to_agent)
        elif isinstance(event, ev.CallAbandoned):
            if self._outcome(call, at, answered=False, in_time=False):
                self.counters[call.service or ""].abandoned += 1
            call.queued_at = None
            self._move(call, Stage.ELSEWHERE, at, None)
        elif isinstance(event, ev.CallOverflowed | ev.CallSafetyNet):
            if self._outcome(call, at, answered=False, in_time=False):
                self.counters[call.service or ""].overflowed += 1
            call.queued_at = None
            self._move(call, Stage.ELSEWHERE, at, None)
        return self._evaluate()

    def agent_state(
        self, agent: str, state: str, reason: str | None, at: float
    ) -> list[AlertEvent]:
        """The router says ``agent`` is now in ``state`` (agents not configured are ignored)."""
        self._advance(at)
        row = self.agents.get(agent)
        if row is not None:
            self._set_state(row, state, reason)
        return self._evaluate()

    def database(self, pending_writes: int, at: float) -> list[AlertEvent]:
        """Records the database has not taken (0: it takes everything)."""
        self._advance(at)
        self._pending_writes = pending_writes
        return self._evaluate()

    def overload(self, lag_s: float, at: float) -> list[AlertEvent]:
        """How far behind the product runs (seconds; below ``OVERLOAD_S``: it keeps up)."""
        self._advance(at)
        self._lag = lag_s
        return self._evaluate()

    def callbacks(self, windows: Iterable[PromisedWindow], at: float) -> list[AlertEvent]:
        """The promised windows of the callbacks not done yet (all of them, each time)."""
        self._advance(at)
        self._windows = supervision_callbacks.ordered(windows)
        return self._evaluate()

    def tick(self, now: float) -> list[AlertEvent]:
        """Time passes: waits grow, the 30-minute window slides, services open and close."""
        self._advance(now)
        return self._evaluate()

    def acknowledge(self, alert_id: int, user: str, at: float) -> list[AlertEvent]:
        """``user`` saw the alert (``AlertBook.acknowledge``: while it holds, once)."""
        self._advance(at)
        return self.book.acknowledge(alert_id, user, self.now)

    @property
    def alerts(self) -> dict[int, Alert]:
        return self.book.alerts

    # -- the view -----------------------------------------------------------------------------

    def board(self) -> Board:
        now = self.now
        services = [self._tile(spec) for spec in self.config.services.values()]
        calls_of = {c.agent: c for c in self.calls.values() if c.agent is not None}
        agents = []
        for agent_id, row in sorted(self.agents.items()):
            call = calls_of.get(agent_id)
            current = None
            if call is not None:
                current = CurrentCall(
                    call.call_id,
                    call.caller_number,
                    call.caller_withheld,
                    call.service,
                    call.stage.value,
                    call.since,
                )
            agents.append(
                AgentRow(
                    agent_id,
                    row.name,
                    row.state,
                    row.reason,
                    row.since,
                    max(0.0, now - row.since),
                    current,
                )
            )
        return Board(now, self.day, services, agents, list(self.book.alerts.values()))

    def waiting(self, service: str) -> list[str]:
        """Calls waiting for ``service`` now, longest wait first."""
        calls = [c for c in self.calls.values() if self._waits_for(c, service)]
        return [c.call_id for c in sorted(calls, key=lambda c: c.queued_at or 0.0)]

    # -- internals ----------------------------------------------------------------------------

    def _day(self, at: float) -> date:
        return datetime.fromtimestamp(at, self.tz).date()

    def _advance(self, at: float) -> None:
        if at <= self.now:
            return
        self.now = at
        day = self._day(at)
        if day != self.day:
            self._new_day(day)

    def _new_day(self, day: date) -> None:
        """Midnight: counters restart; calls still queued are offered on the new day."""
        self.day = day
        self.counters = {name: _Counters() for name in self.config.services}
        self._counted.clear()
        self._settled.clear()
        for call in self.calls.values():
            if call.queued_at is not None and call.service is not None:
                self._offered(call)

    def _service(self, named: str | None, current: str | None) -> str | None:
        if named in self.config.services:
            return named
        if named is None and current is not None:
            return current
        return self.default_service

    def _known_service(self, call: _Call, named: str | None) -> None:
        if named in self.config.services and named != call.service:
            call.service = named
            if call.queued_at is not None:
                self._offered(call)

    def _offered(self, call: _Call) -> None:
        if call.service is None or call.service not in self.counters:
            return
        key = (call.call_id, call.service)
        if key not in self._counted:
            self._counted.add(key)
            self.counters[call.service].offered += 1

    def _in_time(self, service: str | None, waited: float | None) -> bool:
        spec = self.config.services.get(service or "")
        return spec is not None and waited is not None and waited <= spec.sl_threshold_s

    def _outcome(self, call: _Call, at: float, *, answered: bool, in_time: bool) -> bool:
        """Record the call's outcome for its service, once; False when there is none to record."""
        if call.service is None:
            return False
        key = (call.call_id, call.service)
        if key not in self._counted or key in self._settled:
            return False
        self._settle(key, at, in_time=in_time, answered=answered)
        return True

    def _settle(self, key: tuple[str, str], at: float, *, in_time: bool, answered: bool) -> None:
        self._settled.add(key)
        service = key[1]
        if answered:
            self.counters[service].answered += 1
            self.counters[service].answered_in_time += in_time
        self._window.append((at, service, in_time))
        counts = self._window_counts.setdefault(service, [0, 0])
        counts[0] += in_time
        counts[1] += 1

    def _move(self, call: _Call, stage: Stage, at: float, agent: str | None) -> None:
        if stage is not call.stage or agent != call.agent:
            call.stage, call.since = stage, at
        call.agent = agent

    def _set_state(self, row: _Agent, state: str, reason: str | None) -> None:
        if state != row.state or reason != row.reason:
            row.state, row.reason, row.since = state, reason, self.now
            self._staffed = None

    def _waits_for(self, call: _Call, service: str) -> bool:
        return call.stage is Stage.WAITING and call.service == service

    def _window_pct(self, service: str) -> tuple[float | None, int]:
        horizon = self.now - SL_WINDOW_S
        while self._window and self._window[0][0] < horizon:
            _at, name, ok = self._window.popleft()
            counts = self._window_counts[name]
            counts[0] -= ok
            counts[1] -= 1
        in_time, outcomes = self._window_counts.get(service, (0, 0))
        if not outcomes:
            return None, 0
        return 100.0 * in_time / outcomes, outcomes

    def _staffing(self) -> dict[str, int]:
        # Worked out again only when an agent's state or the configuration changed: every
        # event asks, and there may be hundreds of agents.
        if self._staffed is None:
            self._staffed = {
                name: self._count_logged_in(each) for name, each in self.config.services.items()
            }
            self._missed_offers = [
                agent_id
                for agent_id, row in self.agents.items()
                if row.state == "paused" and row.reason == NO_ANSWER_REASON
            ]
        return self._staffed

    def _logged_in(self, spec: ServiceSpec) -> int:
        return self._staffing()[spec.name]  # every caller walks config.services

    def _count_logged_in(self, spec: ServiceSpec) -> int:
        levels = requirements(spec)
        count = 0
        for agent_id, row in self.agents.items():
            agent = self.config.agents.get(agent_id)
            if row.state == OFFLINE or agent is None:
                continue
            if qualifying_level(agent.skills, levels) is not None:
                count += 1
        return count

    def _tile(self, spec: ServiceSpec) -> ServiceTile:
        c = self.counters.get(spec.name) or _Counters()
        waits = [
            self.now - (call.queued_at or self.now)
            for call in self.calls.values()
            if self._waits_for(call, spec.name)
        ]
        outcomes = c.answered + c.abandoned + c.overflowed
        sl_today = 100.0 * c.answered_in_time / outcomes if outcomes else None
        return ServiceTile(
            service=spec.name,
            label=spec.label,
            open=self.is_open(spec.name, self.now),
            waiting=len(waits),
            longest_wait_s=max(waits, default=0.0),
            offered=c.offered,
            answered=c.answered,
            answered_in_time=c.answered_in_time,
            abandoned=c.abandoned,
            overflowed=c.overflowed,
            sl_today_pct=sl_today,
            sl_30min_pct=self._window_pct(spec.name)[0],
            sl_target_pct=spec.sl_target_pct,
            sl_threshold_s=spec.sl_threshold_s,
            max_wait_s=spec.max_wait_s,
            agents_logged_in=self._logged_in(spec),
        )

    def _service_level_low(self, name: str, spec: ServiceSpec) -> float | None:
        """The level over the window when its alert should hold: under target on enough
        calls to raise it; once raised, until it is back above target by the margin."""
        pct, count = self._window_pct(name)
        if pct is None:
            return None
        if self.book.is_active((AlertKind.SERVICE_LEVEL, name)):
            return pct if pct < spec.sl_target_pct + self.sl_clear_margin_pct else None
        return pct if count >= self.sl_min_outcomes and pct < spec.sl_target_pct else None

    def _conditions(self) -> Conditions:
        """Every alert condition that holds now: key -> (service, agent, French message)."""
        out: Conditions = {}
        longest: dict[str, float] = {}  # service -> longest wait, in one pass over the calls
        for call in self.calls.values():
            if call.stage is Stage.WAITING and call.service and call.queued_at is not None:
                waited = self.now - call.queued_at
                if waited > longest.get(call.service, -1.0):
                    longest[call.service] = waited
        for name, spec in self.config.services.items():
            label = spec.label
            pct = self._service_level_low(name, spec)
            if pct is not None:
                out[(AlertKind.SERVICE_LEVEL, name)] = (
                    name,
                    None,
                    f"« {label} » : niveau de service de {pct:.0f} % sur les 30 dernières "
                    f"minutes, sous l'objectif de {spec.sl_target_pct:.0f} %",
                )
            wait = longest.get(name)
            if wait is not None and wait > spec.max_wait_s:
                out[(AlertKind.LONG_WAIT, name)] = (
                    name,
                    None,
                    f"« {label} » : un appel attend depuis {_duration(wait)}, "
                    f"au-delà du maximum de {_duration(spec.max_wait_s)}",
                )
            if self.is_open(name, self.now) and self._logged_in(spec) == 0:
                out[(AlertKind.NO_AGENT, name)] = (
                    name,
                    None,
                    f"« {label} » est ouvert et aucun agent connecté ne peut prendre ses appels",
                )
        self._staffing()
        for agent_id in self._missed_offers:
            row = self.agents[agent_id]
            out[(AlertKind.MISSED_OFFERS, agent_id)] = (
                None,
                agent_id,
                f"{row.name} ({agent_id}) a été mis(e) en pause après des appels sans réponse",
            )
        if self._pending_writes:
            count = self._pending_writes
            out[(AlertKind.DATABASE, "")] = (
                None,
                None,
                f"Base de données injoignable : {count} enregistrement{'s' if count > 1 else ''} "
                "en attente (gardés, écrits à son retour)",
            )
        if self._lag >= OVERLOAD_S:
            behind = _duration(self._lag // 5 * 5)  # by 5 s steps: not news every second
            out[(AlertKind.OVERLOAD, "")] = (
                None,
                None,
                f"Service surchargé : les appels sont suivis avec {behind} de retard, "
                "les fiches arrivent en retard",
            )
        out.update(supervision_callbacks.conditions(self._windows, self.now, self.tz, self._label))
        return out

    def _label(self, service: str) -> str:
        spec = self.config.services.get(service)
        return spec.label if spec is not None else service

    def _evaluate(self) -> list[AlertEvent]:
        return self.book.evaluate(self._conditions(), self.now)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def opening_hours(
    tree: Callable[[], Tree], moment: Callable[[float], datetime] | None = None
) -> IsOpen:
    """``is_open`` from the published voice menu's calendars (``tree`` gives the tree in
    force): the calendar named like the service, else the menu's first one (the town hall's),
    else always open. ``moment`` turns the instant into the menu's time: the demo's menu lives
    on a fixed Tuesday morning, and so must its wallboard."""

    # Asked for every service at every event: hours are whole minutes, so one answer per
    # calendar and minute (a newly published menu brings new calendar objects).
    known: dict[str, tuple[hours.Calendar, int, bool]] = {}

    def is_open(service: str, at: float) -> bool:
        calendars = tree().calendars
        calendar = calendars.get(service) or next(iter(calendars.values()), None)
        if calendar is None:
            return True
        minute = int(at // 60)
        cached = known.get(service)
        if cached is not None and cached[0] is calendar and cached[1] == minute:
            return cached[2]
        when = moment(at) if moment is not None else datetime.fromtimestamp(at, UTC)
        answer = hours.is_open(calendar, when).open
        known[service] = (calendar, minute, answer)
        return answer

    return is_open
