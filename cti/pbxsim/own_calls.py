"""Calls the agents place themselves: the phone busy on a call the town hall's dialplan never
sees.

An agent dials from her phone (pjsip.conf puts the phones in context ``agents``): her channel
``PJSIP/201-…`` runs ``Dial`` at ``agents,<number>`` and, as on a real Asterisk, the called
side is a channel of its own in the same Linkedid: a colleague's phone (``PJSIP/202-…``,
when the number is an agent's extension) or the operator's trunk (``PJSIP/trunk-…``). Both
are bridged once the far end answers; either side's hang-up ends the call. Nothing here is
in a caller context, so the CTI service sees no citizen's call: only the phones' device
states (``phones``) say that she is on the phone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cti.pbxsim.channels import Channel, bridge_fields, dial_event, event

if TYPE_CHECKING:
    from cti.pbxsim.pbx import Telephony


@dataclass(eq=False, slots=True)
class OwnCall:
    """One call an agent placed: her channel, the called side's, their bridge."""

    caller: Channel
    called: Channel
    bridge: str


def place(tel: Telephony, extension: str, number: str) -> OwnCall:
    """Agent ``extension`` calls ``number`` and the far end answers at once."""
    seq = next(tel._local_seq)
    caller = Channel(
        f"PJSIP/{extension}-{seq:08x}",
        tel._uniqueid(),
        "",
        4,  # Ring: the phone's INVITE is being dialled out
        cid_num=extension,
        context="agents",
        exten=number,
        application="Dial",
        app_data=f"PJSIP/{number},,t",
    )
    caller.linkedid = caller.uniqueid
    colleague = number in tel.agents
    called = Channel(
        f"PJSIP/{number if colleague else 'trunk'}-{next(tel._local_seq):08x}",
        tel._uniqueid(),
        caller.linkedid,
        0,
        cid_num=number,
        cl_num=extension,
        context="agents" if colleague else "from-pstn",
        exten="s",
        application="AppDial",
        app_data="(Outgoing Line)",
    )
    for chan in (caller, called):
        chan.created_at = tel.clock()
        tel.channels[chan.name] = chan
    tel.emit(event("Newchannel", caller))
    tel.emit(event("Newchannel", called))
    tel.emit(dial_event("DialBegin", caller, called, ("DialString", number)))
    tel._state(called, 5)
    tel._state(called, 6)
    tel.emit(dial_event("DialEnd", caller, called, ("DialStatus", "ANSWER")))
    tel._state(caller, 6)
    bridge = str(uuid.uuid4())
    tel.emit(event("BridgeCreate", None, *bridge_fields(bridge, 0)))
    tel._bridge_enter(called, bridge, 1)
    tel._bridge_enter(caller, bridge, 2)
    return OwnCall(caller, called, bridge)


def hang_up(tel: Telephony, call: OwnCall) -> None:
    """She hangs up; the far end goes with her."""
    if not call.caller.alive:
        return
    tel._hangup_requests(call.caller, call.called)
    tel._bridge_leave(call.caller, call.bridge, 1)
    tel._hangup(call.caller, 16)
    tel._bridge_leave(call.called, call.bridge, 0)
    tel.emit(event("BridgeDestroy", None, *bridge_fields(call.bridge, 0)))
    tel._hangup(call.called, 16)
