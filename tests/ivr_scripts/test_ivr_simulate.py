"""Interpreter on the default tree through the simulator (pure, scripted inputs)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr_scripts.commands import CallContext, GetDigits, GotoWait, Play, Say
from ivr_scripts.interpreter import MAX_NODES, Interpreter
from ivr_scripts.simulate import main, run_script
from ivr_scripts.tree import Tree, parse_tree
from ivr_scripts.validate import load_tree

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_TREE = Path(__file__).resolve().parents[2] / "ivr_scripts" / "default_tree.yaml"
OPEN = datetime(2026, 3, 10, 10, 0, tzinfo=PARIS)  # a Tuesday morning
CASES = {"12345": "en cours d'instruction"}


def lookup(reference: str) -> str | None:
    return CASES.get(reference)


@pytest.fixture(scope="module")
def tree() -> Tree:
    return load_tree(DEFAULT_TREE)


def test_route_to_etat_civil(tree: Tree) -> None:
    t = run_script(tree, ["1"], OPEN)
    assert t.outcome is not None and (t.outcome.kind, t.outcome.target) == ("routed", "etat-civil")
    assert t.path == ["bienvenue", "horaires_mairie", "menu_principal", "vers_etat_civil"]
    assert t.variables == {
        "CTI_IVR_PATH": "bienvenue/horaires_mairie/menu_principal/vers_etat_civil",
        "CTI_IVR_CHOICE": "etat-civil",
        "CTI_PRIORITY": "0",
        "IVR_RESULT": "route",
    }
    assert isinstance(t.commands[-1], GotoWait)


def test_christmas_is_a_holiday(tree: Tree) -> None:
    t = run_script(tree, ["1"], datetime(2026, 12, 25, 10, 0, tzinfo=PARIS))
    assert any("Noël" in s and "férié" in s for s in t.said)
    assert t.path[:3] == ["bienvenue", "horaires_mairie", "menu_ferme"]
    assert t.outcome is not None and t.outcome.kind == "voicemail"
    assert t.variables["IVR_RESULT"] == "done"


def test_out_of_hours_then_timeout_hangs_up(tree: Tree) -> None:
    t = run_script(tree, [], datetime(2026, 3, 10, 20, 0, tzinfo=PARIS))
    assert any("actuellement fermée" in s for s in t.said)
    assert t.outcome is not None and t.outcome.kind == "hung_up"
    assert t.path[-1] == "au_revoir"


def test_exceptional_closure_announcement(tree: Tree) -> None:
    t = run_script(tree, ["2"], datetime(2026, 12, 24, 10, 0, tzinfo=PARIS), context=None)
    assert any("exceptionnellement fermée le 24 décembre" in s for s in t.said)
    assert t.outcome is not None and t.outcome.kind == "callback"


def test_election_sunday_is_open(tree: Tree) -> None:
    t = run_script(tree, ["4"], datetime(2026, 3, 15, 10, 0, tzinfo=PARIS))
    assert t.outcome is not None and (t.outcome.target, t.variables["CTI_PRIORITY"]) == (
        "ccas",
        "1",
    )


def test_case_found_then_talk_to_agent(tree: Tree) -> None:
    t = run_script(tree, ["6", "12345", "1"], OPEN, lookup)
    assert "en cours d'instruction" in t.said
    assert Say("12345", "digits") in t.commands
    assert t.variables["CTI_CITIZEN"] == "dossier:12345"
    assert t.outcome is not None and (t.outcome.kind, t.outcome.target) == ("routed", "accueil")


def test_case_not_found_then_hangup_is_self_service(tree: Tree) -> None:
    t = run_script(tree, ["6", "999"], OPEN, lookup)
    assert any("pas trouvé" in s for s in t.said)
    assert t.outcome is not None and t.outcome.kind == "self_service"
    assert t.path[-2:] == ["apres_dossier", "merci_dossier"]


def test_invalid_keys_then_retry(tree: Tree) -> None:
    t = run_script(tree, ["8", "0", "2"], OPEN)
    assert t.said.count("Ce choix n'est pas valide. Veuillez réessayer.") == 2
    assert t.outcome is not None and t.outcome.target == "urbanisme"
    assert [c.digits for c in t.choices] == ["8", "0", "2"]


def test_timeouts_go_to_accueil(tree: Tree) -> None:
    t = run_script(tree, [], OPEN)
    assert t.outcome is not None and (t.outcome.kind, t.outcome.target) == ("routed", "accueil")
    assert [c.digits for c in t.choices] == [None, None, None]  # max_retries 2 -> 3 tries


def test_hangup_mid_menu(tree: Tree) -> None:
    t = run_script(tree, ["h"], OPEN)
    assert t.outcome is not None and t.outcome.kind == "caller_hung_up"
    assert t.outcome.node == "menu_principal"
    assert t.variables == {}


def test_self_service_hours(tree: Tree) -> None:
    t = run_script(tree, ["7"], OPEN)
    assert t.outcome is not None and t.outcome.kind == "self_service"


def test_prompts_are_handed_to_the_edge_with_their_words_never_spelled() -> None:
    """The interpreter says what to say; which sound voices it is the edge's choice."""
    menu = parse_tree(
        """format_version: 1
start: hello
nodes:
  hello: {kind: message, prompt: {text: Bonjour., file: cti/0123456789abcdef}, next: ask}
  ask: {kind: menu, prompt: {text: Tapez 1.}, choices: {"1": bye}, default: bye}
  bye: {kind: hangup, prompt: {text: Au revoir.}}
"""
    )
    t = run_script(menu, ["1"], OPEN, context=CallContext())
    assert Play("cti/0123456789abcdef", "Bonjour.") in t.commands
    # The question is one command, so a key pressed while it is said is taken.
    assert GetDigits(1, 5, None, "Tapez 1.") in t.commands
    assert Say("Au revoir.", "tts") in t.commands
    assert all(c.mode in ("tts", "digits") for c in t.commands if isinstance(c, Say))


def test_guard_ends_silent_loops() -> None:
    loop = parse_tree(
        """format_version: 1
start: m
nodes:
  m: {kind: menu, prompt: {text: A}, choices: {"1": n}, default: n, max_retries: 0}
  n: {kind: menu, prompt: {text: B}, choices: {"1": f}, default: m, max_retries: 0}
  f: {kind: hangup}
"""
    )
    t = run_script(loop, [], OPEN)
    assert t.outcome is not None and (t.outcome.kind, t.outcome.target) == ("routed", "accueil")
    assert len(t.path) == MAX_NODES + 1


def test_cli(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [str(DEFAULT_TREE), "--keys", "6,12345", "--at", "2026-03-10 10:00",
         "--case-status", "12345=accepté"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "Parcours : bienvenue > horaires_mairie > menu_principal > suivi_dossier" in out
    assert "accepté" in out
    assert "Fin : renseigné par le menu (libre-service)" in out


KEYS = st.sampled_from(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#", "t", "h"])
WHEN = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)).map(
    lambda d: d.replace(tzinfo=PARIS)
)


@settings(max_examples=300, deadline=None)
@given(keys=st.lists(st.one_of(KEYS, st.text("0123456789", min_size=1, max_size=6))), when=WHEN)
def test_property_every_call_ends(keys: list[str], when: datetime) -> None:
    tree = load_tree(DEFAULT_TREE)
    t = run_script(tree, keys, when, lookup)
    assert t.outcome is not None
    assert t.batches <= MAX_NODES * 4
    terminal = t.commands[-1]
    if t.outcome.kind != "caller_hung_up":
        assert type(terminal).__name__ in {"GotoWait", "Hangup", "Voicemail", "Transfer"}


def test_interpreter_rejects_out_of_protocol_input(tree: Tree) -> None:
    from ivr_scripts.commands import CaseFound
    from ivr_scripts.errors import InterpreterError

    interp = Interpreter()
    interp.start(tree, CallContext(), OPEN)
    with pytest.raises(InterpreterError, match="nodes.bienvenue"):
        interp.feed(CaseFound("x"))
