"""Property tests: random event sequences keep the routing engine's invariants.

A sequence of abstract actions is turned into valid events against the engine's current
state (answer *some* ringing offer, finish *some* call...), with non-decreasing times.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.config import parse_config
from routing.decisions import Decision, Offer, Overflow
from routing.engine import RoutingEngine
from routing.events import (
    AgentFinished,
    AgentPhoneBusy,
    AgentStateSet,
    CallLeft,
    CallQueued,
    Event,
    OfferAnswered,
    OfferFailed,
    Tick,
)
from routing.model import EngineConfig
from routing.requirements import level_at, qualifying_level, requirements
from routing.states import AgentState

CONFIG: dict[str, Any] = {
    "skills": {
        "accueil": "Accueil",
        "etat-civil": "État civil",
        "urbanisme": "Urbanisme",
        "techniques": "Services techniques",
    },
    "max_missed_offers": 2,
    "services": {
        "accueil": {"label": "Accueil", "required_skills": {"accueil": 2}, "max_wait_s": 200},
        "etat-civil": {
            "label": "État civil",
            "required_skills": {"etat-civil": 4},
            "priority": 1,
            "wrap_up_s": 10,
            "max_wait_s": 120,
            "overflow": {"kind": "service", "target": "accueil"},
            "relaxation": [
                {"after_s": 30, "min_proficiency": 2},
                {"after_s": 60, "extra_skills": {"accueil": 3}},
            ],
            "case_owner_first_s": 20,
        },
        "urbanisme": {
            "label": "Urbanisme",
            "required_skills": {"urbanisme": 3, "techniques": 2},
            "priority": 1,
            "wrap_up_s": 5,
            "max_wait_s": 150,
            "overflow": {"kind": "callback"},
            "relaxation": [{"after_s": 40, "min_proficiency": 1}],
            "case_owner_first_s": 15,
        },
    },
    "agents": {
        "201": {"name": "A", "skills": {"accueil": 5, "etat-civil": 2}, "languages": ["fr", "en"]},
        "202": {"name": "B", "skills": {"etat-civil": 5}},
        "203": {"name": "C", "skills": {"etat-civil": 4, "urbanisme": 3, "techniques": 1}},
        "204": {"name": "D", "skills": {"urbanisme": 4, "techniques": 3}, "languages": ["en"]},
        "205": {"name": "E", "skills": {"accueil": 3, "techniques": 2}},
        "206": {"name": "F", "skills": {"accueil": 1, "urbanisme": 2, "techniques": 2}},
    },
}
ENGINE_CONFIG: EngineConfig = parse_config(CONFIG).to_engine()
SERVICES = sorted(ENGINE_CONFIG.services)
AGENTS = sorted(ENGINE_CONFIG.agents)
LEVELS = {name: requirements(spec) for name, spec in ENGINE_CONFIG.services.items()}
REQUESTABLE = [AgentState.READY, AgentState.PAUSED, AgentState.FRONT_DESK, AgentState.OFFLINE]
KINDS = ["queue", "queue", "requeue", "leave", "answer", "answer", "fail", "finish", "set"]
KINDS += ["set", "busy", "tick", "deadline"]

Action = tuple[str, int, int, float]
actions = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(0, 60),
        st.integers(0, 60),
        st.sampled_from([0.0, 0.0, 1.0, 5.0, 12.0, 35.0]),
    ),
    max_size=60,
)


@dataclass
class CallInfo:
    service: str
    since: float
    priority: int
    owner: str | None


@dataclass
class Driver:
    config: EngineConfig = ENGINE_CONFIG
    engine: RoutingEngine = field(init=False)
    now: float = 0.0
    counter: int = 0
    calls: dict[str, CallInfo] = field(default_factory=dict)
    gone: list[str] = field(default_factory=list)  # ids that may queue again
    events: list[Event] = field(default_factory=list)
    decisions: list[list[Decision]] = field(default_factory=list)
    punctual: bool = True  # tick at every deadline, as the shell should; else jump over them

    def __post_init__(self) -> None:
        self.engine = RoutingEngine(self.config)

    def event_for(self, action: Action) -> Event:
        kind, i, j, _ = action
        now, engine = self.now, self.engine
        views = engine.agents()
        ringing = [v for v in views if v.state is AgentState.RINGING]
        on_call = [v for v in views if v.state is AgentState.ON_CALL]
        if kind == "queue" or (kind == "requeue" and self.gone):
            if kind == "requeue":
                call_id = self.gone.pop(i % len(self.gone))
            else:
                self.counter += 1
                call_id = f"c{self.counter}"
            owner = AGENTS[j % 8] if j % 8 < len(AGENTS) else None
            language = [None, None, "en", "es"][(i + j) % 4]
            # A share of calls found already waiting (restart): they keep their place.
            since = now - (0.0, 0.0, 0.0, 20.0, 50.0, 400.0)[(i + 2 * j) % 6]
            return CallQueued(call_id, SERVICES[i % 3], now, j % 3, language, owner, since)
        if kind == "leave" and self.calls:
            return CallLeft(sorted(self.calls)[i % len(self.calls)], now)
        if kind in ("answer", "fail") and ringing:
            view = ringing[i % len(ringing)]
            assert view.call_id is not None
            if kind == "answer":
                return OfferAnswered(view.call_id, view.agent, now)
            return OfferFailed(view.call_id, view.agent, "no_answer", now)
        if kind == "finish" and on_call:
            return AgentFinished(on_call[i % len(on_call)].agent, now)
        if kind == "set":
            state = REQUESTABLE[j % 4]
            reason = "réunion" if state is AgentState.PAUSED and j % 2 else None
            return AgentStateSet(AGENTS[i % len(AGENTS)], state, now, reason)
        if kind == "busy":
            return AgentPhoneBusy(AGENTS[i % len(AGENTS)], j % 3 == 0, now)
        deadline = engine.next_deadline()
        if kind == "deadline" and deadline is not None:
            self.now = max(now, deadline)
        return Tick(self.now)

    def step(self, action: Action) -> None:
        target = self.now + action[3]
        if self.punctual:
            while (deadline := self.engine.next_deadline()) is not None and deadline <= target:
                self.now = deadline
                self.handle(Tick(deadline))
        self.now = target
        self.handle(self.event_for(action))

    def handle(self, event: Event) -> None:
        decisions = self.engine.handle(event)
        self.events.append(event)
        self.decisions.append(decisions)
        if isinstance(event, CallQueued):
            self.calls[event.call_id] = CallInfo(
                event.service,
                event.at if event.since is None else min(event.since, event.at),
                event.priority,
                event.case_owner,
            )
        elif isinstance(event, CallLeft | OfferAnswered):
            self.forget(event.call_id)
        for decision in decisions:
            if isinstance(decision, Overflow):
                self.forget(decision.call_id)
        check_invariants(self, event, decisions)

    def forget(self, call_id: str) -> None:
        if self.calls.pop(call_id, None) is not None:
            self.gone.append(call_id)


def qualifies(agent: str, call: CallInfo, now: float, early: int = 0) -> bool:
    """At the requirement in force: the steps passed, or the floors granted early (a call
    forecast to miss its threshold, ``CallRecord.early_level``)."""
    spec = ENGINE_CONFIG.services[call.service]
    level = qualifying_level(ENGINE_CONFIG.agents[agent].skills, LEVELS[call.service])
    return level is not None and level <= max(level_at(spec, call.since, now), early)


def early(engine: RoutingEngine, call_id: str) -> int:
    record = engine.call(call_id)
    return record.early_level if record is not None else 0


def check_invariants(driver: Driver, event: Event, decisions: list[Decision]) -> None:
    engine, now = driver.engine, driver.now
    views = {v.agent: v for v in engine.agents()}
    waiting = [w for s in SERVICES for w in engine.waiting(s)]
    waiting_ids = [w.call_id for w in waiting]
    held = [v.call_id for v in views.values() if v.state is AgentState.RINGING]
    # A call rings at most ``ring_together`` phones; an agent holds at most one offer or call.
    # (An answered call is forgotten: after a transfer the same id may queue again meanwhile.)
    assert all(held.count(c) <= engine.config.ring_together for c in held)
    assert not set(held) & set(waiting_ids)
    assert len(set(waiting_ids)) == len(waiting_ids)
    assert set(held) | set(waiting_ids) == set(driver.calls)
    for view in views.values():
        if view.state in (AgentState.RINGING, AgentState.ON_CALL):
            assert view.call_id is not None
        else:
            assert view.call_id is None
    # No call waits while a ready, not phone-busy agent qualifies for it.
    free = [a for a, v in views.items() if v.state is AgentState.READY and not v.phone_busy]
    for w in waiting:
        if w.reserved_for is not None:
            owner = views[w.reserved_for]
            assert owner.state is AgentState.WRAP_UP or (
                owner.state is AgentState.READY and owner.phone_busy
            )
            continue
        for agent in free:
            call = driver.calls[w.call_id]
            assert not qualifies(agent, call, now, early(engine, w.call_id)), (w.call_id, agent)
    # Offers go to ready agents who qualify (or the case owner), in priority/arrival order.
    for decision in decisions:
        if not isinstance(decision, Offer):
            continue
        view = views[decision.agent]
        if isinstance(event, CallLeft) and event.call_id == decision.call_id:
            continue  # offered while catching up with time, then the caller left
        assert view.state is AgentState.RINGING and view.call_id == decision.call_id
        call = driver.calls[decision.call_id]
        assert decision.service == call.service
        if call.owner == decision.agent:
            continue
        assert qualifies(decision.agent, call, now, early(engine, decision.call_id))
        if not driver.punctual:
            continue  # offered at an earlier deadline: levels at that instant are unknown
        key = (-call.priority, call.since, decision.call_id)
        for w in engine.waiting(call.service):
            if w.reserved_for is None and (-w.priority, w.since, w.call_id) < key:
                ahead = driver.calls[w.call_id]
                assert not qualifies(decision.agent, ahead, now, early(engine, w.call_id))
    deadline = engine.next_deadline()
    assert deadline is None or deadline > now


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions, st.booleans())
def test_invariants_hold_after_every_event(steps: list[Action], punctual: bool) -> None:
    driver = Driver(punctual=punctual)
    for action in steps:
        driver.step(action)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions, st.booleans())
def test_invariants_hold_when_calls_ring_several_phones(
    steps: list[Action], punctual: bool
) -> None:
    driver = Driver(replace(ENGINE_CONFIG, ring_together=3), punctual=punctual)
    for action in steps:
        driver.step(action)


@settings(max_examples=100, deadline=None)
@given(actions, st.booleans(), st.sampled_from([1, 3]))
def test_same_events_give_same_decisions(steps: list[Action], punctual: bool, ring: int) -> None:
    config = replace(ENGINE_CONFIG, ring_together=ring)
    driver = Driver(config, punctual=punctual)
    for action in steps:
        driver.step(action)
    replay = RoutingEngine(config)
    assert [replay.handle(event) for event in driver.events] == driver.decisions
    assert replay.agents() == driver.engine.agents()
    assert replay.next_deadline() == driver.engine.next_deadline()
