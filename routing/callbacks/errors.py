"""Errors of the callbacks domain.

``CallbackError`` (a ``RoutingError``) is the base; ``IllegalCallbackMove`` is a move absent
from ``request.TRANSITIONS`` (a shell asking to dial a request already reached, say). Every
message names the request and what was asked, for the technician reading the log.
"""

from __future__ import annotations

from routing.errors import RoutingError


class CallbackError(RoutingError):
    """Base class of the callbacks domain's errors."""


class IllegalCallbackMove(CallbackError):
    def __init__(self, request_id: str, source: str, target: str) -> None:
        super().__init__(f"callback {request_id}: illegal move {source} -> {target}")
        self.request_id = request_id
        self.source = source
        self.target = target
