"""A simulated call told node by node, for the web editor's "simulate" (pure).

Theory of operation: the interpreter runs the tree with scripted keys, as in
``ivr_scripts.simulate`` (``"t"``: the caller lets the question time out, ``"h"``: hangs up;
when the keys run out every question times out). Each batch of commands belongs to the nodes
the interpreter entered while producing it: one step per node entered, what the caller hears
going to the last of them; a batch that enters no node is a new step at the same node when
it asks again (a menu after a wrong key), else it goes on the current step (a case's status).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ivr_scripts.commands import (
    CallContext,
    CallerHungUp,
    CaseFound,
    CaseLookup,
    CaseNotFound,
    DigitsEntered,
    GetDigits,
    Input,
    LookupCase,
    Outcome,
    Play,
    PlaybackDone,
    Say,
    SetVariable,
    Timeout,
)
from ivr_scripts.errors import IvrError
from ivr_scripts.interpreter import Interpreter
from ivr_scripts.simulate import MAX_BATCHES, describe_outcome, no_cases
from ivr_scripts.tree import Tree

GUARD_KIND = "garde-fou"


@dataclass(frozen=True, slots=True)
class Step:
    node: str
    kind: str
    said: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Walkthrough:
    steps: list[Step]
    outcome: Outcome | None
    variables: dict[str, str]

    @property
    def end(self) -> str:
        """Where the call ends, in French."""
        return describe_outcome(self.outcome)


def walk(
    tree: Tree, keys: Sequence[str], at: datetime, case_lookup: CaseLookup = no_cases
) -> Walkthrough:
    """Run ``tree`` with ``keys`` at ``at``. Raises ``IvrError`` if the call never ends."""
    interp = Interpreter()
    ctx = CallContext(uniqueid="simulation", caller="0612345678", did="0140000000")
    pending = list(keys)
    steps: list[Step] = []
    variables: dict[str, str] = {}
    seen = 0
    batch = interp.start(tree, ctx, at)
    for _ in range(MAX_BATCHES):
        entered = interp.path[seen:]
        seen = len(interp.path)
        if not entered and interp.path and any(isinstance(c, GetDigits) for c in batch):
            entered = [interp.path[-1]]  # the same question asked again
        for node_id in entered:
            node = tree.nodes.get(node_id)
            steps.append(Step(node_id, node.kind if node is not None else GUARD_KIND))
        said = steps[-1].said if steps else []
        answer: Input | None = None
        for cmd in batch:
            if isinstance(cmd, Play | Say):
                said.append(cmd.text)
                answer = PlaybackDone()
            elif isinstance(cmd, GetDigits):
                if cmd.text:
                    said.append(cmd.text)
                answer = _key(pending.pop(0) if pending else "t", cmd.max_digits)
            elif isinstance(cmd, LookupCase):
                status = case_lookup(cmd.reference)
                answer = CaseNotFound() if status is None else CaseFound(status)
            elif isinstance(cmd, SetVariable):
                variables[cmd.name] = cmd.value
                answer = None
            else:
                answer = None
            if isinstance(answer, CallerHungUp):
                break
        if answer is None:
            return Walkthrough(steps, interp.outcome, variables)
        batch = interp.feed(answer)
        if not batch:
            return Walkthrough(steps, interp.outcome, variables)
    raise IvrError("simulation interrompue : trop d'étapes")


def _key(key: str, max_digits: int) -> Input:
    key = key.strip()
    if key == "h":
        return CallerHungUp()
    if key in ("t", ""):
        return Timeout()
    return DigitsEntered(key[:max_digits])
