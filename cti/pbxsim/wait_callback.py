"""``cti-wait``'s key 1, simulated: « tapez 1 pour être rappelé, vous gardez votre place ».

Once the service has set ``CTI_CALLBACK_OFFER`` on a waiting caller who means to take it
(``SimCall.wait_keys``), she keys 1 at the end of a slice of music, as in the project's
dialplan: ``exten => 1``: ``UserEvent(CtiOverflow, Kind: callback, Target: attente)``, then
``AGI(${AGI_URL},${CTI_DID},rappel)`` with her further keys (confirming her number, or
keying one), then the dialplan hangs up. An AGI that fails, or a dialogue that leaves
``CTI_CALLBACK_RESULT=attente`` (she gave no number to call back), sends her back to waiting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cti.pbxsim import agi_client
from cti.pbxsim.from_pstn import citizen_leaves, dialplan_hangs_up

if TYPE_CHECKING:
    from cti.pbxsim.pbx import SimCall, Telephony

OFFER_VARIABLE = "CTI_CALLBACK_OFFER"
RESULT_VARIABLE = "CTI_CALLBACK_RESULT"  # ivr_scripts.callback_dialog's, read by cti-wait
BACK_TO_WAIT = "attente"
TARGET = "attente"


def takes_offer(call: SimCall) -> bool:
    """The offer was made and she means to key 1."""
    return bool(call.wait_keys) and bool(call.leg.variables.get(OFFER_VARIABLE))


async def run(tel: Telephony, call: SimCall) -> bool:
    """Key 1 and the callback dialogue; True when the call ended (else: back to waiting)."""
    leg = call.leg
    assert call.wait_keys is not None
    keys, call.wait_keys = call.wait_keys[1:], None  # the 1, then the dialogue's keys
    call.stage = "overflow"
    tel._goto(leg, "cti-wait", "1", 1)
    tel._exten(leg, "GotoIf", "0?s,hold")
    tel._goto(leg, "cti-wait", "1", 2)
    tel._exten(leg, "UserEvent", f"CtiOverflow,Kind: callback,Target: {TARGET}")
    tel._user_event(leg, "CtiOverflow", ("Kind", "callback"), ("Target", TARGET))
    if tel.agi_address is None:
        result_ok = False
    else:
        address = tel.agi_address
        tel._goto(leg, "cti-wait", "1", 3)
        tel._exten(leg, "AGI", f"agi://{address[0]}:{address[1]}/ivr,{call.did},rappel")
        env = agi_client.new_env(leg, address, call.pres, (call.did, "rappel"))
        result = await agi_client.run_agi(
            address,
            agi_client.AgiLeg(
                chan=leg,
                env=env,
                keys=keys,
                gone=call.gone,
                lookup=lambda name: agi_client.channel_value(leg, call.pres, name),
                set_var=lambda name, value: tel._var(leg, name, value),
                emit=tel.emit,
                on_caller_gone=lambda: citizen_leaves(tel, call),
                time_scale=tel.time_scale,
                heard=call.heard,
                sounds=tel.sounds,
            ),
        )
        tel._var(leg, "AGISTATUS", result.status.value)
        if result.caller_hung_up or call.gone.is_set():
            tel._citizen_hangs_up(call)
            return True
        result_ok = result.status is agi_client.AgiStatus.SUCCESS or result.script_hung_up
        if leg.variables.get(RESULT_VARIABLE) == BACK_TO_WAIT:  # no number: she stays in line
            result_ok = False
    if result_ok:
        dialplan_hangs_up(tel, call)
        return True
    call.stage = "back"  # the dialplan's Goto(s,1): waiting again, CtiWaiting said again
    return False
