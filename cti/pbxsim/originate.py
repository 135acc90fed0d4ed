"""The AMI ``Originate`` action of the simulated PBX, as recording 15 shows Asterisk 22 doing it.

``parse`` reads the action (refusing what Asterisk refuses, in its words), ``destination``
says where the dial string leads, and ``run`` plays the attempt with its events:

- ``Local/<DID>@from-pstn``: a citizen's call (``Telephony.place_call``), the lab's way of
  making one; ``USE_AGI=1`` sends her through the voice menu when a FastAGI server is set.
- ``Local/<agent>@agents`` with an ``Application``: the agent's phone is rung; busy gives
  Reason 5, no answer within ``Timeout`` Reason 3 (cause 19), both with the recorded
  teardown. An agent who answers (not in the recordings) gives Reason 4 and the channel runs
  the application for ``Data`` seconds.
- any other ``Local/`` (no such extension): the pair is created and dies at once (Reason 0);
  any other technology (no channel driver): no channel at all.

The async form reports with ``Event: OriginateResponse``; the sync form answers the action
itself, ``Originate failed`` on failure (before the failed pair's events, as recorded).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from cti.ami.frames import Frame
from cti.pbxsim import callback_call
from cti.pbxsim.callback_call import CalledBack
from cti.pbxsim.channels import Channel, Headers, dial_event, event, local_bridge

if TYPE_CHECKING:
    from cti.pbxsim.pbx import Telephony

DEFAULT_TIMEOUT_MS = 30000  # Asterisk's Originate default
REASON_NO_SUCH_EXTEN = 0
REASON_TIMEOUT = 3
REASON_ANSWERED = 4
REASON_BUSY = 5
_CALLERID = re.compile(r'^\s*(?:"(?P<name>[^"]*)"\s*)?<(?P<num>[^>]*)>\s*$')
_LOCAL = re.compile(r"Local/(?P<exten>[^@/]+)@(?P<context>[^/]+)")


class Refused(Exception):
    """Asterisk answers the action with ``Response: Error`` and this message."""


class Destination(Enum):
    CITIZEN = "citizen"  # Local/<DID>@from-pstn
    AGENT = "agent"  # Local/<known agent>@agents
    NO_SUCH_EXTEN = "no-such-exten"  # another Local/ target
    NO_DRIVER = "no-driver"  # PJSIP/..., SIP/...: not loaded in this Asterisk


@dataclass(frozen=True, slots=True)
class Request:
    """An Originate action, read."""

    target: str  # the dial string (Channel header)
    action_id: str | None
    context: str = ""
    exten: str = ""
    application: str = ""
    data: str = ""
    caller_num: str = ""
    caller_name: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    asynchronous: bool = False


def parse(frame: Frame) -> Request:
    """The action's fields; ``Refused`` where Asterisk refuses it before dialling."""

    def get(name: str) -> str:
        return frame.get(name, "") or ""

    if not get("Application") and not (get("Exten") and get("Context") and get("Priority")):
        # Recording 15: said even when no Exten was given at all.
        raise Refused("Originate with 'Exten' requires 'Context' and 'Priority'")
    variables = dict(
        item.split("=", 1)
        for value in frame.get_all("Variable")
        for item in value.split(",")
        if "=" in item
    )
    cid = _CALLERID.match(get("CallerID"))
    timeout = get("Timeout")
    return Request(
        target=get("Channel"),
        action_id=frame.get("ActionID"),
        context=get("Context"),
        exten=get("Exten"),
        application=get("Application"),
        data=get("Data"),
        caller_num=cid.group("num") if cid else "",
        caller_name=(cid.group("name") or "") if cid else "",
        variables=variables,
        timeout_ms=int(timeout) if timeout.isdigit() else DEFAULT_TIMEOUT_MS,
        asynchronous=get("Async").lower() in ("true", "yes", "1"),
    )


def destination(tel: Telephony, request: Request) -> Destination:
    local = _LOCAL.fullmatch(request.target)
    if local is None:
        return Destination.NO_DRIVER
    if local.group("context") == "from-pstn":
        return Destination.CITIZEN
    if local.group("context") == "agents" and local.group("exten") in tel.agents:
        return Destination.AGENT
    return Destination.NO_SUCH_EXTEN


def response_event(
    request: Request, success: bool, reason: int, chan: Channel | None = None
) -> Headers:
    """``OriginateResponse``: the dial string and ``<unknown>`` when no channel made it."""
    where = (
        [("Application", request.application), ("Data", request.data)]
        if request.application
        else [("Context", request.context), ("Exten", request.exten)]
    )
    return [
        ("Event", "OriginateResponse"),
        ("Privilege", "call,all"),
        ("ActionID", request.action_id or ""),
        ("Response", "Success" if success else "Failure"),
        ("Channel", chan.name if chan is not None else request.target),
        *where,
        ("Reason", str(reason)),
        ("Uniqueid", chan.uniqueid if chan is not None else "<unknown>"),
        ("CallerIDNum", request.caller_num or "<unknown>"),
        ("CallerIDName", request.caller_name or "<unknown>"),
    ]


# The outcome of an attempt: success, Reason, the originated channel (;1) when it was answered.
Outcome = Callable[[bool, int, Channel | None], None]


def run(tel: Telephony, request: Request, outcome: Outcome) -> None:
    """Play the attempt; ``outcome`` is called where Asterisk reports it (not for citizens)."""
    where = destination(tel, request)
    if where is Destination.NO_DRIVER:
        outcome(False, REASON_NO_SUCH_EXTEN, None)
    elif where is Destination.NO_SUCH_EXTEN:
        _no_such_exten(tel, request, outcome)
    elif where is Destination.AGENT:
        task = asyncio.create_task(_ring_agent(tel, request, outcome), name="originate")
        tel.originations.add(task)
        task.add_done_callback(tel.originations.discard)
    else:
        raise ValueError(f"{request.target}: a citizen's call is placed by place_call")


def _no_such_exten(tel: Telephony, request: Request, outcome: Outcome) -> None:
    """The pair is made, finds no extension to run, and is gone (recording 15)."""
    if not request.asynchronous:  # the sync reply comes before the attempt's events
        outcome(False, REASON_NO_SUCH_EXTEN, None)
    one, two = tel._local_pair(request.target.removeprefix("Local/"), None)
    if request.caller_num or request.caller_name:
        num, name = request.caller_num, request.caller_name
        tel._set_caller_id(one, num, name, "allowed_not_screened")
        tel._set_connected(one, num, name)
        two.cl_num, two.cl_name = num, name  # already there when its NewCallerid says so
        tel._set_caller_id(two, num, name, "allowed_not_screened")
        tel._set_connected(two, num, name)
    tel._hangup(two, 0)
    tel._hangup(one, 0)
    if request.asynchronous:
        outcome(False, REASON_NO_SUCH_EXTEN, None)


async def _ring_agent(tel: Telephony, request: Request, outcome: Outcome) -> None:
    """``Local/<agent>@agents`` dialled by the Originate itself: no caller in Dial events."""
    agent = request.target.removeprefix("Local/").split("@", 1)[0]
    phone = tel.agents[agent]
    one, two = tel._local_pair(f"{agent}@agents", None)
    tel.emit(local_bridge(one, two, "agents", agent))
    tel.emit(dial_event("DialBegin", None, one, ("DialString", f"{agent}@agents")))
    if phone.busy:
        tel._state(two, 7)
        tel.emit(dial_event("DialEnd", None, one, ("DialStatus", "BUSY")))
        tel.emit(event("HangupRequest", two, ("Cause", "0")))
        outcome(False, REASON_BUSY, None)
        tel.emit(event("SoftHangupRequest", two, ("Cause", "16")))
        tel._hangup(two, 17)
        tel._hangup(one, 0)
        return
    tel._state(one, 5)
    tel.emit(dial_event("DialState", None, one, ("DialStatus", "RINGING")))
    two.priority = 2  # the phone's Wait() after Ringing()
    timeout = request.timeout_ms / 1000
    if not phone.answers or phone.ring >= timeout:
        await tel.sleep(timeout)
        # Recording 15: the timeout hangs the dialled half up with cause 19, no DialEnd.
        tel.emit(event("HangupRequest", two, ("Cause", "19")))
        tel.emit(event("SoftHangupRequest", two, ("Cause", "16")))
        outcome(False, REASON_TIMEOUT, None)
        tel._hangup(one, 19)
        tel._hangup(two, 19)
        return
    # Not recorded: answered as any Local dial is, then the application runs on ;1.
    await tel.sleep(phone.ring)
    tel._state(two, 6)
    tel._state(one, 6)
    tel.emit(dial_event("DialEnd", None, one, ("DialStatus", "ANSWER")))
    outcome(True, REASON_ANSWERED, one)
    if not request.application:
        await _dialplan_after_answer(tel, request, one, two)
        return
    one.application, one.app_data = request.application, request.data
    seconds = float(request.data) if request.data.isdigit() else 0.0
    await tel.sleep(min(seconds, phone.talk))
    first, second = (one, two) if seconds <= phone.talk else (two, one)
    tel._hangup_requests(first, second)
    tel._hangup(first, 16)
    tel._hangup(second, 16)


async def _dialplan_after_answer(
    tel: Telephony, request: Request, one: Channel, two: Channel
) -> None:
    """The agent answered: ``;1`` runs ``Context,Exten,1``. ``cti-callback`` (the project's
    dialplan) dials the citizen through the trunk (``callback_call``); any other context is
    not the simulator's to run: the call ends."""
    tel._goto(one, request.context, request.exten)
    for name, value in request.variables.items():
        tel._var(one, name, value)
    if request.context == "cti-callback":
        citizen = tel.called_back.get(request.exten, CalledBack())
        tel.dialled_back.append(request.exten)
        await callback_call.run(tel, request, one, two, citizen)
        return
    tel._hangup_requests(one, two)
    tel._hangup(one, 16)
    tel._hangup(two, 16)
