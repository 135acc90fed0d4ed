"""Channels appearing, changing, being renamed and hanging up: how a call starts and ends.

A call starts with its inbound channel and is announced on its caller leg's first event that
carries a snapshot; either half of the caller's leg hanging up ends it, with a reason that
depends on its stage and on who went first (``_caller_gone``).
"""

from __future__ import annotations

from cti.ami import events as ami
from cti.tracker import events as ev
from cti.tracker.call import Call, Role, Stage
from cti.tracker.callback_calls import CallbackCalls
from cti.tracker.channels import local_half
from cti.tracker.presentation import code_restricted, code_withheld


class ChannelEvents(CallbackCalls):
    """Channels appearing, changing and hanging up."""

    def _on_created(self, e: ami.ChannelCreated, at: float, out: list[ev.DomainEvent]) -> None:
        chan = e.chan
        half = local_half(chan.channel)
        if half is not None:
            self._local_pairs.setdefault(half[0], {})[half[1]] = chan.uniqueid
        call = self._calls.get(chan.linkedid)
        if call is None:
            # A channel dialled from another (the trunk's leg of a callback: the endpoint's
            # context is from-pstn) shares its Linkedid: only a channel that starts its own
            # Linkedid is a citizen calling in.
            if chan.context not in self.contract.inbound_contexts or chan.linkedid != chan.uniqueid:
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
            if self._callback_leg_gone(call, leg.role, at, out):
                pass
            elif leg.role is Role.CALLER:
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
