"""Transfers by the agent: AMI ``BlindTransfer`` (recording 07) and ``Atxfer`` (recording 08).

Blind: the agent's leg ``;1`` is the transferer, the citizen's leg (its bridge peer) runs
``[transfer]`` and dials the colleague; the agent's Local pair is torn down *while* that new
leg starts ringing, as Asterisk interleaves it. Attended: ``*2`` + digits arrive as DTMF on the
agent's leg, the citizen is held (music on hold), the agent talks to the colleague in a second
bridge; when the agent hangs up the bridges merge and the colleague has the citizen.

The recordings only show the successful paths; the others (colleague busy or not answering,
hanging up before the agent) are plausible guesses, kept simple: the agent gets the citizen back.
"""

from __future__ import annotations

import math
import uuid
from typing import TYPE_CHECKING

from cti.pbxsim.channels import Channel, bridge_fields, dial_event, event, local_bridge

if TYPE_CHECKING:
    from cti.pbxsim.pbx import SimCall, Telephony

ATXFER_NO_ANSWER = 15.0  # features.conf atxfernoanswertimeout default
ATXFER_FEATURE = "*2"  # the lab's (and asterisk-conf/'s) features.conf
# Spacing of the digits as Asterisk queued them in recording 08 (simulated seconds).
DTMF_GAP = 0.06
FEATURE_GAP = 0.16


def _talking_agent_leg(tel: Telephony, chan: Channel) -> SimCall | None:
    """The call whose answering agent's ``;1`` is ``chan``, if it is in conversation."""
    call = tel.call_of(chan)
    if (
        call is None
        or call.stage != "connected"
        or call.agent_legs is None
        or chan is not call.agent_legs[0]
        or call.transferred.is_set()
    ):
        return None
    return call


def can_blind_transfer(tel: Telephony, chan: Channel, context: str) -> bool:
    return context == "transfer" and _talking_agent_leg(tel, chan) is not None


def blind_transfer(tel: Telephony, chan: Channel, context: str, exten: str) -> None:
    """The AMI action's events; the call's task then runs ``[transfer]`` (see ``leave_for``)."""
    call = _talking_agent_leg(tel, chan)
    assert call is not None
    tel.emit(event("Unhold", chan))
    tel.emit(
        [("Event", "BlindTransfer"), ("Privilege", "call,all"), ("Result", "Success")]
        + chan.snapshot("Transferer")
        + call.leg.snapshot("Transferee")
        + bridge_fields(call.leg.bridge, 2)
        + [("IsExternal", "Yes"), ("Context", context), ("Extension", exten)]
    )
    call.transfer_to = exten
    call.transferred.set()


def leave_for(tel: Telephony, call: SimCall, target: str) -> None:
    """The citizen's leg leaves the agent's bridge for ``[transfer]``; the agent's pair is
    dropped by ``drop_transferer`` once the colleague's phone rings (recording 07's order)."""
    assert call.agent_legs is not None
    leg, bridge = call.leg, call.leg.bridge
    tel._goto(leg, "transfer", target)
    tel._bridge_leave(leg, bridge, 1)
    tel._goto(leg, "transfer", target, 2)
    call.transferer = (*call.agent_legs, bridge)
    call.agent_legs, call.agent, call.queued_agent = None, None, None


def is_service(exten: str) -> bool:
    """``[transfer]``'s service extensions (``_[a-z].``); agents' are digits (``_X.``)."""
    return exten[:1].isascii() and exten[:1].islower()


def rewait(tel: Telephony, call: SimCall) -> None:
    """``[transfer]`` on its way back to ``cti-wait``: ``WAIT_START`` kept (her place),
    ``CTI_SAFETY`` pushed the safety net's whole delay from now (whole seconds)."""
    leg = call.leg
    if call.waiting_from is None:
        call.waiting_from = tel.clock()
        call.wait_start = int(call.waiting_from)
    tel._exten(leg, "Set", f"WAIT_START={call.wait_start}")
    tel._var(leg, "WAIT_START", str(call.wait_start))
    safety = math.ceil(tel.clock() - call.waiting_from + tel.safety_net * tel.time_scale)
    tel._exten(leg, "Set", f"CTI_SAFETY={safety}")
    tel._var(leg, "CTI_SAFETY", str(safety))


def to_service(tel: Telephony, call: SimCall, service: str) -> None:
    """``[transfer]``'s service extension: the agent's pair goes, the citizen waits for
    ``service`` in ``cti-wait`` (the caller's next step is ``_enter_wait``), as the menu
    would have sent her, with a fresh callback offer and safety net."""
    leg = call.leg
    call.transfer_to = None
    tel._goto(leg, "transfer", service, 1)
    tel._exten(leg, "NoOp", f"Transfert vers le service {service}")
    drop_transferer(tel, call, 1)
    drop_transferer(tel, call, 2)
    steps = [
        ("__CTI_IVR_CHOICE", service),
        ("CTI_SERVICE_SINCE", str(int(tel.clock()))),
        ("CTI_CALLBACK_OFFER", ""),
        ("CTI_CALLBACK_SAID", ""),
    ]
    for priority, (name, value) in enumerate(steps, start=2):
        tel._goto(leg, "transfer", service, priority)
        tel._exten(leg, "Set", f"{name}={value}")
        tel._var(leg, name, value)
    tel._goto(leg, "transfer", service, 6)
    rewait(tel, call)
    call.service = service
    call.stage = "transferring"


def drop_transferer(tel: Telephony, call: SimCall, step: int) -> None:
    """Step 1 before the colleague's ``DialState RINGING``, step 2 after it."""
    if call.transferer is None:
        return
    a1, a2, bridge = call.transferer
    if step == 1:
        tel._bridge_leave(a1, bridge, 0)
        tel.emit(event("BridgeDestroy", None, *bridge_fields(bridge, 0)))
        tel.emit(event("HangupRequest", a2, ("Cause", "16")))
        tel._hangup(a1, 16)
    else:
        tel.emit(event("SoftHangupRequest", a2, ("Cause", "16")))
        tel._hangup(a2, 16)
        call.transferer = None


# ---------------------------------------------------------------------- attended


def atxfer(tel: Telephony, chan: Channel, context: str, exten: str) -> None:
    """AMI Atxfer: sets TRANSFER_CONTEXT and queues the feature's DTMF on ``chan``. On anything
    but an agent in conversation the digits go nowhere (Asterisk still says it queued them)."""
    tel._var(chan, "TRANSFER_CONTEXT", context or chan.context)
    call = _talking_agent_leg(tel, chan)
    if call is not None:
        call.attended_to = (context or "agents", exten)
        call.transferred.set()


def _dtmf(tel: Telephony, chan: Channel, digit: str) -> None:
    # Only DTMFEnd, with no duration: the digits are injected, not played (recording 08).
    tel.emit(
        event("DTMFEnd", chan, ("Digit", digit), ("DurationMs", "0"), ("Direction", "Received"))
    )


async def consult(tel: Telephony, call: SimCall) -> bool:
    """The agent consults a colleague, then hands the citizen over (or gets them back).

    True: the call goes on with whoever now talks to the citizen; False: it is over.
    """
    assert call.agent_legs is not None and call.attended_to is not None
    context, exten = call.attended_to
    call.attended_to = None
    a1, a2 = call.agent_legs
    leg, b1 = call.leg, call.leg.bridge
    call.stage = "consulting"
    _dtmf(tel, a1, ATXFER_FEATURE[0])
    await tel.sleep(FEATURE_GAP)
    _dtmf(tel, a1, ATXFER_FEATURE[1])
    await tel.sleep(FEATURE_GAP - DTMF_GAP)
    tel.emit(event("Hold", a1))
    tel.emit(event("MusicOnHoldStart", leg, ("Class", "default")))
    for digit in exten:
        await tel.sleep(DTMF_GAP)
        _dtmf(tel, a1, digit)
    if call.gone.is_set():
        return _back_to_agent(tel, call, None, b1, "")

    t1, t2 = tel._local_pair(f"{exten}@{context}", call.linkedid)
    b2 = str(uuid.uuid4())
    tel.emit(event("BridgeCreate", None, *bridge_fields(b2, 0)))
    tel._set_caller_id(t2, a1.cid_num, a1.cid_name, call.pres)
    tel.emit(local_bridge(t1, t2, context, exten))
    call.consult_legs = (t1, t2)
    call.target_hung_up.clear()
    phone = tel.agents.get(exten)
    if phone is None or phone.busy:
        return _back_to_agent(tel, call, (t1, t2), b1, "")
    t1.cl_num, t1.cl_name = a1.cid_num, a1.cid_name
    tel._state(t1, 5)
    tel.emit(event("NewConnectedLine", t1))
    tel._bridge_enter(t1, b2, 1)
    tel.emit(dial_event("DialState", None, t1, ("DialStatus", "RINGING")))
    tel._bridge_leave(a1, b1, 1)
    tel._bridge_enter(a1, b2, 2)
    tel._set_connected(a1, "", "")

    answers = phone.answers and not (phone.miss_ratio and tel.rng.random() < phone.miss_ratio)
    ring = phone.ring if answers else ATXFER_NO_ANSWER
    outcome = await tel._wait_any(call, min(ring, ATXFER_NO_ANSWER), call.target_hung_up)
    if outcome == "gone" or outcome == "event0" or not answers:
        if outcome != "gone":
            tel.emit(dial_event("DialEnd", None, t1, ("DialStatus", "NOANSWER")))
        return _back_to_agent(tel, call, (t1, t2), b1, b2)
    tel._state(t2, 6)
    tel._state(t1, 6)
    tel.emit(dial_event("DialEnd", None, t1, ("DialStatus", "ANSWER")))
    target_deadline = tel.deadline(phone.talk)

    # The agent hangs up (or their own talk time runs out first): the transfer completes.
    assert call.talk_deadline is not None
    agent_first = call.talk_deadline <= target_deadline
    wait = tel.remaining(call.talk_deadline if agent_first else target_deadline)
    outcome = await tel._wait_any(call, wait, call.agent_hung_up, call.target_hung_up)
    if outcome == "gone" or outcome == "event1" or (outcome == "timeout" and not agent_first):
        return _back_to_agent(tel, call, (t1, t2), b1, b2, answered=True)
    _merge(tel, call, (t1, t2), b1, b2)
    call.agent_legs, call.agent, call.consult_legs = (t1, t2), exten, None
    call.talk_deadline, call.merged, call.queued_agent = target_deadline, True, None
    call.agent_hung_up.clear()
    call.stage = "connected"
    return True


def _merge(
    tel: Telephony, call: SimCall, target: tuple[Channel, Channel], b1: str, b2: str
) -> None:
    """The transferer hung up: bridge 2 merges into the citizen's, as in recording 08."""
    assert call.agent_legs is not None
    a1, a2 = call.agent_legs
    t1, _ = target
    leg, cit = call.leg, call.citizen
    tel._bridge_leave(a1, b2, 1)
    tel.emit(event("HangupRequest", a2, ("Cause", "16")))
    tel.emit(
        [("Event", "BridgeMerge"), ("Privilege", "call,all")]
        + [("To" + k, v) for k, v in bridge_fields(b1, 1)]
        + [("From" + k, v) for k, v in bridge_fields(b2, 1)]
    )
    tel._bridge_leave(t1, b2, 0)
    tel._bridge_enter(t1, b1, 2)
    tel.emit(event("MusicOnHoldStop", leg))
    tel.emit(
        [("Event", "AttendedTransfer"), ("Privilege", "call,all"), ("Result", "Success")]
        + a1.snapshot("OrigTransferer")
        + [("Orig" + k, v) for k, v in bridge_fields(b1, 2)]
        + a1.snapshot("SecondTransferer")
        + [("Second" + k, v) for k, v in bridge_fields(b2, 0)]
        + leg.snapshot("Transferee")
        + t1.snapshot("TransferTarget")
        + [("IsExternal", "No"), ("DestType", "Bridge"), ("DestBridgeUniqueid", b1)]
    )
    tel.emit(event("BridgeDestroy", None, *bridge_fields(b2, 0)))
    tel._hangup(a1, 16)
    tel.emit(event("SoftHangupRequest", a2, ("Cause", "16")))
    forget_caller_id(tel, a2, 16)
    # Connected lines follow the merge; the citizen's leg loses the agent's (Local) identity.
    tel._set_connected(leg, "", "")
    tel._set_connected(t1, cit.cid_num, cit.cid_name)


def forget_caller_id(tel: Telephony, chan: Channel, cause: int) -> None:
    """Hangup of a Local half that lost its caller ID in a merge: the ``NewCallerid`` (67)
    comes *after* the ``Hangup`` (recording 08)."""
    chan.cid_num = chan.cid_name = ""
    tel._hangup(chan, cause)
    tel.emit(event("NewCallerid", chan, ("CID-CallingPres", "67 (Number Unavailable)")))


def _back_to_agent(
    tel: Telephony,
    call: SimCall,
    target: tuple[Channel, Channel] | None,
    b1: str,
    b2: str,
    answered: bool = False,
) -> bool:
    """No transfer after all: the colleague's legs go, the agent takes the citizen back (or,
    if the citizen left meanwhile, everything ends)."""
    assert call.agent_legs is not None
    a1, a2 = call.agent_legs
    call.consult_legs = None
    if target is not None:
        t1, t2 = target
        if answered:
            tel._hangup_requests(t2, t1)
            tel._hangup(t2, 16)
            if t1.bridge:
                tel._bridge_leave(t1, b2, 1)
            tel._hangup(t1, 16)
        else:
            tel.emit(event("HangupRequest", t2, ("Cause", "0")))
            if t1.bridge:
                tel._bridge_leave(t1, b2, 1)
            tel._hangup(t1, 0)
            tel.emit(event("SoftHangupRequest", t2, ("Cause", "16")))
            tel._hangup(t2, 0)
    if a1.bridge == b2:
        tel._bridge_leave(a1, b2, 0)
        tel.emit(event("BridgeDestroy", None, *bridge_fields(b2, 0)))
    if call.gone.is_set():
        for chan in (call.citizen, call.leg, a1, a2):
            if chan.bridge:
                tel._bridge_leave(chan, chan.bridge, 0)
            tel.emit(event("SoftHangupRequest", chan, ("Cause", "16")))
            tel._hangup(chan, 16)
        tel.emit(event("BridgeDestroy", None, *bridge_fields(b1, 0)))
        return False
    tel.emit(event("MusicOnHoldStop", call.leg))
    if not a1.bridge:
        tel._bridge_enter(a1, b1, 2)
    tel.emit(event("Unhold", a1))
    tel._set_connected(a1, call.leg.cid_num, call.leg.cid_name)
    call.stage = "connected"
    return True
