"""Between the call tracker and the routing engine (pure: events and ``now`` in, decisions out).

The tracker speaks of channels and rings, the engine of queued calls and offers. The
dispatcher translates, and remembers just enough to do it:

* a call entering ``cti-wait`` (``CallWaiting``) is queued for its service, once; a call the
  engine already holds (back from a failed offer) is not queued again. A call back in the
  wait after an agent handed it on (a blind transfer to a service, or to a colleague who did
  not answer) is queued again, for the service the dialplan now says, with ``place`` its
  first entry in the wait: she waited once already, she is not sent to the back of the line;
* the ring, answer or no-answer of an offer the engine made becomes ``OfferAnswered`` or
  ``OfferFailed``; a ring the engine did not decide (a colleague's transfer, Asterisk's
  fallback queue, a call the engine was not running for) makes that agent's phone busy
  (``AgentPhoneBusy``) until that call leaves her;
* the end or hand-over of a call an agent answered is ``AgentFinished`` (wrap-up follows);
* hang-up, the dialplan's safety net or the end of the call is ``CallLeft``;
* a call found in progress after a restart (the tracker's restored ``CallAnswered``) is one
  the engine did not route: the agent's phone is busy until it ends, and her page and the
  wallboard show her on the phone, not free (``on_foreign_call``);
* a phone Asterisk reports in use (``DeviceStateChange`` of ``PJSIP/201``: the agent called
  someone herself, or took a call that never passed through the town hall's dialplan) is
  busy too. The phone is busy while either says so. After each (re)connect, before the link
  is ready, Asterisk lists every phone's state (``devices_listed``): that picture replaces
  what was known before, so an agent found talking on a call the town hall's dialplan never
  saw (her own, a colleague's) is busy before anything is offered, and one whose call ended
  while the link was down is free again;
* while the AMI link is down (``link_changed``) every phone counts as busy for the engine:
  no offer could reach it, so none is made, and the agents stay READY. When the link is
  back (logged in and resynchronised) the phones are free again and the waiting calls are
  offered, once. An offer that could not be sent (``offer_not_placed``) is no miss.
* an offer Asterisk refused because the caller's channel no longer exists (``caller_gone``)
  means she hung up, even if her ``Hangup`` event is still on its way (stasis is behind the
  action's answer): she leaves the line at once, her agents stay ready, no miss. Offering
  her again would only repeat the refusal until the event comes.

Two decisions are completed here rather than by the shell: an ``Offer`` for a call that is
between ``cti-connect`` and ``cti-wait`` (its previous offer just failed) is held until the
call is back in ``cti-wait``, since redirecting it mid-dialplan would race with the
dialplan's own ``Goto``; an ``Overflow`` to another service queues the call there.

``reload`` swaps in an engine built from a new configuration and carries over what is
happening: agents keep their states, waiting calls keep their place and wait, and calls
ringing or in conversation finish as calls the new engine did not route.

Nothing here does I/O or reads a clock; an event the engine refuses is logged and skipped,
so a surprise from Asterisk never stops the routing of the other calls.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from cti.tracker import events as ev
from routing.callbacks.queueing import request_id_of
from routing.decisions import Decision, Offer, Overflow
from routing.engine import RoutingEngine
from routing.errors import RoutingError
from routing.events import (
    AgentFinished,
    AgentPhoneBusy,
    AgentStateSet,
    CallLeft,
    CallQueued,
    Event,
    OfferAnswered,
    OfferFailed,
    Tick,
)
from routing.model import OverflowKind
from routing.states import AgentState

log = logging.getLogger(__name__)

S = AgentState

#: Device states of a phone that cannot take another call (RINGING is our offer, or free).
DEVICE_IN_USE = frozenset({"INUSE", "BUSY", "RINGINUSE", "ONHOLD"})


@dataclass
class Dispatcher:
    engine: RoutingEngine
    #: where a call goes when the menu chose a service the routing configuration lacks
    default_service: str
    # call -> agents the engine rings (several when ``ring_together`` > 1: one Dial of all)
    ringing: dict[str, list[str]] = field(default_factory=dict)
    talking: dict[str, str] = field(default_factory=dict)  # call -> agent who took the offer
    held: set[str] = field(default_factory=set)  # calls the engine has queued or ringing
    away: set[str] = field(default_factory=set)  # offer failed, not back in cti-wait yet
    fallen_back: set[str] = field(default_factory=set)  # in the dialplan's safety net now
    deferred: dict[str, list[Offer]] = field(default_factory=dict)  # waiting for cti-wait
    foreign: dict[str, set[str]] = field(default_factory=dict)  # agent -> calls not ours
    in_use: set[str] = field(default_factory=set)  # agents whose device Asterisk says in use
    told_busy: set[str] = field(default_factory=set)  # agents the engine knows phone-busy
    shown_on_phone: set[str] = field(default_factory=set)  # on a foreign call, as last told
    link_up: bool = True  # the AMI link is ready: offers can reach the phones
    #: agents whose phone turned busy or free since the shell last looked (it shows them)
    phones_changed: list[str] = field(default_factory=list)
    _now: float = float("-inf")

    # ------------------------------------------------------------------ inputs

    def on_event(
        self,
        event: ev.DomainEvent,
        now: float,
        since: float | None = None,
        place: float | None = None,
    ) -> list[Decision]:
        """One tracker event; ``since`` is when the call started waiting for its service,
        ``place`` when it first entered the wait (earlier after a transfer), if known."""
        now = self._clock(now)
        out: list[Decision] = []
        call_id = event.call_id
        if isinstance(event, ev.CallWaiting):
            if call_id in self.away:
                self.away.discard(call_id)
                out.extend(self.deferred.pop(call_id, ()))
            elif call_id not in self.held and call_id not in self.fallen_back:
                self._queue(call_id, event.service, event.priority, now, since, out, place=place)
        elif isinstance(event, ev.CallOffered):
            if event.agent not in self.ringing.get(call_id, ()):
                self._busy(event.agent, call_id, now, out)
        elif isinstance(event, ev.CallAnswered):
            if event.agent in self.ringing.get(call_id, ()):
                # The others' rings stop (Asterisk cancels them): the engine frees them.
                del self.ringing[call_id]
                self.held.discard(call_id)
                self.talking[call_id] = event.agent
                self._feed(OfferAnswered(call_id, event.agent, now), out)
            elif self.talking.get(call_id) != event.agent:
                self._busy(event.agent, call_id, now, out)
        elif isinstance(event, ev.CallNoAnswer):
            if self._unring(call_id, event.agent):
                self._feed(OfferFailed(call_id, event.agent, event.reason, now), out)
            else:
                self._release(event.agent, call_id, now, out)
        elif isinstance(event, ev.CallTransferred):
            self._finish(call_id, event.agent, now, out)
        elif isinstance(event, ev.CallOverflowed):
            # The router's own overflow has already left the engine; the dialplan's (a waiting
            # caller keying 1 for a callback) leaves now: never offer her during the dialogue.
            self._leave(call_id, now, out)
        elif isinstance(event, ev.CallSafetyNet | ev.CallAbandoned | ev.CallEnded):
            # In Asterisk's fallback queue the call is Asterisk's: its "waiting" there is not
            # ours to route (a Redirect would pull it out of the queue).
            if isinstance(event, ev.CallSafetyNet):
                self.fallen_back.add(call_id)
            else:
                self.fallen_back.discard(call_id)
            self._leave(call_id, now, out)
            agent = self.talking.pop(call_id, None)
            if agent is not None:
                self._feed(AgentFinished(agent, now), out)
            for who in [a for a, calls in self.foreign.items() if call_id in calls]:
                self._release(who, call_id, now, out)
        return out

    def on_device(self, device: str, state: str, now: float) -> list[Decision]:
        """A phone's device state (``PJSIP/201``, ``INUSE``); other devices are ignored."""
        out: list[Decision] = []
        agent = device.rpartition("/")[2]
        if agent not in self.engine.config.agents:
            return out
        if state in DEVICE_IN_USE:
            self.in_use.add(agent)
        else:
            self.in_use.discard(agent)
        self._phone(agent, self._clock(now), out)
        return out

    def devices_listed(self, states: Mapping[str, str], now: float) -> list[Decision]:
        """Every phone's state as Asterisk lists them (device -> state, ``PJSIP/201`` ->
        ``INUSE``). A phone it does not list has had no state since Asterisk started: free."""
        out: list[Decision] = []
        now = self._clock(now)
        listed: dict[str, bool] = {}
        for device, state in states.items():
            agent = device.rpartition("/")[2]
            listed[agent] = listed.get(agent, False) or state in DEVICE_IN_USE
        for agent in self.engine.config.agents:
            if listed.get(agent, False):
                self.in_use.add(agent)
            else:
                self.in_use.discard(agent)
            self._phone(agent, now, out)
        return out

    def set_state(
        self, agent: str, state: AgentState, reason: str | None, now: float
    ) -> list[Decision]:
        """The agent's page asks for a state; raises the engine's error if refused."""
        out: list[Decision] = []
        self._take(self.engine.handle(AgentStateSet(agent, state, self._clock(now), reason)), out)
        return out

    def tick(self, now: float) -> list[Decision]:
        out: list[Decision] = []
        self._feed(Tick(self._clock(now)), out)
        return out

    def offer_not_placed(self, call_id: str, agent: str, now: float) -> list[Decision]:
        """The shell could not ring ``agent`` (link down, Asterisk refused the action): the
        call goes back to its place and the agent stays ready; not a miss."""
        out: list[Decision] = []
        if self._unring(call_id, agent, dialled=False):
            self.deferred.pop(call_id, None)
            failed = OfferFailed(call_id, agent, "not_placed", self._clock(now), missed=False)
            self._feed(failed, out)
        return out

    def caller_gone(self, call_id: str, now: float) -> list[Decision]:
        """Asterisk no longer has the call's channel (it answered « No such channel »): she
        hung up. She leaves the line now; whoever was being offered her stays ready, not a
        miss. The tracker's end of the call, when it comes, finds nothing left to do here."""
        out: list[Decision] = []
        self._leave(call_id, self._clock(now), out)
        return out

    def link_changed(self, up: bool, now: float) -> list[Decision]:
        """The AMI link went down, or is back (ready); see the module's docstring."""
        out: list[Decision] = []
        if up == self.link_up:
            return out
        self.link_up = up
        now = self._clock(now)
        for agent in self.engine.config.agents:
            self._phone(agent, now, out)
        return out

    def feed(self, events: Iterable[Event], now: float) -> list[Decision]:
        """Engine events of the callbacks' virtual callers (``routing.callbacks.queueing``),
        fed as they are, on this dispatcher's clock; their offers are the callbacks' shell's."""
        out: list[Decision] = []
        now = self._clock(now)
        for event in events:
            if isinstance(event, CallLeft | OfferAnswered | OfferFailed):
                self.ringing.pop(event.call_id, None)
            self._feed(replace(event, at=now), out)
        return out

    def waiting(self) -> set[str]:
        """Calls waiting in ``cti-wait`` for the engine (not ringing, not on their way back)."""
        return self.held - self.ringing.keys() - self.away

    def holding(self) -> set[str]:
        """Every call the engine holds: waiting, being offered, ringing, on its way back."""
        return set(self.held)

    def next_deadline(self) -> float | None:
        return self.engine.next_deadline()

    def reload(self, engine: RoutingEngine, now: float) -> list[Decision]:
        """Carry the live situation over to ``engine`` (a new configuration)."""
        now = self._clock(now)
        old = self.engine
        waiting = sorted(
            (w for name in old.config.services for w in old.waiting(name)),
            key=lambda w: (w.since if w.place is None else w.place, w.call_id),
        )
        views = {view.agent: view for view in old.agents()}
        self.engine = engine
        self.held.clear()
        self.deferred.clear()
        self.away.clear()
        busy = [(call, agent) for call, agents in self.ringing.items() for agent in agents]
        busy += self.talking.items()
        self.ringing.clear()
        self.talking.clear()
        self.told_busy.clear()
        out: list[Decision] = []
        for name in engine.config.agents:
            view = views.get(name)
            if view is None:
                continue
            state = view.pending or view.state
            reason = view.reason if view.pending is None else None
            if state in (S.RINGING, S.ON_CALL, S.WRAP_UP):
                state, reason = S.READY, None
            if state is not S.OFFLINE:
                self._feed(AgentStateSet(name, state, now, reason), out)
        for call_id, agent in busy:
            self.foreign.setdefault(agent, set()).add(call_id)
        for agent in engine.config.agents:
            self._phone(agent, now, out)
        for w in waiting:
            if request_id_of(w.call_id) is not None:
                continue  # a callback: its shell queues it again in the new engine
            self._queue(w.call_id, w.service, w.priority, now, w.since, out, place=w.place)
        return out

    # ------------------------------------------------------------------ internals

    def _clock(self, now: float) -> float:
        # The engine refuses time going backwards; a wall clock may step back (NTP).
        self._now = max(self._now, now)
        return self._now

    def _queue(
        self,
        call_id: str,
        service: str | None,
        priority: int,
        now: float,
        since: float | None,
        out: list[Decision],
        place: float | None = None,
    ) -> None:
        name = service or self.default_service
        if name not in self.engine.config.services:
            log.warning(
                "call %s: service %r is not in the routing configuration, sent to %r",
                call_id,
                name,
                self.default_service,
            )
            name = self.default_service
        self.held.add(call_id)
        self._feed(CallQueued(call_id, name, now, priority, since=since, place=place), out)

    def _unring(self, call_id: str, agent: str, *, dialled: bool = True) -> bool:
        """``agent`` no longer rings for ``call_id``; once none does, a call that was dialled
        is on its way back to ``cti-wait`` (Dial returns when the last phone gave up). False
        if the engine did not ring her for it."""
        agents = self.ringing.get(call_id, [])
        if agent not in agents:
            return False
        agents.remove(agent)
        if not agents:
            del self.ringing[call_id]
            if dialled:
                self.away.add(call_id)
        return True

    def _busy(self, agent: str, call_id: str, now: float, out: list[Decision]) -> None:
        self.foreign.setdefault(agent, set()).add(call_id)
        self._phone(agent, now, out)

    def _release(self, agent: str, call_id: str, now: float, out: list[Decision]) -> None:
        calls = self.foreign.get(agent)
        if not calls or call_id not in calls:
            return
        calls.discard(call_id)
        if not calls:
            del self.foreign[agent]
        self._phone(agent, now, out)

    def _phone(self, agent: str, now: float, out: list[Decision]) -> None:
        """Tell the engine when the phone turns busy or free (and only then), and the shell
        when the agent starts or stops being on a foreign call (what her page shows)."""
        if agent not in self.engine.config.agents:
            return
        on_phone = self.on_foreign_call(agent)
        shown = on_phone != (agent in self.shown_on_phone)
        if shown:
            # Even when the engine's view does not change: a call found at the resync that
            # follows a restart arrives while the link is down, every phone already busy.
            self.shown_on_phone.symmetric_difference_update({agent})
        busy = not self.link_up or on_phone
        told = busy != (agent in self.told_busy)
        if shown or told:
            self.phones_changed.append(agent)
        if not told:
            return
        if busy:
            self.told_busy.add(agent)
        else:
            self.told_busy.discard(agent)
        self._feed(AgentPhoneBusy(agent, busy, now), out)

    def on_foreign_call(self, agent: str) -> bool:
        """The agent's phone is on a call the engine did not route (a transfer, a call she
        placed, a call found in progress after a restart): she is on the phone, whatever
        state she chose. Not while the link is merely down."""
        return agent in self.in_use or bool(self.foreign.get(agent))

    def _finish(self, call_id: str, agent: str | None, now: float, out: list[Decision]) -> None:
        """``agent`` no longer has ``call_id`` (hung up or handed it on)."""
        if agent is None:
            return
        if self.talking.get(call_id) == agent:
            del self.talking[call_id]
            self._feed(AgentFinished(agent, now), out)
        else:
            self._release(agent, call_id, now, out)

    def _leave(self, call_id: str, now: float, out: list[Decision]) -> None:
        self.away.discard(call_id)
        self.deferred.pop(call_id, None)
        self.ringing.pop(call_id, None)
        if call_id in self.held:
            self.held.discard(call_id)
            self._feed(CallLeft(call_id, now), out)

    def _feed(self, event: Event, out: list[Decision]) -> None:
        try:
            decisions = self.engine.handle(event)
        except RoutingError as exc:
            log.warning("routing engine refused %s: %s", event, exc)
            return
        self._take(decisions, out)

    def _take(self, decisions: Iterable[Decision], out: list[Decision]) -> None:
        for decision in decisions:
            if isinstance(decision, Offer):
                self.ringing.setdefault(decision.call_id, []).append(decision.agent)
                if decision.call_id in self.away:
                    self.deferred.setdefault(decision.call_id, []).append(decision)
                    continue
            elif isinstance(decision, Overflow):
                self.held.discard(decision.call_id)
                self.away.discard(decision.call_id)
                if decision.target_kind is OverflowKind.SERVICE and decision.target:
                    out.append(decision)
                    self.held.add(decision.call_id)
                    self._feed(CallQueued(decision.call_id, decision.target, decision.at), out)
                    continue
            out.append(decision)
