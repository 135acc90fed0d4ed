"""Validator: each refusal, with its path and French message."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr_scripts.errors import Problem, TreeLoadError
from ivr_scripts.tree import parse_tree
from ivr_scripts.validate import DEFAULT_SERVICES, load_tree, validate, validate_text

DEFAULT_TREE = Path(__file__).resolve().parents[2] / "ivr_scripts" / "default_tree.yaml"
HEAD = "format_version: 1\nstart: m\n"


def errors(text: str, services: set[str] | None = None) -> list[tuple[str, str]]:
    _, problems = validate_text(text, services or set(DEFAULT_SERVICES))
    return [(p.path, p.message) for p in problems if p.severity == "error"]


def test_default_tree_has_no_errors() -> None:
    tree = load_tree(DEFAULT_TREE)
    problems = validate(tree, DEFAULT_SERVICES)
    assert [p for p in problems if p.severity == "error"] == []
    # Every prompt is said by speech synthesis: no recording is missing.
    assert not any("manquant" in p.message for p in problems)


def test_missing_recording_is_a_warning() -> None:
    text = (
        HEAD
        + "nodes:\n"
        + (
            "  m: {kind: message, prompt: {text: Bonjour, file: cti/00aa}, next: r}\n"
            "  n: {kind: message, prompt: {text: Re, file: cti/11bb}, next: r}\n"
            "  s: {kind: message, prompt: {text: Sans}, next: r}\n"
            "  r: {kind: route, service: accueil}\n"
        )
    )
    tree = parse_tree(text)
    problems = validate(tree, DEFAULT_SERVICES, recordings={"cti/11bb"})
    assert [p for p in problems if "manquant" in p.message] == [
        Problem(
            "warning",
            "nodes.m.prompt.file",
            "enregistrement manquant : « cti/00aa » introuvable, le texte sera lu par "
            "synthèse vocale",
        )
    ]


def test_unknown_node_and_unreachable_and_dead_end() -> None:
    text = (
        HEAD
        + """nodes:
  m:
    kind: menu
    prompt: {text: Choix}
    choices: {"1": nulle_part, "2": msg}
  msg: {kind: message, prompt: {text: Bonjour}}
  orphelin: {kind: hangup}
"""
    )
    found = errors(text)
    assert ("nodes.m.choices.1", "référence à un nœud inconnu « nulle_part »") in found
    assert ("nodes.m.default", "impasse : aucun nœud suivant n'est indiqué") in found
    assert ("nodes.msg.next", "impasse : aucun nœud suivant n'est indiqué") in found
    assert ("nodes.orphelin", "nœud inaccessible depuis le nœud de départ") in found


def test_loop_without_exit() -> None:
    text = (
        HEAD
        + """nodes:
  m: {kind: message, prompt: {text: A}, next: n}
  n: {kind: message, prompt: {text: B}, next: m}
"""
    )
    found = dict(errors(text))
    assert "boucle sans issue" in found["nodes.m"]
    assert "boucle sans issue" in found["nodes.n"]


def test_loop_with_exit_is_accepted_but_silent_loop_warned() -> None:
    text = (
        HEAD
        + """nodes:
  m:
    kind: menu
    prompt: {text: Tapez 1}
    choices: {"1": fin}
    default: m
  fin: {kind: hangup, prompt: {text: Au revoir}}
"""
    )
    _, problems = validate_text(text, DEFAULT_SERVICES)
    assert [p for p in problems if p.severity == "error"] == []
    assert any(p.path == "nodes.m" and "boucle sans fin" in p.message for p in problems)


@pytest.mark.parametrize(
    ("choices", "path", "message"),
    [
        ('{"12": fin}', "nodes.m.choices.12", "touche DTMF invalide « 12 » (0-9, * ou #)"),
        ('{"a": fin}', "nodes.m.choices.a", "touche DTMF invalide « a » (0-9, * ou #)"),
        ('{"": fin}', "nodes.m.choices.", "touche DTMF manquante"),
        ("{}", "nodes.m.choices", "menu sans aucun choix"),
        ('{"1": }', "nodes.m.choices.1", "aucun nœud indiqué pour cette touche"),
    ],
)
def test_dtmf_keys(choices: str, path: str, message: str) -> None:
    text = (
        HEAD
        + f"""nodes:
  m:
    kind: menu
    prompt: {{text: Choix}}
    choices: {choices}
    default: fin
  fin: {{kind: hangup}}
"""
    )
    assert (path, message) in errors(text)


def test_unknown_service_calendar_and_empty_prompt() -> None:
    text = (
        HEAD
        + """nodes:
  m: {kind: hours_check, calendar: piscine, open: r, closed: r}
  r: {kind: route, service: piscine, prompt: {text: "  "}}
"""
    )
    found = errors(text)
    assert ("nodes.m.calendar", "calendrier inconnu « piscine »") in found
    assert ("nodes.r.service", "service inconnu « piscine »") in found
    assert ("nodes.r.prompt.text", "texte du message manquant") in found


def test_invalid_hours() -> None:
    text = (
        HEAD
        + """calendars:
  c:
    holiday_subdivision: Bretagne
    weekly:
      mon: ["08:30-12:00", "11:00-14:00"]
      tue: ["17:00-08:00"]
      wed: ["8h-12h"]
    closures:
      - {start: 2026-08-14, end: 2026-08-10}
nodes:
  m: {kind: hours_check, calendar: c, open: r, closed: r}
  r: {kind: route, service: accueil}
"""
    )
    found = dict(errors(text))
    assert "chevauche" in found["calendars.c.weekly.mon.1"]
    assert "fin est avant le début" in found["calendars.c.weekly.tue.0"]
    assert "mal écrite" in found["calendars.c.weekly.wed.0"]
    assert "date de fin est avant" in found["calendars.c.closures.0"]
    assert "subdivision inconnue" in found["calendars.c.holiday_subdivision"]


def test_bad_transfer_number_and_missing_start() -> None:
    text = "format_version: 1\nstart: absent\nnodes:\n  t: {kind: transfer, number: abc}\n"
    found = dict(errors(text))
    assert "n'existe pas" in found["start"]
    assert "numéro de transfert invalide" in found["nodes.t.number"]


def test_load_tree_raises_listing_problems(tmp_path: Path) -> None:
    bad = tmp_path / "menu.yaml"
    bad.write_text(HEAD + "nodes:\n  m: {kind: route, service: piscine}\n", encoding="utf-8")
    with pytest.raises(TreeLoadError) as info:
        load_tree(bad)
    assert "nodes.m.service" in str(info.value)
    assert info.value.problems[0].path == "nodes.m.service"


def test_validate_accepts_parsed_tree_directly() -> None:
    tree = parse_tree(HEAD + "nodes:\n  m: {kind: route, service: urbanisme}\n")
    assert validate(tree, {"urbanisme", "accueil"}) == []


def test_the_shipped_menu_reports_nothing_at_all() -> None:
    # Warnings out of the box would teach staff to ignore the list.
    assert validate(load_tree(DEFAULT_TREE), DEFAULT_SERVICES) == []


def test_one_typo_is_one_mistake_not_a_cascade() -> None:
    # A typo at the top of the menu cuts off every node below it: the list names the typo
    # (with the node probably meant) and the one way in that was lost, not 22 nodes and a
    # loop at the greeting.
    text = DEFAULT_TREE.read_text(encoding="utf-8").replace(
        "next: horaires_mairie", "next: horaires_mairi"
    )
    assert errors(text) == [
        (
            "nodes.bienvenue.next",
            "référence à un nœud inconnu « horaires_mairi » "
            "(vouliez-vous dire « horaires_mairie » ?)",
        ),
        (
            "nodes.horaires_mairie",
            "nœud inaccessible depuis le nœud de départ (ainsi que les 21 nœud(s) qui le suivent)",
        ),
    ]


def test_unreachable_nodes_are_reported_once_per_way_in() -> None:
    text = (
        HEAD
        + """nodes:
  m: {kind: route, service: accueil}
  a: {kind: message, prompt: {text: A}, next: b}
  b: {kind: message, prompt: {text: B}, next: a}
  c: {kind: message, prompt: {text: C}, next: a}
  d: {kind: hangup}
"""
    )
    assert [(path, message.split(" (")[0]) for path, message in errors(text)] == [
        ("nodes.c", "nœud inaccessible depuis le nœud de départ"),
        ("nodes.d", "nœud inaccessible depuis le nœud de départ"),
    ]
