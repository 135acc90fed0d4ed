"""Typed AMI events: the only place that reads raw AMI header names.

``parse_event(headers)`` turns one AMI event (a mapping of header to value, as our framing or
panoramisk delivers it) into a small immutable dataclass, or ``None`` for the many events the
call tracker does not need (``VarSet`` and ``Newexten`` are most of the stream). Dispatch is a
dict look-up on the event name, so ignored events cost one ``get``.

Asterisk's quirks are absorbed here, once:
- ``<unknown>`` in caller-ID fields means "nothing", and becomes ``""``;
- ``CID-CallingPres`` is ``"35 (Presentation Prohibited, Network Number)"``: we keep the number;
- ``DialBegin``/``DialEnd`` raised by an Originate have no caller channel (``caller`` is None);
- ``UserEvent`` bodies keep their own keys (``DID``, ``Service``, ``Pres``...), in ``body``;
- a header that is not text (``ChanVariable`` lines collected as a dict by the framing, or a
  list from a client that keeps repeated headers) is never mistaken for a value: the text
  fields read only strings, and an event whose identifying fields are not text is ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

UNKNOWN = "<unknown>"


def _text(h: Mapping[str, Any], key: str) -> str:
    """The header's text; "" when absent or not text (see the module's docstring)."""
    value = h.get(key)
    return value if isinstance(value, str) else ""


def _clean(value: str | None) -> str:
    if value is None or value == UNKNOWN:
        return ""
    return value


def _int(value: str | None, default: int = 0) -> int:
    if not value or not isinstance(value, str):
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
    uniqueid = _text(h, prefix + "Uniqueid")
    if not uniqueid or uniqueid == UNKNOWN:
        return None
    return ChannelInfo(
        channel=_text(h, prefix + "Channel"),
        uniqueid=uniqueid,
        linkedid=_text(h, prefix + "Linkedid") or uniqueid,
        state=_int(_text(h, prefix + "ChannelState")),
        caller_num=_clean(_text(h, prefix + "CallerIDNum")),
        caller_name=_clean(_text(h, prefix + "CallerIDName")),
        connected_num=_clean(_text(h, prefix + "ConnectedLineNum")),
        context=_text(h, prefix + "Context"),
        exten=_text(h, prefix + "Exten"),
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
    return UserEventRaised(_channel(h), _text(h, "UserEvent"), body)


def _dial_begin(h: Mapping[str, Any]) -> AmiEvent | None:
    dest = _channel(h, "Dest")
    return None if dest is None else DialStarted(_channel(h), dest)


def _dial_end(h: Mapping[str, Any]) -> AmiEvent | None:
    dest = _channel(h, "Dest")
    if dest is None:
        return None
    return DialEnded(_channel(h), dest, _text(h, "DialStatus"))


def _rename(h: Mapping[str, Any]) -> AmiEvent | None:
    uniqueid = _text(h, "Uniqueid")
    if not uniqueid:
        return None
    return ChannelRenamed(uniqueid, _text(h, "Channel"), _text(h, "Newname"))


_PARSERS: dict[str, Callable[[Mapping[str, Any]], AmiEvent | None]] = {
    "Newchannel": _with_channel(lambda c, h: ChannelCreated(c)),
    "NewCallerid": _with_channel(
        lambda c, h: CallerIdChanged(c, _int(_text(h, "CID-CallingPres")))
    ),
    "Newstate": _with_channel(lambda c, h: ChannelStateChanged(c)),
    "Rename": _rename,
    "SoftHangupRequest": _with_channel(
        lambda c, h: HangupRequested(c, _int(_text(h, "Cause")), soft=True)
    ),
    "HangupRequest": _with_channel(
        lambda c, h: HangupRequested(c, _int(_text(h, "Cause")), soft=False)
    ),
    "Hangup": _with_channel(lambda c, h: ChannelHungUp(c, _int(_text(h, "Cause")))),
    "DialBegin": _dial_begin,
    "DialEnd": _dial_end,
    "UserEvent": _user_event,
    "BlindTransfer": lambda h: BlindTransferred(
        _text(h, "Result") == "Success",
        _channel(h, "Transferer"),
        _channel(h, "Transferee"),
        _text(h, "Context"),
        _text(h, "Extension"),
    ),
    "AttendedTransfer": lambda h: AttendedTransferred(
        _text(h, "Result") == "Success",
        _channel(h, "OrigTransferer"),
        _channel(h, "SecondTransferer"),
        _channel(h, "Transferee"),
        _channel(h, "TransferTarget"),
    ),
    "QueueCallerJoin": _with_channel(
        lambda c, h: QueueCallerJoined(c, _text(h, "Queue"), _int(_text(h, "Position")))
    ),
    "Shutdown": lambda h: PbxShutdown(_text(h, "Restart").lower() == "true"),
    "FullyBooted": lambda h: PbxBooted(_int(_text(h, "Uptime"))),
}

TRACKED_EVENT_NAMES = frozenset(_PARSERS)


def parse_event(headers: Mapping[str, Any]) -> AmiEvent | None:
    """Typed event for ``headers``, or None when the tracker has no use for it.

    Never raises on odd input: a tracked event missing the fields it needs is ignored.
    """
    name = headers.get("Event")
    if not isinstance(name, str):
        return None
    parser = _PARSERS.get(name)
    if parser is None:
        return None
    return parser(headers)


@dataclass(frozen=True, slots=True)
class ListedChannel:
    """One channel as ``CoreShowChannels`` lists it, with the variables read on it;
    ``seconds``: how long it has existed (its ``Duration``), when listed."""

    chan: ChannelInfo
    bridge_id: str
    application: str
    variables: dict[str, str] = field(default_factory=dict)
    seconds: int | None = None


def parse_listed_channel(
    headers: Mapping[str, Any], variables: Mapping[str, str] | None = None
) -> ListedChannel | None:
    """A ``CoreShowChannel`` list item (or a ``Status`` item) as a ``ListedChannel``."""
    chan = _channel(headers)
    if chan is None:
        return None
    bridge = _text(headers, "BridgeId") or _text(headers, "BridgeID")
    return ListedChannel(
        chan,
        bridge,
        _text(headers, "Application"),
        dict(variables or {}),
        _seconds(_text(headers, "Duration")),
    )


def _seconds(duration: str) -> int | None:
    """``01:02:03`` (CoreShowChannel's Duration) as 3723; None when absent or odd."""
    parts = duration.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    hours, minutes, seconds = (int(p) for p in parts)
    return hours * 3600 + minutes * 60 + seconds


def parse_device_state(headers: Mapping[str, Any]) -> DeviceStateChanged | None:
    """A ``DeviceStateChange`` event (the router's, not the call tracker's), else None."""
    if _text(headers, "Event") != "DeviceStateChange" or not _text(headers, "Device"):
        return None
    return DeviceStateChanged(
        _clean(_text(headers, "Device")), _clean(_text(headers, "State")).upper()
    )
