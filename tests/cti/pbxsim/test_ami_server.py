"""The simulated PBX's AMI server, spoken to over TCP by a bare client: texts as recorded."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Callable

import pytest

from cti.ami.frames import Frame, FrameSplitter, encode_frame
from cti.pbxsim import SimulatedPbx
from cti.pbxsim.pbx import AgentPhone, SimCall
from tests.cti.pbxsim.backlog import pour_until_dropped


class RawClient:
    """Just enough AMI to talk to a server by hand."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.splitter = FrameSplitter()
        self.frames: list[Frame] = []
        self.banner = ""
        self.seq = 0

    @classmethod
    async def connect(cls, port: int) -> RawClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer)
        client.banner = (await reader.readline()).decode()
        return client

    async def next_frame(self, predicate=lambda f: True) -> Frame:  # type: ignore[no-untyped-def]
        while True:
            for i, frame in enumerate(self.frames):
                if predicate(frame):
                    del self.frames[: i + 1]
                    return frame
            data = await asyncio.wait_for(self.reader.read(65536), 5)
            if not data:
                raise ConnectionError("closed")
            self.frames.extend(self.splitter.feed(data.decode()))

    async def action(self, name: str, **headers: str) -> Frame:
        self.seq += 1
        aid = f"t-{self.seq}"
        self.writer.write(encode_frame([("Action", name), ("ActionID", aid), *headers.items()]))
        return await self.next_frame(lambda f: f.response is not None and f.get("ActionID") == aid)

    async def event(self, name: str) -> Frame:
        return await self.next_frame(lambda f: f.event == name)

    async def login(self, secret: str = "cti-secret", events: str = "on") -> Frame:
        challenge = (await self.action("Challenge", AuthType="MD5")).get("Challenge") or ""
        key = hashlib.md5((challenge + secret).encode()).hexdigest()
        return await self.action("Login", AuthType="MD5", Username="cti", Key=key, Events=events)

    def close(self) -> None:
        self.writer.close()


@pytest.fixture
async def pbx() -> AsyncIterator[SimulatedPbx]:
    sim = SimulatedPbx(time_scale=0.01, auth_delay=0.05, safety_net=10_000)
    await sim.start()
    yield sim
    await sim.close()


async def test_banner_and_md5_login(pbx: SimulatedPbx) -> None:
    client = await RawClient.connect(pbx.port)
    assert client.banner == "Asterisk Call Manager/11.0.0\r\n"
    reply = await client.login()
    assert (reply.response, reply.get("Message")) == ("Success", "Authentication accepted")
    booted = await client.event("FullyBooted")
    assert booted.get("Status") == "Fully Booted"
    client.close()


async def test_plain_login_and_permission_denied_before_it(pbx: SimulatedPbx) -> None:
    client = await RawClient.connect(pbx.port)
    denied = await client.action("Ping")
    assert (denied.response, denied.get("Message")) == ("Error", "Permission denied")
    reply = await client.action("Login", Username="cti", Secret="cti-secret")
    assert reply.get("Message") == "Authentication accepted"
    client.close()


async def test_bad_secret_is_refused_then_the_socket_closes(pbx: SimulatedPbx) -> None:
    client = await RawClient.connect(pbx.port)
    reply = await client.login(secret="wrong")
    assert (reply.response, reply.get("Message")) == ("Error", "Authentication failed")
    with pytest.raises(ConnectionError):
        await client.next_frame()
    client.close()
    assert pbx.logins == 0


async def _read_until(reader: asyncio.StreamReader, marker: bytes) -> tuple[int, bool]:
    """Bytes read up to ``marker`` or to the end of the stream, and whether it came."""
    total, tail = 0, b""
    while data := await reader.read(65536):
        total += len(data)
        if marker in tail + data:
            return total, True
        tail = data[-len(marker) :]
    return total, False


async def test_a_client_that_stops_reading_is_dropped_as_asterisk_does(
    pbx: SimulatedPbx, caplog: pytest.LogCaptureFixture
) -> None:
    stalled, reading = await RawClient.connect(pbx.port), await RawClient.connect(pbx.port)
    await stalled.login()
    await reading.login()
    await stalled.event("FullyBooted")
    await reading.event("FullyBooted")
    read = asyncio.create_task(_read_until(reading.reader, b"UserEvent: Done"))
    with caplog.at_level(logging.WARNING, logger="cti.pbxsim.server"):
        sent = await asyncio.wait_for(pour_until_dropped(pbx), 60)
    assert len(pbx.ami.sessions) == 1  # the reading client keeps its session
    pbx.ami.emit([("Event", "UserEvent"), ("Privilege", "user,all"), ("UserEvent", "Done")])
    total, done = await asyncio.wait_for(read, 30)
    assert done and total > sent * 1000  # every event, then Done

    # The stalled client finds what the kernel held for it, then the end of the stream.
    with contextlib.suppress(ConnectionResetError):  # or a reset: it had not read its input
        _, done = await asyncio.wait_for(_read_until(stalled.reader, b"UserEvent: Done"), 30)
        assert not done and stalled.reader.at_eof()
    [warning] = [r.getMessage() for r in caplog.records if "stopped reading" in r.getMessage()]
    assert "manager.conf writetimeout" in warning and "Manager 'cti' logged off" in warning
    stalled.close()
    reading.close()


async def test_getvar_setvar_command_and_errors(pbx: SimulatedPbx) -> None:
    client = await RawClient.connect(pbx.port)
    await client.login()
    assert (await client.action("Setvar", Variable="CTI_ROUTER_STATE", Value="up")).get(
        "Message"
    ) == "Variable Set"
    got = await client.action("Getvar", Variable="CTI_ROUTER_STATE")
    assert (got.get("Variable"), got.get("Value")) == ("CTI_ROUTER_STATE", "up")
    assert (await client.action("Getvar", Variable="DOES_NOT_EXIST")).get("Value") == ""
    missing = await client.action("Getvar", Channel="Local/nope-00000000;2", Variable="X")
    assert missing.get("Message") == "No such channel"
    redirect = await client.action(
        "Redirect", Channel="Local/x;2", Context="cti-connect", Exten="s"
    )
    assert redirect.get("Message") == "Channel does not exist: Local/x;2"
    version = await client.action("Command", Command="core show version")
    assert (version.get("Output") or "").startswith("Asterisk 22")
    bad = await client.action("Command", Command="no such cli command")
    assert bad.response == "Error" and "No such command" in (bad.get("Output") or "")
    unknown = await client.action("NoSuchAction")
    assert unknown.get("Message") == (
        "Invalid/unknown command: NoSuchAction. Use Action: ListCommands to show available "
        "commands."
    )
    bye = await client.action("Logoff")
    assert bye.response == "Goodbye"
    client.close()


async def test_event_masks_filter_by_class(pbx: SimulatedPbx) -> None:
    client = await RawClient.connect(pbx.port)
    await client.login(events="user")
    await client.action("UserEvent", UserEvent="CtiRouterHeartbeat", Router="lab")
    pbx.place_call("0612345678", "Dupont", talk=None)
    frame = await client.next_frame(lambda f: f.event is not None and f.event != "FullyBooted")
    # call-class events (Newchannel...) are masked out: the first event is a UserEvent.
    assert (frame.event, frame.get("UserEvent")) == ("UserEvent", "CtiRouterHeartbeat")
    off = await client.action("Events", EventMask="off")
    assert off.get("Events") == "Off"
    client.close()


async def test_mid_call_listing_status_and_routing(pbx: SimulatedPbx) -> None:
    pbx.telephony.agents["201"] = AgentPhone(ring=0.5, talk=1000)
    client = await RawClient.connect(pbx.port)
    await client.login()
    originate = await client.action(
        "Originate",
        Channel="Local/0140000000@from-pstn",
        Context="citizen",
        Exten="talk",
        Priority="1",
        CallerID='"Roux" <0655667788>',
        Variable="TALK=1000",
        Async="true",
    )
    assert originate.get("Message") == "Originate successfully queued"
    waiting = await client.next_frame(lambda f: f.get("UserEvent") == "CtiWaiting")
    leg = waiting.get("Channel") or ""
    assert leg.endswith(";2") and waiting.get("Context") == "cti-wait"
    assert (await client.action("Setvar", Channel=leg, Variable="AGENT", Value="201")).get(
        "Message"
    ) == "Variable Set"
    redirect = await client.action(
        "Redirect", Channel=leg, Context="cti-connect", Exten="s", Priority="1"
    )
    assert redirect.get("Message") == "Redirect successful"
    await client.next_frame(lambda f: f.event == "BridgeEnter" and f.get("Channel") == leg)

    listing = await client.action("CoreShowChannels")
    assert (listing.get("EventList"), listing.get("Message")) == ("start", "Channels will follow")
    items = []
    while (frame := await client.next_frame(lambda f: f.event is not None)).event != (
        "CoreShowChannelsComplete"
    ):
        items.append(frame)
    assert frame.get("ListItems") == str(len(items)) == "4"
    mine = next(f for f in items if f.get("Channel") == leg)
    assert (mine.get("Context"), mine.get("BridgeId") != "") == ("cti-connect", True), mine.headers
    got = await client.action("Getvar", Channel=leg, Variable="AGENT")
    assert got.get("Value") == "201"
    status = await client.action("Status", Channel=leg, Variables="AGENT,CTI_DID")
    assert status.get("EventList") == "start"
    item = await client.event("Status")
    assert item.get_all("Variable") == ["AGENT=201", "CTI_DID=0140000000"]
    hangup = await client.action("Hangup", Channel=leg)
    assert hangup.response == "Success"
    await client.next_frame(lambda f: f.event == "Hangup" and f.get("Channel") == leg)
    client.close()


async def test_originate_on_an_unknown_route_fails_like_asterisk(pbx: SimulatedPbx) -> None:
    client = await RawClient.connect(pbx.port)
    await client.login()
    sync = await client.action("Originate", Channel="Local/999@nowhere", Application="Wait")
    assert sync.get("Message") == "Originate failed"
    queued = await client.action(
        "Originate", Channel="Local/999@nowhere", Application="Wait", Async="true"
    )
    assert queued.response == "Success"
    failure = await client.event("OriginateResponse")
    assert (failure.get("Response"), failure.get("Reason")) == ("Failure", "0")
    needs = await client.action("Originate", Channel="Local/201@agents", Exten="201")
    assert needs.get("Message") == "Originate with 'Exten' requires 'Context' and 'Priority'"
    client.close()


# Transfers where no recording says what Asterisk does (the colleague busy or not answering,
# actions refused); the recorded paths (07, 08) are compared in test_fidelity.


async def connected_to_204(pbx: SimulatedPbx) -> tuple[RawClient, SimCall]:
    pbx.telephony.agents["204"] = AgentPhone(ring=1, talk=10_000)  # no race with the test
    client = await RawClient.connect(pbx.port)
    await client.login()
    call = pbx.place_call("0622334455", "Moreau", talk=None)
    await client.next_frame(lambda f: f.get("UserEvent") == "CtiWaiting")
    await client.action("Setvar", Channel=call.channel, Variable="AGENT", Value="204")
    await client.action("Redirect", Channel=call.channel, Context="cti-connect", Exten="s")
    await client.next_frame(lambda f: f.event == "BridgeEnter" and f.get("Channel") == call.channel)
    return client, call


def _is(name: str, **values: str) -> Callable[[Frame], bool]:
    return lambda f: f.event == name and all(f.get(k) == v for k, v in values.items())


async def test_atxfer_to_a_colleague_who_does_not_answer_gives_the_citizen_back(
    pbx: SimulatedPbx,
) -> None:
    client, call = await connected_to_204(pbx)
    assert call.agent_legs is not None
    agent = call.agent_legs[0]
    reply = await client.action("Atxfer", Channel=agent.name, Context="agents", Exten="202")
    assert reply.get("Message") == "Atxfer successfully queued"
    await client.next_frame(_is("Hold", Channel=agent.name))
    await client.next_frame(_is("DialState", DialStatus="RINGING"))
    await client.next_frame(_is("DialEnd", DialStatus="NOANSWER"))  # features.conf: 15 s
    back: Frame = await client.next_frame(_is("BridgeEnter", Channel=agent.name))
    assert back.get("BridgeUniqueid") == call.leg.bridge
    await client.next_frame(_is("Unhold", Channel=agent.name))
    assert call.agent == "204" and call.stage == "connected"
    assert not any("@agents" in name and "202" in name for name in pbx.telephony.channels)
    pbx.hangup_call(call)
    await client.next_frame(_is("Hangup", Channel=agent.name))
    await call.ended.wait()
    assert pbx.telephony.channels == {}
    client.close()


async def test_blind_transfer_to_a_busy_colleague_drops_the_agent_and_waits_again(
    pbx: SimulatedPbx,
) -> None:
    client, call = await connected_to_204(pbx)
    assert call.agent_legs is not None
    a1, a2 = call.agent_legs
    reply = await client.action("BlindTransfer", Channel=a1.name, Context="transfer", Exten="203")
    assert reply.get("Message") == "Transfer succeeded"
    await client.next_frame(_is("Hangup", Channel=a2.name))
    await client.next_frame(_is("DialEnd", DialStatus="BUSY"))
    waiting = await client.next_frame(_is("UserEvent", UserEvent="CtiWaiting"))
    assert waiting.get("Channel") == call.channel
    assert not a1.alive and not a2.alive and call.stage == "waiting"
    client.close()


async def test_transfer_actions_refused_or_ignored_as_asterisk_does(pbx: SimulatedPbx) -> None:
    client, call = await connected_to_204(pbx)
    assert call.agent_legs is not None
    agent = call.agent_legs[0].name
    no_exten = await client.action("Atxfer", Channel=agent, Context="agents")
    assert no_exten.get("Message") == "No extension specified"
    no_channel = await client.action("BlindTransfer", Context="transfer", Exten="205")
    assert no_channel.get("Message") == "No channel specified"
    # The citizen's leg is not an agent's: the DTMF is queued but goes nowhere.
    queued = await client.action("Atxfer", Channel=call.channel, Context="agents", Exten="206")
    assert queued.get("Message") == "Atxfer successfully queued"
    refused = await client.action(
        "BlindTransfer", Channel=call.channel, Context="transfer", Exten="205"
    )
    assert refused.get("Message") == "Transfer failed"
    assert call.agent == "204" and call.attended_to is None
    client.close()


async def test_demo_agents_pass_some_calls_on_to_a_colleague(pbx: SimulatedPbx) -> None:
    pbx.telephony.agents = {
        "204": AgentPhone(ring=1, talk=1, transfer_ratio=1.0),
        "205": AgentPhone(ring=1, talk=10_000),
    }
    client = await RawClient.connect(pbx.port)
    await client.login()
    call = pbx.place_call("0622334455", "Moreau", talk=None)
    await client.next_frame(lambda f: f.get("UserEvent") == "CtiWaiting")
    await client.action("Setvar", Channel=call.channel, Variable="AGENT", Value="204")
    await client.action("Redirect", Channel=call.channel, Context="cti-connect", Exten="s")
    transfer = await client.event("BlindTransfer")
    assert (transfer.get("Context"), transfer.get("Extension")) == ("transfer", "205")
    await client.next_frame(lambda f: f.event == "DialEnd" and f.get("DialStatus") == "ANSWER")
    assert call.agent == "205"
    client.close()


# EventLists and Originates beyond what recordings 10, 11 and 15 show (those are compared in
# test_fidelity): the errors, another queue's empty list, the counters after a queue call.


async def _listing(client: RawClient, action: str, **headers: str) -> tuple[Frame, list[Frame]]:
    reply = await client.action(action, **headers)
    items: list[Frame] = []
    while reply.get("EventList") == "start":
        frame = await client.next_frame(lambda f: f.event is not None and f.get("ActionID"))
        if frame.get("EventList") == "Complete":
            return reply, [*items, frame]
        items.append(frame)
    return reply, items


async def test_bridge_and_queue_listings_answer_errors_and_empty_lists(pbx: SimulatedPbx) -> None:
    client = await RawClient.connect(pbx.port)
    await client.login()
    reply, items = await _listing(client, "BridgeList")
    assert reply.get("Message") == "Bridge listing will follow"
    assert [(f.event, f.get("ListItems")) for f in items] == [("BridgeListComplete", "0")]
    missing = await client.action("BridgeInfo")
    assert (missing.response, missing.get("Message")) == (
        "Error",
        "BridgeUniqueid must be provided",
    )
    unknown = await client.action("BridgeInfo", BridgeUniqueid="nope")
    assert unknown.get("Message") == "Bridge nope not found"
    _, items = await _listing(client, "QueueStatus", Queue="other")
    assert [(f.event, f.get("ListItems")) for f in items] == [("QueueStatusComplete", "0")]
    client.close()


async def test_queue_counters_after_a_call_the_safety_net_put_through() -> None:
    sim = SimulatedPbx(
        time_scale=0.01,
        auth_delay=0.0,
        safety_net=1,
        agents={"201": AgentPhone(ring=1, talk=2), "202": AgentPhone(answers=False)},
    )
    await sim.start()
    try:
        client = await RawClient.connect(sim.port)
        await client.login()
        call = sim.place_call("0677889900", "Girard", talk=1000)
        await client.event("AgentComplete")
        _, items = await _listing(client, "QueueStatus", Queue="accueil")
        params = next(f for f in items if f.event == "QueueParams")
        assert (params.get("Calls"), params.get("Completed"), params.get("Abandoned")) == (
            "0",
            "1",
            "0",
        )
        marie = next(f for f in items if f.get("Name") == "Agent Marie")
        assert marie.get("CallsTaken") == "1" and marie.get("LastCall") != "0"
        _, summary = await _listing(client, "QueueSummary")
        assert (summary[0].get("Callers"), summary[0].get("LoggedIn")) == ("0", "2")
        await asyncio.wait_for(call.ended.wait(), 10)
        client.close()
    finally:
        await sim.close()


async def test_originate_to_agents_phones_busy_sync_and_answered(pbx: SimulatedPbx) -> None:
    pbx.telephony.agents["201"] = AgentPhone(ring=0.5, talk=100)
    client = await RawClient.connect(pbx.port)
    await client.login()
    busy = await client.action("Originate", Channel="Local/203@agents", Application="Wait")
    assert (busy.response, busy.get("Message")) == ("Error", "Originate failed")
    await client.next_frame(lambda f: f.event == "Hangup" and f.get("Cause") == "17")
    queued = await client.action(
        "Originate", Channel="Local/201@agents", Application="Wait", Data="1", Async="true"
    )
    assert queued.get("Message") == "Originate successfully queued"
    answered = await client.event("OriginateResponse")
    assert (answered.get("Response"), answered.get("Reason")) == ("Success", "4")
    assert (answered.get("Channel") or "").startswith("Local/201@agents-")
    await client.next_frame(
        lambda f: f.event == "Hangup" and f.get("Channel") == answered.get("Channel")
    )
    client.close()


async def test_held_events_let_a_refusal_overtake_the_hangup_as_stasis_does(
    pbx: SimulatedPbx,
) -> None:
    """Issue 23: a real Asterisk answers « No such channel » as soon as ``ast_hangup`` took
    the channel away; its Hangup event follows through stasis, later under load."""
    client = await RawClient.connect(pbx.port)
    await client.login()
    call = pbx.place_call("0612345678", "Dupont", talk=None)
    await client.event("UserEvent")  # CtiCallerId: the call is in
    pbx.hold_events()
    pbx.hangup_call(call)
    await call.ended.wait()
    refused = await client.action("Setvar", Channel=call.channel, Variable="AGENT", Value="201")
    assert (refused.response, refused.get("Message")) == ("Error", "No such channel")
    assert not any(f.event == "Hangup" for f in client.frames)  # not told yet
    pbx.release_events()
    leg = call.channel
    hangup = await client.next_frame(lambda f: f.event == "Hangup" and f.get("Channel") == leg)
    assert hangup.get("Cause") == "16"
    client.close()
