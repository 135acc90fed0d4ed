"""Why the engine did (or did not) give a call to each agent, said for supervisors.

Theory of operation: a pure reading of the engine's state through its read-only accessors
(``call``, ``agents``, ``config``, ``now``), never a second routing engine. The checks are the
engine's own functions: ``offerable`` (READY and phone free) from ``routing.states``,
``requirements`` / ``qualifying_level`` / ``level_in_force`` from
``routing.requirements``; the order among free qualified agents is the one ``ReadyAgents``
keeps (``routing.agent_rank``: fully qualified first, then the least needed by the other
services, then best lowest proficiency, best total, longest idle, smallest extension;
speakers of the caller's language first). ``choose`` applies that order and is checked
against the engine's real offers by a hypothesis property, so the two cannot drift apart
unnoticed.

Texts are in French, in supervisors' words: agents and skills by their names, never an id.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from routing.agent_rank import Rank, agent_tables
from routing.engine import RoutingEngine
from routing.model import EngineConfig, ServiceSpec
from routing.records import CallRecord, CallStatus
from routing.requirements import Requirement, level_in_force, qualifying_level, requirements
from routing.states import AgentState, offerable
from routing.views import AgentView

S = AgentState


class CallStage(enum.Enum):
    WAITING = "waiting"  # queued for every qualified agent
    HELD = "held"  # held for its case owner, in wrap-up
    RINGING = "ringing"
    OFFERED = "offered"  # no longer in the engine (answered, or gone): its last offer


class Verdict(enum.Enum):
    CHOSEN = "chosen"  # the call rings her (or rang her, for an answered call)
    SET_ASIDE = "set_aside"


@dataclass(frozen=True, slots=True)
class AgentReason:
    agent: str
    name: str
    verdict: Verdict
    reason: str  # French, for supervisors


@dataclass(frozen=True, slots=True)
class CallExplanation:
    call_id: str
    service: str
    service_label: str
    stage: CallStage
    waited_s: float
    requirement: str  # « compétence État civil niveau 3 exigée ; assouplie à 2 après 45 s »
    decision: str  # the rule that chose, or why the call still waits
    agents: tuple[AgentReason, ...]
    at: float  # the engine's time of this explanation


def _seconds(value: float) -> str:
    return f"{math.ceil(value - 1e-9):d} s"


def _skills_text(skills: Mapping[str, int], labels: Mapping[str, str]) -> str:
    return " et ".join(f"{labels.get(s, s)} niveau {m}" for s, m in sorted(skills.items()))


def requirement_text(spec: ServiceSpec, level: int, labels: Mapping[str, str]) -> str:
    """The service's requirement, with the relaxation steps reached and the next one."""
    plural = len(spec.required_skills) > 1
    parts = [
        f"compétence{'s' if plural else ''} {_skills_text(spec.required_skills, labels)} "
        f"exigée{'s' if plural else ''}"
    ]
    for index, step in enumerate(spec.relaxation):
        changes = []
        if step.min_proficiency is not None:
            changes.append(f"assouplie à {step.min_proficiency}")
        if step.extra_skills:
            changes.append(f"{_skills_text(step.extra_skills, labels)} accepté aussi")
        when = f"après {_seconds(step.after_s)}"
        if index < level:
            parts.append(f"{', '.join(changes)} {when}")
        else:  # the next step only: those beyond it would be noise
            parts.append(f"{', '.join(changes)} {when} d'attente (pas encore)")
            break
    return " ; ".join(parts)


def _lack(skills: Mapping[str, int], requirement: Requirement, labels: Mapping[str, str]) -> str:
    """What the agent lacks at this level, in figures: « compétence insuffisante (…) »."""
    short = [
        f"{labels.get(s, s)} {skills.get(s, 0)} < {m}"
        for s, m in sorted(requirement.all_of.items())
        if skills.get(s, 0) < m
    ]
    return f"compétence insuffisante ({', '.join(short)})"


def _rank(config: EngineConfig, view: AgentView, spec: ServiceSpec) -> tuple[float | str, ...]:
    """The key ``ReadyAgents`` sorts free agents by (smallest first)."""
    rank = _ranks(config)[(view.agent, spec.name)]
    return (*rank, view.idle_since, view.agent)


_RANKS: dict[int, tuple[EngineConfig, dict[tuple[str, str], Rank]]] = {}


def _ranks(config: EngineConfig) -> dict[tuple[str, str], Rank]:
    """Every (agent, service) rank of ``config`` (computed once per configuration)."""
    cached = _RANKS.get(id(config))
    if cached is None or cached[0] is not config:
        if len(_RANKS) > 8:  # a few configurations live at once (tests, what-if): keep it small
            _RANKS.clear()
        tables = agent_tables(config.services, config.agents)
        ranks = {(a, s): rank for a, rows in tables.entries.items() for s, _, rank in rows}
        cached = _RANKS[id(config)] = (config, ranks)
    return cached[1]


def choose(
    config: EngineConfig,
    views: Sequence[AgentView],
    service: str,
    level: int,
    language: str | None,
    avoid: str | None = None,
    case_owner: str | None = None,
) -> str | None:
    """The agent the engine rings for a call of ``service`` at ``level``, if any.

    With a ``case_owner`` (a call arriving): she if she is free, whatever her skills; nobody
    if she is in wrap-up and the service holds calls for their owner.
    """
    spec = config.services[service]
    owner = next((v for v in views if v.agent == case_owner), None)
    if owner is not None and offerable(owner.state, owner.phone_busy):
        return owner.agent
    if owner is not None and owner.state is S.WRAP_UP and spec.case_owner_first_s > 0:
        return None
    levels = requirements(spec)
    free = [
        v
        for v in views
        if v.agent != avoid
        and offerable(v.state, v.phone_busy)
        and (first := qualifying_level(v.skills, levels)) is not None
        and first <= level
    ]
    speakers = [v for v in free if language is not None and language in v.languages]
    pool = speakers or free
    return min(pool, key=lambda v: _rank(config, v, spec)).agent if pool else None


def _state_reason(view: AgentView, call_id: str, now: float) -> str | None:
    """Why the engine may not ring her now, from her state; None if it may."""
    state = view.state
    if state is S.OFFLINE:
        return "déconnectée"
    if state is S.PAUSED:
        return f"en pause ({view.reason})" if view.reason not in (None, "pause") else "en pause"
    if state is S.FRONT_DESK:
        return "au guichet"
    if state is S.ON_CALL:
        return "au téléphone"
    if state is S.RINGING:
        return "son téléphone sonne pour un autre appel" if view.call_id != call_id else None
    if state is S.WRAP_UP:
        left = (view.wrap_up_until or now) - now
        return f"en fin d'appel ({_seconds(max(0.0, left))})"
    if view.phone_busy:
        return "au téléphone (appel direct)"
    return None


def _chosen_reason(
    config: EngineConfig,
    view: AgentView,
    call: CallRecord,
    spec: ServiceSpec,
    others: Sequence[AgentView],
) -> str:
    if call.case_owner == view.agent:
        return "prise : titulaire du dossier, sonnée en premier"
    if not others:
        return "prise : la seule compétente libre"
    mine = _rank(config, view, spec)
    best_other = min(_rank(config, o, spec) for o in others)
    if call.language is not None and call.language in view.languages:
        if not any(call.language in o.languages for o in others):
            return "prise : parle la langue de l'appelant"
    if mine[:1] < best_other[:1]:
        return "prise : la plus compétente parmi les libres"
    if mine[:2] < best_other[:2]:
        return "prise : la moins attendue par les autres services parmi les compétentes"
    if mine[:4] < best_other[:4]:
        return "prise : la plus compétente parmi les libres"
    return "prise : la plus longtemps libre parmi les compétentes"


def explain(
    config: EngineConfig, now: float, call: CallRecord, views: Sequence[AgentView]
) -> CallExplanation:
    """Why ``call`` (waiting, held or ringing) is where it is, agent by agent."""
    spec = config.services[call.service]
    labels = config.skill_labels
    levels = requirements(spec)
    level = level_in_force(spec, call.since, now, call.early_level)
    in_force = levels[level]
    rung = call.rung
    by_id = {v.agent: v for v in views}
    stage = {
        CallStatus.RINGING: CallStage.RINGING,
        CallStatus.RESERVED: CallStage.HELD,
    }.get(call.status, CallStage.WAITING)

    qualified = {v.agent for v in views if in_force.accepts(v.skills)}
    free_qualified = [
        v
        for v in views
        if v.agent in qualified and v.agent not in rung and offerable(v.state, v.phone_busy)
    ]
    owner = by_id.get(call.case_owner) if call.case_owner is not None else None

    reasons: list[AgentReason] = []
    for view in sorted(views, key=lambda v: v.agent):
        verdict, text = Verdict.SET_ASIDE, ""
        if view.agent in rung:
            verdict = Verdict.CHOSEN
            others = [o for o in free_qualified if o.agent != view.agent]
            text = _chosen_reason(config, view, call, spec, others)
        elif stage is CallStage.HELD and view.agent == call.agent:
            doing = _state_reason(view, "", now) or "libre"
            text = f"titulaire du dossier : l'appel l'attend ; {doing}"
        elif view.agent not in qualified:
            text = _lack(view.skills, in_force, labels)
            if qualifying_level(view.skills, levels) is None:
                text += ", même après assouplissement"
        elif (state := _state_reason(view, call.call_id, now)) is not None:
            text = state
        elif stage is CallStage.HELD:
            text = "libre, mais l'appel est réservé au titulaire du dossier"
        elif stage is CallStage.RINGING:
            text = "libre, mais l'appel sonne déjà chez une collègue mieux placée"
        else:  # the engine's invariant says this does not last beyond one event
            text = "libre et compétente : l'appel va lui être proposé"
        reasons.append(AgentReason(view.agent, view.name, verdict, text))

    waited = max(0.0, now - call.since)
    if stage is CallStage.RINGING:
        names = ", ".join(by_id[a].name for a in rung if a in by_id)
        decision = f"L'appel sonne chez {names}."  # as_offered() relies on this wording
    elif stage is CallStage.HELD and owner is not None:
        decision = (
            f"L'appel est réservé à {owner.name}, titulaire du dossier, pendant "
            f"{_seconds(spec.case_owner_first_s)} au plus, puis proposé à toutes."
        )
    else:
        decision = "L'appel attend : aucune collègue compétente n'est libre."
    return CallExplanation(
        call.call_id,
        call.service,
        spec.label,
        stage,
        waited,
        requirement_text(spec, level, labels),
        decision,
        tuple(reasons),
        now,
    )


def explain_call(engine: RoutingEngine, call_id: str) -> CallExplanation | None:
    """The explanation for a call the engine holds now (waiting, held or ringing), else None."""
    call = engine.call(call_id)
    if call is None:
        return None
    return explain(engine.config, engine.now, call, engine.agents())


def as_offered(why: CallExplanation) -> CallExplanation:
    """The explanation of a ringing call, kept for after the engine forgets it (answered)."""
    names = why.decision.removeprefix("L'appel sonne chez ").removesuffix(".")
    return replace(
        why,
        stage=CallStage.OFFERED,
        decision=f"L'appel a été proposé à {names} ; voici la situation à ce moment-là.",
    )
