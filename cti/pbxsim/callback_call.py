"""``cti-callback`` on the simulated PBX: the agent has answered, the citizen is dialled.

As a real Asterisk 22 does it (tests/asterisk/test_callbacks.py's lab): ``;1`` says
``UserEvent CtiCallback`` (the project's dialplan, first step), then ``Dial``s the trunk. The
trunk's channel is created in the trunk endpoint's context (``from-pstn``, exten ``s``) with
the Linkedid of ``;1`` and no caller ID, then gets the dialled number as its caller ID; ``;1``
dials it (``DialBegin`` with ``Channel`` = ``;1``), it rings, and answers or not. Answered, it
is bridged with ``;1`` and the call goes on as any call does (``Telephony.answered_elsewhere``:
the agent's talk, a blind transfer, the citizen hanging up). However it ends, ``;1``'s ``h``
extension says ``CtiCallbackResult`` with the ``DIALSTATUS`` of its Dial as ``;1`` hangs up.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cti.pbxsim.channels import Channel, bridge_fields, dial_event, event

if TYPE_CHECKING:
    from cti.pbxsim.originate import Request
    from cti.pbxsim.pbx import Telephony

TRUNK = "operateur"
SERVICE_VARIABLES = ("__CTI_IVR_CHOICE", "CTI_IVR_CHOICE")


@dataclass(slots=True)
class CalledBack:
    """How a citizen's phone takes a callback: ``status`` is the dialplan's DIALSTATUS
    (ANSWER, NOANSWER, BUSY...), ``ring`` and ``talk`` in simulated seconds."""

    status: str = "ANSWER"
    ring: float = 1.0
    talk: float = 3.0


async def run(
    tel: Telephony, request: Request, one: Channel, two: Channel, citizen: CalledBack
) -> None:
    """From ``cti-callback``'s first step to the end of the call."""
    from cti.pbxsim.pbx import SimCall  # the call model lives beside the telephony

    variables = request.variables
    service = next((variables[v] for v in SERVICE_VARIABLES if variables.get(v)), "")
    for name, value in variables.items():  # an inherited variable reaches the dialled leg
        if name.startswith("__"):
            one.variables[name[2:]] = value
    number = request.exten

    def result() -> None:  # exten => h: the result, whoever hung up first
        tel._goto(one, "cti-callback", "h")
        tel._exten(one, "UserEvent", "CtiCallbackResult")
        tel._user_event(
            one,
            "CtiCallbackResult",
            ("CallbackId", variables.get("CTI_CALLBACK", "")),
            ("CallbackAction", variables.get("CTI_CALLBACK_ACTION", "")),
            ("DialStatus", one.variables.get("DIALSTATUS", "")),
        )

    one.on_hangup = result
    tel._exten(one, "UserEvent", "CtiCallback")
    tel._user_event(
        one,
        "CtiCallback",
        ("CallbackId", variables.get("CTI_CALLBACK", "")),
        ("Number", number),
        ("Service", service),
    )
    tel._goto(one, "cti-callback", number, 3)
    tel._exten(one, "Dial", f"PJSIP/{number}@{TRUNK},30,g")
    trunk = Channel(
        f"PJSIP/{TRUNK}-{next(tel._local_seq):08x}",
        tel._uniqueid(),
        one.linkedid,
        0,
        context="from-pstn",
        exten="s",
    )
    trunk.created_at = tel.clock()
    trunk.variables.update(
        {k[2:]: v for k, v in variables.items() if k.startswith("__")}  # Dial copies them
    )
    tel.channels[trunk.name] = trunk
    tel.emit(event("Newchannel", trunk))
    tel._goto(trunk, "from-pstn", number)
    tel._set_caller_id(trunk, number, "", "allowed_not_screened")
    tel.emit(dial_event("DialBegin", one, trunk, ("DialString", f"{number}@{TRUNK}")))
    tel._state(trunk, 5)
    tel.emit(dial_event("DialState", one, trunk, ("DialStatus", "RINGING")))
    gone = await _agent_hangs_up(tel, two, citizen.ring)
    if gone or citizen.status != "ANSWER":
        status = "CANCEL" if gone else citizen.status
        tel._var(one, "DIALSTATUS", status)
        tel.emit(dial_event("DialEnd", one, trunk, ("DialStatus", status)))
        tel.emit(event("HangupRequest", trunk, ("Cause", "16")))
        tel._hangup(trunk, 16 if status != "BUSY" else 17)
        tel._hangup_requests(one, two)
        tel._hangup(one, 16)
        tel._hangup(two, 16)
        return
    tel._state(trunk, 6)
    tel._var(one, "DIALSTATUS", "ANSWER")
    tel.emit(dial_event("DialEnd", one, trunk, ("DialStatus", "ANSWER")))
    bridge = str(uuid.uuid4())
    tel.emit(event("BridgeCreate", None, *bridge_fields(bridge, 0)))
    tel._bridge_enter(trunk, bridge, 1)
    tel._bridge_enter(one, bridge, 2)
    agent = one.name.removeprefix("Local/").split("@", 1)[0]
    call = SimCall(one.linkedid, trunk, trunk, service, "", "allowed_not_screened", citizen.talk)
    call.agent_legs, call.agent, call.stage = (one, two), agent, "connected"
    call.answered_at = tel.clock()
    await tel.answered_elsewhere(call)


async def _agent_hangs_up(tel: Telephony, two: Channel, ring: float) -> bool:
    """The citizen's phone rings ``ring`` seconds; True if the agent's leg went meanwhile."""
    await tel.sleep(ring)
    return not two.alive
