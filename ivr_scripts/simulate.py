"""Simulator: run a tree with scripted caller inputs, print what happens (French output).

Theory of operation: the same pure interpreter as on real calls, driven by a script of
keys instead of Asterisk. Each ``GetDigits`` consumes the next scripted entry (``"2"``,
``"12345"`` for a case reference, ``"t"`` for an explicit timeout, ``"h"`` for the caller
hanging up); when the script is exhausted every further question times out. Case statuses
come from a ``CaseLookup`` (the CLI builds one from ``--case-status REF=STATUS``).

    python -m ivr_scripts.simulate ivr_scripts/default_tree.yaml --keys 6,12345,1 \
        --at "2026-03-10 10:00" --case-status "12345=en cours d'instruction"
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from ivr_scripts.commands import (
    TERMINAL_COMMANDS,
    CallContext,
    CallerHungUp,
    CaseFound,
    CaseLookup,
    CaseNotFound,
    Choice,
    Command,
    DigitsEntered,
    GetDigits,
    GotoWait,
    Hangup,
    Input,
    LookupCase,
    Outcome,
    Play,
    PlaybackDone,
    RecordCallback,
    Say,
    SetVariable,
    Timeout,
    Transfer,
    Voicemail,
)
from ivr_scripts.errors import IvrError
from ivr_scripts.interpreter import Interpreter
from ivr_scripts.tree import Tree
from ivr_scripts.validate import load_tree

PARIS = ZoneInfo("Europe/Paris")
MAX_BATCHES = 1000


@dataclass
class Transcript:
    """Everything a simulated call did."""

    lines: list[str] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    said: list[str] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    outcome: Outcome | None = None
    batches: int = 0


def no_cases(reference: str) -> str | None:
    """A ``CaseLookup`` that knows no case."""
    return None


def run_script(
    tree: Tree,
    keys: Sequence[str],
    at: datetime,
    case_lookup: CaseLookup = no_cases,
    context: CallContext | None = None,
) -> Transcript:
    """Run the interpreter on ``tree`` with scripted ``keys``; return the transcript."""
    ctx = context or CallContext(uniqueid="simulation", caller="0612345678", did="0140000000")
    interp = Interpreter()
    out = Transcript()
    pending = list(keys)
    batch = interp.start(tree, ctx, at)
    while batch:
        out.batches += 1
        if out.batches > MAX_BATCHES:
            raise IvrError("simulation interrompue : trop d'étapes")
        answer: Input | None = None
        for cmd in batch:
            out.commands.append(cmd)
            answer = _execute(cmd, pending, case_lookup, out)
            if isinstance(answer, CallerHungUp):
                break
        if answer is None:
            break
        batch = interp.feed(answer)
    out.path, out.choices, out.outcome = list(interp.path), list(interp.choices), interp.outcome
    out.lines.append(f"Parcours : {' > '.join(out.path)}")
    out.lines.append(f"Fin : {describe_outcome(out.outcome)}")
    return out


def _execute(
    cmd: Command, pending: list[str], case_lookup: CaseLookup, out: Transcript
) -> Input | None:
    if isinstance(cmd, Play):
        out.said.append(cmd.text)
        out.lines.append(f"  [enregistrement {cmd.file}] {cmd.text}")
        return PlaybackDone()
    if isinstance(cmd, Say):
        out.said.append(cmd.text)
        how = {"tts": "synthèse", "digits": "chiffres"}[cmd.mode]
        out.lines.append(f"  [{how}] {cmd.text}")
        return PlaybackDone()
    if isinstance(cmd, GetDigits):
        if cmd.text:
            out.said.append(cmd.text)
            how = f"enregistrement {cmd.file}" if cmd.file is not None else "synthèse"
            out.lines.append(f"  [{how}] {cmd.text}")
        key = pending.pop(0) if pending else "t"
        if key == "h":
            out.lines.append("  << l'appelant raccroche")
            return CallerHungUp()
        if key in ("t", ""):
            out.lines.append("  << (pas de réponse, délai dépassé)")
            return Timeout()
        out.lines.append(f"  << touches {key}")
        return DigitsEntered(key[: cmd.max_digits])
    if isinstance(cmd, LookupCase):
        status = case_lookup(cmd.reference)
        out.lines.append(f"  (recherche du dossier {cmd.reference} : {status or 'introuvable'})")
        return CaseNotFound() if status is None else CaseFound(status)
    if isinstance(cmd, SetVariable):
        out.variables[cmd.name] = cmd.value
        return None
    if isinstance(cmd, RecordCallback):
        out.lines.append(f"  (demande de rappel : {cmd.number or 'numéro masqué'}, {cmd.topic})")
        return None
    if isinstance(cmd, TERMINAL_COMMANDS):
        out.lines.append(f"  => {_terminal_text(cmd)}")
        return None
    raise IvrError(f"commande inconnue {cmd!r}")


def _terminal_text(cmd: Command) -> str:
    if isinstance(cmd, GotoWait):
        return f"mise en attente pour le service {cmd.service} (priorité {cmd.priority})"
    if isinstance(cmd, Voicemail):
        return f"messagerie vocale {cmd.box}"
    if isinstance(cmd, Transfer):
        return f"transfert vers {cmd.number}"
    if isinstance(cmd, Hangup):
        return "raccroché"
    return repr(cmd)


def describe_outcome(outcome: Outcome | None) -> str:
    """French description of how a call ended."""
    if outcome is None:
        return "inconnue"
    texts = {
        "routed": f"orienté vers le service {outcome.target}",
        "self_service": "renseigné par le menu (libre-service)",
        "voicemail": f"messagerie vocale {outcome.target}",
        "callback": f"demande de rappel ({outcome.target})",
        "transfer": f"transféré vers {outcome.target}",
        "hung_up": "raccroché par le menu",
        "caller_hung_up": f"l'appelant a raccroché (au nœud {outcome.node})",
    }
    return texts[outcome.kind]


def parse_at(text: str) -> datetime:
    """``"2026-12-25 10:00"`` as an aware Europe/Paris datetime."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=PARIS)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ivr_scripts.simulate", description="Simule un appel dans un menu vocal."
    )
    parser.add_argument("tree", help="fichier YAML du menu")
    parser.add_argument("--keys", default="", help="touches séparées par des virgules (h, t)")
    parser.add_argument("--at", default=None, help='date et heure, ex. "2026-12-25 10:00"')
    parser.add_argument(
        "--case-status", action="append", default=[], metavar="REF=STATUT", help="dossier connu"
    )
    parser.add_argument("--caller", default="0612345678", help="numéro de l'appelant")
    args = parser.parse_args(argv)
    try:
        tree = load_tree(args.tree)
    except IvrError as exc:
        print(exc, file=sys.stderr)
        return 2
    cases: dict[str, str] = {}
    for item in args.case_status:
        ref, sep, status = item.partition("=")
        if not sep:
            parser.error(f"--case-status attend REF=STATUT, reçu « {item} »")
        cases[ref.strip()] = status.strip()
    at = parse_at(args.at) if args.at else datetime.now(PARIS)
    keys = [k.strip() for k in args.keys.split(",")] if args.keys else []
    ctx = CallContext(uniqueid="simulation", caller=args.caller, did="0140000000")
    transcript = run_script(tree, keys, at, lambda ref: cases.get(ref), ctx)
    print(f"Appel simulé le {at:%d/%m/%Y à %H:%M} ({tree.name or args.tree})")
    for line in transcript.lines:
        print(line)
    if transcript.variables:
        print("Variables : " + ", ".join(f"{k}={v}" for k, v in transcript.variables.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
