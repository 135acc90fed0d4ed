"""The agent's phone: cti-connect's Dial of it from the caller's leg, and the talk after it.

``dial`` rings ``Local/<poste>@agents`` (its pair set up by ``agent_pair``, as Asterisk 22
does it) and says how the ring ended: ANSWER, BUSY, NOANSWER, or GONE when the caller hung
up meanwhile; with ``queue`` it is the ``accueil`` queue's ring instead (``safety_queue``
says the queue's part). ``connected`` is the talk until someone hangs up, or until the agent
transfers: an attended transfer happens in there, a blind one returns its target. Called by
the dialplan's flows (``pbx``, ``ring_together``, ``safety_queue``).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from cti.pbxsim import safety_queue, transfers
from cti.pbxsim.channels import Channel, bridge_fields, dial_event, event, local_bridge

if TYPE_CHECKING:
    from cti.pbxsim.pbx import SimCall, Telephony

RING_TIMEOUT = 20.0


def agent_pair(
    tel: Telephony, call: SimCall, agent: str, cid_exten: str
) -> tuple[Channel, Channel]:
    """The Local pair a ``Dial(Local/<agent>@agents)`` from the caller's leg creates, its
    caller ID and connected line set as Asterisk 22 sets them (``cid_exten``: the number
    the caller's side of the pair shows). Its ``LocalBridge`` is the caller's to send."""
    leg = call.leg
    a1, a2 = tel._local_pair(f"{agent}@agents", call.linkedid)
    tel._goto(a1, "agents", cid_exten)
    tel._set_caller_id(a1, cid_exten, leg.cid_name, call.pres)
    tel._set_connected(a1, leg.cid_num, leg.cid_name)
    tel._set_caller_id(a2, leg.cid_num, leg.cid_name, call.pres)
    tel._set_connected(a2, cid_exten, leg.cid_name)
    return a1, a2


async def dial(
    tel: Telephony, call: SimCall, agent: str, cid_exten: str, queue: bool = False
) -> str:
    """Dial the agent's phone from the caller's leg: ``Dial()`` or, as the safety net, the
    ``accueil`` queue (whose Agent* events and ring timeout differ)."""
    from cti.pbxsim.pbx import AgentPhone  # the call model lives beside the telephony

    leg = call.leg
    if queue:  # app_queue leaves the member channel's extension alone
        a1, a2 = tel._local_pair(f"{agent}@agents", call.linkedid)
        tel._set_caller_id(a1, cid_exten, leg.cid_name, call.pres)
        tel._set_caller_id(a2, leg.cid_num, leg.cid_name, call.pres)
        tel._set_connected(a2, cid_exten, leg.cid_name)
    else:
        a1, a2 = agent_pair(tel, call, agent, cid_exten)
    call.agent_legs = (a1, a2)
    call.stage, call.agent = "ringing", agent
    tel.emit(local_bridge(a1, a2, "agents", agent))
    if queue:
        safety_queue.agent_called(tel, call, a1, agent)
    tel.emit(
        dial_event(
            "DialBegin",
            leg,
            a1,
            ("DialString", f"{agent}@agents/n" if queue else f"{agent}@agents"),
        )
    )
    phone = tel.agents.get(agent, AgentPhone(answers=False))
    if phone.busy:
        transfers.drop_transferer(tel, call, 1)
        transfers.drop_transferer(tel, call, 2)
        tel._state(a2, 7)
        tel.emit(dial_event("DialEnd", leg, a1, ("DialStatus", "BUSY")))
        tel.emit(event("HangupRequest", a2, ("Cause", "0")))
        tel._hangup(a1, 0)
        return "BUSY"
    if queue:
        tel._goto(a1, "agents", "s")
    tel._state(a1, 5)
    if queue:
        tel._set_connected(a1, leg.cid_num, leg.cid_name)
    transfers.drop_transferer(tel, call, 1)  # a blind transfer's agent goes meanwhile
    tel.emit(dial_event("DialState", leg, a1, ("DialStatus", "RINGING")))
    transfers.drop_transferer(tel, call, 2)
    answers = phone.answers and not (phone.miss_ratio and tel.rng.random() < phone.miss_ratio)
    timeout = safety_queue.QUEUE_RING_TIMEOUT if queue else RING_TIMEOUT
    ring = phone.ring if answers else timeout
    outcome = await tel._wait_any(call, min(ring, timeout))
    if outcome == "gone":
        tel._hangup_requests(call.citizen, leg)
        tel._hangup(call.citizen, 16)
        tel.emit(dial_event("DialEnd", leg, a1, ("DialStatus", "CANCEL")))
        tel.emit(event("HangupRequest", a2, ("Cause", "16")))
        tel._hangup(a1, 16)
        tel.emit(event("SoftHangupRequest", leg, ("Cause", "16")))
        tel._hangup(leg, 16)
        tel.emit(event("SoftHangupRequest", a2, ("Cause", "16")))
        tel._hangup(a2, 16)
        return "GONE"
    if not answers or ring >= timeout:
        if queue:
            safety_queue.ring_no_answer(tel, call, a1, agent)
        else:
            tel.emit(dial_event("DialEnd", leg, a1, ("DialStatus", "NOANSWER")))
        tel.emit(event("HangupRequest", a2, ("Cause", "0")))
        tel._hangup(a1, 0)
        tel.emit(event("SoftHangupRequest", a2, ("Cause", "16")))
        tel._hangup(a2, 0)
        call.agent_legs = None
        return "NOANSWER"
    tel._state(a2, 6)
    tel._state(a1, 6)
    tel.emit(dial_event("DialEnd", leg, a1, ("DialStatus", "ANSWER")))
    if queue:
        safety_queue.connect(tel, call, a1, agent, ring)
    bridged(tel, call, a1, queue)
    return "ANSWER"


def bridged(tel: Telephony, call: SimCall, a1: Channel, queue: bool = False) -> None:
    """The agent answered: her pair's ``;1`` and the caller's leg enter a new bridge (a
    Dial's ``;1`` leaves its extension, app_queue's keeps it); the call is connected."""
    bridge = str(uuid.uuid4())
    tel.emit(event("BridgeCreate", None, *bridge_fields(bridge, 0)))
    if not queue:
        a1.exten = ""
    tel._bridge_enter(a1, bridge, 1)
    tel._bridge_enter(call.leg, bridge, 2)
    call.stage = "connected"
    call.answered_at = tel.clock()
    call.talk_deadline, call.merged = None, False
    tel.changed.set()


async def connected(tel: Telephony, call: SimCall) -> str | None:
    """Talk until someone hangs up (None) or the agent blind-transfers: the target. An
    attended transfer happens in here: the call goes on with the colleague."""
    from cti.pbxsim.pbx import AgentPhone

    while True:
        assert call.agent_legs is not None and call.agent is not None
        if call.talk_deadline is None:
            call.talk_deadline = tel.deadline(tel.agents.get(call.agent, AgentPhone()).talk)
        call.transferred.clear()
        outcome = await tel._wait_any(
            call, tel.remaining(call.talk_deadline), call.agent_hung_up, call.transferred
        )
        if outcome == "timeout" and (target := _colleague(tel, call)) is not None:
            # The agent passes the citizen on instead of hanging up (demo traffic).
            transfers.blind_transfer(tel, call.agent_legs[0], "transfer", target)
            outcome = "event1"
        if outcome != "event1" or call.attended_to is None:
            break
        if not await transfers.consult(tel, call):
            return None
    a1, a2 = call.agent_legs
    leg, bridge = call.leg, call.leg.bridge

    def leave(chan: Channel, left: int) -> None:
        tel._bridge_leave(chan, bridge, left)

    if outcome == "event1" and call.transfer_to is not None:  # as recording 07
        transfers.leave_for(tel, call, call.transfer_to)
        return call.transfer_to

    if outcome == "gone":  # the citizen hangs up first
        tel._hangup_requests(call.citizen, leg)
        tel._hangup(call.citizen, 16)
        leave(leg, 1)
        tel.emit(event("SoftHangupRequest", leg, ("Cause", "16")))
        tel._hangup(leg, 16)
        tel.emit(event("HangupRequest", a1, ("Cause", "16")))
        leave(a1, 0)
        tel.emit(event("BridgeDestroy", None, *bridge_fields(bridge, 0)))
        tel._hangup_requests(a1, a2)
        tel._hangup(a1, 16)
        tel._hangup(a2, 16)
        return None
    if call.merged:  # recording 08: the colleague's ;2 now shows the citizen's number
        tel._set_caller_id(a2, leg.cid_num, leg.cid_name, call.pres)
    tel._hangup_requests(a2, a1)
    tel._hangup(a2, 16)
    safety_queue.complete(tel, call, a1)
    leave(a1, 1)
    tel._hangup(a1, 16)
    leave(leg, 0)
    tel.emit(event("BridgeDestroy", None, *bridge_fields(bridge, 0)))
    tel._hangup_requests(leg, call.citizen)
    tel._hangup(leg, 16)
    tel.emit(event("SoftHangupRequest", call.citizen, ("Cause", "16")))
    if call.merged:
        transfers.forget_caller_id(tel, call.citizen, 16)
    tel._hangup(call.citizen, 16)
    return None


def _colleague(tel: Telephony, call: SimCall) -> str | None:
    phone = tel.agents.get(call.agent or "")
    if phone is None or not phone.transfer_ratio or tel.rng.random() >= phone.transfer_ratio:
        return None
    others = sorted(
        e for e, p in tel.agents.items() if e != call.agent and p.answers and not p.busy
    )
    return tel.rng.choice(others) if others else None
