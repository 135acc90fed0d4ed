"""Read-only snapshots for the wallboard.

Theory of operation: plain frozen dataclasses built on demand from the engine's records;
they are copies, so holding one never pins or exposes the engine's state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routing.model import AgentSpec
from routing.records import AgentRecord
from routing.states import AgentState


@dataclass(frozen=True, slots=True)
class WaitingCall:
    call_id: str
    service: str
    priority: int
    since: float
    position: int  # 1 = next to be served
    reserved_for: str | None  # the case owner it is held for, if any
    language: str | None
    place: float | None = None  # her place in line, if she waited before (a transfer)


@dataclass(frozen=True, slots=True)
class AgentView:
    agent: str
    name: str
    state: AgentState
    reason: str | None
    skills: Mapping[str, int]
    languages: frozenset[str]
    idle_since: float
    missed_offers: int
    phone_busy: bool
    call_id: str | None
    service: str | None
    wrap_up_until: float | None
    pending: AgentState | None


def agent_view(spec: AgentSpec, rec: AgentRecord) -> AgentView:
    return AgentView(
        spec.agent,
        spec.name,
        rec.state,
        rec.reason,
        spec.skills,
        spec.languages,
        rec.idle_since,
        rec.missed,
        rec.phone_busy,
        rec.call_id,
        rec.service,
        rec.wrap_until,
        None if rec.pending is None else rec.pending[0],
    )
