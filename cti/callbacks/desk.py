"""The callbacks' shell: requests stored, routed in their place, placed through Asterisk.

The decisions are ``routing.callbacks``'s (pure); this package keeps the requests in memory
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

Where each part lives: the state and the moves the parts share in ``state``; offers on the
pages and the calls placed in ``placing``; requests from callers (overflow, voice menu) in
``intake``. ``CallbackDesk`` puts them together; here: its life, requests and the sweep, and
requests served by a call answered meanwhile.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace

from cti import callback_store
from cti.callback_store import Audit
from cti.callbacks.intake import RECORDED_TEXT, WITHHELD_TEXT, Intake
from cti.callbacks.placing import Placing
from cti.callbacks.state import CallbackSettings, NewRequest, S, SendList, national, utc
from cti.db import Database
from cti.periodic import Periodic
from cti.router import RouterShell
from cti.tracker import events as ev
from ivr_scripts import callback_dialog
from ivr_scripts.hours import Calendar
from ivr_scripts.tree import Tree
from routing.callbacks import rules
from routing.callbacks.queueing import CallbackQueue
from routing.callbacks.request import SOURCE_LABELS, CallbackRequest, Source
from routing.requirements import qualifying_level, requirements
from screenpop.directory import CitizenView
from screenpop.hub import AgentHub
from screenpop.messages import CallbackUpdated
from screenpop.phones import normalise

DEFAULT_SETTINGS = CallbackSettings()


class CallbackDesk(Placing, Intake):
    """The callbacks' shell; see the module docstring."""

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
        settings: CallbackSettings = DEFAULT_SETTINGS,
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
        # A failed sweep (the database away a moment) is logged; the next round tries again.
        self._sweeps = Periodic(settings.tick_s, self.sweep, "callbacks' sweep", at_once=True)
        self._lock = asyncio.Lock()  # one sweep or move at a time
        self.fence = None
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
        now = utc(self.clock())
        for request in stored:
            if request.state is S.OFFERED:  # its page belonged to the product that stopped
                back = rules.postponed(request, self._rules(request), now)
                back = replace(back, not_before=request.not_before)  # no later than before
                if await self._move(request, back):
                    request = back
            self.requests[request.id] = request
            await self._know_citizen(request.citizen_id)
        self._sweeps.start()

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await self._sweeps.close()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------------ requests

    async def request(self, new: NewRequest, author: str) -> CallbackRequest:
        """Record a request (no number: recorded as failed, for the record) and route it."""
        now = self.clock()
        window, start, end = rules.window_for(new.window, self.calendar(new.service), utc(now))
        asked = min(now, new.asked_at) if new.asked_at is not None else now
        request = CallbackRequest(
            id=uuid.uuid4().hex,
            number=new.number,
            service=new.service,
            asked_at=utc(asked),
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
            updated_at=utc(now),
        )
        audit = Audit(
            author,
            "callback.request",
            new.citizen_id,
            f"rappel du {national(new.number)} pour {self.service_label(new.service)} "
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
            at = utc(now)
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

    # ------------------------------------------------------------------ served again

    def _on_call_event(self, event: ev.DomainEvent) -> None:
        if not isinstance(event, ev.CallAnswered):
            return
        call = self.router.service.tracker.call(event.call_id)
        if call is None or call.number_withheld or call.pres_withheld or not call.caller_number:
            return
        number = normalise(call.caller_number).e164
        at = utc(self.clock())
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


def service_calendar(tree: Callable[[], Tree]) -> Callable[[str], Calendar | None]:
    """The service's calendar in the published menu: the one named like it, else the
    menu's first (the town hall's), else none (always open): as the wallboard reads it."""

    def calendar(service: str) -> Calendar | None:
        calendars = tree().calendars
        return calendars.get(service) or next(iter(calendars.values()), None)

    return calendar
