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

Where each part lives: a call's stages, ``TRANSITIONS`` and legs in ``call``; the state and
the moves every handler shares in ``state``; the handlers by concern in ``channel_events``,
``dials``, ``dialplan_signals``, ``transfers`` and ``resync``. ``CallTracker`` puts them
together and routes each AMI event to its handler.
"""

from __future__ import annotations

from cti.ami import events as ami
from cti.tracker import events as ev
from cti.tracker.call import Stage
from cti.tracker.channel_events import ChannelEvents
from cti.tracker.contract import Contract
from cti.tracker.dialplan_signals import DialplanSignals
from cti.tracker.dials import Dials
from cti.tracker.resync import Resync
from cti.tracker.transfers import Transfers

__all__ = ["CallTracker", "Stage"]


class CallTracker(ChannelEvents, Dials, DialplanSignals, Transfers, Resync):
    """Pure state machine from AMI events to domain events; see the module docstring."""

    def __init__(self, contract: Contract | None = None) -> None:
        super().__init__(contract)
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

    def handle(self, event: ami.AmiEvent, at: float) -> list[ev.DomainEvent]:
        """Feed one AMI event received at time ``at``; return the domain events it causes."""
        out: list[ev.DomainEvent] = []
        self._handlers[type(event)](event, at, out)  # type: ignore[operator]
        return out
