"""The tracker's state and the moves every kind of event shares. Pure, no I/O.

``TrackerState`` holds the calls, the legs (by Uniqueid) and the Local pairs being formed;
each concern's handlers (``channel_events``, ``dials``, ``dialplan_signals``, ``transfers``,
``resync``) extend it, and ``tracker.CallTracker`` puts them together. Here: registering legs
and finding a leg's call, announcing a call and settling its presentation, moving it along
``TRANSITIONS``, putting it in the wait, ending it.
"""

from __future__ import annotations

from cti.ami import events as ami
from cti.tracker import events as ev
from cti.tracker.call import TRANSITIONS, Call, Leg, Role, Stage
from cti.tracker.channels import local_half
from cti.tracker.contract import Contract
from cti.tracker.presentation import number_withheld


class TrackerState:
    """The state shared by the tracker's handlers; see ``tracker`` for the theory."""

    def __init__(self, contract: Contract | None = None) -> None:
        self.contract = contract or Contract()
        self._calls: dict[str, Call] = {}
        self._legs: dict[str, Leg] = {}
        self._local_pairs: dict[str, dict[int, str]] = {}

    # ------------------------------------------------------------------ reading

    @property
    def active_calls(self) -> list[Call]:
        return [c for c in self._calls.values() if c.stage is not Stage.ENDED]

    @property
    def tracked_channel_count(self) -> int:
        """Channels still remembered (live ones, and ended calls' legs not yet hung up)."""
        return len(self._legs)

    def call(self, call_id: str) -> Call | None:
        return self._calls.get(call_id)

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

    def _waited_here(self, call: Call, at: float) -> float:
        """How long she has waited for her current service (after a transfer to a service:
        since she entered its wait, not counting her talk with the first agent)."""
        if call.service_wait_at is None:
            return self._waited(call, at)
        return max(0.0, at - call.service_wait_at)

    # ------------------------------------------------------------------ waiting and ending

    def _wait(self, call: Call, at: float, out: list[ev.DomainEvent]) -> None:
        self._move(call, Stage.WAITING)
        if call.stage is not Stage.WAITING:
            return
        call.agent = call.agent_leg = call.agent_channel = None
        if call.first_wait_at is None:
            call.first_wait_at = at
        if call.service_wait_at is None:
            call.service_wait_at = at
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


def _shown(call: Call) -> bool:
    """The caller's number and name may be shown: known allowed, not withheld."""
    return call.presentation_known and not call.withheld


def to_int(value: str | None, default: int) -> int:
    """A dialplan variable as a whole number; ``default`` when unset or not a number."""
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        return default
