"""Pure interpreter of a menu tree: a state machine driven by the edge.

Theory of operation: ``Interpreter.start(tree, context, now)`` enters the ``start`` node and
returns the first batch of commands; ``feed(input)`` returns the next batch (see
``ivr_scripts.commands`` for the protocol). No I/O and no clock read: ``now`` is an input
(used by ``hours_check`` nodes), the case status lookup is a command (``LookupCase``) answered
by ``CaseFound``/``CaseNotFound``.

Every node entered is appended to ``path``; every caller input to ``choices``. Terminal nodes
first emit the channel variables the dialplan (``from-pstn``) reads — ``CTI_IVR_CHOICE``,
``CTI_PRIORITY``, ``CTI_IVR_PATH``, ``CTI_CITIZEN``, ``IVR_RESULT`` (``done`` when the menu
ended the call itself, ``route`` when the caller goes on to ``cti-wait``) and, when the route
sets a language, ``CTI_LANG``/``CHANNEL(language)`` — then what they say, then the terminal
command. A safety guard bounds the number of nodes entered per call (``MAX_NODES``): a tree
that loops (e.g. a silent caller bounced between menus) ends routed to the tree's
``fallback_service``, so every call terminates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ivr_scripts.callback_dialog import CallbackDialog, readable
from ivr_scripts.commands import (
    CallContext,
    CallerHungUp,
    CaseFound,
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
    Say,
    SetVariable,
    Timeout,
    Transfer,
    Voicemail,
)
from ivr_scripts.errors import InterpreterError
from ivr_scripts.hours import is_open
from ivr_scripts.prompt import Prompt
from ivr_scripts.tree import (
    CallbackNode,
    CaseStatusNode,
    HangupNode,
    HoursCheckNode,
    MenuNode,
    MessageNode,
    RouteNode,
    TransferNode,
    Tree,
    VoicemailNode,
)

MAX_NODES = 60
GUARD_NODE = "(garde-fou)"
PATH_SEPARATOR = "/"

Waiting = Literal["nothing", "playback", "digits", "lookup", "finished"]


class Interpreter:
    """One call's run of a tree. Create, ``start``, then ``feed`` until ``finished``."""

    def __init__(self) -> None:
        self._tree: Tree | None = None
        self._ctx = CallContext()
        self._now: datetime | None = None
        self._waiting: Waiting = "nothing"
        self._node = ""
        self._pending: str | None = None
        self._retries = 0
        self._reference: str | None = None
        self._dialog: CallbackDialog | None = None  # the callback node's, once entered
        self.path: list[str] = []
        self.choices: list[Choice] = []
        self.outcome: Outcome | None = None

    @property
    def finished(self) -> bool:
        return self._waiting == "finished"

    def start(self, tree: Tree, context: CallContext, now: datetime) -> list[Command]:
        """Begin the call at ``tree.start``; ``now`` is the call's time (for hours checks)."""
        if self._tree is not None:
            raise InterpreterError("start() appelé deux fois")
        self._tree, self._ctx, self._now = tree, context, now
        return self._enter(tree.start)

    def feed(self, result: Input) -> list[Command]:
        """Answer to the last batch; returns the next batch ([] once finished)."""
        if self._tree is None:
            raise InterpreterError("feed() avant start()")
        if isinstance(result, CallerHungUp):
            if self.outcome is None or self.outcome.kind != "caller_hung_up":
                self.outcome = Outcome("caller_hung_up", None, self._node)
            self._waiting = "finished"
            return []
        waiting = self._waiting
        if waiting == "playback" and isinstance(result, PlaybackDone):
            return self._enter(self._pending)
        if waiting == "digits" and isinstance(result, DigitsEntered | Timeout):
            return self._on_digits(result)
        if waiting == "lookup" and isinstance(result, CaseFound | CaseNotFound):
            return self._on_lookup(result)
        raise InterpreterError(
            f"nodes.{self._node} : entrée {type(result).__name__} inattendue (attente {waiting})"
        )

    # -- nodes -------------------------------------------------------------------------

    def _enter(self, node_id: str | None) -> list[Command]:
        tree = self._require_tree()
        while True:
            if node_id is None or node_id not in tree.nodes or len(self.path) >= MAX_NODES:
                return self._guard()
            self.path.append(node_id)
            self._node, self._retries, self._pending = node_id, 0, None
            node = tree.nodes[node_id]
            if isinstance(node, HoursCheckNode):
                calendar = tree.calendars.get(node.calendar)
                if calendar is None or self._now is None:
                    return self._guard()
                state = is_open(calendar, self._now)
                target = node.open if state.open else node.closed
                if not state.open and node.announce_closed and state.announcement is not None:
                    return self._say_then(self._speak(state.announcement), target)
                node_id = target
                continue
            if isinstance(node, MessageNode):
                return self._say_then(self._speak(node.prompt), node.next)
            if isinstance(node, MenuNode):
                return self._ask(node.prompt, 1, node.timeout_s)
            if isinstance(node, CaseStatusNode):
                return self._ask(node.prompt, node.max_digits, node.timeout_s)
            return self._terminal(node)

    def _terminal(
        self, node: RouteNode | VoicemailNode | CallbackNode | TransferNode | HangupNode
    ) -> list[Command]:
        cmds: list[Command]
        if isinstance(node, RouteNode):
            cmds = self._route_vars(node.service, node.priority, node.language)
            cmds += self._speak_opt(node.prompt)
            cmds.append(GotoWait(node.service, node.priority, node.language))
            return self._finish(cmds, Outcome("routed", node.service, self._node))
        cmds = self._done_vars()
        if isinstance(node, VoicemailNode):
            cmds += self._speak_opt(node.prompt)
            cmds.append(Voicemail(node.box))
            return self._finish(cmds, Outcome("voicemail", node.box, self._node))
        if isinstance(node, CallbackNode):
            shown = None if self._ctx.caller_withheld else readable(self._ctx.caller)
            service = node.service or self._require_tree().fallback_service
            goodbye = self._speak_opt(node.prompt)
            self._dialog = CallbackDialog(
                node.topic, service, node.window, goodbye, shown, tuple(self.path)
            )
            self._waiting = "digits"
            return cmds + self._dialog.start()
        if isinstance(node, TransferNode):
            cmds += self._speak_opt(node.prompt)
            cmds.append(Transfer(node.number))
            return self._finish(cmds, Outcome("transfer", node.number, self._node))
        cmds += self._speak_opt(node.prompt)
        cmds.append(Hangup())
        return self._finish(cmds, Outcome(node.outcome, None, self._node))

    def _on_digits(self, result: DigitsEntered | Timeout) -> list[Command]:
        node = self._require_tree().nodes[self._node]
        digits = result.digits if isinstance(result, DigitsEntered) else None
        self.choices.append(Choice(self._node, digits))
        if isinstance(node, MenuNode):
            target = node.choices.get(digits) if digits else None
            if target is not None:
                return self._enter(target)
            self._retries += 1
            if self._retries > node.max_retries:
                return self._enter(node.default)
            cmds: list[Command] = []
            if digits and node.invalid_prompt is not None:
                cmds += self._speak(node.invalid_prompt)
            return cmds + self._ask(node.prompt, 1, node.timeout_s)
        if isinstance(node, CallbackNode) and self._dialog is not None:
            batch, over = self._dialog.feed(result)
            if over:
                return self._finish(batch, Outcome("callback", node.topic, self._node))
            return batch
        if isinstance(node, CaseStatusNode):
            if digits:
                self._reference = digits
                self._waiting = "lookup"
                return [LookupCase(digits)]
            self._retries += 1
            if self._retries > node.max_retries:
                return self._enter(node.not_found)
            return self._ask(node.prompt, node.max_digits, node.timeout_s)
        raise InterpreterError(f"nodes.{self._node} : ce nœud n'attend pas de touches")

    def _on_lookup(self, result: CaseFound | CaseNotFound) -> list[Command]:
        node = self._require_tree().nodes[self._node]
        if not isinstance(node, CaseStatusNode) or self._reference is None:
            raise InterpreterError(f"nodes.{self._node} : réponse de dossier inattendue")
        if isinstance(result, CaseNotFound):
            return self._say_then(self._speak(node.not_found_prompt), node.not_found)
        cmds = self._speak(node.found_prompt)
        cmds.append(Say(self._reference, "digits"))
        cmds.append(Say(result.status, "tts"))
        return self._say_then(cmds, node.found)

    def _guard(self) -> list[Command]:
        tree = self._require_tree()
        self.path.append(GUARD_NODE)
        self._node = GUARD_NODE
        service = tree.fallback_service
        cmds = self._route_vars(service, 0, None)
        cmds.append(GotoWait(service, 0, None))
        return self._finish(cmds, Outcome("routed", service, GUARD_NODE))

    # -- helpers -----------------------------------------------------------------------

    def _require_tree(self) -> Tree:
        if self._tree is None:
            raise InterpreterError("interpréteur non démarré")
        return self._tree

    def _speak(self, prompt: Prompt) -> list[Command]:
        if prompt.file is not None:
            return [Play(prompt.file, prompt.text)]
        return [Say(prompt.text, "tts")]

    def _speak_opt(self, prompt: Prompt | None) -> list[Command]:
        return [] if prompt is None else self._speak(prompt)

    def _ask(self, prompt: Prompt, max_digits: int, timeout_s: int) -> list[Command]:
        # One command: the caller may key her choice while the prompt is still being said.
        self._waiting = "digits"
        return [GetDigits(max_digits, timeout_s, prompt.file, prompt.text)]

    def _say_then(self, cmds: list[Command], target: str | None) -> list[Command]:
        if not cmds:
            return self._enter(target)
        self._waiting, self._pending = "playback", target
        return cmds

    def _finish(self, cmds: list[Command], outcome: Outcome) -> list[Command]:
        self._waiting = "finished"
        self.outcome = outcome
        return cmds

    def _common_vars(self) -> list[Command]:
        cmds: list[Command] = [
            SetVariable("CTI_IVR_PATH", PATH_SEPARATOR.join(self.path), inherit=True)
        ]
        if self._reference is not None:
            cmds.append(SetVariable("CTI_CITIZEN", f"dossier:{self._reference}", inherit=True))
        return cmds

    def _route_vars(self, service: str, priority: int, language: str | None) -> list[Command]:
        cmds = self._common_vars()
        cmds.append(SetVariable("CTI_IVR_CHOICE", service))
        cmds.append(SetVariable("CTI_PRIORITY", str(priority)))
        if language is not None:
            cmds.append(SetVariable("CTI_LANG", language, inherit=True))
            cmds.append(SetVariable("CHANNEL(language)", language))
        cmds.append(SetVariable("IVR_RESULT", "route"))
        return cmds

    def _done_vars(self) -> list[Command]:
        return [*self._common_vars(), SetVariable("IVR_RESULT", "done")]
