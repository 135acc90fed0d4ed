"""Ringing a few phones at once for one call (``EngineConfig.ring_together``), step by step."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from routing.config import parse_config
from routing.decisions import Decision, Offer
from routing.engine import RoutingEngine
from routing.events import (
    AgentStateSet,
    CallLeft,
    CallQueued,
    OfferAnswered,
    OfferFailed,
)
from routing.states import AgentState

READY = AgentState.READY
AGENTS = ("201", "202", "203", "204", "205")
CONFIG: dict[str, Any] = {
    "skills": {"accueil": "Accueil", "etat-civil": "État civil", "urbanisme": "Urbanisme"},
    "services": {
        "accueil": {"label": "Accueil", "required_skills": {"accueil": 1}},
        "etat-civil": {
            "label": "État civil",
            "required_skills": {"etat-civil": 4},
            "max_wait_s": 120,
            "relaxation": [{"after_s": 45, "min_proficiency": 2}],
        },
    },
    "agents": {
        "201": {"name": "Sophie", "skills": {"accueil": 5}},
        "202": {"name": "Karim", "skills": {"etat-civil": 5}},
        "203": {"name": "Claire", "skills": {"etat-civil": 2, "urbanisme": 3}},
        "204": {"name": "Thomas", "skills": {"etat-civil": 4}},
        "205": {"name": "Nathalie", "skills": {"urbanisme": 4}},
    },
}


def summary(engine: RoutingEngine) -> dict[str, str]:
    return {v.agent: v.state.name + (f" {v.call_id}" if v.call_id else "") for v in engine.agents()}


def offered(decisions: list[Decision]) -> list[tuple[str, str]]:
    return [(d.call_id, d.agent) for d in decisions if isinstance(d, Offer)]


def make_engine(ring: int, ready: tuple[str, ...]) -> RoutingEngine:
    engine = RoutingEngine(replace(parse_config(CONFIG).to_engine(), ring_together=ring))
    for i, agent in enumerate(ready):
        engine.handle(AgentStateSet(agent, READY, float(i)))
    return engine


def test_the_best_qualified_phones_ring_together_and_the_first_answer_takes_it() -> None:
    engine = make_engine(3, ("201", "202", "203", "204", "205"))
    decisions = engine.handle(CallQueued("c1", "etat-civil", 10.0))
    # 202 (5) and 204 (4) qualify; 203 (etat-civil 2) only after 45 s: she does not ring.
    assert offered(decisions) == [("c1", "202"), ("c1", "204")]
    decisions = engine.handle(OfferAnswered("c1", "204", 13.0))
    assert summary(engine) == {a: "READY" for a in AGENTS} | {"204": "ON_CALL c1"}
    # 202's ring stopped: no miss, and she kept her idle time (longest idle next time).
    assert engine.agent("202").missed_offers == 0
    assert engine.agent("202").idle_since == 1.0
    assert offered(decisions) == []


def test_one_phone_failing_leaves_the_call_with_the_others() -> None:
    engine = make_engine(2, ("202", "204"))
    engine.handle(CallQueued("c1", "etat-civil", 10.0))
    decisions = engine.handle(OfferFailed("c1", "202", "no_answer", 25.0))
    assert offered(decisions) == []  # c1 still rings 204; 202 has nothing else to take
    assert summary(engine)["204"] == "RINGING c1"
    assert summary(engine)["202"] == "READY"
    assert engine.agent("202").missed_offers == 1
    decisions = engine.handle(OfferFailed("c1", "204", "no_answer", 26.0))
    # the last phone failed: the call is back in line and goes to the best ready agent
    assert offered(decisions) == [("c1", "202")]


def test_a_caller_leaving_frees_every_phone_she_rang() -> None:
    engine = make_engine(3, ("202", "204"))
    engine.handle(CallQueued("c1", "etat-civil", 10.0))
    engine.handle(CallQueued("c2", "etat-civil", 11.0))
    decisions = engine.handle(CallLeft("c1", 12.0))
    # both are free again; a freed agent takes the best waiting call on her own
    assert offered(decisions) == [("c2", "202")]
    assert summary(engine)["204"] == "READY"


def test_one_phone_at_a_time_by_default() -> None:
    engine = make_engine(1, ("202", "204"))
    assert offered(engine.handle(CallQueued("c1", "etat-civil", 10.0))) == [("c1", "202")]


def test_a_callback_request_is_offered_to_one_agent_only() -> None:
    """Its offer is a card to accept on one page (the callbacks desk), not a ring."""
    engine = make_engine(3, ("202", "204"))
    decisions = engine.handle(CallQueued("rappel:1", "etat-civil", 10.0, keeps_place=True))
    assert offered(decisions) == [("rappel:1", "202")]
    assert summary(engine)["204"] == "READY"
