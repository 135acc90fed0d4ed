"""The project's ``from-pstn`` (asterisk-conf/extensions.conf) with the voice menu, simulated.

Priorities as in the project's dialplan: ``UserEvent(CtiCallerId)`` (said by
``Telephony.place_call`` as the call enters; the lab's dialplan, which the Originates of the
recordings play, had no such step and its AGI ran at priority 6), NoOp, Answer, ``__CTI_DID``,
``__CTI_LANG``, ``CHANNEL(language)``, ``AGI(${AGI_URL},${CTI_DID})`` (``agi_client``), then
the defaults (``CTI_IVR_CHOICE`` accueil, ``CTI_PRIORITY`` 0), ``GotoIf IVR_RESULT = done ?
bye``, ``Goto(cti-wait,s,1)`` / ``bye: Hangup()``. A citizen hanging up during the menu ends
the call as recording 16 shows: her half goes at once, the dialplan's half when the AGI
returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cti.pbxsim import agi_client
from cti.pbxsim.channels import Channel, event

if TYPE_CHECKING:
    from cti.pbxsim.pbx import SimCall, Telephony

ANSWER_WAIT = 0.5  # simulated seconds


async def voice_menu(tel: Telephony, call: SimCall, address: tuple[str, int], keys: str) -> bool:
    """Run ``from-pstn`` up to ``cti-wait``; False when the call ended there."""
    leg, did = call.leg, call.did

    shift = 1 if call.announces else 0  # CtiCallerId is the project's first step

    def step(priority: int, app: str, data: str) -> None:
        tel._goto(leg, "from-pstn", did, priority + shift)
        tel._exten(leg, app, data)

    step(1, "NoOp", f"Appel entrant mairie {did} pres={call.pres}")
    step(2, "Answer", "")
    # Answer() waits up to half a second for media, which a Local channel never sends: the
    # next step came 0.5 s later in the recordings (04, 16).
    if await tel._wait_any(call, ANSWER_WAIT) == "gone":
        tel._citizen_hangs_up(call)
        return False
    step(3, "Set", f"__CTI_DID={did}")
    tel._var(leg, "__CTI_DID", did)
    step(4, "Set", "__CTI_LANG=fr")
    tel._var(leg, "__CTI_LANG", "fr")
    step(5, "Set", "CHANNEL(language)=fr")
    leg.language = "fr"
    step(6, "AGI", f"agi://{address[0]}:{address[1]}/ivr,{did}")
    env = agi_client.new_env(leg, address, call.pres, (did,))
    result = await agi_client.run_agi(
        address,
        agi_client.AgiLeg(
            chan=leg,
            env=env,
            keys=keys,
            gone=call.gone,
            lookup=lambda name: agi_client.channel_value(leg, call.pres, name),
            set_var=lambda name, value: _set(tel, leg, name, value),
            emit=tel.emit,
            on_caller_gone=lambda: citizen_leaves(tel, call),
            time_scale=tel.time_scale,
            heard=call.heard,
            sounds=tel.sounds,
        ),
    )
    tel._var(leg, "AGISTATUS", result.status.value)
    if result.caller_hung_up or call.gone.is_set():
        citizen_leaves(tel, call)
        tel.emit(event("SoftHangupRequest", leg, ("Cause", "16")))
        tel._hangup(leg, 16)
        return False
    if result.script_hung_up:  # the menu's HANGUP: the dialplan stops there
        dialplan_hangs_up(tel, call)
        return False
    # The dialplan's defaults: a menu that failed or said nothing sends to the front desk.
    choice = leg.variables.get("CTI_IVR_CHOICE") or "accueil"
    step(7, "Set", f"__CTI_IVR_CHOICE={choice}")
    tel._var(leg, "__CTI_IVR_CHOICE", choice)
    priority = leg.variables.get("CTI_PRIORITY") or "0"
    step(8, "Set", f"__CTI_PRIORITY={priority}")
    tel._var(leg, "__CTI_PRIORITY", priority)
    done = leg.variables.get("IVR_RESULT") == "done"
    step(9, "GotoIf", f"{int(done)}?bye")
    if done:  # the menu answered the citizen itself (hours, case status, voicemail)
        step(11, "Hangup", "")
        dialplan_hangs_up(tel, call)
        return False
    step(10, "Goto", "cti-wait,s,1")
    call.service, call.priority = choice, priority
    return True


def _set(tel: Telephony, leg: Channel, name: str, value: str) -> None:
    """SET VARIABLE from the menu: a function changes the channel, a variable says VarSet."""
    if name.upper() == "CHANNEL(LANGUAGE)":
        leg.language = value
    elif not name.endswith(")"):
        tel._var(leg, name, value)


def citizen_leaves(tel: Telephony, call: SimCall) -> None:
    """The citizen's half hangs up; the dialplan's half follows when its application ends."""
    if call.citizen.alive:
        tel._hangup_requests(call.citizen, call.leg)
        tel._hangup(call.citizen, 16)


def dialplan_hangs_up(tel: Telephony, call: SimCall) -> None:
    """The town hall ends the call: its half first, then the citizen's."""
    tel._hangup_requests(call.leg, call.citizen)
    tel._hangup(call.leg, 16)
    tel.emit(event("SoftHangupRequest", call.citizen, ("Cause", "16")))
    tel._hangup(call.citizen, 16)
