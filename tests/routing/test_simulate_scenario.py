"""Scenario validation (errors name the file and the field) and the traffic it generates."""

from __future__ import annotations

import copy
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from routing.day_model import SLOT_S
from routing.errors import ConfigError
from routing.scenario import load_scenario, parse_scenario
from routing.traffic import generate_calls, talk_time

SCENARIOS = Path(__file__).resolve().parents[2] / "routing" / "scenarios"
ROUTING = yaml.safe_load((SCENARIOS / "mairie-routing.yaml").read_text(encoding="utf-8"))

BASE: dict[str, Any] = {
    "name": "test",
    "routing": ROUTING,
    "profile": {"09:00": 1, "09:30": 3, "10:00": 0},
    "traffic": {
        "accueil": {
            "calls_per_day": 400,
            "handle_mean_s": 60,
            "patience_mean_s": 120,
            "transfers": {"etat-civil": 10},
        },
        "etat-civil": {"calls_per_day": 100, "handle_mean_s": 200, "patience_mean_s": 120},
    },
    "staff": {
        "201": {"shifts": [["09:00", "10:30"]], "breaks": [{"start": "09:45", "minutes": 10}]},
        "202": {"shifts": [["09:00", "10:30"]]},
    },
}


def variant(path: str, value: Any) -> dict[str, Any]:
    """BASE with the value at a dotted path replaced (``None`` deletes it)."""
    data = copy.deepcopy(BASE)
    *parents, last = path.split("/")
    node = data
    for key in parents:
        node = node[key]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return data


def test_base_scenario_is_valid() -> None:
    spec = parse_scenario(BASE)
    assert spec.staff["201"].breaks[0].start == 9 * 3600 + 45 * 60
    assert spec.traffic["accueil"].transfers == {"etat-civil": 0.1}
    assert spec.opening == (9 * 3600, 10.5 * 3600)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("traffic/accueil/handle_mean_s", 0, "traffic.accueil.handle_mean_s: Input should be"),
        (
            "traffic/nope",
            {"calls_per_day": 1, "handle_mean_s": 1, "patience_mean_s": 1},
            "traffic.nope: unknown service 'nope'",
        ),
        (
            "traffic/accueil/transfers",
            {"etat-civil": 80, "ccas": 30},
            "traffic.accueil: transfers: shares add up to more than 100 %",
        ),
        ("traffic/accueil/transfers", {"accueil": 5}, "traffic.accueil.transfers: 'accueil'"),
        ("traffic/accueil/transfers", {"mairie": 5}, "unknown service 'mairie'"),
        ("traffic/accueil/colour", "blue", "traffic.accueil.colour: Extra inputs"),
        ("staff/999", {"shifts": [["09:00", "10:00"]]}, "staff.999: unknown agent '999'"),
        ("staff/202/shifts", [["10:00", "09:00"]], "staff.202: shifts: a shift ends (09:00)"),
        ("staff/202/shifts", [], "staff.202.shifts: List should have at least 1 item"),
        ("staff/202/shifts", [["09:00", "25:00"]], "is not a time of day HH:MM"),
        (
            "staff/201/breaks",
            [{"start": "11:00", "minutes": 10}],
            "staff.201: breaks: the break at 11:00 is not inside a shift",
        ),
        ("profile", {"09:15": 1}, "profile.09:15.[key]: '09:15' does not start a half-hour slot"),
        ("profile", {"09:00": 0}, "traffic.accueil.profile: every slot weight is 0"),
        ("ring", {"timeout_s": 5, "answer_delay_s": [2, 8]}, "ring: answer_delay_s: needs"),
        ("routing_file", "other.yaml", "give exactly one of routing (inline) or routing_file"),
        ("routing", None, "give exactly one of routing"),
        (
            "routing/services/accueil/max_wait_s",
            -1,
            "routing.services.accueil.max_wait_s: Input should be greater than 0",
        ),
    ],
)
def test_invalid_scenarios_name_the_field(path: str, value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_scenario(variant(path, value), "day.yaml")
    assert str(info.value).startswith("day.yaml: ")
    assert message in str(info.value)


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read scenario"):
        load_scenario(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.yaml: invalid YAML"):
        load_scenario(bad)
    ref = tmp_path / "ref.yaml"
    data = variant("routing", None)
    data["routing_file"] = "nowhere.yaml"
    ref.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError, match="nowhere.yaml: cannot read routing configuration"):
        load_scenario(ref)


def test_sample_scenarios_load() -> None:
    mairie = load_scenario(SCENARIOS / "mairie.yaml")
    peak = load_scenario(SCENARIOS / "lundi-apres-ferie.yaml")
    assert len(mairie.routing.agents) == len(mairie.staff) == 20
    assert set(mairie.traffic) == {
        "accueil",
        "etat-civil",
        "urbanisme",
        "ecoles",
        "ccas",
        "techniques",
    }
    assert 1400 <= mairie.expected_calls <= 1600
    assert peak.expected_calls > 1.5 * mairie.expected_calls
    assert len(peak.staff) < len(mairie.staff)


def test_traffic_follows_the_profile_and_the_volume() -> None:
    spec = parse_scenario(BASE)
    calls = generate_calls(spec, 1)
    counts = Counter(c.service for c in calls)
    for service, expected in (("accueil", 400), ("etat-civil", 100)):
        assert abs(counts[service] - expected) < 5 * math.sqrt(expected)
    slots = Counter(int((c.arrival - 9 * 3600) // SLOT_S) for c in calls)
    assert set(slots) == {0, 1}  # the 10:00 slot weighs 0
    assert slots[1] > 2 * slots[0]  # weights 3 vs 1
    assert [c.arrival for c in calls] == sorted(c.arrival for c in calls)
    transferred = sum(1 for c in calls if c.service == "accueil" and c.transfer_to)
    assert 0.05 * counts["accueil"] < transferred < 0.15 * counts["accueil"]
    rescaled = generate_calls(spec, 1, calls=2000)
    assert abs(len(rescaled) - 2000) < 5 * math.sqrt(2000)


def test_talk_time_is_log_normal_with_the_scenario_mean() -> None:
    spec = parse_scenario(BASE)
    calls = generate_calls(spec, 2, calls=5000)
    traffic = spec.traffic["accueil"]
    talks = [talk_time(traffic, c.handle_z) for c in calls]
    assert sum(talks) / len(talks) == pytest.approx(60, rel=0.05)
    assert min(talks) >= 5.0
