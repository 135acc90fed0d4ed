"""Issue 19's routing rules, step by step: spare agents first, own work first, early floors,
callers still in time first between services of equal priority."""

from __future__ import annotations

from typing import Any

from routing.config import parse_config
from routing.decisions import Offer
from routing.engine import RoutingEngine
from routing.events import AgentFinished, AgentStateSet, CallQueued, OfferAnswered, Tick
from routing.states import AgentState

READY = AgentState.READY

CONFIG: dict[str, Any] = {
    "skills": {"accueil": "Accueil", "etat-civil": "État civil", "urbanisme": "Urbanisme"},
    "services": {
        "accueil": {
            "label": "Accueil",
            "required_skills": {"accueil": 2},
            "sl_threshold_s": 30,
            "max_wait_s": 600,
        },
        "etat-civil": {
            "label": "État civil",
            "required_skills": {"etat-civil": 3},
            "priority": 2,
            "sl_threshold_s": 30,
            "max_wait_s": 600,
            "relaxation": [
                {"after_s": 45, "min_proficiency": 2},
                {"after_s": 90, "extra_skills": {"accueil": 4}},
            ],
        },
        "urbanisme": {
            "label": "Urbanisme",
            "required_skills": {"urbanisme": 3},
            "max_wait_s": 600,
        },
    },
    "agents": {
        "301": {"name": "Accueil seule", "skills": {"accueil": 3}},
        "302": {"name": "Accueil et urbanisme", "skills": {"accueil": 5, "urbanisme": 3}},
        "303": {"name": "Accueil, un peu d'état civil", "skills": {"accueil": 4, "etat-civil": 2}},
        "304": {"name": "État civil", "skills": {"etat-civil": 5}},
        "305": {
            "name": "État civil, anglais",
            "skills": {"etat-civil": 4},
            "languages": ["fr", "en"],
        },
    },
}


def engine_with(ready: tuple[str, ...]) -> RoutingEngine:
    engine = RoutingEngine(parse_config(CONFIG))
    for agent in ready:
        engine.handle(AgentStateSet(agent, READY, 0.0))
    return engine


def offers(decisions: list[Any]) -> list[tuple[str, str]]:
    return [(d.call_id, d.agent) for d in decisions if isinstance(d, Offer)]


def test_the_agent_no_other_service_needs_is_rung_before_a_better_but_scarcer_one() -> None:
    engine = engine_with(("301", "302"))
    # 302 is more proficient, but she is one of the only agents for urbanisme.
    assert offers(engine.handle(CallQueued("a1", "accueil", 1.0))) == [("a1", "301")]
    assert offers(engine.handle(CallQueued("a2", "accueil", 2.0))) == [("a2", "302")]


def test_a_freed_agent_takes_her_own_work_before_a_relaxed_call_of_a_higher_priority() -> None:
    engine = engine_with(("303",))
    assert offers(engine.handle(CallQueued("a1", "accueil", 1.0))) == [("a1", "303")]
    engine.handle(OfferAnswered("a1", "303", 3.0))
    assert engine.handle(CallQueued("e1", "etat-civil", 4.0)) == []
    assert engine.handle(CallQueued("a2", "accueil", 5.0)) == []
    engine.handle(Tick(50.0))  # e1 is relaxed: 303 (état civil 2) may take it now
    assert engine.call("e1") is not None and engine.call("e1").level == 1  # type: ignore[union-attr]
    # 303 is free: her own accueil caller first, though état civil has the higher priority.
    assert offers(engine.handle(AgentFinished("303", 60.0))) == [("a2", "303")]


def test_a_call_forecast_to_miss_its_threshold_has_its_floors_at_once() -> None:
    engine = engine_with(("303", "304"))
    # One état-civil call handled: the forecast knows its handling time (100 s).
    assert offers(engine.handle(CallQueued("e1", "etat-civil", 1.0))) == [("e1", "304")]
    engine.handle(OfferAnswered("e1", "304", 2.0))
    engine.handle(AgentFinished("304", 102.0))
    assert engine.agent("304").state is READY
    # 304 busy again: the next caller would wait about 100 s for her, beyond 30 s.
    assert offers(engine.handle(CallQueued("e2", "etat-civil", 110.0))) == [("e2", "304")]
    engine.handle(OfferAnswered("e2", "304", 111.0))
    decisions = engine.handle(CallQueued("e3", "etat-civil", 120.0))
    assert offers(decisions) == [("e3", "303")]  # état civil 2: the floor applied at once
    record = engine.call("e3")
    assert record is not None and record.early_level == 1 and record.level == 1


def test_without_a_forecast_the_floor_comes_at_half_the_threshold() -> None:
    engine = engine_with(("303",))
    assert engine.handle(CallQueued("e1", "etat-civil", 1.0)) == []
    record = engine.call("e1")
    assert record is not None and record.early_level == 0  # no handling time known yet
    # Not at the configured 45 s: still waiting at 15 s of her 30 s threshold, she has it.
    assert engine.next_deadline() == 16.0
    assert engine.handle(Tick(15.9)) == []
    assert offers(engine.handle(Tick(16.0))) == [("e1", "303")]


def test_between_equal_priorities_a_freed_agent_takes_the_caller_still_in_time() -> None:
    engine = engine_with(("302",))
    assert offers(engine.handle(CallQueued("a1", "accueil", 1.0))) == [("a1", "302")]
    engine.handle(OfferAnswered("a1", "302", 2.0))
    assert engine.handle(CallQueued("u1", "urbanisme", 3.0)) == []
    assert engine.handle(CallQueued("a2", "accueil", 40.0)) == []
    # At 50 s the urbanisme caller has missed her 30 s, the accueil one has 20 s left:
    # 302 (both her own, same priority) takes the accueil caller though she came later.
    assert offers(engine.handle(AgentFinished("302", 50.0))) == [("a2", "302")]
    engine.handle(OfferAnswered("a2", "302", 52.0))
    # Both missed: the order of arrival again.
    assert engine.handle(CallQueued("a3", "accueil", 53.0)) == []
    assert offers(engine.handle(AgentFinished("302", 100.0))) == [("u1", "302")]


def test_an_arriving_call_in_a_language_goes_to_a_speaker_before_a_better_agent() -> None:
    # État civil has floors, so its arriving calls first look for the best fully qualified
    # agent (for the forecast); that agent is not the answer for a call in English.
    engine = engine_with(("304", "305"))
    assert offers(engine.handle(CallQueued("e1", "etat-civil", 1.0, language="en"))) == [
        ("e1", "305")
    ]
    engine = engine_with(("304", "305"))
    assert offers(engine.handle(CallQueued("e2", "etat-civil", 1.0))) == [("e2", "304")]
