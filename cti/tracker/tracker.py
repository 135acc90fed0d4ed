"""The call tracker: typed AMI events and the time in, domain events out. No I/O, no clock.

Theory of operation
-------------------
A *call* is one citizen calling the town hall. Asterisk shows it as several channels sharing
a Linkedid: the inbound leg (one ``PJSIP/...`` channel on a real trunk, a ``Local/...;1``/``;2``
pair in the lab), then a leg per agent dialled (again a Local pair in the lab), transfer
targets, consultation calls. The Linkedid of the inbound leg is the ``call_id``: Asterisk
hands it down to every later leg, and redirects and transfers keep it.

Channels are known by Uniqueid (names change on rename/masquerade; Uniqueids do not) and
have a *role* in their call: ``CALLER`` (the citizen's leg, either half of its Local pair) or
``AGENT`` (a leg that rings or reaches an agent, either half of its pair) or ``OTHER``.

A call goes through stages (``Stage``); the table ``TRANSITIONS`` lists the legal moves:

    IVR ──CtiWaiting──► WAITING ──DialBegin──► RINGING ──DialEnd ANSWER──► CONNECTED
     │                   ▲   │                   │  │                          │
     │                   │   └──caller hangs up──┼──┼──► ENDED (abandoned)     │ BlindTransfer
     │                   └────DialEnd BUSY/NOANSWER┘  └──caller hangs up──►    ▼
     └─────────────caller hangs up──► ENDED                               TRANSFERRING

* The call starts (``CallArrived``) when the inbound channel appears with its caller ID. A
  Local pair's ``Newchannel`` carries ``<unknown>``; the number comes with the next event of
  that leg (``NewCallerid``, or nothing at all when the caller sent none), so the call is
  announced on the leg's first event after ``Newchannel`` that can carry a snapshot.
* Offers are dials from the caller's leg (``DialBegin`` with ``Channel`` = caller): from
  ``cti-connect`` after the router's Redirect, from the fallback queue, from a transfer
  context. Dials without a caller channel (an Originate's own dial, an Atxfer consultation)
  are not offers.
* The call ends when either half of the caller's leg hangs up. Whatever arrives for it
  afterwards (``NewCallerid`` after ``Hangup``, ``DialEnd CANCEL``, the agent's legs going
  down) is recognised and ignored. The reason depends on the stage and on who went first.
* Withheld caller ID is known from the number (empty, ``anonymous``...), from
  ``CID-CallingPres``, from the ``Pres`` our dialplan says as the call enters
  (``CtiCallerId``) and in ``CtiWaiting``, or from a resync's ``Getvar CALLERID(pres)``:
  setting ``CALLERID(pres)`` in the dialplan, or a trunk's ``Privacy: id``, raises no event
  at all (``presentation``). Until one of them has spoken the presentation is *unsettled*
  and the events give no number; ``CallerIdSettled`` says when it is known, and again if the
  call turns withheld later. Withheld is for good: nothing makes a call un-withheld.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from cti.ami import events as ami
from cti.ami.events import ListedChannel
from cti.tracker import events as ev
from cti.tracker.channels import interface_id, local_half
from cti.tracker.contract import Contract
from cti.tracker.presentation import (
    code_restricted,
    code_withheld,
    number_withheld,
    text_withheld,
)


class Stage(enum.Enum):
    IVR = "ivr"
    WAITING = "waiting"
    RINGING = "ringing"
    CONNECTED = "connected"
    TRANSFERRING = "transferring"
    ENDED = "ended"


TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.IVR: frozenset({Stage.WAITING, Stage.RINGING, Stage.ENDED}),
    Stage.WAITING: frozenset({Stage.WAITING, Stage.RINGING, Stage.CONNECTED, Stage.ENDED}),
    Stage.RINGING: frozenset(
        {Stage.RINGING, Stage.WAITING, Stage.CONNECTED, Stage.TRANSFERRING, Stage.ENDED}
    ),
    Stage.CONNECTED: frozenset(
        {Stage.CONNECTED, Stage.TRANSFERRING, Stage.WAITING, Stage.RINGING, Stage.ENDED}
    ),
    Stage.TRANSFERRING: frozenset(
        {Stage.RINGING, Stage.WAITING, Stage.CONNECTED, Stage.TRANSFERRING, Stage.ENDED}
    ),
    Stage.ENDED: frozenset(),
}


class Role(enum.Enum):
    CALLER = "caller"
    AGENT = "agent"
    OTHER = "other"


@dataclass(slots=True)
class Leg:
    call_id: str
    role: Role
    agent: str | None = None


@dataclass(slots=True)
class Call:
    call_id: str
    arrived_at: float
    stage: Stage = Stage.IVR
    announced: bool = False
    caller_number: str | None = None
    caller_name: str | None = None
    number_withheld: bool = False
    pres_withheld: bool = False  # only ever set: withheld is for good
    presentation_known: bool = False
    did: str | None = None
    service: str | None = None
    ivr_path: str | None = None  # the menu's path, known here only for a restored call
    priority: int = 0
    dialplan_leg: str | None = None
    dialplan_channel: str | None = None  # its current name: what the router redirects
    dialplan_context: str = ""
    dialplan_first_down: bool = False
    caller_locals: set[str] = field(default_factory=set)
    offers: dict[str, str] = field(default_factory=dict)  # agent leg uniqueid -> agent
    offer_channels: dict[str, str] = field(default_factory=dict)  # agent leg uniqueid -> name
    # The agent whose ringing Asterisk cancelled last: with PJSIP the caller's hang-up cancels
    # the agent's dial (DialEnd CANCEL) before the caller's own Hangup reaches us.
    cancelled_offer: str | None = None
    agent: str | None = None
    agent_leg: str | None = None
    agent_channel: str | None = None  # the answering agent's leg: what a transfer moves
    agent_hung_up: bool = False
    shutting_down: bool = False
    overflowed: bool = False
    first_wait_at: float | None = None
    waiting_since: float | None = None
    answered_at: float | None = None
    channels: set[str] = field(default_factory=set)

    @property
    def withheld(self) -> bool:
        return self.number_withheld or self.pres_withheld


class CallTracker:
    """Pure state machine from AMI events to domain events; see the module docstring."""

    def __init__(self, contract: Contract | None = None) -> None:
        self.contract = contract or Contract()
        self._calls: dict[str, Call] = {}
        self._legs: dict[str, Leg] = {}
        self._local_pairs: dict[str, dict[int, str]] = {}
        self._handlers = {
            ami.ChannelCreated: self._on_created,
            ami.CallerIdChanged: self._on_caller_id,
            ami.ChannelStateChanged: self._on_state,
            ami.ChannelRenamed: self._on_rename,
            ami.HangupRequested: self._on_hangup_request,
            ami.ChannelHungUp: self._on_hangup,
            ami.DialStarted: self._on_dial_start,
            ami.DialEnded: self._on_dial_end,
            ami.UserEventRaised: self._on_user_event,
            ami.BlindTransferred: self._on_blind_transfer,
            ami.AttendedTransferred: self._on_attended_transfer,
            ami.QueueCallerJoined: self._on_queue_join,
            ami.PbxShutdown: self._on_shutdown,
            ami.PbxBooted: self._on_booted,
        }

    # ------------------------------------------------------------------ public API

    def handle(self, event: ami.AmiEvent, at: float) -> list[ev.DomainEvent]:
        """Feed one AMI event received at time ``at``; return the domain events it causes."""
        out: list[ev.DomainEvent] = []
        self._handlers[type(event)](event, at, out)  # type: ignore[operator]
        return out

    @property
    def active_calls(self) -> list[Call]:
        return [c for c in self._calls.values() if c.stage is not Stage.ENDED]

    @property
    def tracked_channel_count(self) -> int:
        """Channels still remembered (live ones, and ended calls' legs not yet hung up)."""
        return len(self._legs)

    def call(self, call_id: str) -> Call | None:
        return self._calls.get(call_id)

    def resync(self, channels: Iterable[ListedChannel], at: float) -> list[ev.DomainEvent]:
        """Reconcile with the channels Asterisk lists after a (re)connect.

        Calls we knew that are gone end as ``lost``; calls we did not know are announced once,
        as ``restored``, with the stage their channels show; calls we knew keep their history.
        """
        out: list[ev.DomainEvent] = []
        by_linkedid: dict[str, list[ListedChannel]] = {}
        for listed in channels:
            by_linkedid.setdefault(listed.chan.linkedid, []).append(listed)
        present = {lc.chan.uniqueid for group in by_linkedid.values() for lc in group}

        for call in self.active_calls:
            if not any(u in present for u in call.caller_locals):
                self._end(call, at, out, reason="lost")
        for call in list(self._calls.values()):
            if call.stage is Stage.ENDED:
                self._forget(call)

        for linkedid, group in by_linkedid.items():
            if linkedid in self._calls:
                self._reconcile(self._calls[linkedid], group, at, out)
            else:
                self._restore(linkedid, group, at, out)
        return out

    # ------------------------------------------------------------------ leg bookkeeping

    def _register(self, call: Call, uniqueid: str, role: Role, agent: str | None = None) -> None:
        self._legs[uniqueid] = Leg(call.call_id, role, agent)
        call.channels.add(uniqueid)
        if role is Role.CALLER:
            call.caller_locals.add(uniqueid)

    def _register_pair(
        self, call: Call, chan: ami.ChannelInfo, role: Role, agent: str | None = None
    ) -> None:
        """Register ``chan`` and, for a Local channel, its other half."""
        self._register(call, chan.uniqueid, role, agent)
        half = local_half(chan.channel)
        if half is not None:
            other = self._local_pairs.get(half[0], {}).get(3 - half[1])
            if other is not None:
                self._register(call, other, role, agent)

    def _new_call(self, chan: ami.ChannelInfo, at: float) -> Call:
        call = Call(call_id=chan.linkedid, arrived_at=at)
        self._calls[call.call_id] = call
        return call

    def _caller_call(self, chan: ami.ChannelInfo | None, at: float) -> Call | None:
        """The live call whose caller leg is ``chan``, creating it for a channel found
        mid-call in one of the caller's contexts (a replay or link that starts mid-call)."""
        if chan is None:
            return None
        leg = self._legs.get(chan.uniqueid)
        if leg is not None:
            if leg.role is not Role.CALLER:
                return None
            call = self._calls.get(leg.call_id)
            return call if call is not None and call.stage is not Stage.ENDED else None
        if chan.context not in self.contract.caller_contexts or chan.linkedid in self._calls:
            return None
        call = self._new_call(chan, at)
        self._register_pair(call, chan, Role.CALLER)
        call.dialplan_leg = chan.uniqueid
        call.dialplan_channel = chan.channel
        self._announce(call, chan, at, [], restored=True)
        return call

    def _forget(self, call: Call) -> None:
        for uniqueid in call.channels:
            self._legs.pop(uniqueid, None)
        self._calls.pop(call.call_id, None)

    # ------------------------------------------------------------------ emitting

    def _base(self, call: Call, at: float) -> dict[str, object]:
        return {
            "call_id": call.call_id,
            "at": at,
            "caller_number": call.caller_number if _shown(call) else None,
            "caller_withheld": call.withheld,
        }

    def _settle(self, call: Call, at: float, out: list[ev.DomainEvent], *, withheld: bool) -> None:
        """The presentation became known (``withheld`` or not): say it once, and once more if
        the call turns withheld; a later "allowed" changes nothing."""
        turns_withheld = withheld and not call.withheld
        if withheld:
            call.pres_withheld = True
        if call.presentation_known and not turns_withheld:
            return
        call.presentation_known = True
        if call.announced:
            out.append(self._settled(call, at))

    def _settled(self, call: Call, at: float) -> ev.CallerIdSettled:
        return ev.CallerIdSettled(
            **self._base(call, at),  # type: ignore[arg-type]
            caller_name=call.caller_name if _shown(call) else None,
        )

    def _move(self, call: Call, stage: Stage) -> None:
        if stage not in TRANSITIONS[call.stage]:
            return  # Asterisk said something out of order; keep the stage we trust.
        if call.stage is Stage.WAITING and stage is not Stage.WAITING:
            call.waiting_since = None
        call.stage = stage

    def _announce(
        self,
        call: Call,
        chan: ami.ChannelInfo,
        at: float,
        out: list[ev.DomainEvent],
        restored: bool = False,
    ) -> None:
        if call.announced:
            return
        call.announced = True
        call.caller_number = chan.caller_num or None
        call.caller_name = chan.caller_name or None
        call.number_withheld = number_withheld(chan.caller_num)
        if call.withheld:
            call.presentation_known = True
        if call.did is None and chan.context in self.contract.inbound_contexts:
            call.did = chan.exten or None
        out.append(
            ev.CallArrived(
                **self._base(call, at),  # type: ignore[arg-type]
                caller_name=call.caller_name if _shown(call) else None,
                did=call.did,
                restored=restored,
                ivr_path=call.ivr_path,
            )
        )
        if call.presentation_known:
            out.append(self._settled(call, at))

    def _touch(
        self, call: Call, chan: ami.ChannelInfo, at: float, out: list[ev.DomainEvent]
    ) -> None:
        """Any event of the caller's leg: note where its dialplan is, announce if due."""
        if chan.uniqueid == call.dialplan_leg:
            call.dialplan_context = chan.context
            call.dialplan_channel = chan.channel
        self._announce(call, chan, at, out)

    def _waited(self, call: Call, at: float) -> float:
        start = call.first_wait_at if call.first_wait_at is not None else call.arrived_at
        return max(0.0, at - start)

    # ------------------------------------------------------------------ channel events

    def _on_created(self, e: ami.ChannelCreated, at: float, out: list[ev.DomainEvent]) -> None:
        chan = e.chan
        half = local_half(chan.channel)
        if half is not None:
            self._local_pairs.setdefault(half[0], {})[half[1]] = chan.uniqueid
        call = self._calls.get(chan.linkedid)
        if call is None:
            if chan.context not in self.contract.inbound_contexts:
                return
            call = self._new_call(chan, at)
            self._register(call, chan.uniqueid, Role.CALLER)
            call.dialplan_leg = chan.uniqueid
            call.dialplan_context = chan.context
            if chan.caller_num:
                self._announce(call, chan, at, out)
            return
        if call.stage is Stage.ENDED:
            return
        if half is not None:
            partner = self._local_pairs[half[0]].get(3 - half[1])
            partner_leg = self._legs.get(partner) if partner else None
            if partner_leg is not None and partner_leg.call_id == call.call_id:
                self._register(call, chan.uniqueid, partner_leg.role, partner_leg.agent)
                if partner_leg.role is Role.CALLER and half[1] == 2:
                    call.dialplan_leg = chan.uniqueid  # ;2 runs the town hall's dialplan
                    call.dialplan_context = chan.context
                return
        self._register(call, chan.uniqueid, Role.OTHER)

    def _on_caller_id(self, e: ami.CallerIdChanged, at: float, out: list[ev.DomainEvent]) -> None:
        call = self._caller_call(e.chan, at)
        if call is None:
            return
        if not call.announced:
            if code_withheld(e.pres):
                call.pres_withheld = call.presentation_known = True
            self._touch(call, e.chan, at, out)
        elif code_restricted(e.pres):
            self._touch(call, e.chan, at, out)
            self._settle(call, at, out, withheld=True)
        else:
            self._touch(call, e.chan, at, out)

    def _on_state(self, e: ami.ChannelStateChanged, at: float, out: list[ev.DomainEvent]) -> None:
        call = self._caller_call(e.chan, at)
        if call is not None:
            self._touch(call, e.chan, at, out)

    def _on_rename(self, e: ami.ChannelRenamed, at: float, out: list[ev.DomainEvent]) -> None:
        # Legs are keyed by Uniqueid, which a rename keeps; only the Local pairing and the
        # name a transfer must address move.
        leg = self._legs.get(e.uniqueid)
        call = self._calls.get(leg.call_id) if leg is not None else None
        if call is not None and call.agent_leg == e.uniqueid:
            call.agent_channel = e.new_name
        old, new = local_half(e.old_name), local_half(e.new_name)
        if old is not None:
            pair = self._local_pairs.get(old[0])
            if pair is not None and pair.get(old[1]) == e.uniqueid:
                del pair[old[1]]
        if new is not None:
            self._local_pairs.setdefault(new[0], {})[new[1]] = e.uniqueid

    def _on_hangup_request(
        self, e: ami.HangupRequested, at: float, out: list[ev.DomainEvent]
    ) -> None:
        leg = self._legs.get(e.chan.uniqueid)
        if leg is None or not e.soft or not e.cause & self.contract.shutdown_flag:
            return
        call = self._calls.get(leg.call_id)
        if call is not None:
            call.shutting_down = True

    def _on_hangup(self, e: ami.ChannelHungUp, at: float, out: list[ev.DomainEvent]) -> None:
        uniqueid = e.chan.uniqueid
        half = local_half(e.chan.channel)
        if half is not None:
            pair = self._local_pairs.get(half[0])
            if pair is not None:
                pair.pop(half[1], None)
                if not pair:
                    del self._local_pairs[half[0]]
        leg = self._legs.pop(uniqueid, None)
        if leg is None:
            call = self._caller_call(e.chan, at)  # mid-call start: a call we never saw
            if call is None:
                return
            leg = self._legs.pop(uniqueid)
        call = self._calls.get(leg.call_id)
        if call is None:
            return
        call.channels.discard(uniqueid)
        if call.stage is not Stage.ENDED:
            if leg.role is Role.CALLER:
                self._touch(call, e.chan, at, out)
                if uniqueid == call.dialplan_leg:
                    call.dialplan_first_down = True
                self._caller_gone(call, at, out)
            elif leg.role is Role.AGENT:
                if call.stage is Stage.CONNECTED and leg.agent == call.agent:
                    call.agent_hung_up = True
        if call.stage is Stage.ENDED and not call.channels:
            self._forget(call)

    def _caller_gone(self, call: Call, at: float, out: list[ev.DomainEvent]) -> None:
        if call.shutting_down:
            self._end(call, at, out, reason="shutdown")
        elif call.overflowed:
            self._end(call, at, out, reason="overflow")
        elif call.stage is Stage.RINGING:
            agents = sorted(set(call.offers.values()))
            self._abandon(call, at, out, "ringing", agents[0] if agents else call.cancelled_offer)
        elif call.stage is Stage.WAITING:
            failed = (
                call.dialplan_first_down
                and call.dialplan_context not in self.contract.waiting_contexts
            )
            if failed:
                self._end(call, at, out, reason="failed")
            else:
                self._abandon(call, at, out, "waiting", None)
        elif call.stage is Stage.CONNECTED:
            self._end(call, at, out, "agent_hangup" if call.agent_hung_up else "caller_hangup")
        else:
            self._end(call, at, out, reason="caller_hangup")

    def _abandon(
        self, call: Call, at: float, out: list[ev.DomainEvent], reason: str, agent: str | None
    ) -> None:
        out.append(
            ev.CallAbandoned(
                **self._base(call, at),  # type: ignore[arg-type]
                reason=reason,
                service=call.service,
                agent=agent,
                waited=self._waited(call, at),
            )
        )
        self._end(call, at, out, reason="abandoned", agent=agent)

    def _end(
        self,
        call: Call,
        at: float,
        out: list[ev.DomainEvent],
        reason: str,
        agent: str | None = None,
    ) -> None:
        stage = call.stage
        talk = at - call.answered_at if call.answered_at is not None else 0.0
        if call.answered_at is not None:
            wait = self._waited(call, call.answered_at)
        elif call.first_wait_at is not None:
            wait = self._waited(call, at)
        else:
            wait = 0.0
        call.stage = Stage.ENDED
        call.offers.clear()
        out.append(
            ev.CallEnded(
                **self._base(call, at),  # type: ignore[arg-type]
                reason=reason,
                stage=stage.value,
                service=call.service,
                agent=agent or call.agent,
                duration=max(0.0, at - call.arrived_at),
                wait=wait,
                talk=max(0.0, talk),
            )
        )

    # ------------------------------------------------------------------ dials

    def _on_dial_start(self, e: ami.DialStarted, at: float, out: list[ev.DomainEvent]) -> None:
        call = self._caller_call(e.caller, at)
        if call is None or e.caller is None:
            return
        self._touch(call, e.caller, at, out)
        agent = interface_id(e.dest.channel)
        self._register_pair(call, e.dest, Role.AGENT, agent)
        call.offers[e.dest.uniqueid] = agent
        call.offer_channels[e.dest.uniqueid] = e.dest.channel
        self._move(call, Stage.RINGING)
        out.append(
            ev.CallOffered(
                **self._base(call, at),  # type: ignore[arg-type]
                agent=agent,
                service=call.service,
                waited=self._waited(call, at),
            )
        )

    def _on_dial_end(self, e: ami.DialEnded, at: float, out: list[ev.DomainEvent]) -> None:
        call = self._caller_call(e.caller, at)
        if call is None:
            return
        agent = call.offers.pop(e.dest.uniqueid, None)
        channel = call.offer_channels.pop(e.dest.uniqueid, None)
        if agent is None:
            return  # the second DialEnd of a queue leg, or a dial that was no offer
        status = e.status.upper()
        if status == "ANSWER":
            call.offers.clear()  # the others are cancelled by Asterisk; not their fault
            call.offer_channels.clear()
            call.agent = agent
            call.agent_leg, call.agent_channel = e.dest.uniqueid, channel
            call.agent_hung_up = False
            if call.answered_at is None:
                call.answered_at = at
            self._move(call, Stage.CONNECTED)
            out.append(
                ev.CallAnswered(
                    **self._base(call, at),  # type: ignore[arg-type]
                    agent=agent,
                    service=call.service,
                    waited=self._waited(call, at),
                )
            )
            return
        if status == "CANCEL":
            # Cancelled because someone else answered, or the caller left (then the
            # abandon is the agent's to be told about, see _caller_gone).
            call.cancelled_offer = agent
            return
        out.append(
            ev.CallNoAnswer(
                **self._base(call, at),  # type: ignore[arg-type]
                agent=agent,
                reason=status.lower() or "noanswer",
                service=call.service,
            )
        )
        if not call.offers and call.stage is Stage.RINGING:
            back = (
                Stage.WAITING
                if call.dialplan_context in self.contract.routed_contexts
                else Stage.TRANSFERRING
            )
            self._move(call, back)
            if back is Stage.WAITING and call.waiting_since is None:
                call.waiting_since = at

    # ------------------------------------------------------------------ dialplan signals

    def _on_user_event(self, e: ami.UserEventRaised, at: float, out: list[ev.DomainEvent]) -> None:
        c = self.contract
        if e.name not in c.user_events:
            return
        call = self._caller_call(e.chan, at)
        if call is None or e.chan is None:
            return
        self._touch(call, e.chan, at, out)
        body = e.body
        pres = body.get("Pres", "")
        if pres and e.name in (c.caller_id_event, c.waiting_event):
            self._settle(call, at, out, withheld=text_withheld(pres))
        if e.name == c.waiting_event:
            call.did = body.get("DID") or call.did
            call.service = body.get("Service") or call.service
            # Not "Priority": a UserEvent's channel snapshot has a header of that name already.
            call.priority = _to_int(body.get("CtiPriority"), call.priority)
            self._wait(call, at, out)
        elif e.name == c.no_answer_event:
            agent = body.get("Agent", "")
            for uniqueid, offered in list(call.offers.items()):
                if offered == agent:
                    del call.offers[uniqueid]
                    out.append(
                        ev.CallNoAnswer(
                            **self._base(call, at),  # type: ignore[arg-type]
                            agent=agent,
                            reason=(body.get("DialStatus") or "noanswer").lower(),
                            service=call.service,
                        )
                    )
        elif e.name == c.overflow_event:
            call.overflowed = True
            out.append(
                ev.CallOverflowed(
                    **self._base(call, at),  # type: ignore[arg-type]
                    kind=body.get("Kind") or "voicemail",
                    target=body.get("Target") or None,
                    service=call.service,
                    waited=self._waited(call, at),
                )
            )
        elif e.name == c.safety_net_event:
            out.append(
                ev.CallSafetyNet(
                    **self._base(call, at),  # type: ignore[arg-type]
                    service=call.service,
                    waited=self._waited(call, at),
                )
            )

    def _wait(self, call: Call, at: float, out: list[ev.DomainEvent]) -> None:
        self._move(call, Stage.WAITING)
        if call.stage is not Stage.WAITING:
            return
        call.agent = call.agent_leg = call.agent_channel = None
        if call.first_wait_at is None:
            call.first_wait_at = at
        if call.waiting_since is None:
            call.waiting_since = at
        out.append(
            ev.CallWaiting(
                **self._base(call, at),  # type: ignore[arg-type]
                service=call.service,
                priority=call.priority,
                position=self._position(call),
                did=call.did,
            )
        )

    def _position(self, call: Call) -> int:
        ahead = 0
        for other in self._calls.values():
            if (
                other is not call
                and other.stage is Stage.WAITING
                and other.service == call.service
                and other.waiting_since is not None
                and call.waiting_since is not None
                and other.waiting_since <= call.waiting_since
            ):
                ahead += 1
        return ahead + 1

    def _on_queue_join(
        self, e: ami.QueueCallerJoined, at: float, out: list[ev.DomainEvent]
    ) -> None:
        call = self._caller_call(e.chan, at)
        if call is None:
            return
        self._touch(call, e.chan, at, out)
        call.service = e.queue or call.service
        self._move(call, Stage.WAITING)
        if call.first_wait_at is None:
            call.first_wait_at = at
        if call.waiting_since is None:
            call.waiting_since = at
        out.append(
            ev.CallWaiting(
                **self._base(call, at),  # type: ignore[arg-type]
                service=call.service,
                priority=call.priority,
                position=max(1, e.position),
                did=call.did,
            )
        )

    # ------------------------------------------------------------------ transfers

    def _on_blind_transfer(
        self, e: ami.BlindTransferred, at: float, out: list[ev.DomainEvent]
    ) -> None:
        if not e.success:
            return
        call = self._caller_call(e.transferee, at)
        if call is None:
            return
        from_agent = self._agent_of(e.transferer) or call.agent
        to_agent = service = None
        if e.context in self.contract.agent_contexts:
            to_agent = e.extension
        elif e.extension and e.extension != "s":
            service = e.extension
        call.agent = call.agent_leg = call.agent_channel = None
        call.agent_hung_up = False
        self._move(call, Stage.TRANSFERRING)
        out.append(
            ev.CallTransferred(
                **self._base(call, at),  # type: ignore[arg-type]
                agent=from_agent,
                kind="blind",
                to_agent=to_agent,
                service=service,
            )
        )

    def _on_attended_transfer(
        self, e: ami.AttendedTransferred, at: float, out: list[ev.DomainEvent]
    ) -> None:
        if not e.success:
            return
        call = self._caller_call(e.transferee, at)
        if call is None:
            return
        from_agent = self._agent_of(e.transferer) or call.agent
        to_agent = None
        if e.target is not None:
            to_agent = interface_id(e.target.channel)
            self._register_pair(call, e.target, Role.AGENT, to_agent)
        call.agent = to_agent
        call.agent_leg = e.target.uniqueid if e.target is not None else None
        call.agent_channel = e.target.channel if e.target is not None else None
        call.agent_hung_up = False
        self._move(call, Stage.CONNECTED)
        out.append(
            ev.CallTransferred(
                **self._base(call, at),  # type: ignore[arg-type]
                agent=from_agent,
                kind="attended",
                to_agent=to_agent,
            )
        )

    def _agent_of(self, chan: ami.ChannelInfo | None) -> str | None:
        if chan is None:
            return None
        leg = self._legs.get(chan.uniqueid)
        if leg is not None and leg.agent is not None:
            return leg.agent
        return interface_id(chan.channel)

    # ------------------------------------------------------------------ PBX life

    def _on_shutdown(self, e: ami.PbxShutdown, at: float, out: list[ev.DomainEvent]) -> None:
        for call in self.active_calls:
            self._end(call, at, out, reason="shutdown")
        self._calls.clear()
        self._legs.clear()
        self._local_pairs.clear()

    def _on_booted(self, e: ami.PbxBooted, at: float, out: list[ev.DomainEvent]) -> None:
        # A fresh Asterisk (Uptime 0 after a restart) has no channels; resync() says the rest.
        return

    # ------------------------------------------------------------------ resync helpers

    def _restore(
        self, linkedid: str, group: list[ListedChannel], at: float, out: list[ev.DomainEvent]
    ) -> None:
        c = self.contract
        dialplan = next(
            (lc for lc in group if lc.chan.context in c.caller_contexts and _not_half1(lc)), None
        )
        if dialplan is None:
            return
        chan = dialplan.chan
        call = Call(call_id=linkedid, arrived_at=at)
        self._calls[linkedid] = call
        self._register(call, chan.uniqueid, Role.CALLER)
        call.dialplan_leg = chan.uniqueid
        call.dialplan_context = chan.context
        call.dialplan_channel = chan.channel
        half = local_half(chan.channel)
        for lc in group:
            other = local_half(lc.chan.channel)
            if half is not None and other is not None and other[0] == half[0]:
                self._register(call, lc.chan.uniqueid, Role.CALLER)
        variables = dialplan.variables
        call.service = variables.get(c.service_variable) or None
        call.ivr_path = variables.get(c.path_variable) or None
        call.did = variables.get(c.did_variable) or None
        pres = variables.get("CALLERID(pres)", "")
        if pres:
            call.pres_withheld = text_withheld(pres)
            call.presentation_known = True
        call.priority = _to_int(variables.get(c.priority_variable), 0)
        # The dialplan's WAIT_START (epoch seconds): a restored caller keeps her wait.
        since = _to_int(variables.get(c.wait_start_variable), 0)
        if 0 < at - since < 86_400:
            call.first_wait_at = call.waiting_since = float(since)
        self._announce(call, chan, at, out, restored=True)
        self._reconcile(call, group, at, out)

    def _reconcile(
        self, call: Call, group: list[ListedChannel], at: float, out: list[ev.DomainEvent]
    ) -> None:
        if call.stage is Stage.ENDED or call.dialplan_leg is None:
            return
        dialplan = next((lc for lc in group if lc.chan.uniqueid == call.dialplan_leg), None)
        if dialplan is None:
            return
        call.dialplan_context = dialplan.chan.context
        pres = dialplan.variables.get("CALLERID(pres)", "")
        if pres:  # the link was down: the restriction may have come meanwhile
            self._settle(call, at, out, withheld=text_withheld(pres))
        for lc in group:
            if lc.chan.uniqueid not in call.channels:
                self._register(call, lc.chan.uniqueid, Role.OTHER)
        bridged = [
            lc
            for lc in group
            if lc.bridge_id
            and lc.bridge_id == dialplan.bridge_id
            and lc.chan.uniqueid not in call.caller_locals
        ]
        if bridged:
            agent = interface_id(bridged[0].chan.channel)
            for lc in group:
                if local_half(lc.chan.channel) and interface_id(lc.chan.channel) == agent:
                    self._register(call, lc.chan.uniqueid, Role.AGENT, agent)
            if call.stage is not Stage.CONNECTED or call.agent != agent:
                call.offers.clear()
                call.agent = agent
                call.stage = Stage.CONNECTED
                if call.answered_at is None:
                    call.answered_at = at
                out.append(
                    ev.CallAnswered(
                        **self._base(call, at),  # type: ignore[arg-type]
                        agent=agent,
                        service=call.service,
                        waited=self._waited(call, at),
                    )
                )
        elif dialplan.chan.context in self.contract.waiting_contexts:
            if call.stage is not Stage.WAITING:
                call.offers.clear()
                call.stage = Stage.IVR  # so that _wait may move it
                self._wait(call, at, out)


def _shown(call: Call) -> bool:
    """The caller's number and name may be shown: known allowed, not withheld."""
    return call.presentation_known and not call.withheld


def _not_half1(lc: ListedChannel) -> bool:
    half = local_half(lc.chan.channel)
    return half is None or half[1] == 2


def _to_int(value: str | None, default: int) -> int:
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        return default
