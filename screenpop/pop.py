"""The screen pop service: domain events in, cards out to the agents' pages, calls recorded.

Theory of operation
-------------------
The call service calls ``on_event`` for every domain event, and the card work is done there
and then, in memory: when the agent's phone rings the card is built and put on her pages'
queues before ``on_event`` returns. Nothing on that path waits for the database.

* ``CallArrived``: the call's record begins, without the caller's number: nothing is known
  yet of what she lets us show (a trunk's ``Privacy: id`` raises no event of its own). A
  callback placed by the product (``callback_id``) carries its request in the agent's words
  (``callback_headline``, from the callbacks desk's memory) on every card of the call.
* ``CallerIdSettled``: the presentation is known. Allowed: normalise the number and look the
  citizens up — the one read the cards need — and build their part of the card. It runs in
  a thread of its own; the call's next events are held (in order) until it answers, so a
  card is never built from half the facts. Our dialplan says it as the call enters and the
  menu takes seconds, the lookup milliseconds: in practice nothing is held. Withheld: the
  call is anonymous from then on, at once (even while a lookup runs): no number, no name,
  no case, no history on the card; its record keeps no number; nothing is audited as
  opened; a card already on a page is replaced. Withheld is never undone.
  A call offered before its presentation is known is shown as withheld: the rule is to show
  nothing from the directory unless the caller is known to allow it.
* ``CallWaiting``: the service chosen in the menu; ``menu_path`` (from the voice menu's
  FastAGI server, same process) says which nodes the caller went through.
* ``CallOffered``: the card pops on that agent's pages only (``card.offered``), queued to her
  sockets while the event is handled. Rung together (``ring_together``), the call pops on
  every phone's page; the first to answer takes it, and the others' cards end at once
  (``card.ended``, reason ``taken``: « pris par un collègue »), as do they all if she
  hangs up while they ring.
* ``CallAnswered``/``CallTransferred``/``CallNoAnswer``/``CallAbandoned``/``CallEnded``: the
  card follows (answered, handed on, gone).

What the database must learn (the call's record, the audit trail of opened cards: one
``card.open`` per citizen the offered card shows) goes to an
``OrderedWriter``: one task writes it in order, in batches, off the event loop; ``run`` is
that task. A call's record changes are merged in memory first (``CallRecords``) and
written together a moment later: one transaction for many changes keeps the writer's
thread, and the event loop's wait for it, short. Notes written by an agent go through the
same writer (after the call's earlier writes) and are pushed to whoever has the call now:
after a transfer the next agent reads the first agent's note. While the database is away
the writer holds every write (memory and spool file) and writes them when it is back:
calls go on popping, and an agent's note or disposition is accepted and said to be waiting
for the database (``Saved.pending``).

Where each part lives: a call's state and the moves both sides share in ``pop_state``; the
caller's presentation and the directory lookup in ``caller_lookup``; the agent's notes,
disposition and choice of citizen in ``agent_actions``. ``ScreenPop`` puts them together,
follows the card through the call's events and owns the writer's life.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from cti.tracker import events as ev
from ivr_scripts.interpreter import PATH_SEPARATOR
from screenpop.agent_actions import AgentActions
from screenpop.call_records import CallRecords
from screenpop.caller_lookup import CallerLookup
from screenpop.card import CallFacts, Names
from screenpop.directory import AuditRecord, Directory
from screenpop.hub import AgentHub
from screenpop.messages import Card, CardAnswered, CardEnded, CardOffered, CardTransferred
from screenpop.pop_state import PopCall
from screenpop.writer import OrderedWriter

log = logging.getLogger(__name__)

LATE_S = 2.0  # a card this long after the ring tells the agent so (the product is overloaded)

# Menu paths reported for calls not announced yet (bounded: a path for a call we never
# see must not stay forever).
EARLY_PATHS = 1000
# Ended calls whose agents are remembered: a note in wrap-up needs no database read.
ENDED_CALLS = 1000


def _when(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


class ScreenPop(CallerLookup, AgentActions):
    """Domain events in, cards out, calls recorded; see the module docstring."""

    def __init__(
        self,
        directory: Directory,
        hub: AgentHub,
        *,
        service_labels: Mapping[str, str] | None = None,
        agent_names: Callable[[str], str | None] | None = None,
        menu_labels: Callable[[Sequence[str]], list[str]] | None = None,
        wrap_up: Callable[[str | None], float] = lambda service: 0.0,
        writer: OrderedWriter | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.directory = directory
        self.clock = clock  # the AMI events' clock: a card late beyond LATE_S says so
        self.hub = hub
        # Kept by reference: a new routing configuration renames services on the fly.
        self.service_labels = service_labels if service_labels is not None else {}
        self.names = Names(self.service_labels, agent_names or Names().agents)
        # The menu's node ids in the caller's words (``ivr_scripts.path_labels``, published tree).
        self.menu_labels = menu_labels or (lambda path: [])
        self.wrap_up = wrap_up
        self.calls = {}
        self.writer = writer or OrderedWriter(apply=directory.apply)
        self.records = CallRecords(self.writer)
        self._lookups = set()
        self._lookups_done = asyncio.Event()
        self._lookups_done.set()
        self._early_paths = OrderedDict()
        self._ended_calls = OrderedDict()  # call -> agents offered it
        # A callback's request in the agent's words, by request id (the callbacks desk's,
        # from memory: a card never waits for the database).
        # The request's id and the initial wait the call says (found again after a restart).
        self.callback_headline = lambda _id, _w: None
        self.errors = 0

    async def run(self) -> None:
        """The database writer: runs until cancelled."""
        await self.writer.run()

    async def drained(self) -> None:
        """Wait until every lookup has answered and every write is done (tests, shutdown)."""
        while not (
            self.writer.idle.is_set() and self._lookups_done.is_set() and not self.records.pending
        ):
            await self._lookups_done.wait()
            self.records.flush()
            await self.writer.idle.wait()

    async def close(self, timeout: float = 10.0) -> None:
        """Write what is pending before the process stops; a dead database must not hold the
        stop for ever, so give up after ``timeout`` seconds (and say so)."""
        try:
            await asyncio.wait_for(self.drained(), timeout)
        except TimeoutError:
            spool = self.writer.spool
            self.records.flush()
            if not self.writer.holding and spool is not None:  # up, but behind: kept for later
                spilled = await self.writer.spill()
                log.warning("arrêt : %d enregistrements gardés dans %s", spilled, spool.path)
            elif self.writer.holding and spool is not None:
                log.warning(
                    "arrêt : base de données injoignable, %d enregistrements gardés dans %s "
                    "(écrits au prochain démarrage)",
                    self.writer.pending_writes,
                    spool.path,
                )
            else:
                log.error("arrêt : écritures des fiches d'appel abandonnées après %g s", timeout)

    # -- the event side ------------------------------------------------------------------

    def on_event(self, event: ev.DomainEvent) -> None:
        try:
            if isinstance(event, ev.CallArrived):
                self._arrived(event)
                return
            call = self.calls.get(event.call_id)
            if call is None:
                return  # began before we started and never announced: nothing to show
            if isinstance(event, ev.CallerIdSettled) and event.caller_withheld:
                self._withhold(call)  # never held back behind a lookup: it only takes away
                return
            if call.held is not None:
                call.held.append(event)
                return
            self._apply(call, event)
        except Exception:  # one bad event must not stop the pops
            self.errors += 1
            log.exception("screen pop failed on %s of call %s", event.type, event.call_id)

    def citizen_name(self, call_id: str) -> str | None:
        """The citizen the call's card shows, by name (the wallboard's current call)."""
        call = self.calls.get(call_id)
        if call is None or call.facts.caller_withheld and call.facts.selected_citizen_id is None:
            return None
        chosen = [c for c in call.citizens if c.id == call.facts.selected_citizen_id]
        who = chosen or (call.citizens if len(call.citizens) == 1 else [])
        return (
            " ".join(p for p in (who[0].civility, who[0].first_name, who[0].last_name) if p)
            if who
            else None
        )

    def menu_path(self, call_id: str, path: Sequence[str]) -> None:
        """The voice menu's path for ``call_id`` (nodes the caller went through)."""
        call = self.calls.get(call_id)
        if call is None:
            self._early_paths[call_id] = list(path)
            while len(self._early_paths) > EARLY_PATHS:
                self._early_paths.popitem(last=False)
            return
        call.facts.ivr_path = list(path)
        try:
            call.facts.menu_choices = self.menu_labels(path)
        except Exception:  # the card pops without the path rather than not at all
            self.errors += 1
            log.exception("screen pop: menu path %s of call %s unreadable", path, call_id)
        self._record(call_id, ivr_path=list(path))

    def _apply(self, call: PopCall, event: ev.DomainEvent) -> None:
        facts = call.facts
        if isinstance(event, ev.CallerIdSettled):
            self._presented(call, event)
        elif isinstance(event, ev.CallWaiting):
            facts.service = event.service or facts.service
            if facts.waiting_since is None:
                facts.waiting_since = event.at
            facts.stage = "ringing" if facts.agent else facts.stage
            self._record(facts.call_id, service=facts.service)
        elif isinstance(event, ev.CallOffered):
            self._offered(call, event)
        elif isinstance(event, ev.CallAnswered):
            facts.stage, facts.agent = "connected", event.agent
            facts.service = facts.service or event.service  # a call found in progress
            call.answered_at = event.at
            call.offered_to.add(event.agent)
            others = [agent for agent in call.ringing if agent != event.agent]
            call.ringing.clear()
            for agent in others:  # rung with her: a colleague was quicker
                self._leave(call, agent, "taken")
            self.hub.send(event.agent, CardAnswered(card=self._card(call)))
            self._record(
                facts.call_id, outcome="answered", add_agent=event.agent, answered_by=event.agent
            )
        elif isinstance(event, ev.CallNoAnswer):
            self._leave(call, event.agent, "no_answer")
        elif isinstance(event, ev.CallTransferred):
            self._transferred(call, event)
        elif isinstance(event, ev.CallSafetyNet):
            self._record(facts.call_id, outcome="safety_net")
        elif isinstance(event, ev.CallAbandoned):
            rung = dict.fromkeys([*([event.agent] if event.agent else []), *call.ringing])
            call.ringing.clear()
            for agent in rung:
                self._leave(call, agent, "abandoned")
        elif isinstance(event, ev.CallEnded):
            self._ended(call, event)

    def _arrived(self, event: ev.CallArrived) -> None:
        facts = CallFacts(
            call_id=event.call_id,
            caller_raw=None,
            caller_withheld=event.caller_withheld,
            arrived_at=event.at,
            did=event.did,
        )
        if event.callback_id is not None:
            headline = self.callback_headline(event.callback_id, event.callback_waited)
            facts.callback = headline or "Rappel"
        call = PopCall(facts)
        self.calls[event.call_id] = call
        # A call found in progress after a restart keeps the start its record already has
        # (a new record starts now: the best we know).
        start = {} if event.restored else {"started_at": _when(event.at)}
        self._record(
            event.call_id,
            **start,
            caller_withheld=event.caller_withheld,
            did=event.did,
            outcome="in_progress",
        )
        early = self._early_paths.pop(event.call_id, None)
        if early is not None:
            self.menu_path(event.call_id, early)
        elif event.ivr_path:  # found in progress: the path the menu left on the channel
            self.menu_path(event.call_id, event.ivr_path.split(PATH_SEPARATOR))

    def _offered(self, call: PopCall, event: ev.CallOffered) -> None:
        facts = call.facts
        facts.agent, facts.stage = event.agent, "ringing"
        facts.service = event.service or facts.service
        if facts.waiting_since is not None:
            facts.waited = max(event.waited, event.at - facts.waiting_since)
        else:
            facts.waited = event.waited
        call.offered_to.add(event.agent)
        if event.agent not in call.ringing:
            call.ringing.append(event.agent)
        card = self._card(call)
        late = self.clock() - event.at if self.clock is not None else 0.0
        self.hub.send(event.agent, CardOffered(card=card, late_s=late if late > LATE_S else None))
        # A callback's call is offered without having waited: its service is known here.
        service = {"service": facts.service} if facts.service else {}
        self._record(facts.call_id, add_agent=event.agent, wait_seconds=facts.waited, **service)
        self._audit_opened(card, event.agent)

    def _audit_opened(self, card: Card, agent: str) -> None:
        # RGPD: who saw whose card, and when; every citizen it shows (a household: each one).
        for citizen in card.citizens:
            self.records.audit(
                AuditRecord(
                    f"poste {agent}",
                    "card.open",
                    citizen.id,
                    f"appel {card.call_id}",
                    at=datetime.now(UTC),  # when it opened, even if written much later
                )
            )

    def _leave(self, call: PopCall, agent: str, reason: str) -> None:
        facts = call.facts
        if agent in call.ringing:
            call.ringing.remove(agent)
        card = self._card(call).model_copy(update={"stage": "ended"})
        self.hub.send(agent, CardEnded(card=card, reason=reason))
        if facts.agent == agent:  # a colleague's phone may still ring for it
            facts.agent = call.ringing[0] if call.ringing else None

    def _transferred(self, call: PopCall, event: ev.CallTransferred) -> None:
        facts = call.facts
        if event.agent:
            if event.agent not in facts.previous_agents:
                facts.previous_agents.append(event.agent)
            facts.stage = "transferred"
            card = self._card(call)
            self.hub.send(
                event.agent,
                CardTransferred(
                    card=card,
                    to_agent=event.to_agent,
                    to_agent_name=self.names.agent(event.to_agent) if event.to_agent else None,
                    to_service=event.service,
                    to_service_label=self.names.service(event.service) if event.service else None,
                ),
            )
        facts.agent = None
        if event.agent:
            facts.transferred_by = event.agent
        if event.service:
            # She waits for that service now: the wait her next agent reads starts here.
            facts.service = event.service
            facts.waiting_since = None
        if event.kind == "attended" and event.to_agent:
            # The colleague talked to the agent first: she has the citizen now, no ring.
            facts.agent, facts.stage = event.to_agent, "connected"
            call.offered_to.add(event.to_agent)
            card = self._card(call)
            self.hub.send(event.to_agent, CardAnswered(card=card))
            self._record(facts.call_id, add_agent=event.to_agent, answered_by=event.to_agent)
            self._audit_opened(card, event.to_agent)

    def _ended(self, call: PopCall, event: ev.CallEnded) -> None:
        facts = call.facts
        facts.stage = "ended"
        if facts.agent:
            wrap = self.wrap_up(facts.service)
            self.hub.send(
                facts.agent, CardEnded(card=self._card(call), reason="hangup", wrap_up_s=wrap)
            )
        del self.calls[facts.call_id]
        self._ended_calls[facts.call_id] = call.offered_to
        while len(self._ended_calls) > ENDED_CALLS:
            self._ended_calls.popitem(last=False)
        self._record(
            facts.call_id,
            outcome=_outcome(call, event),
            wait_seconds=event.wait,
            talk_seconds=event.talk,
            duration_seconds=event.duration,
        )


_OUTCOMES = {
    "abandoned": "abandoned",
    "caller_hangup": "abandoned",
    "shutdown": "lost",
    "lost": "lost",
    "failed": "lost",
}


def _outcome(call: PopCall, event: ev.CallEnded) -> str:
    """What became of the call, for its record and the reports."""
    if call.answered_at is not None or event.talk > 0:
        return "answered"
    outcome = _OUTCOMES.get(event.reason, event.reason)
    if outcome == "abandoned" and call.facts.waiting_since is None and not call.offered_to:
        # Never asked for an agent: it ended in the voice menu (answered there, or not).
        return "menu"
    return outcome
