"""Channels of the simulated PBX and the AMI events that describe them.

Header names, their order and the values Asterisk 22 puts in them are copied from the
recordings (``../shared/ami-captures``): the channel snapshot every channel event carries,
``Dest``-prefixed snapshots in Dial events, ``<unknown>`` for empty caller-ID fields,
``Privilege`` per event class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

STATE_DESC = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up", 7: "Busy"}

PRIVILEGE = {
    "Newchannel": "call,all",
    "NewCallerid": "call,all",
    "NewConnectedLine": "call,all",
    "Newstate": "call,all",
    "LocalBridge": "call,all",
    "DialBegin": "call,all",
    "DialState": "call,all",
    "DialEnd": "call,all",
    "BridgeCreate": "call,all",
    "BridgeEnter": "call,all",
    "BridgeLeave": "call,all",
    "BridgeDestroy": "call,all",
    "HangupRequest": "call,all",
    "SoftHangupRequest": "call,all",
    "Hangup": "call,all",
    "OriginateResponse": "call,all",
    "Newexten": "dialplan,all",
    "VarSet": "dialplan,all",
    "UserEvent": "user,all",
    "MusicOnHoldStart": "call,all",
    "MusicOnHoldStop": "call,all",
    "QueueCallerJoin": "agent,all",
    "QueueCallerLeave": "agent,all",
    "AgentCalled": "agent,all",
    "AgentConnect": "agent,all",
    "AgentRingNoAnswer": "agent,all",
    "AgentComplete": "agent,all",
    "Hold": "call,all",
    "Unhold": "call,all",
    "DTMFEnd": "dtmf,all",  # not in the CTI user's read classes
    "BlindTransfer": "call,all",
    "AttendedTransfer": "call,all",
    "BridgeMerge": "call,all",
    "FullyBooted": "system,all",
    "Shutdown": "system,all",
}

Headers = list[tuple[str, str]]


def _v(value: str) -> str:
    return value if value else "<unknown>"


@dataclass(slots=True)
class Channel:
    name: str
    uniqueid: str
    linkedid: str
    state: int = 0
    cid_num: str = ""
    cid_name: str = ""
    cl_num: str = ""
    cl_name: str = ""
    context: str = ""
    exten: str = ""
    priority: int = 1
    language: str = "fr"
    variables: dict[str, str] = field(default_factory=dict)
    application: str = ""
    app_data: str = ""
    bridge: str = ""
    created_at: float = 0.0
    alive: bool = True
    # What its dialplan's h extension says as it hangs up (cti-callback's result).
    on_hangup: Callable[[], None] | None = None

    def snapshot(self, prefix: str = "") -> Headers:
        return [
            (prefix + "Channel", self.name),
            (prefix + "ChannelState", str(self.state)),
            (prefix + "ChannelStateDesc", STATE_DESC.get(self.state, "Unknown")),
            (prefix + "CallerIDNum", _v(self.cid_num)),
            (prefix + "CallerIDName", _v(self.cid_name)),
            (prefix + "ConnectedLineNum", _v(self.cl_num)),
            (prefix + "ConnectedLineName", _v(self.cl_name)),
            (prefix + "Language", self.language),
            (prefix + "AccountCode", ""),
            (prefix + "Context", self.context),
            (prefix + "Exten", self.exten),
            (prefix + "Priority", str(self.priority)),
            (prefix + "Uniqueid", self.uniqueid),
            (prefix + "Linkedid", self.linkedid),
        ]


def event(name: str, chan: Channel | None = None, *extra: tuple[str, str]) -> Headers:
    headers: Headers = [("Event", name), ("Privilege", PRIVILEGE.get(name, "call,all"))]
    if chan is not None:
        headers += chan.snapshot()
    headers += list(extra)
    return headers


def dial_event(
    name: str, caller: Channel | None, dest: Channel, *extra: tuple[str, str]
) -> Headers:
    headers: Headers = [("Event", name), ("Privilege", "call,all")]
    if caller is not None:
        headers += caller.snapshot()
    headers += dest.snapshot("Dest")
    return headers + list(extra)


def bridge_fields(bridge_id: str, count: int) -> Headers:
    return [
        ("BridgeUniqueid", bridge_id),
        ("BridgeType", "basic"),
        ("BridgeTechnology", "simple_bridge"),
        ("BridgeCreator", "<unknown>"),
        ("BridgeName", "<unknown>"),
        ("BridgeNumChannels", str(count)),
        ("BridgeVideoSourceMode", "none"),
    ]


def local_bridge(one: Channel, two: Channel, context: str, exten: str) -> Headers:
    return (
        [("Event", "LocalBridge"), ("Privilege", "call,all")]
        + one.snapshot("LocalOne")
        + two.snapshot("LocalTwo")
        + [("Context", context), ("Exten", exten), ("LocalOptimization", "Yes")]
    )
