"""Hostile or huge menu texts: refused with a French reason, in bounded work (issue 17/18).

A 398-byte YAML of nine aliases on six levels held the product for 84 s; a 12,000-node tree
took 73.6 s to validate. Each text is read in a thread joined with a generous bound, so a
regression shows as a failure, not as a hung test run.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr_scripts.errors import Problem
from ivr_scripts.tree import (
    DEFAULT_LIMITS,
    MessageNode,
    Tree,
    TreeLimits,
    parse_tree_data,
    parse_tree_problems,
)
from ivr_scripts.validate import DEFAULT_SERVICES, validate

BOUND = 60.0  # seconds: orders of magnitude above the work, far below the reported hangs


def billion_laughs(levels: int = 6, aliases: int = 9) -> str:
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * aliases)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append(f"start: x\nnodes: {{x: {{kind: route, service: accueil, label: *a{levels}}}}}")
    return "\n".join(lines) + "\n"


def read_within_bound(text: str, limits: TreeLimits = DEFAULT_LIMITS) -> list[Problem]:
    result: list[list[Problem]] = []
    worker = threading.Thread(target=lambda: result.append(parse_tree_problems(text, limits)[1]))
    worker.start()
    worker.join(BOUND)
    assert not worker.is_alive(), "reading the text did not end"
    return result[0]


def messages(problems: list[Problem]) -> str:
    return " | ".join(p.message for p in problems if p.severity == "error")


def test_billion_laughs_is_refused_for_its_aliases() -> None:
    text = billion_laughs()
    assert len(text.encode()) < 420  # the report's was 398 bytes
    found = messages(read_within_bound(text))
    assert "ancres YAML (&a0) ne sont pas acceptées" in found


def test_an_alias_alone_is_refused_too() -> None:
    text = "start: x\nnodes:\n  x: {kind: route, service: accueil, label: *nothing}\n"
    found = read_within_bound(text)
    assert "YAML illisible" in messages(found)


def test_an_alias_to_an_anchor_is_named() -> None:
    text = "s: &s accueil\nstart: x\nnodes:\n  x: {kind: route, service: *s}\n"
    assert "ancres YAML (&s)" in messages(read_within_bound(text))


def test_deep_nesting_is_refused_with_the_limit() -> None:
    text = "start: x\nnodes: " + "[" * 5000 + "]" * 5000 + "\n"
    found = messages(read_within_bound(text))
    assert "imbrication trop profonde (plus de 40 niveaux)" in found


def test_a_text_past_the_size_limit_is_refused_naming_it() -> None:
    text = "start: x\nnodes: {}\n# " + "x" * 2_000_000 + "\n"
    found = messages(read_within_bound(text, TreeLimits(max_bytes=1_000_000)))
    assert found == "menu trop volumineux : 2000022 octets (limite : 1000000 octets)"


def chain(n: int) -> dict[str, Any]:
    """``n`` messages one after the other, then a route: a long but valid menu."""
    nodes: dict[str, Any] = {
        f"m{i}": {"kind": "message", "prompt": {"text": f"étape {i}"}, "next": f"m{i + 1}"}
        for i in range(n)
    }
    nodes[f"m{n}"] = {"kind": "route", "service": "accueil"}
    return {"start": "m0", "nodes": nodes}


def test_too_many_nodes_are_refused_naming_the_limit() -> None:
    data = chain(1500)
    tree, problems = parse_tree_data(data, TreeLimits(max_bytes=10**8))
    assert tree is None
    assert messages(problems) == "menu trop grand : 1501 nœuds (limite : 1000 nœuds)"
    text_problems = read_within_bound(json.dumps(data), TreeLimits(max_bytes=10**8))
    assert messages(text_problems) == messages(problems)


def test_a_large_tree_is_validated_in_one_pass() -> None:
    """20,000 nodes: with a closure per node (the loop check) this was 4·10^8 steps."""
    tree, problems = parse_tree_data(chain(20_000), TreeLimits(10**9, 10**9))
    assert tree is not None and problems == []
    found: list[list[Problem]] = []
    worker = threading.Thread(target=lambda: found.append(validate(tree, DEFAULT_SERVICES)))
    worker.start()
    worker.join(BOUND)
    assert not worker.is_alive(), "validation did not end"
    assert all(p.severity == "warning" for p in found[0])  # prompts without recordings


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.dictionaries(st.integers(0, 12), st.integers(0, 12), max_size=13))
def test_silent_loops_are_the_nodes_that_reach_themselves(nexts: dict[int, int]) -> None:
    """The one-pass loop check warns for exactly the nodes a silent path leads back to."""
    nodes: dict[str, Any] = {
        f"n{i}": MessageNode(kind="message", prompt={"text": "x"}, next=f"n{j}")  # type: ignore[arg-type]
        for i, j in nexts.items()
    }
    for j in set(nexts.values()) - set(nexts):
        nodes[f"n{j}"] = MessageNode(kind="message", prompt={"text": "x"}, next=None)  # type: ignore[arg-type]
    if not nodes:
        return
    tree = Tree(start=sorted(nodes)[0], nodes=nodes)
    warned = {
        p.path.split(".")[1]
        for p in validate(tree, DEFAULT_SERVICES)
        if "boucle sans fin" in p.message
    }
    expected = set()
    for start in nexts:
        seen, here = set(), nexts.get(start)
        while here is not None and here not in seen:
            seen.add(here)
            here = nexts.get(here)
        if start in seen:
            expected.add(f"n{start}")
    assert warned == expected


@pytest.mark.parametrize("text", ["start: x\nnodes: {}\n", '{"start": "x", "nodes": {}}'])
def test_ordinary_texts_still_read(text: str) -> None:
    tree, problems = parse_tree_problems(text)
    assert tree is not None and problems == []
