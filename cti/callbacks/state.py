"""The callbacks desk's state and the moves its parts share.

``DeskState`` declares what ``desk.CallbackDesk`` keeps (its ``__init__`` sets it up): the
open requests in memory (the database has the truth: ``cti.callback_store``), the citizens
their cards name, the queue that hands them to the routing engine. Here: a request's card,
its service's retry rules, writing a move (memory follows the database), and running a step
beside the events. The offers and the calls placed (``placing``) and the requests callers
make (``intake``) extend it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from cti import callback_store
from cti.callback_store import Audit
from cti.cluster.lease import NotLeader
from cti.db import Database
from cti.router import RouterShell
from ivr_scripts.hours import Calendar
from routing.callbacks import rules
from routing.callbacks.queueing import CallbackQueue
from routing.callbacks.request import CallbackRequest, CallbackState, Source, Window
from screenpop.callback_card import callback_card
from screenpop.directory import CitizenView
from screenpop.hub import AgentHub
from screenpop.messages import CallbackCard
from screenpop.phones import normalise

log = logging.getLogger("cti.callback_desk")  # the desk's log, as before the split

S = CallbackState
SendList = Callable[[Mapping[str, Any], float], Awaitable[list[Any]]]


@dataclass(frozen=True, slots=True)
class CallbackSettings:
    agent_ring_s: float = 20.0  # the agent's phone rings this long (AGENT_RING)
    tick_s: float = 5.0


@dataclass(frozen=True, slots=True)
class NewRequest:
    """What a request is made of, before it is one."""

    number: str | None
    service: str
    source: Source
    window: Window = Window.REOPENING
    menu_path: tuple[str, ...] = ()
    citizen_id: int | None = None
    note: str = ""
    requested_by: str | None = None
    call_id: str | None = None
    asked_at: float | None = None  # her place in line, when earlier than the request


def utc(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def national(number: str | None) -> str:
    if not number:
        return "(sans numéro)"
    return normalise(number).national or number


class DeskState:
    """The desk's state (set up by ``CallbackDesk.__init__``); see ``desk`` for the theory."""

    default_service: str
    speech: Callable[[str], Awaitable[str | None]] | None
    prompts: dict[str, str]
    db: Database
    router: RouterShell
    hub: AgentHub
    send_list: SendList
    calendar: Callable[[str], Calendar | None]
    service_label: Callable[[str], str]
    menu_labels: Callable[[tuple[str, ...]], list[str]]
    citizen: Callable[[int], CitizenView | None]
    clock: Callable[[], float]
    settings: CallbackSettings
    requests: dict[str, CallbackRequest]
    _initial_waits: dict[str, float]
    _citizens: dict[int, CitizenView | None]
    queue: CallbackQueue
    originates_sent: int
    _tasks: set[asyncio.Task[None]]
    _lock: asyncio.Lock
    #: Several nodes: the router's lease, checked by each move in its own transaction.
    fence: Callable[[Connection], None] | None
    # ``CallbackDesk.request``: a caller's request recorded and routed.
    request: Callable[[NewRequest, str], Awaitable[CallbackRequest]]

    async def _know_citizen(self, citizen_id: int | None) -> None:
        if citizen_id is not None and citizen_id not in self._citizens:
            self._citizens[citizen_id] = await asyncio.to_thread(self.citizen, citizen_id)

    def card(self, request: CallbackRequest) -> CallbackCard:
        citizen = self._citizens.get(request.citizen_id) if request.citizen_id else None
        return callback_card(
            request,
            service_label=self.service_label(request.service),
            menu_labels=self.menu_labels(request.menu_path),
            citizen=citizen,
            today=utc(self.clock()),
        )

    def _rules(self, request: CallbackRequest) -> rules.RetryRules:
        spec = self.router.engine.config.services.get(request.service)
        return spec.callback if spec is not None else rules.RetryRules()

    async def _move(
        self, before: CallbackRequest, after: CallbackRequest, audit: Audit | None = None
    ) -> bool:
        """``callback_store.move`` under the router's lease (``fence``): refused because
        another node took over, the move is lost as a race is (the row is the new router's)."""
        try:
            return await asyncio.to_thread(
                callback_store.move, self.db, before, after, audit, self.fence
            )
        except NotLeader as exc:
            log.warning(
                "rappel %s : passage « %s » → « %s » non écrit : %s",
                before.id,
                before.state.value,
                after.state.value,
                exc,
            )
            return False

    async def _store_locked(self, before: CallbackRequest, after: CallbackRequest) -> None:
        async with self._lock:
            await self._store(before, after)

    async def _store(self, before: CallbackRequest, after: CallbackRequest) -> None:
        """Write the move; memory follows the database (a lost race reads it back)."""
        won = await self._move(before, after)
        if not won:
            fresh = await asyncio.to_thread(callback_store.get, self.db, before.id)
            log.warning("callback %s changed meanwhile; read back", before.id)
            after = fresh if fresh is not None else after
        if after.final:
            self.requests.pop(after.id, None)
            self._initial_waits.pop(after.id, None)
        else:
            self.requests[after.id] = after

    def _spawn(self, action: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await action
            except Exception:
                log.exception("callbacks: a step failed")

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
