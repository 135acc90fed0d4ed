"""« Et si… » on recorded calls: the same draft gives the same figures, a change shows.

Two recorded mornings (tests/routing/recorded_traffic.py) replayed with the demo
configuration and with drafts: one that equals it, one with a new État civil agent, one
with a looser État civil objective; the French sentences say what the tables show.
"""

from __future__ import annotations

from typing import Any

import pytest

from routing.config import load_config, parse_config
from routing.model import EngineConfig
from routing.what_if import compare
from routing.what_if_text import duration, of_service, summary
from tests.routing.recorded_traffic import recorded_calls

DEMO = load_config("routing/demo.yaml")


def draft(change: Any) -> EngineConfig:
    document = DEMO.model_dump(mode="json")
    change(document)
    return parse_config(document).to_engine()


def test_a_draft_equal_to_the_config_in_force_gives_the_same_figures() -> None:
    calls = recorded_calls()
    result = compare(calls, DEMO.to_engine(), draft(lambda d: None))
    assert result.identical
    assert result.calls == len(calls) and result.days == 2 and result.left_out == 0
    assert {s.service for s in result.services} == {"accueil", "etat-civil"}
    assert summary(result) == [
        "Aucune différence : sur ces appels, le brouillon donne les mêmes résultats que "
        "la configuration en vigueur."
    ]


def test_a_new_agent_for_etat_civil_serves_more_callers_sooner() -> None:
    def add_agent(d: dict[str, Any]) -> None:
        d["agents"]["207"] = {"name": "Nina Petit", "skills": {"etat-civil": 4}}

    result = compare(recorded_calls(), DEMO.to_engine(), draft(add_agent))
    assert result.added_agents == ("207",)
    civil = next(s for s in result.services if s.service == "etat-civil")
    assert civil.current.calls == civil.draft.calls
    assert civil.draft.sl_pct is not None and civil.current.sl_pct is not None
    assert civil.draft.sl_pct > civil.current.sl_pct
    assert civil.draft.avg_wait_s < civil.current.avg_wait_s
    assert civil.draft.abandoned < civil.current.abandoned
    sentence = next(s for s in summary(result) if "État civil" in s)
    assert sentence.startswith(
        f"Le taux de service de l'État civil passerait de {round(civil.current.sl_pct)} % "
        f"à {round(civil.draft.sl_pct)} %"
    )


def test_a_looser_objective_is_measured_against_itself() -> None:
    def loosen(d: dict[str, Any]) -> None:
        d["services"]["etat-civil"]["sl_threshold_s"] = 60

    result = compare(recorded_calls(), DEMO.to_engine(), draft(loosen))
    civil = next(s for s in result.services if s.service == "etat-civil")
    assert civil.draft.answered_in_time > civil.current.answered_in_time
    # The objective is not a routing rule: the same callers wait the same.
    assert civil.draft.avg_wait_s == civil.current.avg_wait_s
    assert [s for s in summary(result) if "État civil" in s][0].endswith(
        "(objectif passé de 80 % en 30 s à 80 % en 1 min)."
    )


def test_calls_of_a_service_the_draft_removes_are_left_out_of_both() -> None:
    def remove_accueil(d: dict[str, Any]) -> None:
        for service in d["services"].values():
            if service["overflow"].get("target") == "accueil":
                service["overflow"] = {"kind": "voicemail"}
        del d["services"]["accueil"]

    calls = recorded_calls()
    result = compare(calls, DEMO.to_engine(), draft(remove_accueil))
    accueil = sum(1 for c in calls if c.service == "accueil")
    assert result.left_out == accueil and result.calls == len(calls) - accueil
    assert [s.service for s in result.services] == ["etat-civil"]


@pytest.mark.parametrize(
    ("label", "said"),
    [
        ("État civil", "de l'État civil"),
        ("Accueil", "de l'Accueil"),
        ("CCAS", "du CCAS"),
        ("Services techniques", "des Services techniques"),
        ("Cimetière", "du service « Cimetière »"),
    ],
)
def test_a_service_is_named_with_its_article(label: str, said: str) -> None:
    assert of_service(label) == said


def test_durations_read_as_minutes_and_seconds() -> None:
    assert [duration(s) for s in (40.4, 65, 120)] == ["40 s", "1 min 05 s", "2 min"]


def test_a_draft_ringing_two_phones_together_is_replayed_as_a_race() -> None:
    def ring_two(d: dict[str, Any]) -> None:
        d["ring_together"] = 2

    result = compare(recorded_calls(), DEMO.to_engine(), draft(ring_two))
    assert {s.service for s in result.services} == {"accueil", "etat-civil"}
    assert all(s.draft.calls == s.current.calls for s in result.services)
