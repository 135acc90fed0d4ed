"""Why each agent was or was not given a call: pure tests on engine states, and a property
that the explanation's choice is the engine's real offer."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from routing.config import parse_config
from routing.decisions import Offer
from routing.engine import RoutingEngine
from routing.events import (
    AgentFinished,
    AgentPhoneBusy,
    AgentStateSet,
    CallQueued,
    OfferAnswered,
    Tick,
)
from routing.explain import CallStage, Verdict, choose, explain_call
from routing.requirements import level_in_force
from routing.states import AgentState
from tests.routing.test_routing_properties import Action, Driver, actions

S = AgentState

CONFIG: dict[str, Any] = {
    "skills": {"etat-civil": "État civil", "accueil": "Accueil"},
    "services": {
        "etat-civil": {
            "label": "État civil",
            "required_skills": {"etat-civil": 3},
            "wrap_up_s": 30,
            "max_wait_s": 600,
            "relaxation": [{"after_s": 45, "min_proficiency": 2}],
            "case_owner_first_s": 20,
        },
        "accueil": {"label": "Accueil", "required_skills": {"accueil": 1}},
    },
    "agents": {
        "201": {"name": "Anne", "skills": {"etat-civil": 4}},
        "202": {"name": "Brigitte", "skills": {"etat-civil": 3}},
        "203": {"name": "Chloé", "skills": {"etat-civil": 2}},
        "204": {"name": "Denis", "skills": {"etat-civil": 1, "accueil": 3}},
    },
}


def engine() -> RoutingEngine:
    return RoutingEngine(parse_config(CONFIG))


def reasons(eng: RoutingEngine, call_id: str) -> dict[str, str]:
    why = explain_call(eng, call_id)
    assert why is not None
    return {r.agent: r.reason for r in why.agents}


def test_a_waiting_call_says_what_each_agent_is_doing() -> None:
    eng = engine()
    eng.handle(AgentStateSet("201", S.PAUSED, 0.0, "réunion"))
    eng.handle(AgentStateSet("202", S.READY, 0.0))
    eng.handle(CallQueued("c0", "etat-civil", 1.0))  # Brigitte takes it...
    eng.handle(OfferAnswered("c0", "202", 2.0))
    eng.handle(AgentStateSet("203", S.READY, 3.0))
    eng.handle(AgentStateSet("204", S.READY, 3.0))
    eng.handle(CallQueued("c1", "etat-civil", 5.0))
    why = explain_call(eng, "c1")
    assert why is not None
    assert why.stage is CallStage.WAITING
    assert why.service_label == "État civil"
    assert why.requirement == (
        "compétence État civil niveau 3 exigée ; assouplie à 2 après 45 s d'attente (pas encore)"
    )
    assert "aucune collègue compétente n'est libre" in why.decision
    assert [r.verdict for r in why.agents] == [Verdict.SET_ASIDE] * 4
    assert reasons(eng, "c1") == {
        "201": "en pause (réunion)",
        "202": "au téléphone",
        "203": "compétence insuffisante (État civil 2 < 3)",
        "204": "compétence insuffisante (État civil 1 < 3), même après assouplissement",
    }


def test_wrap_up_shows_the_seconds_left() -> None:
    eng = engine()
    eng.handle(AgentStateSet("201", S.READY, 0.0))
    eng.handle(CallQueued("c0", "etat-civil", 0.0))
    eng.handle(OfferAnswered("c0", "201", 1.0))
    eng.handle(AgentFinished("201", 10.0))  # wrap-up until 40
    eng.handle(CallQueued("c1", "etat-civil", 30.0))
    assert reasons(eng, "c1")["201"] == "en fin d'appel (10 s)"
    assert reasons(eng, "c1")["202"] == "déconnectée"


def test_the_chosen_one_and_the_rule_that_chose_her() -> None:
    eng = engine()
    eng.handle(AgentStateSet("202", S.READY, 0.0))
    eng.handle(AgentStateSet("201", S.READY, 5.0))
    eng.handle(AgentStateSet("203", S.READY, 5.0))
    decisions = eng.handle(CallQueued("c1", "etat-civil", 10.0))
    assert [d.agent for d in decisions if isinstance(d, Offer)] == ["201"]
    why = explain_call(eng, "c1")
    assert why is not None and why.stage is CallStage.RINGING
    assert why.decision == "L'appel sonne chez Anne."
    chosen = [r for r in why.agents if r.verdict is Verdict.CHOSEN]
    assert [(r.agent, r.reason) for r in chosen] == [
        ("201", "prise : la plus compétente parmi les libres")
    ]
    assert reasons(eng, "c1")["202"] == (
        "libre, mais l'appel sonne déjà chez une collègue mieux placée"
    )


def test_longest_idle_wins_among_equals() -> None:
    config = {**CONFIG, "agents": {**CONFIG["agents"], "205": CONFIG["agents"]["201"]}}
    eng = RoutingEngine(parse_config(config))
    eng.handle(AgentStateSet("205", S.READY, 0.0))
    eng.handle(AgentStateSet("201", S.READY, 4.0))
    eng.handle(CallQueued("c1", "etat-civil", 10.0))
    assert reasons(eng, "c1")["205"] == "prise : la plus longtemps libre parmi les compétentes"


def test_after_a_relaxation_step_the_requirement_is_lower_and_she_is_taken() -> None:
    eng = engine()
    eng.handle(AgentStateSet("203", S.READY, 0.0))
    eng.handle(AgentPhoneBusy("203", True, 0.0))
    eng.handle(CallQueued("c1", "etat-civil", 0.0))
    eng.handle(Tick(50.0))  # step at 45 s: level 2 accepted, but her phone is busy
    why = explain_call(eng, "c1")
    assert why is not None
    assert why.requirement == "compétence État civil niveau 3 exigée ; assouplie à 2 après 45 s"
    assert reasons(eng, "c1")["203"] == "au téléphone (appel direct)"
    eng.handle(AgentPhoneBusy("203", False, 55.0))
    assert reasons(eng, "c1")["203"] == "prise : la seule compétente libre"


def test_a_call_held_for_its_case_owner() -> None:
    eng = engine()
    eng.handle(AgentStateSet("203", S.READY, 0.0))
    eng.handle(CallQueued("c0", "accueil", 0.0, case_owner="203"))
    eng.handle(OfferAnswered("c0", "203", 1.0))
    eng.handle(AgentFinished("203", 2.0))  # accueil has no wrap-up: ready again
    eng.handle(CallQueued("c00", "etat-civil", 3.0, case_owner="203"))
    eng.handle(OfferAnswered("c00", "203", 4.0))
    eng.handle(AgentFinished("203", 5.0))  # wrap-up 30 s
    eng.handle(AgentStateSet("201", S.READY, 6.0))
    eng.handle(CallQueued("c1", "etat-civil", 7.0, case_owner="203"))
    why = explain_call(eng, "c1")
    assert why is not None and why.stage is CallStage.HELD
    assert "réservé à Chloé, titulaire du dossier" in why.decision
    assert reasons(eng, "c1")["201"] == "libre, mais l'appel est réservé au titulaire du dossier"
    assert reasons(eng, "c1")["203"].startswith("titulaire du dossier : l'appel l'attend")
    eng.handle(AgentStateSet("203", S.READY, 8.0))
    assert reasons(eng, "c1")["203"] == "prise : titulaire du dossier, sonnée en premier"


def test_unknown_call_has_no_explanation() -> None:
    assert explain_call(engine(), "nope") is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions)
def test_the_explanations_choice_is_the_engines_offer(steps: list[Action]) -> None:
    driver = Driver(punctual=True)
    for action in steps:
        target = driver.now + action[3]
        while (deadline := driver.engine.next_deadline()) is not None and deadline <= target:
            driver.now = deadline
            driver.handle(Tick(deadline))
        driver.now = target
        event = driver.event_for(action)
        eng = driver.engine
        arriving = isinstance(event, CallQueued) and event.call_id not in driver.calls
        before = eng.agents()
        driver.handle(event)
        if isinstance(event, CallQueued) and arriving and event.call_id in driver.calls:
            since = event.at if event.since is None else min(event.since, event.at)
            spec = eng.config.services[event.service]
            record = eng.call(event.call_id)
            early = record.early_level if record is not None else 0
            predicted = choose(
                eng.config,
                before,
                event.service,
                level_in_force(spec, since, event.at, early),
                event.language,
                case_owner=event.case_owner,
            )
            offers = [d.agent for d in driver.decisions[-1] if isinstance(d, Offer)]
            assert offers[:1] == ([predicted] if predicted else [])
        for call_id in driver.calls:  # every call held now: the chosen ones are those rung
            why = explain_call(eng, call_id)
            record = eng.call(call_id)
            assert why is not None and record is not None
            assert {r.agent for r in why.agents if r.verdict is Verdict.CHOSEN} == set(record.rung)
            if why.stage is CallStage.WAITING:  # the engine's invariant, in words
                assert all("l'appel va lui être proposé" not in r.reason for r in why.agents)
