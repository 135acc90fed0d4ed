"""Callbacks in the day simulator: callers who give up ask to be called back (our engine only)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.callbacks.rules import RetryRules
from routing.day_callbacks import CallbackDesk
from routing.day_model import DaySpec
from routing.day_records import DayRecord, Outcome
from routing.day_report import build_report, figures
from routing.events import CallLeft, CallQueued
from routing.scenario import load_scenario
from routing.simulate import ENGINE, main, simulate_day, with_callbacks
from routing.traffic import generate_calls

SCENARIOS = Path(__file__).resolve().parents[2] / "routing" / "scenarios"
MAIRIE = load_scenario(SCENARIOS / "mairie.yaml")

#: The engine's whole-day figures for mairie.yaml, seed 1, --calls 1200, without callbacks:
#: measured with issue 19's routing rules (spare agents first, own work first, floors applied
#: early by the wait forecast or at half the threshold), before any callback was drawn.
BEFORE = {
    "calls": 1258,
    "service_level_pct": 90.06359300476947,
    "avg_wait_s": 10.944519538966922,
    "p90_wait_s": 17.818083581063547,
    "abandoned_pct": 5.48489666136725,
    "overflowed": 2,
    "qualified_pct": 97.13563605728729,
    "best_proficiency_pct": 35.299073294018534,
    "occupancy_pct": 45.39125493609752,
}


def day(spec: DaySpec, seed: int, calls: int, router: str = ENGINE) -> DayRecord:
    return simulate_day(spec, generate_calls(spec, seed, calls), router)


def test_the_shipped_town_hall_calls_back_four_services() -> None:
    assert MAIRIE.callbacks.services == {"etat-civil", "urbanisme", "ecoles", "ccas"}
    assert MAIRIE.callbacks.share == 0  # the scenario asks for none: the day as before


def test_without_callbacks_the_day_is_exactly_the_previous_one() -> None:
    report = build_report(MAIRIE, day(MAIRIE, 1, 1200))
    found = figures(report)
    assert {key: found[key] for key in BEFORE} == BEFORE
    assert found["callbacks_requested"] == 0
    assert found["abandoned_callbacks_served_pct"] == found["abandoned_pct"]


def test_app_queue_and_services_without_callback_block_never_call_back() -> None:
    spec = with_callbacks(MAIRIE, 100)
    for router in ("leastrecent", "ringall", "pooled"):
        assert day(spec, 1, 600, router) == day(MAIRIE, 1, 600, router)
    nobody = replace(spec, callbacks=replace(spec.callbacks, services=frozenset()))
    assert day(nobody, 1, 600) == day(MAIRIE, 1, 600)


def test_callbacks_bring_back_callers_who_gave_up() -> None:
    without = build_report(MAIRIE, day(MAIRIE, 1, 1600))
    spec = with_callbacks(MAIRIE, 50)
    record = day(spec, 1, 1600)
    report = build_report(spec, record)
    cb = report.callbacks
    assert cb.requested > 20
    assert cb.reached > 0.8 * cb.requested
    assert cb.mean_delay_s is not None and cb.mean_delay_s > 0
    # abandonment once the callers reached are counted as served: below the day without
    assert cb.abandon_served_pct < without.overall.abandon_pct
    assert cb.abandon_served_pct < report.overall.abandon_pct
    # the callers who asked are still abandoned live legs, on services that call back
    legs = {leg.leg_id: leg for leg in record.legs}
    for request in record.callbacks:
        assert legs[request.leg_id].outcome is Outcome.ABANDONED
        assert request.service in spec.callbacks.services
        assert request.asked_at == legs[request.leg_id].ended_at
    # the callbacks' calls take agent time from the live calls
    assert report.occupancy_pct > without.occupancy_pct


def test_a_larger_share_asks_for_more_callbacks() -> None:
    calls = generate_calls(MAIRIE, 2, 1600)
    few = simulate_day(with_callbacks(MAIRIE, 20), calls, ENGINE).callbacks
    many = simulate_day(with_callbacks(MAIRIE, 80), calls, ENGINE).callbacks
    assert 0 < len(few) < len(many)


def test_same_seed_same_callbacks() -> None:
    spec = with_callbacks(MAIRIE, 40)
    assert day(spec, 3, 900) == day(spec, 3, 900)


def check_callbacks(spec: DaySpec, record: DayRecord) -> None:
    start, close = spec.opening
    abandoned = {leg.leg_id for leg in record.legs if leg.outcome is Outcome.ABANDONED}
    assert len({r.request_id for r in record.callbacks}) == len(record.callbacks)
    busy: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for leg in record.legs:
        if leg.agent is not None and leg.talk_end is not None:
            busy[leg.agent].append((leg.ended_at, leg.talk_end))
    for request in record.callbacks:
        assert request.leg_id in abandoned
        # every request is reached, failed or still pending at the day's end
        assert request.state in ("reached", "failed", "pending"), request
        rules = spec.routing.services[request.service].callback
        assert 0 <= request.attempts <= rules.attempts
        assert len(request.calls) == request.attempts
        if request.state == "reached":
            assert request.reached_at is not None and request.reached_at >= request.asked_at
        if request.state == "failed":
            assert request.attempts == rules.attempts
        # never two agents on one request: its calls follow one another
        for (_, _, end), (_, begin, _) in zip(request.calls, request.calls[1:], strict=False):
            assert end is not None and end <= begin
        for agent, offered_at, ended_at in request.calls:
            assert ended_at is not None
            assert request.asked_at <= offered_at < close  # offered only while open
            busy[agent].append((offered_at, ended_at))
    # no agent on a callback and another call at once
    for agent, spans in busy.items():
        spans.sort()
        for (_, end), (begin, _) in zip(spans, spans[1:], strict=False):
            assert end <= begin, agent


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    share=st.sampled_from([10.0, 50.0, 100.0]),
    no_answer=st.sampled_from([0.0, 0.5, 0.9]),
    spacing_min=st.sampled_from([1.0, 15.0, 120.0]),
)
def test_every_request_ends_reached_failed_or_pending(
    seed: int, share: float, no_answer: float, spacing_min: float
) -> None:
    rules = RetryRules(attempts=2, spacing=timedelta(minutes=spacing_min))
    services = {name: replace(s, callback=rules) for name, s in MAIRIE.routing.services.items()}
    spec = with_callbacks(MAIRIE, share)
    spec = replace(
        spec,
        routing=replace(spec.routing, services=services),
        callbacks=replace(spec.callbacks, no_answer=no_answer),
    )
    record = day(spec, seed, 700)
    check_callbacks(spec, record)


def test_a_busy_day_leaves_failed_and_pending_requests() -> None:
    rules = RetryRules(attempts=2, spacing=timedelta(minutes=60))
    services = {name: replace(s, callback=rules) for name, s in MAIRIE.routing.services.items()}
    spec = with_callbacks(MAIRIE, 100)
    spec = replace(
        spec,
        routing=replace(spec.routing, services=services),
        callbacks=replace(spec.callbacks, no_answer=0.7),
    )
    record = day(spec, 1, 2400)
    check_callbacks(spec, record)
    states = {r.state for r in record.callbacks}
    assert states == {"reached", "failed", "pending"}
    report = build_report(spec, record).callbacks
    assert report.reached + report.failed + report.pending == report.requested


def test_json_and_table_show_the_callbacks(capsys: pytest.CaptureFixture[str]) -> None:
    base = [str(SCENARIOS / "mairie.yaml"), "--calls", "900", "--routers", "engine,leastrecent"]
    assert main([*base, "--callbacks", "60", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    engine, leastrecent = doc["routers"]["engine"], doc["routers"]["leastrecent"]
    assert engine["callbacks_requested"] > 0
    assert engine["abandoned_callbacks_served_pct"] < engine["abandoned_pct"]
    assert leastrecent["callbacks_requested"] == 0
    assert leastrecent["abandoned_callbacks_served_pct"] == leastrecent["abandoned_pct"]
    assert main([*base, "--callbacks", "60"]) == 0
    out = capsys.readouterr().out
    assert "Callbacks (our engine only" in out
    assert main([*base, "--callbacks", "150"]) == 2


def test_a_request_looked_at_later_keeps_the_place_she_had_when_she_asked() -> None:
    desk = CallbackDesk(with_callbacks(MAIRIE, 100))
    assert desk.ask("c00007", "etat-civil", 7, 120.0, 36000.0) is None  # due at once: open
    queued = desk.sync(37000.0)
    assert queued == [
        CallQueued("rappel:cb-c00007", "etat-civil", 37000.0, since=36000.0, keeps_place=True)
    ]
    assert desk.sync(37100.0) == []
    # after closing time she leaves the engine and stays pending for tomorrow
    assert desk.sync(desk.close) == [CallLeft("rappel:cb-c00007", desk.close)]
    assert [r.state for r in desk.records()] == ["pending"]
