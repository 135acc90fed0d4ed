"""``cti-wait``'s announcements, simulated: position and wait told to the waiting caller.

As in the project's dialplan: on each entry the first slice of music lasts ``ANNOUNCE_FIRST``
seconds (unless ``CTI_ANNOUNCE_AT`` is still ahead); a slice ends at ``CTI_ANNOUNCE_AT`` (the
service's epoch seconds, real time); at the end of a slice a waiting ``CTI_ANNOUNCE`` is
copied, cleared, said (``UserEvent CtiAnnounced``, ``Sound``) and played (the caller's
``heard``), for as long as the sound lasts; a Redirect interrupts it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cti.pbxsim.pbx import SimCall, Telephony

SOUND_VARIABLE = "CTI_ANNOUNCE"
AT_VARIABLE = "CTI_ANNOUNCE_AT"
ANNOUNCE_FIRST = 2.0  # extensions.conf's global, simulated seconds
UNKNOWN_LENGTH = 3.0  # a sound the simulated PBX cannot measure


def _announce_at(call: SimCall) -> float | None:
    try:
        return float(call.leg.variables.get(AT_VARIABLE, ""))
    except ValueError:
        return None


def entered(tel: Telephony, call: SimCall) -> None:
    """The ``ExecIf`` after ``CtiWaiting``: a short first slice unless one is due later."""
    now = tel.clock()
    due = _announce_at(call)
    if due is None or due <= now:
        call.first_slice_until = now + ANNOUNCE_FIRST * tel.time_scale
    else:
        call.first_slice_until = None


def slice_end(call: SimCall, now: float) -> float | None:
    """Real seconds until the current slice of music must end for an announcement."""
    ends = [t for t in (call.first_slice_until, _announce_at(call)) if t is not None and t > now]
    return min(ends) - now if ends else None


async def play(tel: Telephony, call: SimCall) -> str:
    """``(announce)``: play the sound once; what ended it (``timeout``: it played out)."""
    leg = call.leg
    sound = leg.variables.get(SOUND_VARIABLE, "")
    tel._var(leg, "PLAY", sound)
    tel._var(leg, SOUND_VARIABLE, "")
    tel._user_event(leg, "CtiAnnounced", ("Sound", sound))
    tel._exten(leg, "Playback", sound)
    call.heard.append(sound)
    call.first_slice_until = None
    seconds = tel.sounds.seconds(sound)
    return await tel._wait_any(
        call, UNKNOWN_LENGTH if seconds is None else seconds, call.redirected
    )
