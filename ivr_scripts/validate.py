"""Validator of menu trees: every problem at once, with paths and French messages.

Theory of operation: ``validate`` works on a tree whose *shape* is already right (pydantic)
and looks at its *meaning*: references to existing nodes, services and calendars, DTMF keys,
reachability from ``start``, dead ends (a non-terminal node missing a successor), loops with
no way out (nodes from which no terminal node can be reached), prompts without text or
without recording, and opening hours. ``validate_text`` chains YAML/shape problems (from
``ivr_scripts.tree``) with these, so the web editor can show one list. Errors make
``load_tree`` refuse the tree; warnings do not.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr_scripts.errors import IvrError, Problem, TreeLoadError
from ivr_scripts.hours import Calendar, normalise_subdivision, parse_range, supported_subdivisions
from ivr_scripts.prompt import Prompt
from ivr_scripts.tree import (
    DEFAULT_LIMITS,
    DTMF_KEYS,
    TERMINAL_KINDS,
    CallbackNode,
    CaseStatusNode,
    HoursCheckNode,
    MenuNode,
    MessageNode,
    Node,
    RouteNode,
    TransferNode,
    Tree,
    TreeLimits,
    VoicemailNode,
    load_tree_text,
    parse_tree_problems,
    successors,
)

DEFAULT_SERVICES: frozenset[str] = frozenset(
    {"accueil", "etat-civil", "urbanisme", "ecoles", "ccas", "techniques"}
)
_NUMBER_RE = re.compile(r"^\+?[0-9]{2,15}$")
# Edges taken when the caller does nothing: a cycle made only of them never ends by itself.
_SILENT_EDGES = {"next", "open", "closed", "default", "not_found"}


def validate(
    tree: Tree, known_services: Collection[str], recordings: Collection[str] | None = None
) -> list[Problem]:
    """Problems of a tree. ``recordings``: recordings present (None = unknown)."""
    problems: list[Problem] = []
    problems += _check_references(tree)
    problems += _check_nodes(tree, known_services)
    problems += _check_graph(tree)
    problems += _check_prompts(tree, recordings)
    for name, calendar in tree.calendars.items():
        problems += check_calendar(calendar, f"calendars.{name}")
    if tree.fallback_service not in known_services:
        problems.append(
            Problem("error", "fallback_service", f"service inconnu « {tree.fallback_service} »")
        )
    return problems


def validate_text(
    text: str,
    known_services: Collection[str],
    recordings: Collection[str] | None = None,
    limits: TreeLimits = DEFAULT_LIMITS,
) -> tuple[Tree | None, list[Problem]]:
    """YAML/shape problems, then (if the shape is right) ``validate``'s problems."""
    tree, problems = parse_tree_problems(text, limits)
    if tree is None:
        return None, problems
    return tree, problems + validate(tree, known_services, recordings)


def load_tree(
    path: str | Path,
    known_services: Collection[str] = DEFAULT_SERVICES,
    recordings: Collection[str] | None = None,
) -> Tree:
    """Read and validate a tree file; raise ``TreeLoadError`` if it has errors."""
    source = str(path)
    text = load_tree_text(Path(path))
    tree, problems = validate_text(text, known_services, recordings)
    if tree is None or any(p.severity == "error" for p in problems):
        raise TreeLoadError(source, [p for p in problems if p.severity == "error"])
    return tree


def errors_only(problems: list[Problem]) -> list[Problem]:
    """The problems that make a tree unpublishable."""
    return [p for p in problems if p.severity == "error"]


def _check_references(tree: Tree) -> Iterator[Problem]:
    if tree.start not in tree.nodes:
        yield Problem("error", "start", f"le nœud de départ « {tree.start} » n'existe pas")
    for node_id, node in tree.nodes.items():
        for field, target in successors(node).items():
            path = f"nodes.{node_id}.{field}"
            if target is None:
                continue
            if target not in tree.nodes:
                close = difflib.get_close_matches(target, list(tree.nodes), n=1)
                hint = f" (vouliez-vous dire « {close[0]} » ?)" if close else ""
                yield Problem("error", path, f"référence à un nœud inconnu « {target} »{hint}")


def _check_nodes(tree: Tree, known_services: Collection[str]) -> Iterator[Problem]:
    for node_id, node in tree.nodes.items():
        base = f"nodes.{node_id}"
        for field, target in successors(node).items():
            if target is None and not field.startswith("choices."):
                yield Problem(
                    "error", f"{base}.{field}", "impasse : aucun nœud suivant n'est indiqué"
                )
        if isinstance(node, MenuNode):
            yield from _check_menu(node, base)
        elif isinstance(node, HoursCheckNode):
            if node.calendar not in tree.calendars:
                yield Problem(
                    "error", f"{base}.calendar", f"calendrier inconnu « {node.calendar} »"
                )
        elif isinstance(node, RouteNode):
            if node.service not in known_services:
                yield Problem("error", f"{base}.service", f"service inconnu « {node.service} »")
        elif isinstance(node, TransferNode):
            if not _NUMBER_RE.match(node.number):
                yield Problem(
                    "error", f"{base}.number", f"numéro de transfert invalide « {node.number} »"
                )
        elif isinstance(node, VoicemailNode):
            if not node.box.strip():
                yield Problem("error", f"{base}.box", "boîte vocale non renseignée")
        elif isinstance(node, CallbackNode):
            if not node.topic.strip():
                yield Problem("error", f"{base}.topic", "motif du rappel non renseigné")
            if node.service is not None and node.service not in known_services:
                yield Problem("error", f"{base}.service", f"service inconnu « {node.service} »")


def _check_menu(node: MenuNode, base: str) -> Iterator[Problem]:
    if not node.choices:
        yield Problem("error", f"{base}.choices", "menu sans aucun choix")
    for key, target in node.choices.items():
        path = f"{base}.choices.{key}"
        if key == "" or key in {"~", "null"}:
            yield Problem("error", path, "touche DTMF manquante")
        elif len(key) != 1 or key not in DTMF_KEYS:
            yield Problem("error", path, f"touche DTMF invalide « {key} » (0-9, * ou #)")
        if target is None:
            yield Problem("error", path, "aucun nœud indiqué pour cette touche")


def _check_graph(tree: Tree) -> Iterator[Problem]:
    edges = {
        node_id: [t for t in successors(node).values() if t is not None and t in tree.nodes]
        for node_id, node in tree.nodes.items()
    }
    reachable = _closure({tree.start} & set(tree.nodes), edges)
    yield from _unreachable(tree, edges, reachable)
    reverse: dict[str, list[str]] = {n: [] for n in tree.nodes}
    for src, targets in edges.items():
        for dst in targets:
            reverse[dst].append(src)
    # A node whose link is missing or names no node already has its error; counting it as
    # an end keeps one typo from also reporting every node before it as a loop.
    ends = {
        n
        for n, node in tree.nodes.items()
        if node.kind in TERMINAL_KINDS
        or any(t is None or t not in tree.nodes for t in successors(node).values())
    }
    can_end = _closure(ends, reverse)
    for node_id in tree.nodes:
        if node_id in reachable and node_id not in can_end:
            yield Problem(
                "error",
                f"nodes.{node_id}",
                "boucle sans issue : aucune fin d'appel n'est atteignable depuis ce nœud",
            )
    yield from _silent_cycles(tree)


def _unreachable(tree: Tree, edges: dict[str, list[str]], reachable: set[str]) -> Iterator[Problem]:
    """One problem per way into the unreachable part, not one per node: a broken link
    at the top of the menu cuts off everything below it, and that is one thing to fix."""
    cut = {n: [t for t in edges[n] if t not in reachable] for n in tree.nodes if n not in reachable}
    if not cut:
        return
    order = {n: i for i, n in enumerate(tree.nodes)}
    component_of: dict[str, int] = {}
    components = _components(cut)
    for i, component in enumerate(components):
        for member in component:
            component_of[member] = i
    entered = {
        component_of[t]
        for n, targets in cut.items()
        for t in targets
        if component_of[t] != component_of[n]
    }
    roots = sorted(
        (min(c, key=order.__getitem__) for i, c in enumerate(components) if i not in entered),
        key=order.__getitem__,
    )
    for root in roots:
        below = len(_closure({root}, cut)) - 1
        more = f" (ainsi que les {below} nœud(s) qui le suivent)" if below else ""
        yield Problem("error", f"nodes.{root}", f"nœud inaccessible depuis le nœud de départ{more}")


def _silent_cycles(tree: Tree) -> Iterator[Problem]:
    silent: dict[str, list[str]] = {}
    for node_id, node in tree.nodes.items():
        silent[node_id] = [
            t
            for field, t in successors(node).items()
            if field in _SILENT_EDGES and t is not None and t in tree.nodes
        ]
    # A node is on a silent cycle when its strongly connected component has another node
    # or an edge to itself: one pass over the graph (a closure per node was quadratic).
    looping: set[str] = set()
    for component in _components(silent):
        if len(component) > 1 or component[0] in silent[component[0]]:
            looping.update(component)
    for node_id in tree.nodes:
        if node_id in looping:
            yield Problem(
                "warning",
                f"nodes.{node_id}",
                "boucle sans fin si l'appelant ne tape rien (le garde-fou l'enverra "
                "vers le service de repli)",
            )


def _components(edges: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan's algorithm, iterative: menus may be long)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = edges.get(node, [])
            if i < len(targets):
                work.append((node, i + 1))
                nxt = targets[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def _closure(seeds: set[str], edges: dict[str, list[str]]) -> set[str]:
    seen = set(seeds)
    todo = list(seeds)
    while todo:
        for nxt in edges.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def tree_prompts(tree: Tree) -> Iterator[tuple[str, Prompt]]:
    """Every prompt of a tree with its dotted path (nodes' messages, calendars' announcements)."""
    for node_id, node in tree.nodes.items():
        base = f"nodes.{node_id}"
        for field in ("prompt", "invalid_prompt", "found_prompt", "not_found_prompt"):
            value = getattr(node, field, None)
            if isinstance(value, Prompt):
                yield f"{base}.{field}", value
    for name, cal in tree.calendars.items():
        base = f"calendars.{name}"
        for field in ("closed_announcement", "holiday_announcement"):
            value = getattr(cal, field)
            if value is not None:
                yield f"{base}.{field}", value
        for i, closure in enumerate(cal.closures):
            if closure.announcement is not None:
                yield f"{base}.closures.{i}.announcement", closure.announcement
        for i, special in enumerate(cal.special_openings):
            if special.announcement is not None:
                yield f"{base}.special_openings.{i}.announcement", special.announcement


def _check_prompts(tree: Tree, recordings: Collection[str] | None) -> Iterator[Problem]:
    for path, prompt in tree_prompts(tree):
        if not prompt.text.strip():
            yield Problem("error", f"{path}.text", "texte du message manquant")
        # No recording is fine (speech synthesis says the text); a recording named but
        # absent is not: the caller would hear the synthesis instead of it.
        if prompt.file is not None and recordings is not None and prompt.file not in recordings:
            yield Problem(
                "warning",
                f"{path}.file",
                f"enregistrement manquant : « {prompt.file} » introuvable, le texte sera lu "
                "par synthèse vocale",
            )
    for node_id, node in tree.nodes.items():
        if isinstance(node, CaseStatusNode) and node.max_digits < 1:
            yield Problem("error", f"nodes.{node_id}.max_digits", "nombre de chiffres invalide")
        if isinstance(node, MessageNode) and node.next == node_id:
            yield Problem("error", f"nodes.{node_id}.next", "le message renvoie vers lui-même")


def check_calendar(calendar: Calendar, base: str) -> list[Problem]:
    """Problems of one calendar: time zone, subdivision, ranges, overlaps, dates."""
    problems: list[Problem] = []
    try:
        ZoneInfo(calendar.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            Problem("error", f"{base}.timezone", f"fuseau horaire inconnu « {calendar.timezone} »")
        )
    subdiv = calendar.holiday_subdivision
    if subdiv is not None and normalise_subdivision(subdiv) not in supported_subdivisions():
        problems.append(
            Problem(
                "error",
                f"{base}.holiday_subdivision",
                f"subdivision inconnue « {subdiv} » (ex. 57, 6AE, Alsace-Moselle)",
            )
        )
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        problems += _check_ranges(getattr(calendar.weekly, day), f"{base}.weekly.{day}")
    for i, special in enumerate(calendar.special_openings):
        problems += _check_ranges(special.hours, f"{base}.special_openings.{i}.hours")
    for i, closure in enumerate(calendar.closures):
        if closure.end < closure.start:
            problems.append(
                Problem(
                    "error",
                    f"{base}.closures.{i}",
                    "fermeture exceptionnelle : la date de fin est avant la date de début",
                )
            )
    return problems


def _check_ranges(ranges: list[str], base: str) -> list[Problem]:
    problems: list[Problem] = []
    parsed: list[tuple[int, str, object, object]] = []
    for i, text in enumerate(ranges):
        try:
            start, end = parse_range(text)
        except IvrError as exc:
            problems.append(Problem("error", f"{base}.{i}", f"horaires invalides : {exc}"))
            continue
        parsed.append((i, text, start, end))
    ordered = sorted(parsed, key=lambda item: str(item[2]))
    for (_, text_a, _, end_a), (j, text_b, start_b, _) in zip(ordered, ordered[1:], strict=False):
        if str(start_b) < str(end_a):
            problems.append(
                Problem(
                    "error",
                    f"{base}.{j}",
                    f"horaires invalides : « {text_b} » chevauche « {text_a} »",
                )
            )
    return problems


def is_terminal(node: Node) -> bool:
    """True for nodes that end the script (route, voicemail, callback, transfer, hangup)."""
    return node.kind in TERMINAL_KINDS
