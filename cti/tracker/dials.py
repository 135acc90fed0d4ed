"""Dials from the caller's leg: offers to agents, and how each one ends.

A ``DialBegin`` whose ``Channel`` is the caller's leg offers the call to the dialled agent; its
``DialEnd`` says answered, cancelled (someone else answered, or the caller left) or not
answered, after which the call waits again or goes back to its transfer.

One Dial of several phones (``ring_together``: cti-connect's ``AGENTS``) is several
``DialBegin`` from the caller's leg, each an offer. Asterisk 22 ends the others' rings
(``DialEnd CANCEL``) just before the winner's ``ANSWER``: a cancel is never a no-answer, and
the winner's answer tells the routing and the pages that the others no longer ring. The call
goes back to waiting only once every ring has ended unanswered.
"""

from __future__ import annotations

from cti.ami import events as ami
from cti.tracker import events as ev
from cti.tracker.call import Role, Stage
from cti.tracker.callback_calls import CallbackCalls
from cti.tracker.channels import interface_id


class Dials(CallbackCalls):
    """Offers to agents and how they end."""

    def _on_dial_start(self, e: ami.DialStarted, at: float, out: list[ev.DomainEvent]) -> None:
        if self._callback_dial_start(e, at):
            return
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
                waited=self._waited_here(call, at),
            )
        )

    def _on_dial_end(self, e: ami.DialEnded, at: float, out: list[ev.DomainEvent]) -> None:
        if self._callback_dial_end(e, at, out):
            return
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
                    waited=self._waited_here(call, at),
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
