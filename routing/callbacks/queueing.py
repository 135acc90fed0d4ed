"""Callback requests as virtual callers of the routing engine.

Theory of operation: the engine knows nothing of callbacks. ``CallbackQueue.sync`` is told,
at each look, which requests are due (``rules.is_due``); it answers with the engine's events
that make the engine's queues match: a request newly due is ``CallQueued`` with
``since=asked_at`` (its place in line, among the callers of its service) and
``keeps_place`` (it never overflows), one no longer due (the service closed, the request
was cancelled, postponed or expired) leaves (``CallLeft``). The engine then offers it like
any call, under the same skills, relaxation and ordering; an offer whose call id is a
callback's (``request_id_of``) is the callbacks shell's to carry out, not a Redirect.
An offer taken (accepted: the engine's ``OfferAnswered``) or withdrawn is forgotten here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from routing.callbacks.request import CallbackRequest
from routing.events import CallLeft, CallQueued, Event

PREFIX = "rappel:"


def engine_call_id(request_id: str) -> str:
    return PREFIX + request_id


def request_id_of(call_id: str) -> str | None:
    """The request behind an engine call id, None for a real call."""
    return call_id[len(PREFIX) :] if call_id.startswith(PREFIX) else None


@dataclass
class CallbackQueue:
    queued: dict[str, str] = field(default_factory=dict)  # request id -> service, in the engine

    def sync(
        self, due: Iterable[CallbackRequest], at: float, services: Iterable[str]
    ) -> list[Event]:
        """Events that make the engine hold exactly the ``due`` requests of known ``services``."""
        known = set(services)
        wanted = {r.id: r for r in due if r.service in known}
        out: list[Event] = []
        for request_id in sorted(self.queued.keys() - wanted.keys()):
            del self.queued[request_id]
            out.append(CallLeft(engine_call_id(request_id), at))
        for request in sorted(wanted.values(), key=lambda r: (r.asked_at, r.id)):
            if request.id in self.queued:
                continue
            self.queued[request.id] = request.service
            since = min(request.asked_at.timestamp(), at)
            out.append(
                CallQueued(
                    engine_call_id(request.id), request.service, at, since=since, keeps_place=True
                )
            )
        return out

    def taken(self, request_id: str) -> None:
        """The engine no longer holds it (accepted by an agent)."""
        self.queued.pop(request_id, None)

    def withdraw(self, request_id: str, at: float) -> list[Event]:
        """Take it out of the engine now (declined, cancelled...)."""
        if self.queued.pop(request_id, None) is None:
            return []
        return [CallLeft(engine_call_id(request_id), at)]

    def forget_all(self) -> None:
        """The engine was replaced (new configuration): nothing of ours is in it any more."""
        self.queued.clear()
