"""The dialplan's ``cti-overflow``, simulated: where the service sends a caller it gives up on.

The service ``Setvar``s ``CTI_OVERFLOW`` (``voicemail`` or ``callback``) and
``CTI_OVERFLOW_TARGET`` and Redirects the waiting caller here: ``CtiOverflow`` (Kind, Target),
then the voicemail box or the callback message, then the dialplan hangs up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cti.pbxsim.pbx import SimCall, Telephony

VOICEMAIL_SECONDS = 20.0  # the caller leaves a message
CALLBACK_SECONDS = 4.0  # the callback message is played


async def run(tel: Telephony, call: SimCall) -> None:
    """Announce the overflow, leave a message or hear the callback one, hang up."""
    leg = call.leg
    call.stage = "overflow"
    kind = leg.variables.get("CTI_OVERFLOW", "")
    target = leg.variables.get("CTI_OVERFLOW_TARGET", "")
    tel._goto(leg, "cti-overflow", "s", 1)
    tel._exten(leg, "UserEvent", f"CtiOverflow,Kind: {kind},Target: {target}")
    tel._user_event(leg, "CtiOverflow", ("Kind", kind), ("Target", target))
    prompt = leg.variables.get("CTI_OVERFLOW_PROMPT", "")
    if kind == "callback":
        tel._goto(leg, "cti-overflow", "s", 6)
        if prompt:
            tel._exten(leg, "Playback", prompt)
            call.heard.append(prompt)
        seconds = CALLBACK_SECONDS
    else:
        if prompt:
            tel._goto(leg, "cti-overflow", "s", 3)
            tel._exten(leg, "Playback", prompt)
            call.heard.append(prompt)
        tel._goto(leg, "cti-overflow", "s", 4)
        tel._exten(leg, "VoiceMail", f"{target or '100'}@mairie,u")
        seconds = VOICEMAIL_SECONDS
    await tel._wait_any(call, seconds)
    tel._citizen_hangs_up(call)
