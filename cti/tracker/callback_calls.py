"""The product's own callbacks, followed as calls: the agent's phone first, then the citizen.

Theory of operation, from a real Asterisk 22 (tests/asterisk/test_callbacks.py's lab): the
callbacks desk Originates ``Local/<poste>@agents`` into ``cti-callback``. Half ``;1`` is the
originated channel and its Uniqueid is the Linkedid of everything that follows; ``;2`` runs
``[agents]`` and dials the agent's phone (a dial from ``;2``: no offer, the call does not
exist yet). Once she answers, ``;1`` enters ``cti-callback``, whose first step says
``UserEvent CtiCallback`` (``CallbackId``, ``Number``: the number dialled, ``Service``);
then ``;1`` dials the citizen through the trunk (``DialBegin`` ``Channel`` = ``;1``). The
trunk's channel carries the trunk endpoint's context (``from-pstn``) and the town hall's
Linkedid: it is no citizen calling in.

So the call starts at ``CtiCallback``: announced with her number (the one we dial: shown),
offered at once to the agent whose phone is already up (her card pops while the citizen's
phone rings). ``;1``/``;2`` are the agent's legs; ``;1`` is the channel bridged with the
citizen, so it is what a transfer moves (``agent_channel``). The trunk's channel becomes the
caller leg at its ``DialBegin``: from then on the call lives and ends like any other (answer,
hang-ups, a blind transfer that sends her to a colleague and back to waiting). A callback
the citizen does not answer (no answer, busy, the agent hanging up first) ends
``not_reached`` after ``CallNoAnswer``; the request's own outcome is the desk's, from
``CtiCallbackResult``.
"""

from __future__ import annotations

from cti.ami import events as ami
from cti.tracker import events as ev
from cti.tracker.call import Call, Role, Stage
from cti.tracker.channels import interface_id
from cti.tracker.state import TrackerState


class CallbackCalls(TrackerState):
    """Callbacks placed by the product, followed from ``CtiCallback`` on."""

    def _on_callback_started(
        self, e: ami.UserEventRaised, at: float, out: list[ev.DomainEvent]
    ) -> None:
        chan = e.chan
        callback_id = e.body.get("CallbackId", "")
        number = e.body.get("Number", "")
        if chan is None or not callback_id or chan.linkedid in self._calls:
            return
        agent = interface_id(chan.channel)
        call = Call(call_id=chan.linkedid, arrived_at=at, callback_id=callback_id)
        self._calls[call.call_id] = call
        self._register_pair(call, chan, Role.AGENT, agent)
        call.agent, call.agent_leg, call.agent_channel = agent, chan.uniqueid, chan.channel
        call.service = e.body.get("Service") or None
        call.announced = call.presentation_known = True
        call.caller_number = number or None
        base = self._base(call, at)
        out.append(ev.CallArrived(**base, callback_id=callback_id))  # type: ignore[arg-type]
        out.append(ev.CallerIdSettled(**base))  # type: ignore[arg-type]
        self._move(call, Stage.RINGING)
        out.append(ev.CallOffered(**base, agent=agent, service=call.service))  # type: ignore[arg-type]

    def _callback_of(self, chan: ami.ChannelInfo | None) -> Call | None:
        """The live callback whose agent leg is ``chan``."""
        if chan is None:
            return None
        leg = self._legs.get(chan.uniqueid)
        call = self._calls.get(leg.call_id) if leg is not None else None
        if call is None or call.callback_id is None or call.stage is Stage.ENDED:
            return None
        return call if leg is not None and leg.role is Role.AGENT else None

    def _callback_dial_start(self, e: ami.DialStarted, at: float) -> bool:
        """``;1`` dials the citizen: her channel is the caller leg. True when handled."""
        call = self._callback_of(e.caller)
        if call is None or call.caller_locals:
            return call is not None
        self._register_pair(call, e.dest, Role.CALLER)
        call.dialplan_leg = e.dest.uniqueid
        call.dialplan_channel = e.dest.channel
        call.dialplan_context = e.dest.context
        return True

    def _callback_dial_end(self, e: ami.DialEnded, at: float, out: list[ev.DomainEvent]) -> bool:
        """How the citizen's phone answered. True when handled."""
        call = self._callback_of(e.caller)
        if call is None:
            return False
        if e.dest.uniqueid not in call.caller_locals or call.agent is None:
            return True
        status = e.status.upper()
        if status == "ANSWER":
            call.answered_at = at
            self._move(call, Stage.CONNECTED)
            out.append(
                ev.CallAnswered(
                    **self._base(call, at),  # type: ignore[arg-type]
                    agent=call.agent,
                    service=call.service,
                )
            )
        else:
            out.append(
                ev.CallNoAnswer(
                    **self._base(call, at),  # type: ignore[arg-type]
                    agent=call.agent,
                    reason=status.lower() or "noanswer",
                    service=call.service,
                )
            )
        return True

    def _callback_leg_gone(
        self, call: Call, role: Role, at: float, out: list[ev.DomainEvent]
    ) -> bool:
        """A leg of a callback not answered went: it was not reached. True when it ended."""
        if call.callback_id is None or call.answered_at is not None:
            return False
        if role is Role.CALLER or not call.caller_locals:
            self._end(call, at, out, reason="not_reached")
            return True
        return False
