"""Blind and attended transfers of a connected call.

A blind transfer sends the caller to an agent (``[transfer]``'s digits) or to a service
(``[transfer]``'s service names: she waits in ``cti-wait`` for that service, ``CtiWaiting``
follows) and leaves the call transferring; an attended one connects the caller with the
consulted agent, whose leg joins the call.
"""

from __future__ import annotations

from cti.ami import events as ami
from cti.tracker import events as ev
from cti.tracker.call import Role, Stage
from cti.tracker.channels import interface_id
from cti.tracker.state import TrackerState


class Transfers(TrackerState):
    """Blind and attended transfers."""

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
        if e.context in self.contract.agent_contexts and e.extension.isdigit():
            to_agent = e.extension
        elif e.extension and e.extension != "s":
            # ``[transfer]``'s service extensions: she waits for that service, as if the menu
            # had chosen it; her wait for it starts when she enters it.
            service = e.extension
            call.service = service
            call.service_wait_at = None
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
