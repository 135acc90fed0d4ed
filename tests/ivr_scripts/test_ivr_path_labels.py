"""The menu path in the caller's words, on the default tree walked by the interpreter."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr_scripts.interpreter import GUARD_NODE
from ivr_scripts.path_labels import menu_path_labels
from ivr_scripts.simulate import run_script
from ivr_scripts.tree import Tree, parse_tree
from ivr_scripts.validate import load_tree

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_TREE = Path(__file__).resolve().parents[2] / "ivr_scripts" / "default_tree.yaml"
OPEN = datetime(2026, 3, 10, 10, 0, tzinfo=PARIS)  # a Tuesday morning
URBANISM_CLOSED = datetime(2026, 3, 11, 10, 0, tzinfo=PARIS)  # a Wednesday: urbanisme is shut


@pytest.fixture(scope="module")
def tree() -> Tree:
    return load_tree(DEFAULT_TREE)


def labels(tree: Tree, keys: list[str], at: datetime = OPEN) -> list[str]:
    walked = run_script(tree, keys, at)
    return menu_path_labels(tree, walked.path)


def test_a_straight_choice_is_the_service_by_its_label(tree: Tree) -> None:
    assert labels(tree, ["1"]) == ["État civil"]


def test_hours_heard_then_a_choice(tree: Tree) -> None:
    # 7: the opening hours, then * back to the main menu, then 1: état civil.
    assert labels(tree, ["7", "*", "1"]) == ["Horaires d'ouverture", "État civil"]


def test_a_closed_service_sends_to_the_front_desk(tree: Tree) -> None:
    assert labels(tree, ["2", "9"], URBANISM_CLOSED) == [
        "En dehors des heures d'ouverture",
        "Accueil",
    ]


def test_a_case_status_then_an_agent(tree: Tree) -> None:
    assert labels(tree, ["6", "12345#", "1"]) == ["Suivi de dossier", "Accueil"]


def test_no_node_id_ever_shows() -> None:
    tree = parse_tree(
        "start: m\nservices: {}\nnodes:\n"
        "  m: {kind: menu, prompt: {text: x}, choices: {'1': r}}\n"
        "  r: {kind: route, service: etat-civil}\n"
    )
    # Unknown to the tree (changed since the call), the guard, a service the tree does not name.
    path = ["m", "gone_node", "r", GUARD_NODE]
    assert menu_path_labels(tree, path, {"etat-civil": "État civil", "accueil": "Accueil"}) == [
        "État civil",
        "Accueil",
    ]
