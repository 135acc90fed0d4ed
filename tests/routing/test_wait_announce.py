"""Position and expected wait told to waiting callers: the forecast from the engine's view,
the rule that never says a higher position, when they are told, and the French words."""

from __future__ import annotations

import pytest

from routing.announce_text import (
    SpokenWait,
    WaitKind,
    announcement_text,
    cardinal,
    ordinal,
    spoken_wait,
)
from routing.caller_forecast import Forecast, WaitForecaster
from routing.decisions import Decision
from routing.engine import RoutingEngine
from routing.events import AgentFinished, AgentStateSet, CallQueued, OfferAnswered, Tick
from routing.model import AgentSpec, AnnounceRules, EngineConfig, ServiceSpec
from routing.states import AgentState
from routing.wait_announce import Announcer

S = AgentState
RULES = AnnounceRules(on_entry=True, every_s=60.0)


@pytest.mark.parametrize(
    ("n", "feminine", "words"),
    [
        (1, True, "une"),
        (1, False, "un"),
        (16, False, "seize"),
        (21, True, "vingt et une"),
        (22, False, "vingt-deux"),
        (71, False, "soixante et onze"),
        (77, False, "soixante-dix-sept"),
        (80, False, "quatre-vingts"),
        (81, True, "quatre-vingt-une"),
        (99, False, "quatre-vingt-dix-neuf"),
        (200, False, "deux cents"),
        (201, False, "deux cent un"),
    ],
)
def test_french_cardinals(n: int, feminine: bool, words: str) -> None:
    assert cardinal(n, feminine) == words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (2, "deuxième"),
        (4, "quatrième"),
        (5, "cinquième"),
        (9, "neuvième"),
        (11, "onzième"),
        (21, "vingt et unième"),
        (80, "quatre-vingtième"),
        (100, "centième"),
    ],
)
def test_french_ordinals(n: int, words: str) -> None:
    assert ordinal(n) == words


def test_a_wait_is_said_as_a_person_says_it() -> None:
    assert spoken_wait(20).words == "moins d'une minute"
    assert spoken_wait(75).words == "environ une minute"
    assert spoken_wait(200).words == "environ trois minutes"
    assert spoken_wait(8 * 60).words == "environ dix minutes"
    assert spoken_wait(13 * 60).words == "environ quinze minutes"
    assert spoken_wait(40 * 60).words == "plus de vingt minutes"
    # Its error against the wait that followed: 0 inside a bound said.
    assert SpokenWait(WaitKind.UNDER, 1).error_s(45) == 0
    assert SpokenWait(WaitKind.UNDER, 1).error_s(90) == 30
    assert SpokenWait(WaitKind.ABOUT, 3).error_s(150) == 30
    assert SpokenWait(WaitKind.OVER, 20).error_s(1500) == 0


def test_the_sentence() -> None:
    assert announcement_text(1, None) == "Votre appel est le prochain. Merci de patienter."
    assert announcement_text(3, SpokenWait(WaitKind.ABOUT, 4)) == (
        "Votre appel est en troisième position. Votre attente est estimée à environ quatre"
        " minutes. Merci de patienter."
    )
    assert announcement_text(None, None) == ""


def _engine() -> RoutingEngine:
    """État civil (priority 0) and urgences-ec (priority 1) share Marie; Paul does État civil."""
    services = {
        "etat-civil": ServiceSpec("etat-civil", "État civil", {"ec": 1}, wrap_up_s=30),
        "urgent": ServiceSpec("urgent", "Urgences", {"ec": 3}, priority=1),
        "urbanisme": ServiceSpec("urbanisme", "Urbanisme", {"urba": 1}, priority=5),
    }
    agents = {
        "201": AgentSpec("201", "Marie", {"ec": 3}),
        "202": AgentSpec("202", "Paul", {"ec": 1}),
        "203": AgentSpec("203", "Sophie", {"urba": 1}),
    }
    return RoutingEngine(EngineConfig(services, agents))


def _run(engine: RoutingEngine, forecaster: WaitForecaster, *events: object) -> None:
    for event in events:
        decisions: list[Decision] = engine.handle(event)  # type: ignore[arg-type]
        forecaster.observe(decisions)


def _answer(engine: RoutingEngine, forecaster: WaitForecaster, call_id: str, at: float) -> None:
    """Whoever the engine rang for the call answers it."""
    record = engine.call(call_id)
    assert record is not None and record.agent is not None
    _run(engine, forecaster, OfferAnswered(call_id, record.agent, at))


def test_position_counts_the_calls_capable_agents_take_first_and_the_wait_grows() -> None:
    engine, forecaster = _engine(), WaitForecaster()
    _run(
        engine,
        forecaster,
        AgentStateSet("201", S.READY, 0.0),
        AgentStateSet("202", S.READY, 0.0),
        AgentStateSet("203", S.READY, 0.0),
        CallQueued("a", "etat-civil", 1.0),
        CallQueued("b", "etat-civil", 2.0),
    )
    _answer(engine, forecaster, "a", 3.0)
    _answer(engine, forecaster, "b", 4.0)
    _run(
        engine,
        forecaster,
        CallQueued("c", "etat-civil", 10.0),
        CallQueued("d", "etat-civil", 11.0),
        CallQueued("u", "urgent", 12.0),  # higher priority, Marie takes it before them
        CallQueued("x", "urbanisme", 13.0),  # Sophie's: nothing to do with them
    )
    snapshot = forecaster.snapshot(engine, 20.0)
    c, d, u = (snapshot.forecast(call) for call in ("c", "d", "u"))
    assert c is not None and d is not None and u is not None
    assert (u.position, c.position, d.position) == (1, 2, 3)
    assert (c.same_service_position, d.same_service_position) == (1, 2)
    assert c.wait_s is not None and d.wait_s is not None and u.wait_s is not None
    assert 0 < u.wait_s < c.wait_s < d.wait_s
    assert snapshot.forecast("a") is None  # answered: not waiting


def test_no_wait_is_given_when_nobody_able_is_working() -> None:
    engine, forecaster = _engine(), WaitForecaster()
    _run(
        engine,
        forecaster,
        AgentStateSet("201", S.PAUSED, 0.0, "réunion"),
        AgentStateSet("202", S.PAUSED, 0.0, "réunion"),
        CallQueued("c", "etat-civil", 1.0),
    )
    forecast = forecaster.forecast(engine, "c", 5.0)
    assert forecast is not None and forecast.position == 1 and forecast.wait_s is None


def test_the_wait_learns_handle_times_and_how_little_they_vary() -> None:
    """Before any call ended: ring 5 s + 180 s + the 30 s wrap-up, as variable as an
    exponential. After two calls of 130 s each (talk and wrap-up), she is told 135 s
    halved: calls that all last the same free Paul at regular times (Kingman)."""
    engine, forecaster = _engine(), WaitForecaster()
    _run(
        engine,
        forecaster,
        AgentStateSet("201", S.PAUSED, 0.0, "réunion"),
        AgentStateSet("202", S.READY, 0.0),
        CallQueued("a", "etat-civil", 1.0),
        CallQueued("b", "etat-civil", 2.0),
    )
    first = forecaster.forecast(engine, "b", 2.0)
    assert first is not None and first.wait_s == pytest.approx(215.0)
    _answer(engine, forecaster, "a", 3.0)
    _run(engine, forecaster, AgentFinished("202", 103.0), Tick(133.0))  # READY after wrap-up
    _answer(engine, forecaster, "b", 135.0)
    _run(engine, forecaster, AgentFinished("202", 235.0), CallQueued("c", "etat-civil", 240.0))
    learnt = forecaster.forecast(engine, "c", 241.0)
    assert learnt is not None and learnt.wait_s == pytest.approx(135.0 / 2)


def _forecast(position: int, at: float, wait: float | None = 100.0) -> Forecast:
    return Forecast("c", "etat-civil", at, position, wait, position)


def test_on_entry_then_every_n_seconds_and_never_a_higher_position() -> None:
    announcer = Announcer()
    assert announcer.due("c", RULES, 100.0, 100.0)
    first = announcer.say(_forecast(3, 100.0), RULES, 100.0)
    assert first is not None and first.position == 3
    assert announcer.next_at("c") == 160.0
    assert not announcer.due("c", RULES, 100.0, 159.0)
    assert announcer.due("c", RULES, 100.0, 160.5)
    # An unanswered offer put a call back ahead of her: the position is held back, the wait
    # (the truth of the moment) is said alone.
    worse = announcer.say(_forecast(4, 160.5, 150.0), RULES, 100.0)
    assert worse is not None and worse.position is None and worse.held_back
    assert worse.text == "Votre attente est estimée à environ trois minutes. Merci de patienter."
    # Back to 3, then 2: said again.
    better = announcer.say(_forecast(2, 220.0), RULES, 100.0)
    assert better is not None and better.position == 2
    # She was ringing an agent at her moment: it passes unsaid, the next one comes.
    announcer.skip("c", RULES, 100.0, 280.0)
    assert announcer.next_at("c") == 340.0


def test_nothing_is_said_when_the_rules_say_nothing() -> None:
    announcer = Announcer()
    off = AnnounceRules()
    assert not announcer.due("c", off, 0.0, 1000.0)
    repeat_only = AnnounceRules(on_entry=False, every_s=45.0, position=False, wait=True)
    assert not announcer.due("c", repeat_only, 0.0, 44.0)
    assert announcer.due("c", repeat_only, 0.0, 45.0)
    said = announcer.say(_forecast(5, 45.0, None), repeat_only, 0.0)
    assert said is None  # no position asked for, no wait known: the music goes on


def test_same_events_same_forecasts() -> None:
    results = []
    for _ in range(2):
        engine, forecaster = _engine(), WaitForecaster()
        _run(
            engine,
            forecaster,
            AgentStateSet("201", S.READY, 0.0),
            CallQueued("a", "etat-civil", 1.0),
        )
        _answer(engine, forecaster, "a", 2.0)
        _run(engine, forecaster, CallQueued("c", "etat-civil", 3.0))
        results.append(forecaster.forecast(engine, "c", 10.0))
    assert results[0] == results[1]
