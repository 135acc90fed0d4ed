"""The simulated PBX's phones as devices: DeviceStateChange as they change, DeviceStateList
answered as res_manager_devicestate.c writes it, and calls the agents place themselves."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cti.pbxsim import SimulatedPbx
from tests.cti.pbxsim.test_ami_server import RawClient


@pytest.fixture
async def pbx() -> AsyncIterator[SimulatedPbx]:
    sim = SimulatedPbx(time_scale=0.01, auth_delay=0.05, safety_net=10_000)
    await sim.start()
    yield sim
    await sim.close()


async def listing(client: RawClient) -> tuple[list[list[tuple[str, str]]], dict[str, str]]:
    """DeviceStateList's items (headers in order) and its Complete event."""
    reply = await client.action("DeviceStateList")
    assert (reply.response, reply.get("EventList"), reply.get("Message")) == (
        "Success",
        "start",
        "Device State Changes will follow",
    )
    aid = reply.get("ActionID")
    items = []
    while True:
        frame = await client.next_frame(lambda f: f.get("ActionID") == aid)
        if frame.event == "DeviceStateListComplete":
            return items, frame.as_dict()
        items.append(frame.headers)


async def test_an_agent_on_her_own_call_is_in_use_until_she_hangs_up(pbx: SimulatedPbx) -> None:
    client = await RawClient.connect(pbx.port)
    await client.login()
    call = pbx.telephony.own_call("201", "0145454545")  # Marie calls the prefecture
    change = await client.event("DeviceStateChange")
    assert change.headers == [
        ("Event", "DeviceStateChange"),
        ("Privilege", "call,all"),
        ("Device", "PJSIP/201"),
        ("State", "INUSE"),
    ]
    items, complete = await listing(client)
    aid = complete["ActionID"]
    assert items[0] == [
        ("Event", "DeviceStateChange"),
        ("ActionID", aid),
        ("Device", "PJSIP/201"),
        ("State", "INUSE"),
    ]
    states = {dict(i)["Device"]: dict(i)["State"] for i in items}
    assert states == {f"PJSIP/{e}": "NOT_INUSE" for e in pbx.telephony.agents} | {
        "PJSIP/201": "INUSE"
    }
    assert complete == {
        "Event": "DeviceStateListComplete",
        "ActionID": aid,
        "EventList": "Complete",
        "ListItems": str(len(pbx.telephony.agents)),
    }
    # Not a citizen's call: her channel is in the phones' context, with the trunk's leg.
    listed = {c.name: c.context for c in pbx.telephony.channels.values()}
    assert sorted(listed.values()) == ["agents", "from-pstn"]
    pbx.telephony.end_own_call(call)
    change = await client.event("DeviceStateChange")
    assert (change.get("Device"), change.get("State")) == ("PJSIP/201", "NOT_INUSE")
    assert pbx.telephony.channels == {}
    client.close()


async def test_a_call_to_a_colleague_makes_both_phones_busy(pbx: SimulatedPbx) -> None:
    client = await RawClient.connect(pbx.port)
    await client.login()
    call = pbx.telephony.own_call("201", "202")
    seen = [await client.event("DeviceStateChange") for _ in range(3)]
    assert [(f.get("Device"), f.get("State")) for f in seen] == [
        ("PJSIP/201", "INUSE"),  # dialling
        ("PJSIP/202", "RINGING"),
        ("PJSIP/202", "INUSE"),  # answered
    ]
    pbx.telephony.end_own_call(call)
    seen = [await client.event("DeviceStateChange") for _ in range(2)]
    assert {(f.get("Device"), f.get("State")) for f in seen} == {
        ("PJSIP/201", "NOT_INUSE"),
        ("PJSIP/202", "NOT_INUSE"),
    }
    client.close()
