"""Routing configuration: the demo file, and errors that name what is wrong."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from routing.config import RoutingConfig, load_config, parse_config
from routing.errors import ConfigError
from routing.model import OverflowKind
from routing.requirements import qualifying_level, requirements

DEMO = Path(__file__).resolve().parents[2] / "routing" / "demo.yaml"

BASE: dict[str, Any] = {
    "skills": {"accueil": "Accueil", "urbanisme": "Urbanisme"},
    "services": {
        "accueil": {"label": "Accueil", "required_skills": {"accueil": 1}},
        "urbanisme": {
            "label": "Urbanisme",
            "required_skills": {"urbanisme": 3},
            "overflow": {"kind": "service", "target": "accueil"},
            "relaxation": [{"after_s": 45, "min_proficiency": 2}],
        },
    },
    "agents": {"201": {"name": "Sophie", "skills": {"accueil": 4}}},
}


def config_with(path: list[str], value: object) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


def test_demo_has_six_services_with_french_labels() -> None:
    config = load_config(DEMO)
    labels = {name: s.label for name, s in config.services.items()}
    assert labels == {
        "accueil": "Accueil",
        "etat-civil": "État civil",
        "urbanisme": "Urbanisme",
        "ecoles": "Écoles et périscolaire",
        "ccas": "CCAS",
        "techniques": "Services techniques",
    }
    assert sorted(config.agents) == ["201", "202", "203", "204", "205", "206"]
    assert config.max_missed_offers == 3


def test_demo_every_service_has_two_qualified_agents_and_accueil_is_201_205() -> None:
    engine_config = load_config(DEMO).to_engine()
    for name, service in engine_config.services.items():
        levels = requirements(service)
        qualified = [
            a
            for a, spec in engine_config.agents.items()
            if qualifying_level(spec.skills, levels) == 0
        ]
        assert len(qualified) >= 2, name
    with_accueil = {a for a, spec in engine_config.agents.items() if "accueil" in spec.skills}
    assert {"201", "205"} <= with_accueil


def test_to_engine_converts_overflow_and_sorts_relaxation() -> None:
    data = config_with(
        ["services", "urbanisme", "relaxation"],
        [{"after_s": 90, "extra_skills": {"accueil": 1}}, {"after_s": 45, "min_proficiency": 2}],
    )
    spec = parse_config(data).to_engine().services["urbanisme"]
    assert spec.overflow.kind is OverflowKind.SERVICE
    assert spec.overflow.target == "accueil"
    assert [step.after_s for step in spec.relaxation] == [45, 90]
    assert parse_config(BASE).to_engine().agents["201"].languages == frozenset({"fr"})


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            ["services", "urbanisme", "overflow"],
            {"kind": "service", "target": "mairie"},
            "service 'urbanisme', overflow: unknown target service 'mairie'",
        ),
        (
            ["services", "urbanisme", "relaxation"],
            [{"after_s": 90, "extra_skills": {"acceuil": 1}}],
            "service 'urbanisme', relaxation[0].extra_skills: unknown skill 'acceuil'",
        ),
        (
            ["agents", "202"],
            {"name": "Karim", "skills": {"urbanisme": 7}},
            "agents.202.skills: skill 'urbanisme': proficiency 7 is outside 1..5",
        ),
        (
            ["services", "accueil", "required_skills"],
            {"accueil": 0},
            "services.accueil.required_skills: skill 'accueil': proficiency 0 is outside 1..5",
        ),
        (
            ["agents", "203"],
            {"name": "Claire", "skills": {"voirie": 2}},
            "agent '203', skills: unknown skill 'voirie'",
        ),
        (
            ["services", "accueil", "overflow"],
            {"kind": "service", "target": "urbanisme"},
            "overflow: cycle",
        ),
        (["services", "accueil", "max_wait_s"], -1, "services.accueil.max_wait_s"),
        (["services", "accueil", "colour"], "blue", "services.accueil.colour"),
    ],
)
def test_invalid_configuration_names_the_culprit(
    path: list[str], value: object, expected: str
) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse_config(config_with(path, value))
    assert expected in str(excinfo.value)


def test_load_config_reports_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError, match="absent.yaml"):
        load_config(missing)
    bad = tmp_path / "bad.yaml"
    bad.write_text("services: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.yaml: invalid YAML"):
        load_config(bad)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("services: {}\nskills: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="wrong.yaml: services"):
        load_config(wrong)


def test_routing_config_is_the_pydantic_model() -> None:
    assert isinstance(parse_config(BASE), RoutingConfig)
