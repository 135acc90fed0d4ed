"""Generated town-hall days and ``python -m routing.compare``."""

from __future__ import annotations

import pytest

from routing.compare import main
from routing.day_generator import generate_day
from routing.requirements import requirements
from routing.simulate import ENGINE, POOLED, simulate_day
from routing.traffic import generate_calls

DAYS = range(1, 41)


def test_same_seed_same_day_other_seed_other_day() -> None:
    assert generate_day(7) == generate_day(7)
    assert generate_day(7)[0] != generate_day(8)[0]


def test_days_cover_the_range_asked_for() -> None:
    shapes = [generate_day(seed)[1] for seed in DAYS]
    assert all(4 <= s.agents <= 60 for s in shapes)
    assert min(s.agents for s in shapes) <= 6 and max(s.agents for s in shapes) >= 40
    assert {s.spread for s in shapes} == {"narrow", "broad"}
    assert {s.load for s in shapes} == {"quiet", "normal", "busy", "overloaded"}
    assert {s.patience for s in shapes} == {"short", "long"}
    assert any(s.surge for s in shapes) and not all(s.surge for s in shapes)


@pytest.mark.parametrize("seed", DAYS)
def test_every_service_has_a_qualified_agent_and_traffic(seed: int) -> None:
    spec, shape = generate_day(seed)
    assert set(spec.traffic) == set(spec.routing.services)
    assert set(spec.staff) == set(spec.routing.agents)
    for name, service in spec.routing.services.items():
        base = requirements(service)[0]
        assert any(base.accepts(a.skills) for a in spec.routing.agents.values()), name
        assert spec.traffic[name].calls_per_day > 0
    assert shape.label == spec.name


@pytest.mark.parametrize("seed", [3, 4])
def test_a_generated_day_replays_through_the_engine_and_the_bound(seed: int) -> None:
    spec, _ = generate_day(seed)
    calls = generate_calls(spec, 1)
    for router in (ENGINE, POOLED):
        record = simulate_day(spec, calls, router)
        assert {leg.call_id for leg in record.legs} == {c.call_id for c in calls}


def test_compare_prints_each_seed_the_means_and_the_verdict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--days", "3", "--seeds", "1-2", "--routers", "engine,pooled,leastrecent"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[1].startswith("gen-3: ")
    assert "ring 1 phone(s)" in lines[0]
    assert [line.split()[0] for line in lines[3:6]] == ["1", "2", "mean"]
    assert "engine vs best app_queue: SL " in out
    assert out.rstrip().endswith("(margin 2 points, seeds averaged)")
    assert main(["--days", "3", "--seeds", "1-2", "--routers", "engine,pooled,leastrecent"]) == 0
    assert capsys.readouterr().out == out


def test_compare_rejects_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--days", "1", "--routers", "engine,linear"]) == 2
    assert main([]) == 2
    assert main(["--days", "x"]) == 2
    assert "error" in capsys.readouterr().err
