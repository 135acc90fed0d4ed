"""The simulated PBX's EventList actions: what each lists, in the shape Asterisk 22 sends it.

``CoreShowChannels``, ``Status``, ``BridgeList``, ``BridgeInfo`` (recording 10), ``QueueStatus``
and ``QueueSummary`` (recording 11, items built by ``safety_queue``), ``DeviceStateList``
(res_manager_devicestate.c, items built by ``phones``) answer with a
``Response: Success`` carrying ``EventList: start`` and a Message, then one event per item (with
the ``ActionID``, no ``Privilege`` except ``Status``'s ``Call``), then ``<X>Complete`` with
``EventList: Complete`` and ``ListItems: N`` (plus ``Items`` for Status, the bridge's fields for
BridgeInfo). Each function reads the telephony's state and returns an ``EventList``; the AMI
server writes it. ``NotListed`` is Asterisk's plain ``Response: Error`` instead of a list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cti.pbxsim import safety_queue
from cti.pbxsim.channels import Channel, Headers, bridge_fields

if TYPE_CHECKING:
    from cti.pbxsim.pbx import Telephony


class NotListed(Exception):
    """The action is answered with ``Response: Error`` and this message."""


@dataclass(frozen=True, slots=True)
class EventList:
    message: str  # the Response's Message
    complete: str  # the terminating event's name
    items: list[Headers]
    extra: Headers = field(default_factory=list)  # the terminator's fields after ListItems


def complete_event(listing: EventList, action_id: str) -> Headers:
    return [
        ("Event", listing.complete),
        ("ActionID", action_id),
        ("EventList", "Complete"),
        ("ListItems", str(len(listing.items))),
        *listing.extra,
    ]


def _duration(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def core_show_channels(tel: Telephony, action_id: str) -> EventList:
    now = tel.clock()
    items = [
        [("Event", "CoreShowChannel"), ("ActionID", action_id)]
        + chan.snapshot()
        + [
            ("Application", chan.application),
            ("ApplicationData", chan.app_data),
            ("Duration", _duration(int(now - chan.created_at))),
            ("BridgeId", chan.bridge),
        ]
        for chan in tel.channels.values()
    ]
    return EventList("Channels will follow", "CoreShowChannelsComplete", items)


def status(tel: Telephony, channel: str, variables: str, action_id: str) -> EventList:
    """One channel (``No such channel`` if it is gone) or all, with the asked variables."""
    if channel:
        found = tel.find_channel(channel)
        if found is None:
            raise NotListed("No such channel")
        channels = [found]
    else:
        channels = list(tel.channels.values())
    wanted = [v.strip() for v in variables.split(",") if v.strip()]
    now = tel.clock()
    items: list[Headers] = []
    for chan in channels:
        headers: Headers = [("Event", "Status"), ("Privilege", "Call")] + chan.snapshot()
        headers += [
            ("Type", "Local"),
            ("DNID", ""),
            ("EffectiveConnectedLineNum", chan.cl_num or "<unknown>"),
            ("EffectiveConnectedLineName", chan.cl_name or "<unknown>"),
            ("TimeToHangup", "0"),
            ("BridgeID", chan.bridge),
            ("Application", chan.application),
            ("Data", chan.app_data),
            # Local channels carry signed linear audio, no call/pickup groups (recording 10).
            ("Nativeformats", "(slin)"),
            ("Readformat", "slin"),
            ("Readtrans", ""),
            ("Writeformat", "slin"),
            ("Writetrans", ""),
            ("Callgroup", "0"),
            ("Pickupgroup", "0"),
            ("Seconds", str(int(now - chan.created_at))),
        ]
        headers += [("Variable", f"{v}={chan.variables.get(v, '')}") for v in wanted]
        headers += [("ActionID", action_id)]
        items.append(headers)
    count = str(len(items))
    return EventList("Channel status will follow", "StatusComplete", items, [("Items", count)])


def _bridges(tel: Telephony) -> dict[str, list[Channel]]:
    """The bridges in use and their channels: a bridge lives while channels are in it."""
    bridges: dict[str, list[Channel]] = {}
    for chan in tel.channels.values():
        if chan.bridge:
            bridges.setdefault(chan.bridge, []).append(chan)
    return bridges


def bridge_list(tel: Telephony, action_id: str) -> EventList:
    items = [
        [("Event", "BridgeListItem"), ("ActionID", action_id)]
        + bridge_fields(bridge, len(channels))
        for bridge, channels in _bridges(tel).items()
    ]
    return EventList("Bridge listing will follow", "BridgeListComplete", items)


def bridge_info(tel: Telephony, bridge: str, action_id: str) -> EventList:
    if not bridge:
        raise NotListed("BridgeUniqueid must be provided")
    channels = _bridges(tel).get(bridge)
    if channels is None:
        raise NotListed(f"Bridge {bridge} not found")
    items = [
        [("Event", "BridgeInfoChannel"), ("ActionID", action_id)] + chan.snapshot()
        for chan in channels
    ]
    fields = bridge_fields(bridge, len(channels))
    return EventList("Bridge channel listing will follow", "BridgeInfoComplete", items, fields)


def device_state_list(tel: Telephony, action_id: str) -> EventList:
    items = tel.phones.listing(action_id)
    return EventList("Device State Changes will follow", "DeviceStateListComplete", items)


def queue_status(tel: Telephony, queue: str, action_id: str) -> EventList:
    items = safety_queue.status_items(tel, queue, action_id)
    return EventList("Queue status will follow", "QueueStatusComplete", items)


def queue_summary(tel: Telephony, queue: str, action_id: str) -> EventList:
    items = safety_queue.summary_items(tel, queue, action_id)
    return EventList("Queue summary will follow", "QueueSummaryComplete", items)
