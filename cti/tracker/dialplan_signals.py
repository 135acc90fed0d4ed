"""What the town hall's dialplan says through UserEvents, and app_queue's QueueCallerJoin.

The dialplan tells the presentation as the call enters (``CtiCallerId``), that the call waits
for a service (``CtiWaiting``), an unanswered offer, an overflow, the safety net; the
contract (``contract.Contract``) names these events.
"""

from __future__ import annotations

from cti.ami import events as ami
from cti.tracker import events as ev
from cti.tracker.call import Stage
from cti.tracker.callback_calls import CallbackCalls
from cti.tracker.presentation import text_withheld
from cti.tracker.state import to_int


class DialplanSignals(CallbackCalls):
    """The dialplan's UserEvents and app_queue's QueueCallerJoin."""

    def _on_user_event(self, e: ami.UserEventRaised, at: float, out: list[ev.DomainEvent]) -> None:
        c = self.contract
        if e.name not in c.user_events:
            return
        if e.name == c.callback_started_event:
            self._on_callback_started(e, at, out)
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
            call.priority = to_int(body.get("CtiPriority"), call.priority)
            # Back from the callback dialogue without a number (cti-wait's key 1): she waits
            # again in her place, and leaving now is an abandon, not an overflow.
            call.overflowed = False
            self._wait(call, at, out)
        elif e.name == c.no_answer_event:
            # Every phone the Dial rang (Agents: 201&202), or the one (Agent); those whose
            # DialEnd already said how their ring ended are not told again.
            rung = set((body.get("Agents") or body.get("Agent", "")).split(c.agents_separator))
            for uniqueid, offered in list(call.offers.items()):
                if offered in rung:
                    del call.offers[uniqueid]
                    call.offer_channels.pop(uniqueid, None)
                    out.append(
                        ev.CallNoAnswer(
                            **self._base(call, at),  # type: ignore[arg-type]
                            agent=offered,
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
        if call.service_wait_at is None:
            call.service_wait_at = at
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
