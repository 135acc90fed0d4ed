"""Tree format: default tree loads, YAML/JSON round trip, schema file in sync."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ivr_scripts.errors import TreeLoadError
from ivr_scripts.tree import (
    SCHEMA_FILE,
    MenuNode,
    dump_tree,
    dump_tree_json,
    parse_tree,
    parse_tree_problems,
    tree_json_schema,
)
from ivr_scripts.validate import load_tree

DEFAULT_TREE = Path(__file__).resolve().parents[2] / "ivr_scripts" / "default_tree.yaml"


def test_default_tree_loads() -> None:
    tree = load_tree(DEFAULT_TREE)
    assert tree.format_version == 1
    menu = tree.nodes["menu_principal"]
    assert isinstance(menu, MenuNode)
    assert sorted(menu.choices) == ["1", "2", "3", "4", "5", "6", "7", "9"]


def test_round_trip_yaml_and_json() -> None:
    tree = load_tree(DEFAULT_TREE)
    assert parse_tree(dump_tree(tree)) == tree
    assert parse_tree(dump_tree_json(tree)) == tree
    assert dump_tree(parse_tree(dump_tree(tree))) == dump_tree(tree)


def test_star_and_hash_keys_survive_round_trip() -> None:
    text = """
format_version: 1
start: m
nodes:
  m:
    kind: menu
    prompt: {text: Tapez étoile ou dièse}
    choices: {"*": fin, "#": fin, 0: fin}
    default: fin
  fin: {kind: hangup}
"""
    tree = parse_tree(text)
    menu = tree.nodes["m"]
    assert isinstance(menu, MenuNode)
    assert set(menu.choices) == {"*", "#", "0"}
    assert parse_tree(dump_tree(tree)) == tree


def test_schema_file_is_in_sync() -> None:
    on_disk = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert on_disk == tree_json_schema(), "regenerate with: python -m ivr_scripts.tree"


def test_shape_problems_have_paths() -> None:
    text = """
format_version: 1
start: m
nodes:
  m:
    kind: menu
    choices: {"1": fin}
    couleur: rouge
  fin: {kind: teleport}
"""
    tree, problems = parse_tree_problems(text)
    assert tree is None
    paths = {p.path: p.message for p in problems}
    assert paths["nodes.m.prompt"] == "champ obligatoire manquant"
    assert paths["nodes.m.couleur"] == "champ inconnu"
    assert "kind" in paths["nodes.fin"]


def test_duplicate_dtmf_key_is_reported_with_line() -> None:
    text = """format_version: 1
start: m
nodes:
  m:
    kind: menu
    prompt: {text: Choix}
    choices:
      "3": fin
      3: m
    default: fin
  fin: {kind: hangup}
"""
    _, problems = parse_tree_problems(text)
    assert [(p.path, p.severity) for p in problems] == [("nodes.m.choices.3", "error")]
    assert "ligne 9" in problems[0].message
    with pytest.raises(TreeLoadError, match="nodes.m.choices.3"):
        parse_tree(text)


def test_yaml_syntax_error_is_a_problem() -> None:
    _, problems = parse_tree_problems("nodes: [unclosed\n")
    assert problems[0].path == "yaml"
    assert "YAML illisible" in problems[0].message


def test_wrong_format_version() -> None:
    _, problems = parse_tree_problems("format_version: 2\nstart: a\nnodes: {}\n")
    assert any(p.path == "format_version" and "version" in p.message for p in problems)
