"""Typed AMI events: the only place that reads raw AMI header names.

``parse_event(headers)`` turns one AMI event (a mapping of header to value, as our framing or
panoramisk delivers it) into a small immutable dataclass, or ``None`` for the many events the
call tracker does not need (``VarSet`` and ``Newexten`` are most of the stream). Dispatch is a
dict look-up on the event name, so ignored events cost one ``get``.

Asterisk's quirks are absorbed here, once:
- ``<unknown>`` in caller-ID fields means "nothing", and becomes ``""``;
- ``CID-CallingPres`` is ``"35 (Presentation Prohibited, Network Number)"``: we keep the number;
- ``DialBegin``/``DialEnd`` raised by an Originate have no caller channel (``caller`` is None);
- ``UserEvent`` bodies keep their own keys (``DID``, ``Service``, ``Pres``...), in ``body``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

UNKNOWN = "<unknown>"


def _clean(value: str | None) -> str:
    if value is None or value == UNKNOWN:
        return ""
    return value


def _int(value: str | None, default: int = 0) -> int:
    if not value:
        return default
    head = value.split(" ", 1)[0]
    try:
        return int(head)
    except ValueError:
        return default


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """The channel snapshot Asterisk attaches to most events."""

    channel: str
    uniqueid: str
    linkedid: str
    state: int
    caller_num: str
    caller_name: str
    connected_num: str
    context: str
    exten: str


def _channel(h: Mapping[str, Any], prefix: str = "") -> ChannelInfo | None:
    uniqueid = h.get(prefix + "Uniqueid")
    if not uniqueid or uniqueid == UNKNOWN:
        return None
    return ChannelInfo(
        channel=h.get(prefix + "Channel") or "",
        uniqueid=uniqueid,
        linkedid=h.get(prefix + "Linkedid") or uniqueid,
        state=_int(h.get(prefix + "ChannelState")),
        caller_num=_clean(h.get(prefix + "CallerIDNum")),
        caller_name=_clean(h.get(prefix + "CallerIDName")),
        connected_num=_clean(h.get(prefix + "ConnectedLineNum")),
        context=h.get(prefix + "Context") or "",
        exten=h.get(prefix + "Exten") or "",
    )


@dataclass(frozen=True, slots=True)
class ChannelCreated:
    chan: ChannelInfo


@dataclass(frozen=True, slots=True)
class CallerIdChanged:
    chan: ChannelInfo
    pres: int


@dataclass(frozen=True, slots=True)
class ChannelStateChanged:
    chan: ChannelInfo


@dataclass(frozen=True, slots=True)
class ChannelRenamed:
    uniqueid: str
    old_name: str
    new_name: str


@dataclass(frozen=True, slots=True)
class HangupRequested:
    """``SoftHangupRequest`` (cause is a flag bitmask: 4 = shutdown) or ``HangupRequest``."""

    chan: ChannelInfo
    cause: int
    soft: bool


@dataclass(frozen=True, slots=True)
class ChannelHungUp:
    chan: ChannelInfo
    cause: int


@dataclass(frozen=True, slots=True)
class DialStarted:
    caller: ChannelInfo | None
    dest: ChannelInfo


@dataclass(frozen=True, slots=True)
class DialEnded:
    caller: ChannelInfo | None
    dest: ChannelInfo
    status: str


@dataclass(frozen=True, slots=True)
class UserEventRaised:
    chan: ChannelInfo | None
    name: str
    body: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BlindTransferred:
    success: bool
    transferer: ChannelInfo | None
    transferee: ChannelInfo | None
    context: str
    extension: str


@dataclass(frozen=True, slots=True)
class AttendedTransferred:
    success: bool
    transferer: ChannelInfo | None
    second_transferer: ChannelInfo | None
    transferee: ChannelInfo | None
    target: ChannelInfo | None


@dataclass(frozen=True, slots=True)
class QueueCallerJoined:
    chan: ChannelInfo
    queue: str
    position: int


@dataclass(frozen=True, slots=True)
class DeviceStateChanged:
    """``DeviceStateChange``: a phone (``PJSIP/201``) is ``NOT_INUSE``, ``INUSE``, ``RINGING``..."""

    device: str
    state: str


@dataclass(frozen=True, slots=True)
class PbxShutdown:
    restart: bool


@dataclass(frozen=True, slots=True)
class PbxBooted:
    uptime: int


AmiEvent = (
    ChannelCreated
    | CallerIdChanged
    | ChannelStateChanged
    | ChannelRenamed
    | HangupRequested
    | ChannelHungUp
    | DialStarted
    | DialEnded
    | UserEventRaised
    | BlindTransferred
    | AttendedTransferred
    | QueueCallerJoined
    | PbxShutdown
    | PbxBooted
)

# Header names of a UserEvent that belong to the channel snapshot, not to the body.
_SNAPSHOT_KEYS = frozenset(
    {
        "Event",
        "Privilege",
        "Channel",
        "ChannelState",
        "ChannelStateDesc",
        "CallerIDNum",
        "CallerIDName",
        "ConnectedLineNum",
        "ConnectedLineName",
        "Language",
        "AccountCode",
        "Context",
        "Exten",
        "Priority",
        "Uniqueid",
        "Linkedid",
        "UserEvent",
        "ActionID",
    }
)


def _with_channel(
    build: Callable[[ChannelInfo, Mapping[str, Any]], AmiEvent],
) -> Callable[[Mapping[str, Any]], AmiEvent | None]:
    def parse(h: Mapping[str, Any]) -> AmiEvent | None:
        chan = _channel(h)
        return None if chan is None else build(chan, h)

    return parse


def _user_event(h: Mapping[str, Any]) -> AmiEvent:
    body = {k: v for k, v in h.items() if k not in _SNAPSHOT_KEYS and isinstance(v, str)}
    return UserEventRaised(_channel(h), h.get("UserEvent") or "", body)


def _dial_begin(h: Mapping[str, Any]) -> AmiEvent | None:
    dest = _channel(h, "Dest")
    return None if dest is None else DialStarted(_channel(h), dest)


def _dial_end(h: Mapping[str, Any]) -> AmiEvent | None:
    dest = _channel(h, "Dest")
    if dest is None:
        return None
    return DialEnded(_channel(h), dest, h.get("DialStatus") or "")


def _rename(h: Mapping[str, Any]) -> AmiEvent | None:
    uniqueid = h.get("Uniqueid")
    if not uniqueid:
        return None
    return ChannelRenamed(uniqueid, h.get("Channel") or "", h.get("Newname") or "")


_PARSERS: dict[str, Callable[[Mapping[str, Any]], AmiEvent | None]] = {
    "Newchannel": _with_channel(lambda c, h: ChannelCreated(c)),
    "NewCallerid": _with_channel(lambda c, h: CallerIdChanged(c, _int(h.get("CID-CallingPres")))),
    "Newstate": _with_channel(lambda c, h: ChannelStateChanged(c)),
    "Rename": _rename,
    "SoftHangupRequest": _with_channel(
        lambda c, h: HangupRequested(c, _int(h.get("Cause")), soft=True)
    ),
    "HangupRequest": _with_channel(
        lambda c, h: HangupRequested(c, _int(h.get("Cause")), soft=False)
    ),
    "Hangup": _with_channel(lambda c, h: ChannelHungUp(c, _int(h.get("Cause")))),
    "DialBegin": _dial_begin,
    "DialEnd": _dial_end,
    "UserEvent": _user_event,
    "BlindTransfer": lambda h: BlindTransferred(
        h.get("Result") == "Success",
        _channel(h, "Transferer"),
        _channel(h, "Transferee"),
        h.get("Context") or "",
        h.get("Extension") or "",
    ),
    "AttendedTransfer": lambda h: AttendedTransferred(
        h.get("Result") == "Success",
        _channel(h, "OrigTransferer"),
        _channel(h, "SecondTransferer"),
        _channel(h, "Transferee"),
        _channel(h, "TransferTarget"),
    ),
    "QueueCallerJoin": _with_channel(
        lambda c, h: QueueCallerJoined(c, h.get("Queue") or "", _int(h.get("Position")))
    ),
    "Shutdown": lambda h: PbxShutdown((h.get("Restart") or "").lower() == "true"),
    "FullyBooted": lambda h: PbxBooted(_int(h.get("Uptime"))),
}

TRACKED_EVENT_NAMES = frozenset(_PARSERS)


def parse_event(headers: Mapping[str, Any]) -> AmiEvent | None:
    """Typed event for ``headers``, or None when the tracker has no use for it.

    Never raises on odd input: a tracked event missing the fields it needs is ignored.
    """
    name = headers.get("Event")
    if name is None:
        return None
    parser = _PARSERS.get(name)
    if parser is None:
        return None
    return parser(headers)


@dataclass(frozen=True, slots=True)
class ListedChannel:
    """One channel as ``CoreShowChannels`` lists it, with the variables read on it."""

    chan: ChannelInfo
    bridge_id: str
    application: str
    variables: dict[str, str] = field(default_factory=dict)


def parse_listed_channel(
    headers: Mapping[str, Any], variables: Mapping[str, str] | None = None
) -> ListedChannel | None:
    """A ``CoreShowChannel`` list item (or a ``Status`` item) as a ``ListedChannel``."""
    chan = _channel(headers)
    if chan is None:
        return None
    bridge = headers.get("BridgeId") or headers.get("BridgeID") or ""
    return ListedChannel(chan, bridge, headers.get("Application") or "", dict(variables or {}))


def parse_device_state(headers: Mapping[str, Any]) -> DeviceStateChanged | None:
    """A ``DeviceStateChange`` event (the router's, not the call tracker's), else None."""
    if headers.get("Event") != "DeviceStateChange" or not headers.get("Device"):
        return None
    return DeviceStateChanged(_clean(headers.get("Device")), _clean(headers.get("State")).upper())
