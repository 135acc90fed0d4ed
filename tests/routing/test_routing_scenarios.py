"""Scenario tests of the routing engine: whole state asserted after each step."""

from __future__ import annotations

from typing import Any

import pytest

from routing.config import parse_config
from routing.decisions import (
    AgentStateChanged,
    AlertKind,
    Offer,
    Overflow,
    OverflowReason,
    PauseAgent,
    SupervisorAlert,
)
from routing.engine import RoutingEngine
from routing.errors import (
    CallAlreadyQueued,
    InvalidStateRequest,
    TimeWentBackwards,
    UnexpectedEvent,
    UnknownAgent,
    UnknownService,
)
from routing.events import (
    AgentFinished,
    AgentPhoneBusy,
    AgentStateSet,
    CallLeft,
    CallQueued,
    OfferAnswered,
    OfferFailed,
    Tick,
)
from routing.model import OverflowKind
from routing.states import AgentState

READY, PAUSED, OFFLINE = AgentState.READY, AgentState.PAUSED, AgentState.OFFLINE
FRONT_DESK, RINGING = AgentState.FRONT_DESK, AgentState.RINGING

CONFIG: dict[str, Any] = {
    "skills": {"accueil": "Accueil", "etat-civil": "État civil", "urbanisme": "Urbanisme"},
    "max_missed_offers": 3,
    "services": {
        "accueil": {
            "label": "Accueil",
            "required_skills": {"accueil": 1},
            "max_wait_s": 600,
            "overflow": {"kind": "voicemail", "target": "accueil"},
        },
        "etat-civil": {
            "label": "État civil",
            "required_skills": {"etat-civil": 4},
            "priority": 1,
            "wrap_up_s": 20,
            "max_wait_s": 120,
            "overflow": {"kind": "service", "target": "accueil"},
            "relaxation": [
                {"after_s": 45, "min_proficiency": 2},
                {"after_s": 90, "extra_skills": {"accueil": 1}},
            ],
            "case_owner_first_s": 30,
        },
        "urbanisme": {
            "label": "Urbanisme",
            "required_skills": {"urbanisme": 3},
            "max_wait_s": 300,
            "wrap_up_s": 60,
            "overflow": {"kind": "callback"},
        },
    },
    "agents": {
        "201": {"name": "Sophie", "skills": {"accueil": 5}},
        "202": {"name": "Karim", "skills": {"etat-civil": 5}},
        "203": {"name": "Claire", "skills": {"etat-civil": 2, "urbanisme": 3}},
        "204": {"name": "Thomas", "skills": {"etat-civil": 4}, "languages": ["fr", "en"]},
        "205": {"name": "Nathalie", "skills": {"urbanisme": 4}},
    },
}


def make_engine(ready: tuple[str, ...] = ("201", "202", "203", "204", "205")) -> RoutingEngine:
    engine = RoutingEngine(parse_config(CONFIG))
    for agent in ready:
        engine.handle(AgentStateSet(agent, READY, 0.0))
    return engine


def summary(engine: RoutingEngine) -> dict[str, str]:
    """The whole state in one comparable dict: every agent, every queue."""
    out: dict[str, str] = {}
    for view in engine.agents():
        text = view.state.name
        if view.reason:
            text += f" {view.reason}"
        if view.call_id:
            text += f" {view.call_id}"
        if view.wrap_up_until is not None:
            text += f" until {view.wrap_up_until:g}"
        if view.phone_busy:
            text += " busy"
        if view.pending is not None:
            text += f" then {view.pending.name}"
        out[view.agent] = text
    for service in ("accueil", "etat-civil", "urbanisme"):
        out[service] = " ".join(
            w.call_id + (f"@{w.reserved_for}" if w.reserved_for else "")
            for w in engine.waiting(service)
        )
    return out


def state(**changes: str) -> dict[str, str]:
    base = {
        "201": "READY",
        "202": "READY",
        "203": "READY",
        "204": "READY",
        "205": "READY",
        "accueil": "",
        "etat-civil": "",
        "urbanisme": "",
    }
    base.update({k.replace("_", "-").removeprefix("a"): v for k, v in changes.items()})
    return base


def offered(decisions: list[Any]) -> list[tuple[str, str]]:
    return [(d.call_id, d.agent) for d in decisions if isinstance(d, Offer)]


def test_state_helper_keys() -> None:
    assert state(a201="PAUSED", etat_civil="c1")["201"] == "PAUSED"
    assert state(etat_civil="c1")["etat-civil"] == "c1"


def test_best_proficiency_then_floors_at_half_threshold_then_extra_skill_at_90_s() -> None:
    # État civil: threshold 30 s, floor 2 after 45 s, accueil accepted after 90 s. A call
    # still waiting at half its threshold (15 s) has its floor then, not at 45 s.
    engine = make_engine()
    assert offered(engine.handle(CallQueued("c1", "etat-civil", 1.0))) == [("c1", "202")]
    assert offered(engine.handle(CallQueued("c2", "etat-civil", 2.0))) == [("c2", "204")]
    assert engine.handle(CallQueued("c3", "etat-civil", 3.0)) == []
    assert engine.handle(CallQueued("c4", "etat-civil", 4.0)) == []
    assert summary(engine) == state(a202="RINGING c1", a204="RINGING c2", etat_civil="c3 c4")
    assert engine.next_deadline() == 18.0  # c3 at half its threshold: its floor
    assert engine.handle(Tick(17.9)) == []
    decisions = engine.handle(Tick(18.0))
    assert decisions == [
        Offer("c3", "203", "etat-civil", 18.0),
        AgentStateChanged("203", RINGING, None, 18.0),
    ]
    assert summary(engine) == state(
        a202="RINGING c1", a203="RINGING c3", a204="RINGING c2", etat_civil="c4"
    )
    assert engine.next_deadline() == 19.0  # c4's floor: nobody left at >= 2
    assert engine.handle(Tick(19.0)) == []
    assert engine.next_deadline() == 94.0  # c4 reaches level 2: "accueil" >= 1 accepted
    assert offered(engine.handle(Tick(100.0))) == [("c4", "201")]
    assert summary(engine) == state(
        a201="RINGING c4", a202="RINGING c1", a203="RINGING c3", a204="RINGING c2"
    )


def test_language_preferred_then_ignored() -> None:
    engine = make_engine()
    assert offered(engine.handle(CallQueued("c1", "etat-civil", 1.0, language="en"))) == [
        ("c1", "204")
    ]
    # Nobody ready speaks Spanish: the language is ignored.
    assert offered(engine.handle(CallQueued("c2", "etat-civil", 2.0, language="es"))) == [
        ("c2", "202")
    ]


def test_longest_idle_breaks_proficiency_ties_then_extension() -> None:
    config = dict(CONFIG)
    config["agents"] = {
        "301": {"name": "A", "skills": {"accueil": 3}},
        "302": {"name": "B", "skills": {"accueil": 3}},
        "303": {"name": "C", "skills": {"accueil": 3}},
        "304": {"name": "D", "skills": {"accueil": 2}},
    }
    engine = RoutingEngine(parse_config(config))
    engine.handle(AgentStateSet("304", READY, 0.0))
    engine.handle(AgentStateSet("303", READY, 1.0))
    engine.handle(AgentStateSet("302", READY, 2.0))
    engine.handle(AgentStateSet("301", READY, 2.0))
    got = [offered(engine.handle(CallQueued(f"a{i}", "accueil", 3.0 + i)))[0] for i in range(4)]
    # 303 idle longest among the best; 301/302 tie on idle time: smallest extension.
    assert got == [("a0", "303"), ("a1", "301"), ("a2", "302"), ("a3", "304")]


def test_pause_after_three_missed_offers() -> None:
    engine = make_engine(ready=("202",))
    assert offered(engine.handle(CallQueued("c1", "etat-civil", 1.0))) == [("c1", "202")]
    for miss, at in ((1, 16.0), (2, 31.0)):
        decisions = engine.handle(OfferFailed("c1", "202", "no_answer", at))
        assert decisions == [
            AgentStateChanged("202", READY, None, at),
            Offer("c1", "202", "etat-civil", at),
            AgentStateChanged("202", RINGING, None, at),
        ]
        assert engine.agent("202").missed_offers == miss
    decisions = engine.handle(OfferFailed("c1", "202", "no_answer", 46.0))
    assert decisions == [
        AgentStateChanged("202", PAUSED, "absence de réponse", 46.0),
        PauseAgent("202", "absence de réponse", 46.0),
        SupervisorAlert(
            AlertKind.MISSED_OFFERS,
            "202",
            "etat-civil",
            "Karim (202) mis(e) en pause après 3 appels sans réponse",
            46.0,
        ),
    ]
    assert summary(engine) == {
        **state(etat_civil="c1"),
        "201": "OFFLINE",
        "202": "PAUSED absence de réponse",
        "203": "OFFLINE",
        "204": "OFFLINE",
        "205": "OFFLINE",
    }
    # Back to READY by hand: the count restarts and the waiting call rings at once.
    assert offered(engine.handle(AgentStateSet("202", READY, 50.0))) == [("c1", "202")]
    assert engine.agent("202").missed_offers == 0


def test_failed_offer_goes_to_another_agent_and_keeps_its_place() -> None:
    engine = make_engine(ready=("202", "204"))
    engine.handle(CallQueued("c1", "etat-civil", 1.0))
    engine.handle(CallQueued("c2", "etat-civil", 2.0))
    engine.handle(CallQueued("c3", "etat-civil", 3.0))
    assert summary(engine)["etat-civil"] == "c3"
    # 202 misses c1: c1 is back ahead of c3; 202 is READY but c1 must not ping-pong to her.
    decisions = engine.handle(OfferFailed("c1", "202", "busy", 10.0))
    assert offered(decisions) == [("c1", "202")]  # 204 is ringing: nobody else, retry 202
    engine.handle(OfferAnswered("c2", "204", 11.0))
    engine.handle(AgentFinished("204", 12.0))
    engine.handle(Tick(32.0))  # 204's wrap-up ends: c3 goes to her
    assert summary(engine) == {
        **state(a202="RINGING c1", a204="RINGING c3"),
        "201": "OFFLINE",
        "203": "OFFLINE",
        "205": "OFFLINE",
    }
    decisions = engine.handle(OfferFailed("c3", "204", "no_answer", 33.0))
    decisions += engine.handle(OfferFailed("c1", "202", "no_answer", 33.0))
    # c3 came back with 204 the only one ready: retried on her; then c1 is waiting and 202
    # free: she is the only one, so it rings her again.
    assert offered(decisions) == [("c3", "204"), ("c1", "202")]


def test_failed_offer_prefers_another_ready_agent() -> None:
    engine = make_engine(ready=("202",))
    engine.handle(CallQueued("c1", "etat-civil", 1.0))
    engine.handle(AgentStateSet("204", READY, 2.0))
    decisions = engine.handle(OfferFailed("c1", "202", "no_answer", 10.0))
    assert offered(decisions) == [("c1", "204")]
    assert engine.agent("202").state is READY
    assert engine.agent("202").missed_offers == 1


def test_wrap_up_then_ready_takes_the_waiting_call() -> None:
    engine = make_engine(ready=("202",))
    engine.handle(CallQueued("c1", "etat-civil", 1.0))
    engine.handle(OfferAnswered("c1", "202", 5.0))
    engine.handle(CallQueued("c2", "etat-civil", 6.0))
    assert summary(engine)["202"] == "ON_CALL c1"
    assert engine.handle(AgentFinished("202", 30.0)) == [
        AgentStateChanged("202", AgentState.WRAP_UP, None, 30.0)
    ]
    assert summary(engine)["202"] == "WRAP_UP until 50"
    assert engine.next_deadline() == 50.0
    assert engine.handle(Tick(50.0)) == [
        AgentStateChanged("202", READY, None, 50.0),
        Offer("c2", "202", "etat-civil", 50.0),
        AgentStateChanged("202", RINGING, None, 50.0),
    ]
    assert engine.agent("202").idle_since == 50.0


def test_ready_during_wrap_up_ends_it_early() -> None:
    engine = make_engine(ready=("202",))
    engine.handle(CallQueued("c1", "etat-civil", 1.0))
    engine.handle(OfferAnswered("c1", "202", 2.0))
    engine.handle(AgentFinished("202", 3.0))
    engine.handle(AgentStateSet("202", READY, 4.0))
    assert summary(engine)["202"] == "READY"
    assert engine.next_deadline() is None


def test_case_owner_ready_is_offered_first_whatever_her_skills() -> None:
    engine = make_engine()
    decisions = engine.handle(CallQueued("c1", "etat-civil", 1.0, case_owner="203"))
    assert offered(decisions) == [("c1", "203")]


def test_case_owner_in_wrap_up_holds_the_call_until_she_is_ready() -> None:
    engine = make_engine(ready=("202", "204"))
    engine.handle(CallQueued("c0", "etat-civil", 0.0))
    engine.handle(OfferAnswered("c0", "202", 1.0))
    engine.handle(AgentFinished("202", 10.0))  # wrap-up until 30
    assert engine.handle(CallQueued("c1", "etat-civil", 12.0, case_owner="202")) == []
    assert summary(engine) == {
        **state(a202="WRAP_UP until 30", etat_civil="c1@202"),
        "201": "OFFLINE",
        "203": "OFFLINE",
        "205": "OFFLINE",
    }
    assert engine.next_deadline() == 30.0
    assert offered(engine.handle(Tick(30.0))) == [("c1", "202")]


def test_case_owner_reservation_expires() -> None:
    engine = make_engine(ready=("202", "204"))
    engine.handle(CallQueued("c0", "etat-civil", 0.0))
    engine.handle(OfferAnswered("c0", "202", 1.0))
    engine.handle(AgentFinished("202", 1.0))  # wrap-up until 21
    engine.handle(AgentStateSet("202", PAUSED, 2.0, reason="réunion"))  # no reservation now
    engine.handle(AgentStateSet("202", READY, 3.0))
    engine.handle(CallQueued("c2", "etat-civil", 3.0))  # 202 ringing c2
    engine.handle(OfferAnswered("c2", "202", 4.0))
    engine.handle(AgentFinished("202", 5.0))  # wrap-up until 25
    engine.handle(AgentStateSet("204", FRONT_DESK, 5.0))
    engine.handle(CallQueued("c1", "etat-civil", 6.0, case_owner="202"))
    engine.handle(AgentStateSet("204", READY, 7.0))
    # 204 is ready, but c1 is held for 202 (until 6 + 30 = 36 or 202 ready at 25).
    assert summary(engine)["etat-civil"] == "c1@202"
    assert summary(engine)["204"] == "READY"
    engine.handle(AgentStateSet("202", PAUSED, 8.0))  # owner leaves wrap-up: released
    assert summary(engine)["204"] == "RINGING c1"
    assert summary(engine)["202"] == "PAUSED pause"


def test_case_owner_reservation_times_out_to_another_agent() -> None:
    engine = make_engine(ready=("202",))
    engine.handle(CallQueued("c0", "etat-civil", 0.0))
    engine.handle(OfferAnswered("c0", "202", 1.0))
    engine.handle(AgentFinished("202", 100.0))  # wrap-up until 120
    engine.handle(AgentStateSet("204", READY, 100.0))
    engine.handle(CallQueued("c1", "etat-civil", 101.0, case_owner="202"))
    assert engine.next_deadline() == 120.0
    engine.handle(Tick(120.0))  # owner ready: c1 offered to her
    assert summary(engine)["202"] == "RINGING c1"

    # The owner's wrap-up (60 s after urbanisme) outlasts the 30 s reservation.
    engine.handle(AgentStateSet("203", READY, 121.0))
    engine.handle(CallQueued("u1", "urbanisme", 121.0))
    engine.handle(OfferAnswered("u1", "203", 122.0))
    engine.handle(AgentFinished("203", 130.0))  # wrap-up until 190
    engine.handle(CallQueued("c2", "etat-civil", 131.0, case_owner="203"))
    assert summary(engine)["etat-civil"] == "c2@203"
    assert engine.next_deadline() == 161.0
    assert offered(engine.handle(Tick(161.0))) == [("c2", "204")]  # held until 131 + 30


def test_overflow_on_max_wait() -> None:
    engine = make_engine(ready=("202",))
    engine.handle(CallQueued("c1", "etat-civil", 0.0))
    engine.handle(OfferAnswered("c1", "202", 1.0))
    engine.handle(CallQueued("c2", "etat-civil", 10.0))
    assert engine.next_deadline() == 25.0  # its floors, at half its threshold
    engine.handle(Tick(100.0))
    assert engine.next_deadline() == 130.0
    assert engine.handle(Tick(130.0)) == [
        Overflow(
            "c2", "etat-civil", OverflowKind.SERVICE, "accueil", OverflowReason.MAX_WAIT, 130.0
        )
    ]
    assert summary(engine)["etat-civil"] == ""
    assert engine.next_deadline() is None
    # The shell transfers it to accueil: the same call id queues again.
    engine.handle(AgentStateSet("201", READY, 131.0))
    assert offered(engine.handle(CallQueued("c2", "accueil", 131.0))) == [("c2", "201")]


def test_a_transferred_caller_keeps_her_place_and_gets_a_whole_max_wait() -> None:
    """Madame Dupont first waited at 10 s for État civil, talked, and was transferred to
    Urbanisme at 200 s: she is served before the callers who came after 10 s, while her
    max wait (300 s) counts from 200 s, not from a wait that was a conversation."""
    engine = make_engine(ready=())
    engine.handle(AgentStateSet("205", PAUSED, 0.0, reason="réunion"))
    engine.handle(CallQueued("u1", "urbanisme", 100.0))
    engine.handle(CallQueued("t1", "urbanisme", 200.0, since=200.0, place=10.0))
    engine.handle(CallQueued("u2", "urbanisme", 210.0))
    assert summary(engine)["urbanisme"] == "t1 u1 u2"
    assert [(w.call_id, w.since, w.place) for w in engine.waiting("urbanisme")] == [
        ("t1", 200.0, 10.0),
        ("u1", 100.0, None),
        ("u2", 210.0, None),
    ]
    overflows = engine.handle(Tick(400.0))
    assert [d.call_id for d in overflows if isinstance(d, Overflow)] == ["u1"]
    assert summary(engine)["urbanisme"] == "t1 u2"
    assert offered(engine.handle(AgentStateSet("205", READY, 450.0))) == [("t1", "205")]


def test_a_place_later_than_the_wait_changes_nothing() -> None:
    engine = make_engine(ready=())
    engine.handle(AgentStateSet("205", PAUSED, 0.0, reason="réunion"))
    engine.handle(CallQueued("u1", "urbanisme", 100.0))
    engine.handle(CallQueued("u2", "urbanisme", 150.0, place=160.0))
    assert [(w.call_id, w.place) for w in engine.waiting("urbanisme")] == [
        ("u1", None),
        ("u2", None),
    ]


def test_overflow_when_nobody_logged_in_can_ever_qualify() -> None:
    engine = make_engine(ready=("201",))
    assert engine.handle(CallQueued("u1", "urbanisme", 1.0)) == [
        Overflow("u1", "urbanisme", OverflowKind.CALLBACK, None, OverflowReason.NO_AGENT, 1.0)
    ]
    engine.handle(AgentStateSet("205", PAUSED, 2.0, reason="déjeuner"))
    assert engine.handle(CallQueued("u2", "urbanisme", 3.0)) == []  # 205 may come back
    assert summary(engine)["urbanisme"] == "u2"
    decisions = engine.handle(AgentStateSet("205", OFFLINE, 4.0))
    assert decisions == [
        AgentStateChanged("205", OFFLINE, None, 4.0),
        SupervisorAlert(
            AlertKind.NO_AGENT,
            None,
            "urbanisme",
            "Plus aucun agent connecté ne peut prendre le service « Urbanisme »",
            4.0,
        ),
        Overflow("u2", "urbanisme", OverflowKind.CALLBACK, None, OverflowReason.NO_AGENT, 4.0),
    ]
    assert summary(engine)["urbanisme"] == ""


def test_call_left_while_ringing_frees_the_agent_without_a_miss() -> None:
    engine = make_engine(ready=("202",))
    engine.handle(CallQueued("c1", "etat-civil", 1.0))
    engine.handle(CallQueued("c2", "etat-civil", 2.0))
    decisions = engine.handle(CallLeft("c1", 5.0))
    assert decisions == [
        AgentStateChanged("202", READY, None, 5.0),
        Offer("c2", "202", "etat-civil", 5.0),
        AgentStateChanged("202", RINGING, None, 5.0),
    ]
    assert engine.agent("202").missed_offers == 0
    assert engine.agent("202").idle_since == 0.0
    assert engine.handle(CallLeft("c1", 6.0)) == []  # already gone: ignored
    engine.handle(CallLeft("c2", 7.0))
    engine.handle(CallQueued("c3", "urbanisme", 8.0))
    engine.handle(CallLeft("c3", 9.0))  # a waiting call leaves its queue
    assert summary(engine) == {
        **state(),
        "201": "OFFLINE",
        "203": "OFFLINE",
        "204": "OFFLINE",
        "205": "OFFLINE",
    }


def test_pause_asked_while_ringing_applies_when_the_offer_resolves() -> None:
    engine = make_engine(ready=("202", "204"))
    engine.handle(CallQueued("c1", "etat-civil", 1.0))
    assert engine.handle(AgentStateSet("202", PAUSED, 2.0, reason="café")) == []
    assert summary(engine)["202"] == "RINGING c1 then PAUSED"
    decisions = engine.handle(OfferFailed("c1", "202", "no_answer", 3.0))
    assert decisions == [
        AgentStateChanged("202", PAUSED, "café", 3.0),
        Offer("c1", "204", "etat-civil", 3.0),
        AgentStateChanged("204", RINGING, None, 3.0),
    ]
    # Answered, then offline asked during the call: applied at the end, no wrap-up.
    engine.handle(OfferAnswered("c1", "204", 4.0))
    engine.handle(AgentStateSet("204", OFFLINE, 5.0))
    engine.handle(AgentStateSet("204", FRONT_DESK, 6.0))
    assert summary(engine)["204"] == "ON_CALL c1 then FRONT_DESK"
    engine.handle(AgentFinished("204", 7.0))
    assert summary(engine)["204"] == "FRONT_DESK"
    assert engine.next_deadline() is None


def test_phone_busy_agent_is_not_offered() -> None:
    engine = make_engine(ready=("202",))
    engine.handle(AgentPhoneBusy("202", True, 1.0))
    assert engine.handle(CallQueued("c1", "etat-civil", 2.0)) == []
    assert summary(engine)["202"] == "READY busy"
    assert offered(engine.handle(AgentPhoneBusy("202", False, 3.0))) == [("c1", "202")]


def test_freed_agent_takes_service_priority_then_call_priority_then_arrival() -> None:
    config = dict(CONFIG)
    config["agents"] = {"210": {"name": "Polyvalent", "skills": {"accueil": 3, "etat-civil": 4}}}
    engine = RoutingEngine(parse_config(config))
    engine.handle(AgentStateSet("210", PAUSED, 0.0))
    engine.handle(CallQueued("a1", "accueil", 1.0, priority=5))
    engine.handle(CallQueued("e1", "etat-civil", 2.0))
    engine.handle(CallQueued("e2", "etat-civil", 3.0, priority=1))
    engine.handle(CallQueued("e3", "etat-civil", 3.0, priority=1))
    order: list[str] = []
    for at in (10.0, 20.0, 30.0, 40.0):
        decisions = engine.handle(AgentStateSet("210", READY, at))
        order += [c for c, _ in offered(decisions)]
        engine.handle(AgentStateSet("210", PAUSED, at))  # kept until the offer resolves
        assert engine.handle(CallLeft(order[-1], at)) == [
            AgentStateChanged("210", PAUSED, "pause", at)
        ]
    # etat-civil (priority 1) before accueil; within it call priority, arrival, id.
    assert order == ["e2", "e3", "e1", "a1"]


def test_bad_events_raise_and_change_nothing() -> None:
    engine = make_engine(ready=("202",))
    engine.handle(CallQueued("c1", "etat-civil", 1.0))
    before = summary(engine)
    with pytest.raises(UnknownService, match="'mairie'"):
        engine.handle(CallQueued("c2", "mairie", 2.0))
    with pytest.raises(UnknownAgent, match="'299'"):
        engine.handle(AgentStateSet("299", READY, 2.0))
    with pytest.raises(UnknownAgent, match="'299'"):
        engine.agent("299")
    with pytest.raises(CallAlreadyQueued, match="'c1'"):
        engine.handle(CallQueued("c1", "accueil", 2.0))
    with pytest.raises(UnexpectedEvent, match="'c1'.*'204'"):
        engine.handle(OfferAnswered("c1", "204", 2.0))
    with pytest.raises(UnexpectedEvent, match="'201'"):
        engine.handle(AgentFinished("201", 2.0))
    with pytest.raises(InvalidStateRequest, match="RINGING"):
        engine.handle(AgentStateSet("201", RINGING, 2.0))
    with pytest.raises(TimeWentBackwards, match="0.5"):
        engine.handle(Tick(0.5))
    with pytest.raises(UnknownService, match="'mairie'"):
        engine.waiting("mairie")
    assert summary(engine) == before
    assert engine.now == 1.0
