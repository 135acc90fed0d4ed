"""Voice-menu files fed hostile bytes: a menu or a French reason, in bounded time and memory.

Hypothesis (derandomised: the same examples on every run, bounded in count) builds files
the way they reach the product: the installation's menu saved in another encoding (UTF-16
with and without a mark, Latin-1, a UTF-8 mark), mutated (snippets inserted: aliases,
anchors, tags, NUL and control characters, tabs, a mark in the middle, brackets never
closed; lines cut out; bytes flipped), billion laughs of any shape, nesting of any depth,
texts around the size limit, and random bytes. Each file goes through what a file on disk
goes through (``decode_tree_bytes``, ``parse_tree_problems``, ``validate``); the claim:

- nothing escapes but our answer: a tree without errors, or error problems;
- every problem is in French and says where: a path in the tree, a line and column, or a
  whole-file reason (size, encoding, empty, not a dictionary);
- each file is read within ``BOUND`` seconds (a thread joined; a hang fails, it does not
  freeze the run) and a peak of ``MEMORY_BOUND`` bytes (tracemalloc), whatever its shape.
"""

from __future__ import annotations

import re
import threading
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr_scripts.errors import Problem
from ivr_scripts.tree import DEFAULT_LIMITS, Tree, parse_tree_problems
from ivr_scripts.tree_text import decode_tree_bytes
from ivr_scripts.validate import DEFAULT_SERVICES, validate

MENU = (Path(__file__).resolve().parents[2] / "ivr_scripts" / "default_tree.yaml").read_text(
    encoding="utf-8"
)
BOUND = 60.0  # seconds: far above the work (milliseconds), far below the reported hangs
MEMORY_BOUND = 32 * 1024 * 1024  # measured: 7.5 MB for 1,000 nodes, 1.6 MB for 512 kB
SNIPPETS = (
    "&a ",
    "*a",
    "&a [x, x]\n",
    "<<: *a\n",
    "!!python/object/apply:os.system ['true']",
    "!!binary aGVsbG8=",
    "!!timestamp x",
    "2026-13-45",
    "1" * 5000,  # past Python's limit on the digits of an int
    "\x00",
    "\x07",
    "\ufeff",
    "\ud800",
    "\t",
    "{",
    "[",
    "]",
    '"',
    ": ",
    "- ",
    "? ",
    "---\n",
    "%YAML 1.1\n",
    "\r",
    "\u2028",
)
# Where a message may say where: a whole-file reason needs no place.
WHOLE_FILE = ("menu trop volumineux", "le fichier", "menu trop grand")
ENGLISH = re.compile(
    r"\b(the|not allowed|expected|found|while|could|cannot|invalid|character|mapping)\b"
)


@st.composite
def encoded(draw: st.DrawFn) -> bytes:
    """The installation's menu as another editor saved it."""
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"]))
    return MENU.encode(encoding, "replace")


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """The menu with hostile snippets inserted, lines cut out, bytes flipped."""
    text = MENU
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["snippet", "text", "cut"]))
        if kind == "snippet":
            text = text[:at] + draw(st.sampled_from(SNIPPETS)) + text[at:]
        elif kind == "text":
            text = text[:at] + draw(st.text(max_size=12)) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 80)) :]
    raw = bytearray(text.encode("utf-8", "surrogatepass"))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(raw) - 1))
        raw[at] = draw(st.integers(0, 255))
    return bytes(raw)


@st.composite
def laughs(draw: st.DrawFn) -> bytes:
    """Billion laughs of any shape, the anchors hidden where the menu has values."""
    levels, aliases = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * aliases) + "]")
    lines.append(f"start: x\nnodes: {{x: {{kind: route, service: accueil, label: *a{levels}}}}}")
    return ("\n".join(lines) + "\n").encode()


@st.composite
def nested(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(1, 5000))
    opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}"), ("- ", "")]))
    body = opener * depth + "x" + closer * depth
    return f"start: x\nnodes: {body}\n".encode()


def commented(size: int) -> bytes:
    """The menu padded with a comment to ``size`` bytes."""
    padding = size - len(MENU.encode()) - 2
    return (MENU + "#" + "é" * (padding // 2) + "x" * (padding % 2) + "\n").encode()


def chain(nodes: int) -> bytes:
    """``nodes`` messages one after the other, then a route, one node a line."""
    lines = ["start: m0", "nodes:"]
    lines += [
        f"  m{i}: {{kind: message, prompt: {{text: étape {i}}}, next: m{i + 1}}}"
        for i in range(nodes)
    ]
    lines.append(f"  m{nodes}: {{kind: route, service: accueil}}")
    return "\n".join(lines).encode()


# Past the size limit, drawn; texts near the limits on size and nodes are read once each,
# below: a second each under tracemalloc would be most of the run.
sized = st.integers(1, 100_000).map(lambda extra: commented(DEFAULT_LIMITS.max_bytes + extra))


hostile_files = st.one_of(
    encoded(), mutated(), mutated(), laughs(), nested(), sized, st.binary(max_size=400)
)


def read_file(raw: bytes) -> tuple[Tree | None, list[Problem]]:
    """What a file on disk goes through, from its bytes to the validator's problems."""
    text, problems = decode_tree_bytes(raw)
    if text is None:
        return None, problems
    tree, problems = parse_tree_problems(text)
    if tree is not None and not any(p.severity == "error" for p in problems):
        problems += validate(tree, DEFAULT_SERVICES)
    return tree, problems


def read_within_bounds(raw: bytes) -> tuple[tuple[Tree | None, list[Problem]], int]:
    """The answer for ``raw`` and the memory peak reading it took (in a thread: a hang
    shows as a failure, not as a run that never ends)."""
    answer: list[tuple[Tree | None, list[Problem]]] = []
    failure: list[BaseException] = []
    peak: list[int] = []

    def work() -> None:
        tracemalloc.start()
        try:
            answer.append(read_file(raw))
        except BaseException as exc:  # reported below, with the input
            failure.append(exc)
        finally:
            peak.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(BOUND)
    assert not worker.is_alive(), f"reading {raw[:80]!r} did not end"
    if failure:
        raise AssertionError(f"{type(failure[0]).__name__} escaped for {raw[:80]!r}") from (
            failure[0]
        )
    return answer[0], peak[0]


def says_where(problem: Problem) -> bool:
    return (
        bool(problem.path)
        or "ligne" in problem.message
        or any(problem.message.startswith(w) for w in WHOLE_FILE)
    )


def in_french(message: str) -> bool:
    """No English outside « quotes » (where the offending text or pyyaml's own words go)."""
    return not ENGLISH.search(re.sub(r"«[^»]*»", "", message))


@settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(raw=hostile_files)
def test_every_hostile_file_gets_a_menu_or_a_french_reason_in_bounds(raw: bytes) -> None:
    (tree, problems), peak = read_within_bounds(raw)
    errors = [p for p in problems if p.severity == "error"]
    assert tree is not None or errors, "refused without a reason"
    for problem in problems:
        assert in_french(problem.message), problem
        assert says_where(problem), problem
    assert peak < MEMORY_BOUND, f"{peak} bytes to read {raw[:80]!r}"


def test_the_menu_reads_in_every_encoding_with_a_mark_and_is_refused_naming_a_foreign_byte() -> (
    None
):
    for encoding in ("utf-8", "utf-8-sig", "utf-16", "utf-32"):
        (tree, problems), _ = read_within_bounds(MENU.encode(encoding))
        assert tree is not None and not [p for p in problems if p.severity == "error"], encoding
    (tree, problems), _ = read_within_bounds(MENU.encode("cp1252"))  # Windows' "ANSI"
    first = next(i for i, c in enumerate(MENU) if ord(c) > 127)
    line = MENU.count("\n", 0, first) + 1
    column = first - MENU.rfind("\n", 0, first)
    byte = MENU[first].encode("cp1252")[0]
    assert tree is None
    assert problems[0].message == (
        f"le fichier n'est pas du texte UTF-8 : octet 0x{byte:02X} (ligne {line}, colonne "
        f"{column}) ; enregistrez le fichier en UTF-8"
    )
    (tree, problems), _ = read_within_bounds(MENU.encode("utf-16-le"))  # no mark
    assert tree is None
    assert problems[0].message.startswith("le fichier semble en UTF-16 sans marque")


@pytest.mark.parametrize(
    ("raw", "refusal"),
    [
        (commented(DEFAULT_LIMITS.max_bytes), None),
        (chain(DEFAULT_LIMITS.max_nodes - 1), None),
        (chain(DEFAULT_LIMITS.max_nodes), "menu trop grand : 1001 nœuds (limite : 1000 nœuds)"),
    ],
    ids=["512-kB", "1000-nodes", "1001-nodes"],
)
def test_menus_at_the_limits_read_within_the_memory_bound(raw: bytes, refusal: str | None) -> None:
    (tree, problems), peak = read_within_bounds(raw)
    errors = [p.message for p in problems if p.severity == "error"]
    assert errors == ([refusal] if refusal else [])
    assert peak < MEMORY_BOUND
