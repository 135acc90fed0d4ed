"""Errors raised by the voice-menu package.

Theory of operation: every error that concerns a place in a menu tree carries the dotted
path of that place (``nodes.menu_principal.choices.3``) so that the message shown to the
telecom staff points at the line to fix. Loading errors carry the full list of problems
found, not only the first one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding of the validator: severity, dotted path in the tree, French message."""

    severity: Severity
    path: str
    message: str

    def __str__(self) -> str:
        label = "erreur" if self.severity == "error" else "avertissement"
        return f"{label} {self.path} : {self.message}"


class IvrError(Exception):
    """Base class of every error of the voice-menu package."""


class NodeError(IvrError):
    """An error located at a node path of a tree."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path} : {message}")
        self.path = path
        self.message = message


class TreeLoadError(IvrError):
    """A tree could not be loaded: YAML, structure or validation problems."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = [str(p) for p in self.problems]
        super().__init__(f"arbre de menu invalide ({source}) :\n" + "\n".join(lines))


class InterpreterError(IvrError):
    """The interpreter was driven out of protocol (e.g. feed() before start())."""


class AgiProtocolError(IvrError):
    """Asterisk sent something the FastAGI edge does not understand."""
