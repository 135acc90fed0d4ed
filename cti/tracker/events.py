"""Domain events: what happened to a citizen's call, in the service's own words.

The call tracker turns Asterisk's channel-level AMI events into these. They are small,
immutable and named in the past tense (h2's ``events.py`` is the model). Every event names
its call (``call_id`` = Asterisk's Linkedid of the inbound channel), the time it happened
(``at``, seconds on the clock the tracker was fed) and what is known of the caller.

What is known of the caller follows one rule: ``caller_number`` is given only once the
caller's presentation is known to allow it (``CallerIdSettled``), never while it is unknown
and never again once it is known withheld; ``caller_withheld`` says it is withheld. Withheld
is for good: no later event makes a call un-withheld.

``to_dict()`` is the wire/JSON form used by ``python -m cti.replay`` and the web app:
``type`` plus every field that applies (``None`` fields are left out).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEvent:
    type: ClassVar[str] = "CallEvent"

    call_id: str
    at: float
    caller_number: str | None
    caller_withheld: bool

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, float):
                value = round(value, 3)
            out[f.name] = value
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class CallArrived(CallEvent):
    """A citizen's call reached the town hall (the inbound channel started the dialplan).

    ``restored`` is true when the call was found already in progress (after a reconnect, or a
    recording that starts mid-call) rather than seen arriving; ``ivr_path`` is then what the
    menu wrote on the channel (``CTI_IVR_PATH``, nodes separated by "/"), when it ran.
    ``callback_id``: the call is the product's callback of that request (the agent's phone
    answered first, the citizen's number is being dialled); ``caller_number`` is hers.
    """

    type: ClassVar[str] = "CallArrived"
    caller_name: str | None = None
    did: str | None = None
    restored: bool = False
    ivr_path: str | None = None
    callback_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerIdSettled(CallEvent):
    """The caller's presentation is known: ``caller_withheld`` says whether her number (and
    name) may be shown, and when it may, ``caller_number``/``caller_name`` are given.

    Said once when it becomes known (the dialplan's ``CtiCallerId`` as the call enters, at the
    latest ``CtiWaiting``'s ``Pres``, a number that is no number, a restricted
    ``NewCallerid``, a resync's ``Getvar``), and once more if the call turns withheld later.
    Nothing from the directory may be looked up or shown for a call before this event.
    """

    type: ClassVar[str] = "CallerIdSettled"
    caller_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallWaiting(CallEvent):
    """The call waits for an agent of ``service`` (entered ``cti-wait`` or a fallback queue)."""

    type: ClassVar[str] = "CallWaiting"
    service: str | None
    priority: int = 0
    position: int = 1
    did: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOffered(CallEvent):
    """The agent's phone is being rung for this call: the moment the screen pops."""

    type: ClassVar[str] = "CallOffered"
    agent: str
    service: str | None = None
    waited: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAnswered(CallEvent):
    type: ClassVar[str] = "CallAnswered"
    agent: str
    service: str | None = None
    waited: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CallNoAnswer(CallEvent):
    """The offer to ``agent`` failed; ``reason`` is Asterisk's dial status in lower case
    (``noanswer``, ``busy``, ``chanunavail``, ``congestion``)."""

    type: ClassVar[str] = "CallNoAnswer"
    agent: str
    reason: str
    service: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallTransferred(CallEvent):
    """``agent`` handed the call on, to ``to_agent`` or to ``service``; ``kind`` is
    ``blind`` or ``attended``."""

    type: ClassVar[str] = "CallTransferred"
    agent: str | None
    kind: str
    to_agent: str | None = None
    service: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallSafetyNet(CallEvent):
    """The dialplan gave up waiting for the router and fell back on its own (``CtiSafetyNet``)."""

    type: ClassVar[str] = "CallSafetyNet"
    service: str | None = None
    waited: float = 0.0
    reason: str = "router_silent"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOverflowed(CallEvent):
    """The router sent the call to its service's overflow (``CtiOverflow``): ``kind`` is
    ``voicemail`` or ``callback``, ``target`` the mailbox or list."""

    type: ClassVar[str] = "CallOverflowed"
    kind: str
    target: str | None = None
    service: str | None = None
    waited: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAbandoned(CallEvent):
    """The citizen hung up before talking to anyone; ``reason`` is ``waiting`` or ``ringing``."""

    type: ClassVar[str] = "CallAbandoned"
    reason: str
    service: str | None = None
    agent: str | None = None
    waited: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEnded(CallEvent):
    """The citizen's leg is gone. ``reason``: ``caller_hangup``, ``agent_hangup``,
    ``abandoned``, ``overflow`` (sent to voicemail or a callback request), ``failed`` (the
    dialplan dropped the call), ``not_reached`` (a callback whose citizen did not answer, or
    whose agent hung up before she did), ``shutdown`` (Asterisk
    stopped) or ``lost`` (it vanished while the AMI link was down)."""

    type: ClassVar[str] = "CallEnded"
    reason: str
    stage: str
    service: str | None = None
    agent: str | None = None
    duration: float = 0.0
    wait: float = 0.0
    talk: float = 0.0


DomainEvent = (
    CallArrived
    | CallerIdSettled
    | CallWaiting
    | CallOffered
    | CallAnswered
    | CallNoAnswer
    | CallTransferred
    | CallSafetyNet
    | CallOverflowed
    | CallAbandoned
    | CallEnded
)
