"""Errors raised by the routing package.

Theory of operation: the engine is driven by a shell that owns the I/O. When the shell feeds
it something impossible (a service or an agent that the configuration does not know, an offer
answered by an agent it was not offered to, time running backwards), that is a bug in the
shell, so the engine raises one of these errors *before* touching its state: a rejected event
leaves the engine exactly as it was. Every message names the offending input.
"""

from __future__ import annotations

from pydantic import ValidationError


class RoutingError(Exception):
    """Base class of every error raised by the routing package."""


class ConfigError(RoutingError):
    """The routing configuration is invalid; the message says which service/agent/field.

    ``validation`` keeps pydantic's failures when there were some, so that a form can show
    each one beside its field; ``field`` names the one field at fault otherwise."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.validation: ValidationError | None = None
        self.field = field


class UnknownService(RoutingError):
    def __init__(self, service: str) -> None:
        super().__init__(f"unknown service {service!r}")
        self.service = service


class UnknownAgent(RoutingError):
    def __init__(self, agent: str) -> None:
        super().__init__(f"unknown agent {agent!r}")
        self.agent = agent


class UnknownCall(RoutingError):
    def __init__(self, call_id: str) -> None:
        super().__init__(f"unknown call {call_id!r}")
        self.call_id = call_id


class CallAlreadyQueued(RoutingError):
    def __init__(self, call_id: str) -> None:
        super().__init__(f"call {call_id!r} is already waiting or ringing")
        self.call_id = call_id


class UnexpectedEvent(RoutingError):
    """The event does not fit the current state (e.g. an offer answered by someone else)."""


class InvalidStateRequest(RoutingError):
    def __init__(self, agent: str, state: str) -> None:
        super().__init__(
            f"agent {agent!r}: state {state!r} cannot be requested "
            "(only READY, PAUSED, FRONT_DESK, OFFLINE)"
        )
        self.agent = agent
        self.state = state


class TimeWentBackwards(RoutingError):
    def __init__(self, at: float, now: float) -> None:
        super().__init__(f"event at {at!r} is earlier than the engine's time {now!r}")
        self.at = at
        self.now = now


class IllegalTransition(RoutingError):
    """The engine tried a move absent from the transition table (an engine bug)."""

    def __init__(self, agent: str, source: str, target: str) -> None:
        super().__init__(f"agent {agent!r}: illegal transition {source} -> {target}")
        self.agent = agent
