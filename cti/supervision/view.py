"""What the wallboard shows: service tiles, agents' rows with their calls, the alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cti.supervision.alerts import Alert
from cti.supervision.state import BoardState, Counters, Stage
from routing.model import ServiceSpec


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


class BoardView(BoardState):
    def board(self) -> Board:
        now = self.now
        services = [self._tile(spec) for spec in self.config.services.values()]
        calls_of = {c.agent: c for c in self.calls.values() if c.agent is not None}
        for c in self.calls.values():  # every phone a call rings together shows it
            if c.stage is Stage.RINGING:
                calls_of.update(dict.fromkeys(c.ringing, c))
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

    def _tile(self, spec: ServiceSpec) -> ServiceTile:
        c = self.counters.get(spec.name) or Counters()
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
