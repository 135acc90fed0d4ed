"""The pooled bound and the ``--json`` figures of ``python -m routing.simulate``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routing.day_report import build_report
from routing.scenario import load_scenario
from routing.simulate import ENGINE, POOLED, ROUTERS, main, simulate_day
from routing.traffic import generate_calls

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "routing" / "scenarios"
FIGURES = {
    "calls",
    "service_level_pct",
    "avg_wait_s",
    "p90_wait_s",
    "abandoned_pct",
    "overflowed",
    "qualified_pct",
    "best_proficiency_pct",
    "occupancy_pct",
    "sl_below_pooled",
    "abandoned_callbacks_served_pct",
    "callbacks_requested",
    "callbacks_reached",
    "callbacks_failed",
    "callbacks_pending",
    "callback_mean_delay_s",
    "announcements",
}


def test_json_prints_every_routers_whole_day_figures(capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(SCENARIOS / "mairie.yaml"), "--seed", "2", "--calls", "120", "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["seed"] == 2
    assert doc["scenario"] == "Mairie, journée type"
    assert list(doc["routers"]) == list(ROUTERS)
    for name, figures in doc["routers"].items():
        assert set(figures) == FIGURES, name
        assert 0 <= figures["service_level_pct"] <= 100
        assert figures["p90_wait_s"] >= 0
        assert 0 < figures["qualified_pct"] <= 100
    assert doc["routers"][POOLED]["sl_below_pooled"] == 0
    pooled_sl = doc["routers"][POOLED]["service_level_pct"]
    engine = doc["routers"][ENGINE]
    assert engine["sl_below_pooled"] == pytest.approx(pooled_sl - engine["service_level_pct"])
    # Position and wait told to waiting callers: measured for our engine only (on this small
    # day nobody may have waited at all).
    assert doc["routers"]["leastrecent"]["announcements"] is None
    # same seed, same document
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out) == doc


def test_json_has_the_announcements_told_to_waiting_callers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [str(SCENARIOS / "mairie.yaml"), "--json", "--routers", "engine"]
    assert main(args) == 0
    told = json.loads(capsys.readouterr().out)["routers"][ENGINE]["announcements"]
    assert told["announcements"] > 0 and told["answered_with_wait"] > 0
    assert told["position_went_up"] == 0  # by rule: held back instead
    assert 0 <= told["wait_median_abs_error_s"] <= told["wait_p90_abs_error_s"]
    assert told["app_queue_wait_median_abs_error_s"] is not None


def test_json_without_pooled_has_no_distance(capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(SCENARIOS / "mairie.yaml"), "--calls", "60", "--json", "--routers", "engine"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc["routers"]) == ["engine"]
    assert doc["routers"]["engine"]["sl_below_pooled"] is None


def test_the_table_shows_each_routers_distance_to_pooled(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([str(SCENARIOS / "mairie.yaml"), "--calls", "60"]) == 0
    out = capsys.readouterr().out
    assert "below pooled" in out
    pooled_line = next(line for line in out.splitlines() if line.startswith("pooled "))
    assert pooled_line.split()[2] == "0.0"


@pytest.mark.parametrize("scenario", ["mairie.yaml", "lundi-apres-ferie.yaml"])
@pytest.mark.parametrize("seed", range(1, 5))
def test_pooled_is_never_behind_the_engine(scenario: str, seed: int) -> None:
    spec = load_scenario(SCENARIOS / scenario)
    calls = generate_calls(spec, seed)
    sl = {
        name: build_report(spec, simulate_day(spec, calls, name)).overall.sl_pct
        for name in (ENGINE, POOLED)
    }
    pooled, engine = sl[POOLED], sl[ENGINE]
    assert pooled is not None and engine is not None
    assert pooled >= engine


def test_ring_together_is_offered_to_the_engine_and_the_bound(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [str(SCENARIOS / "mairie.yaml"), "--calls", "300", "--json", "--routers"]
    assert main([*args, "engine,pooled", "--ring-together", "3"]) == 0
    together = json.loads(capsys.readouterr().out)["routers"]
    assert main([*args, "engine,pooled"]) == 0
    alone = json.loads(capsys.readouterr().out)["routers"]
    assert together != alone
    assert together[POOLED]["service_level_pct"] >= together[ENGINE]["service_level_pct"]
    assert main([*args, "engine", "--ring-together", "0"]) == 2
