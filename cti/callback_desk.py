"""The callbacks' shell: requests stored, routed in their place, placed through Asterisk.

The decisions are ``routing.callbacks``'s (pure); this module keeps the requests in memory
(the database has the truth: ``cti.callback_store``) and carries out:

* **Requests** (voice menu, overflow, an agent's « à rappeler »): stored once, then routed.
* **Routing**: every ``tick_s`` seconds and after each change, the due requests are handed
  to the routing engine as virtual callers (``CallbackQueue``); the engine's offer of one
  (``RouterShell.on_callback_offer``) puts its card on that agent's page (Accepter /
  Reporter). An offer nobody answers on the page within ``offer_timeout`` is postponed.
* **Accepter**: ``dialling`` (with the attempt's ActionID) is committed first, by
  compare-and-set; only the writer who won sends the AMI ``Originate``: the agent's phone
  (``Local/<poste>@agents``) first, then, once she answers, the dialplan's ``cti-callback``
  dials the citizen through the trunk and says how it went (``UserEvent CtiCallbackResult``
  with ``CallbackId``, ``ActionID`` and ``DialStatus``). The agent's phone not answering is
  no attempt of the citizen's. A result whose ActionID is not the attempt in course is
  ignored (a late or repeated event never moves a request twice).
* **After a restart**, a request found ``dialling`` is never dialled again: its result may
  still come (the call outlived the product); if none comes within ``dialling_grace`` it is
  closed as interrupted, visible to staff. An offer that was on a page is pending again.
* **Served**: an agent answering a call from the same number for the same service after the
  request cancels it. Expired requests are closed by the sweep.

Each move is written with its audit entry when a person did it (« qui a rappelé qui »).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from cti import callback_store
from cti.ami.errors import AmiError
from cti.audit_trail import SYSTEM_USER
from cti.callback_store import Audit
from cti.cluster.lease import NotLeader
from cti.db import Database
from cti.desk import DeskError
from cti.router import RouterShell
from cti.tracker import events as ev
from ivr_scripts import callback_dialog
from ivr_scripts.commands import RecordCallback
from ivr_scripts.hours import Calendar
from ivr_scripts.tree import Tree
from routing.callbacks import rules
from routing.callbacks.queueing import CallbackQueue, engine_call_id, request_id_of
from routing.callbacks.request import (
    SOURCE_LABELS,
    CallbackRequest,
    CallbackState,
    Source,
    Window,
)
from routing.decisions import Offer, Overflow
from routing.events import AgentFinished, OfferAnswered
from routing.requirements import qualifying_level, requirements
from screenpop.callback_card import callback_card
from screenpop.directory import CitizenView
from screenpop.hub import AgentHub
from screenpop.messages import CallbackCard, CallbackOffered, CallbackUpdated
from screenpop.phones import normalise

log = logging.getLogger(__name__)

S = CallbackState
SendList = Callable[[Mapping[str, Any], float], Awaitable[list[Any]]]
WINDOW_VALUES = {w.value for w in Window}
PROMPT_VARIABLE = "CTI_OVERFLOW_PROMPT"  # extensions.conf's cti-overflow plays it

#: What a caller who overflows to a callback hears (rendered by speech synthesis at start).
RECORDED_TEXT = (
    "Votre demande de rappel est enregistrée. Vous gardez votre place : un agent vous "
    "rappellera à votre tour. Au revoir."
)
WITHHELD_TEXT = (
    "Votre numéro est masqué : nous ne pouvons pas vous rappeler. "
    "Vous pouvez laisser un message après le bip, en indiquant votre nom et votre numéro."
)


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


def _utc(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def dial_string(number: str) -> str:
    """The number as the trunk dials it: national form for France, ``00``... abroad."""
    if number.startswith("+33"):
        return "0" + number[3:]
    return "00" + number[1:] if number.startswith("+") else number


class CallbackDesk:
    def __init__(
        self,
        db: Database,
        router: RouterShell,
        hub: AgentHub,
        send_list: SendList,
        *,
        calendar: Callable[[str], Calendar | None],
        service_label: Callable[[str], str],
        menu_labels: Callable[[tuple[str, ...]], list[str]],
        citizen: Callable[[int], CitizenView | None],
        clock: Callable[[], float],
        speech: Callable[[str], Awaitable[str | None]] | None = None,
        default_service: str = "accueil",
        settings: CallbackSettings = CallbackSettings(),
    ) -> None:
        self.default_service = default_service
        self.speech = speech
        self.prompts: dict[str, str] = {}  # text -> what Asterisk plays
        self.db = db
        self.router = router
        self.hub = hub
        self.send_list = send_list
        self.calendar = calendar
        self.service_label = service_label
        self.menu_labels = menu_labels
        self.citizen = citizen
        self.clock = clock
        self.settings = settings
        self.requests: dict[str, CallbackRequest] = {}
        # How long she had waited in line when she asked (key 1, overflow): said on the
        # callback call's card. Kept in memory only: after a restart the card goes without.
        self._initial_waits: dict[str, float] = {}
        # Citizens the cards name, read in a thread when a request is made or read back: a
        # card is built on the event loop and never waits for the database.
        self._citizens: dict[int, CitizenView | None] = {}
        self.queue = CallbackQueue()
        self.originates_sent = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one sweep or move at a time
        #: Several nodes: the router's lease, checked by each move in its own transaction.
        self.fence: Callable[[Connection], None] | None = None
        router.on_callback_offer = self._on_offer
        router.on_reload = self.queue.forget_all
        router.on_callback_overflow = self._on_overflow
        contract = router.service.tracker.contract
        router.service.add_user_event_listener(contract.callback_result_event, self._on_result)
        router.service.add_listener(self._on_call_event)

    # ------------------------------------------------------------------ life

    async def start(self) -> None:
        """Read the open requests back (a restart loses none) and start the sweep."""
        if self.speech is not None:  # every prompt the dialplan plays exists before it plays
            for text in (RECORDED_TEXT, WITHHELD_TEXT, *callback_dialog.TEXTS):
                sound = await self.speech(text)
                if sound is not None:
                    self.prompts[text] = sound
        stored = await asyncio.to_thread(callback_store.open_requests, self.db)
        now = _utc(self.clock())
        for request in stored:
            if request.state is S.OFFERED:  # its page belonged to the product that stopped
                back = rules.postponed(request, self._rules(request), now)
                back = replace(back, not_before=request.not_before)  # no later than before
                if await self._move(request, back):
                    request = back
            self.requests[request.id] = request
            await self._know_citizen(request.citizen_id)
        self._loop_task = asyncio.get_running_loop().create_task(self._sweeping())

    async def close(self) -> None:
        tasks = [*self._tasks, *([self._loop_task] if self._loop_task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _sweeping(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # the database away a moment: next round
                log.exception("callbacks: sweep failed")
            await asyncio.sleep(self.settings.tick_s)

    # ------------------------------------------------------------------ requests

    async def request(self, new: NewRequest, author: str) -> CallbackRequest:
        """Record a request (no number: recorded as failed, for the record) and route it."""
        now = self.clock()
        window, start, end = rules.window_for(new.window, self.calendar(new.service), _utc(now))
        asked = min(now, new.asked_at) if new.asked_at is not None else now
        request = CallbackRequest(
            id=uuid.uuid4().hex,
            number=new.number,
            service=new.service,
            asked_at=_utc(asked),
            window=window,
            window_start=start,
            window_end=end,
            source=new.source,
            menu_path=new.menu_path,
            citizen_id=new.citizen_id,
            note=new.note,
            requested_by=new.requested_by,
            call_id=new.call_id,
            state=S.PENDING if new.number else S.FAILED,
            outcome=None if new.number else "sans numéro",
            updated_at=_utc(now),
        )
        audit = Audit(
            author,
            "callback.request",
            new.citizen_id,
            f"rappel du {_national(new.number)} pour {self.service_label(new.service)} "
            f"({SOURCE_LABELS[new.source]}), demande {request.id}",
        )
        await asyncio.to_thread(callback_store.add, self.db, request, audit)
        if new.asked_at is not None and new.source in (Source.WAIT, Source.OVERFLOW):
            self._initial_waits[request.id] = max(0.0, now - new.asked_at)
        await self._know_citizen(request.citizen_id)
        if not request.final:
            self.requests[request.id] = request
            await self.sweep()
        return request

    def pending(self, services: set[str] | None = None) -> list[CallbackRequest]:
        """Open requests (of ``services``), oldest first."""
        found = [
            r
            for r in self.requests.values()
            if not r.final and (services is None or r.service in services)
        ]
        return sorted(found, key=lambda r: (r.asked_at, r.id))

    def services_of(self, agent: str) -> set[str]:
        """The services whose callbacks the agent may take (her skills, every relaxation)."""
        config = self.router.engine.config
        spec = config.agents.get(agent)
        if spec is None:
            return set()
        return {
            name
            for name, service in config.services.items()
            if qualifying_level(spec.skills, requirements(service)) is not None
        }

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
            today=_utc(self.clock()),
        )

    def call_headline(self, request_id: str, waited: float | None = None) -> str | None:
        """The request a callback call places, as its call card says it: « Rappel demandé
        à 10:42 par madame Dupont, État civil, attente initiale 4 min 12 s ». ``waited``: her
        initial wait as the call's channel says it (a call found again after a restart)."""
        request = self.requests.get(request_id)
        if request is None:
            return None
        headline = self.card(request).headline
        waited = self._initial_waits.get(request_id, waited)
        if waited is not None:
            minutes, seconds = divmod(round(waited), 60)
            said = f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"
            headline += f", attente initiale {said}"
        return headline

    # ------------------------------------------------------------------ the sweep

    async def sweep(self) -> None:
        """Expire, postpone unanswered offers, close lost attempts, route the due requests."""
        async with self._lock:
            now = self.clock()
            at = _utc(now)
            for request in list(self.requests.values()):
                spec = self._rules(request)
                after: CallbackRequest | None = rules.expired(request, spec, at)
                if after is None and rules.offer_timed_out(request, spec, at):
                    after = rules.postponed(request, spec, at)
                    self.router.feed(self.queue.withdraw(request.id, now))
                if after is None and rules.dialling_lost(request, spec, at):
                    after = rules.attempt_ended(request, rules.INTERRUPTED, spec, None, at)
                if after is not None:
                    await self._store(request, after)
            # Due ones, and those on an agent's page (the engine rings her with them).
            wanted = [
                r
                for r in self.requests.values()
                if r.state is S.OFFERED or rules.is_due(r, self.calendar(r.service), at)
            ]
            services = self.router.engine.config.services
            self.router.feed(self.queue.sync(wanted, now, services))

    # ------------------------------------------------------------------ offers

    def _on_offer(self, offer: Offer) -> None:
        request_id = request_id_of(offer.call_id)
        request = self.requests.get(request_id or "")
        if request is None or request.state is not S.PENDING:
            # Gone meanwhile (cancelled, taken): out of the engine, the agent free again.
            self.router.feed(self.queue.withdraw(request_id or "", self.clock()))
            return
        offered = rules.offered(request, offer.agent, _utc(self.clock()))
        self.requests[request.id] = offered
        self._spawn(self._store_locked(request, offered))
        self.hub.send(offer.agent, CallbackOffered(callback=self.card(offered)))

    async def accept(self, agent: str, username: str, request_id: str) -> CallbackRequest:
        """« Accepter »: the attempt is committed, then the product calls (agent first)."""
        async with self._lock:
            request = self._offered_to(agent, request_id)
            action_id = f"cti-rappel-{request.id}-{request.attempts + 1}"
            dialling = rules.dialling(request, agent, action_id, _utc(self.clock()))
            audit = Audit(
                username,
                "callback.call",
                request.citizen_id,
                f"le poste {agent} rappelle le {_national(request.number)} "
                f"({self.service_label(request.service)}), essai {dialling.attempts}, "
                f"demande {request.id}",
            )
            won = await self._move(request, dialling, audit)
            if not won:
                raise DeskError("ce rappel vient d'être pris ou a changé : il n'est pas passé")
            self.requests[request.id] = dialling
            self.queue.taken(request.id)
            self.router.feed([OfferAnswered(engine_call_id(request.id), agent, self.clock())])
        self.hub.send(agent, CallbackUpdated(callback=self.card(dialling)))
        self._spawn(self._place(dialling))
        return dialling

    async def postpone(self, agent: str, request_id: str) -> CallbackRequest:
        """« Reporter »: same place, a little later, no attempt used; the agent is free."""
        async with self._lock:
            request = self._offered_to(agent, request_id)
            later = rules.postponed(request, self._rules(request), _utc(self.clock()))
            await self._store(request, later)
            self.router.feed(self.queue.withdraw(request.id, self.clock()))
        self.hub.send(agent, CallbackUpdated(callback=self.card(later)))
        return later

    def _offered_to(self, agent: str, request_id: str) -> CallbackRequest:
        request = self.requests.get(request_id)
        if request is None or request.state is not S.OFFERED or request.agent != agent:
            raise DeskError("ce rappel ne vous est pas proposé (déjà pris, reporté ou annulé)")
        return request

    # ------------------------------------------------------------------ placing the call

    async def _place(self, request: CallbackRequest) -> None:
        assert request.agent is not None and request.number is not None
        ring = self.settings.agent_ring_s
        contract = self.router.service.tracker.contract
        # Her wait before she asked, on the channel: a restart during the call reads it back.
        initial = self._initial_waits.get(request.id)
        waited = "" if initial is None else f",{contract.callback_waited_variable}={round(initial)}"
        action = {
            "Action": "Originate",
            "Channel": f"Local/{request.agent}@agents",
            "Context": contract.callback_context,
            "Exten": dial_string(request.number),
            "Priority": "1",
            "Timeout": str(int(ring * 1000)),
            "CallerID": f'"Rappel" <{dial_string(request.number)}>',
            "Variable": f"{contract.callback_variable}={request.id},"
            f"{contract.callback_action_variable}={request.action_id},"
            f"__{contract.service_variable}={request.service}{waited}",
            "ActionID": request.action_id,
            "Async": "true",
        }
        try:
            self.originates_sent += 1
            replies = await self.send_list(action, ring + 15)
            answered = any(
                r.get("Event") == "OriginateResponse" and r.get("Response") == "Success"
                for r in replies
            )
        except AmiError as exc:
            log.warning("callback %s: the Originate failed: %s", request.id, exc)
            answered = False
        if not answered:  # the agent's phone did not take it: no attempt of the citizen's
            await self._ended(request.id, request.action_id, rules.AGENT_MISSED)

    def _on_result(self, headers: Mapping[str, Any]) -> None:
        request_id = str(headers.get("CallbackId", ""))
        action_id = str(headers.get("CallbackAction", ""))
        status = str(headers.get("DialStatus", "")).upper() or "CHANUNAVAIL"
        self._spawn(self._ended(request_id, action_id, status))

    async def _ended(self, request_id: str, action_id: str | None, status: str) -> None:
        async with self._lock:
            request = self.requests.get(request_id)
            if request is None or request.state is not S.DIALLING or request.action_id != action_id:
                log.info("callback %s: result %s for an attempt not in course", request_id, status)
                return
            spec = self._rules(request)
            after = rules.attempt_ended(
                request, status, spec, self.calendar(request.service), _utc(self.clock())
            )
            await self._store(request, after)
            agent = request.agent
        if agent is not None:
            with contextlib.suppress(Exception):  # not ON_CALL (a restart): nothing to end
                self.router.feed([AgentFinished(agent, self.clock())])
            self.hub.send(agent, CallbackUpdated(callback=self.card(after)))
        log.info(
            "callback %s: attempt %d ended %s -> %s",
            request_id,
            request.attempts,
            status,
            after.state.value,
        )

    # ------------------------------------------------------------------ overflow

    def _on_overflow(self, overflow: Overflow) -> dict[str, str]:
        """A caller overflows to a callback: her request keeps the place she had in line."""
        call = self.router.service.tracker.call(overflow.call_id)
        number = None
        if call is not None and not (call.number_withheld or call.pres_withheld):
            number = normalise(call.caller_number).e164 if call.caller_number else None
        if call is None or number is None:
            # Nobody to call back: her message instead, and she is told why.
            return {
                "CTI_OVERFLOW": "voicemail",
                "CTI_OVERFLOW_TARGET": "",
                PROMPT_VARIABLE: self.prompts.get(WITHHELD_TEXT, ""),
            }
        path = tuple(p for p in (call.ivr_path or "").split("/") if p)
        new = NewRequest(
            number=number,
            service=overflow.service,
            source=Source.OVERFLOW,
            menu_path=path,
            call_id=overflow.call_id,
            asked_at=call.first_wait_at,
        )
        self._spawn(self._request_quietly(new))
        return {PROMPT_VARIABLE: self.prompts.get(RECORDED_TEXT, "")}

    def from_menu(self, uniqueid: str, record: RecordCallback) -> None:
        """The voice menu's callback node recorded a request (no number: kept as failed)."""
        service = record.service or self.default_service
        if service not in self.router.engine.config.services:
            service = self.default_service
        window = Window(record.window) if record.window in WINDOW_VALUES else Window.REOPENING
        if record.waited_since is not None:  # key 1 while waiting: she keeps her place
            new = NewRequest(
                record.number,
                service,
                Source.WAIT,
                window,
                tuple(record.path),
                call_id=record.call_id,
                asked_at=record.waited_since,
            )
        else:
            new = NewRequest(record.number, service, Source.MENU, window, tuple(record.path))
        log.info("callback asked in the menu (call %s) for %s", uniqueid, service)
        self._spawn(self._request_quietly(new))

    async def _request_quietly(self, new: NewRequest) -> None:
        await self.request(new, SYSTEM_USER)

    # ------------------------------------------------------------------ served again

    def _on_call_event(self, event: ev.DomainEvent) -> None:
        if not isinstance(event, ev.CallAnswered):
            return
        call = self.router.service.tracker.call(event.call_id)
        if call is None or call.number_withheld or call.pres_withheld or not call.caller_number:
            return
        number = normalise(call.caller_number).e164
        at = _utc(self.clock())
        for request in list(self.requests.values()):
            after = rules.cancelled_if_served(request, number, call.service, at)
            if after is not None:
                self._spawn(self._cancel(request, after))

    async def _cancel(self, request: CallbackRequest, after: CallbackRequest) -> None:
        async with self._lock:
            if self.requests.get(request.id) != request:
                return
            agent = request.agent if request.state is S.OFFERED else None
            await self._store(request, after)
            self.router.feed(self.queue.withdraw(request.id, self.clock()))
        if agent is not None:
            self.hub.send(agent, CallbackUpdated(callback=self.card(after)))

    # ------------------------------------------------------------------ internals

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


def _national(number: str | None) -> str:
    if not number:
        return "(sans numéro)"
    return normalise(number).national or number


def service_calendar(tree: Callable[[], Tree]) -> Callable[[str], Calendar | None]:
    """The service's calendar in the published menu: the one named like it, else the
    menu's first (the town hall's), else none (always open): as the wallboard reads it."""

    def calendar(service: str) -> Calendar | None:
        calendars = tree().calendars
        return calendars.get(service) or next(iter(calendars.values()), None)

    return calendar
