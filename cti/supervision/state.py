"""The wallboard's state and the bookkeeping its inputs share. Pure, no clock.

``BoardState`` declares what ``board.SupervisionBoard`` keeps (it sets it up) and keeps the
day's counters per service (offered once per call and service, one outcome each), the
30-minute window of outcomes, the calls' stages and the staffing of each service.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from cti.supervision.alerts import AlertBook
from cti.supervision.callbacks import PromisedWindow
from cti.supervision.opening_hours import IsOpen
from routing.decisions import NO_ANSWER_REASON
from routing.model import EngineConfig, ServiceSpec
from routing.requirements import qualifying_level, requirements

SL_WINDOW_S = 30 * 60.0
OFFLINE = "offline"


class Stage(enum.Enum):
    ARRIVED = "arrived"  # in the voice menu
    WAITING = "waiting"
    RINGING = "ringing"
    CONNECTED = "connected"
    ELSEWHERE = "elsewhere"  # transferred, overflowed, in the safety-net queue


@dataclass(slots=True)
class BoardCall:
    call_id: str
    caller_number: str | None
    caller_withheld: bool
    stage: Stage = Stage.ARRIVED
    since: float = 0.0
    service: str | None = None
    queued_at: float | None = None  # entry in the current service's queue
    agent: str | None = None
    ringing: list[str] = field(default_factory=list)  # phones ringing for it (ring_together)


@dataclass(slots=True)
class Counters:
    offered: int = 0
    answered: int = 0
    answered_in_time: int = 0
    abandoned: int = 0
    overflowed: int = 0


@dataclass(slots=True)
class BoardAgent:
    name: str
    state: str = OFFLINE
    reason: str | None = None
    since: float = 0.0


class BoardState:
    """The board's state (set up by ``SupervisionBoard.__init__``) and its bookkeeping."""

    tz: ZoneInfo
    is_open: IsOpen
    default_service: str | None
    sl_min_outcomes: int
    sl_clear_margin_pct: float
    now: float
    day: date
    config: EngineConfig
    agents: dict[str, BoardAgent]
    calls: dict[str, BoardCall]
    counters: dict[str, Counters]
    _counted: set[tuple[str, str]]
    _settled: set[tuple[str, str]]
    _window: deque[tuple[float, str, bool]]
    _window_counts: dict[str, list[int]]
    _staffed: dict[str, int] | None
    _missed_offers: list[str]
    _pending_writes: int
    book: AlertBook
    _lag: float
    _windows: list[PromisedWindow]

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
        self.counters = {name: Counters() for name in self.config.services}
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

    def _known_service(self, call: BoardCall, named: str | None) -> None:
        if named in self.config.services and named != call.service:
            call.service = named
            if call.queued_at is not None:
                self._offered(call)

    def _offered(self, call: BoardCall) -> None:
        if call.service is None or call.service not in self.counters:
            return
        key = (call.call_id, call.service)
        if key not in self._counted:
            self._counted.add(key)
            self.counters[call.service].offered += 1

    def _in_time(self, service: str | None, waited: float | None) -> bool:
        spec = self.config.services.get(service or "")
        return spec is not None and waited is not None and waited <= spec.sl_threshold_s

    def _outcome(self, call: BoardCall, at: float, *, answered: bool, in_time: bool) -> bool:
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

    def _move(self, call: BoardCall, stage: Stage, at: float, agent: str | None) -> None:
        if stage is not call.stage or agent != call.agent:
            call.stage, call.since = stage, at
        call.agent = agent

    def _set_state(self, row: BoardAgent, state: str, reason: str | None) -> None:
        if state != row.state or reason != row.reason:
            row.state, row.reason, row.since = state, reason, self.now
            self._staffed = None

    def _waits_for(self, call: BoardCall, service: str) -> bool:
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

    def _label(self, service: str) -> str:
        spec = self.config.services.get(service)
        return spec.label if spec is not None else service
