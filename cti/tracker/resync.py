"""Asterisk going away and coming back: shutdown, boot, and the resync after a (re)connect.

A shutdown ends every call; after a (re)connect the shell lists Asterisk's channels and
``resync`` reconciles: calls we knew that are gone end as ``lost``, calls we did not know are
announced once as ``restored`` (their wait, service and presentation read from the
dialplan's variables), calls we knew keep their history.
"""

from __future__ import annotations

from collections.abc import Iterable

from cti.ami import events as ami
from cti.ami.events import ListedChannel
from cti.tracker import events as ev
from cti.tracker.call import Call, Role, Stage
from cti.tracker.channels import interface_id, local_half
from cti.tracker.presentation import text_withheld
from cti.tracker.state import TrackerState, to_int


class Resync(TrackerState):
    """Shutdown, boot, and the resync after a (re)connect."""

    # ------------------------------------------------------------------ reconnects

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

    def _on_shutdown(self, e: ami.PbxShutdown, at: float, out: list[ev.DomainEvent]) -> None:
        for call in self.active_calls:
            self._end(call, at, out, reason="shutdown")
        self._calls.clear()
        self._legs.clear()
        self._local_pairs.clear()

    def _on_booted(self, e: ami.PbxBooted, at: float, out: list[ev.DomainEvent]) -> None:
        # A fresh Asterisk (Uptime 0 after a restart) has no channels; resync() says the rest.
        return

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
        call.priority = to_int(variables.get(c.priority_variable), 0)
        # The dialplan's WAIT_START (epoch seconds): a restored caller keeps her wait.
        since = to_int(variables.get(c.wait_start_variable), 0)
        if 0 < at - since < 86_400:
            call.first_wait_at = call.service_wait_at = call.waiting_since = float(since)
            # Transferred to this service: her wait for it began then (her place stays).
            here = to_int(variables.get(c.service_since_variable), 0)
            if since <= here <= at:
                call.service_wait_at = call.waiting_since = float(here)
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


def _not_half1(lc: ListedChannel) -> bool:
    half = local_half(lc.chan.channel)
    return half is None or half[1] == 2
