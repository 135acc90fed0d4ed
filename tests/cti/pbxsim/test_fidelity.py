"""The simulated PBX against the recordings: same events, same fields, same order.

Each recording's client actions are played against the simulator, each one sent once the
simulator has produced as many events as Asterisk had when the lab sent it. The two event
streams are then compared on event names, header names (in order) and the values that do not
vary between runs (channel names without their sequence numbers, states, contexts, dial
statuses, causes, user events). Uniqueids, timestamps and bridge ids are ignored.

Only the event classes the CTI's AMI user may read (asterisk-conf/manager.conf: system, call,
user, agent) are compared; dialplan tracing (Newexten, VarSet) and security events are not sent
to that user, so the simulator need not copy them step by step.

Calls are compared one by one (events grouped by Linkedid), since simultaneous calls interleave
as Asterisk's threads please, and so are the few events whose order differs between recordings
of the same step (see ``RACING`` and ``TEARDOWN``).

The replies to the actions are compared too (Response and Message), and so are the items of
EventList replies (CoreShowChannels, Status, BridgeList, BridgeInfo in 10, QueueStatus and
QueueSummary in 11): each list's items by name, header names in order and stable values, as a
set, since Asterisk lists from hash containers. ``OriginateResponse`` events (15: Reasons 0, 5
and 3) are compared apart, as a set. Recording 13's ``core restart now`` came from Asterisk's
CLI: it is played where the recording shows its first effect. In 16 the lab's FastAGI script
(agi-01's commands) is played by a small server here, and the ``agi`` class is read too so
that AGIExecStart/AGIExecEnd are compared. Logins and plain actions (01-03, 12) are checked in
test_ami_server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cti.ami.frames import Frame, FrameSplitter, encode_frame
from cti.pbxsim import SimulatedPbx
from cti.pbxsim.server import DEFAULT_READ

CAPTURES = Path(__file__).resolve().parents[4] / "shared" / "ami-captures"
# Noise of the lab that the CTI does not use: queue member status, the boot banner.
# OriginateResponse: its place next to DialEnd varies between recordings (04 vs 06), a race
# inside Asterisk, so it is left out of the ordering.
IGNORED = {
    "QueueMemberStatus",
    "FullyBooted",
    "MusicOnHoldStart",
    "MusicOnHoldStop",
    "OriginateResponse",
    # The recordings' lab rang no PJSIP phone (its agents answered in the dialplan), so it
    # had no device state to send; the simulator's phones follow asterisk-conf's (``phones``).
    "DeviceStateChange",
}
STABLE = (
    "ChannelState",
    "Context",
    "Exten",
    "CallerIDNum",
    "DialStatus",
    "Cause",
    "UserEvent",
    "Agent",
    "Service",
    "Queue",
    "Command",
    "ResultCode",
)
SCENARIOS = [
    "04-inbound-answered.jsonl",
    "05-no-answer-requeue.jsonl",
    "06-caller-abandons-while-waiting.jsonl",
    "09-withheld-callerid.jsonl",
    "10-coreshowchannels-and-status-midcall.jsonl",
    "11-queue-safety-net.jsonl",
    "17-caller-abandons-while-agent-ringing.jsonl",
    "07-blind-transfer.jsonl",
    "08-attended-transfer.jsonl",
    "14-two-simultaneous-calls.jsonl",
    "18-actions-on-dead-channel.jsonl",
    "13-asterisk-restart.jsonl",
    "15-originate-failure.jsonl",
    "16-agi-caller-hangup-mid-script.jsonl",
]
SAFETY_NETS = {"11-queue-safety-net.jsonl": 5.0}  # the lab's SAFETY_NET for that recording
# The FastAGI side of a recording: its script's commands are played by ``agi_script``.
AGI_SCRIPTS = {"16-agi-caller-hangup-mid-script.jsonl": "agi-01-caller-hangup-mid-script.jsonl"}
AGI_READ = DEFAULT_READ | {"agi"}  # the lab's user read all; AGI events are the point of 16
# Values of list items that do not vary between runs (times, counters and ids do).
ITEM_STABLE: tuple[str, ...] = (
    "Channel",
    "Context",
    "Exten",
    "ChannelState",
    "Queue",
    "Name",
    "Status",
)
ITEM_STABLE += ("Calls", "Callers", "LoggedIn", "Available", "Position", "BridgeNumChannels")
ITEM_STABLE += ("ListItems", "Items")

# Where an event names its call: transfers have no plain Linkedid. Bridge-only events
# (BridgeCreate/Destroy/Merge) name none and are compared among themselves.
CALL_KEYS: tuple[str, ...] = ("Linkedid", "DestLinkedid", "LocalOneLinkedid", "TransfererLinkedid")
CALL_KEYS += ("OrigTransfererLinkedid",)

Item = tuple[str, ...]


def _shape(frame: Frame) -> Item:
    name = frame.event or ""
    call = next((v for k in CALL_KEYS if (v := frame.get(k))), "")
    channel = frame.get("Channel") or frame.get("DestChannel") or ""
    values = [f"{k}={frame.get(k)}" for k in STABLE if frame.get(k) is not None]
    fields = ",".join(k for k, _ in frame.headers if k != "ActionID")
    return (call or "", name, _unnumbered(channel), *values, fields)


def _unnumbered(channel: str) -> str:
    return re.sub(r"-[0-9a-f]{8};", ";", channel)


def _wanted(frame: Frame, read: frozenset[str] = DEFAULT_READ) -> bool:
    if frame.event is None or frame.event in IGNORED:
        return False
    classes = set((frame.get("Privilege") or "").split(",")) - {"all"}
    return bool(classes & read)


def _item(frame: Frame) -> str:
    """An EventList item or terminator: name, header names, stable values."""
    values = [f"{k}={_unnumbered(v)}" for k in ITEM_STABLE if (v := frame.get(k)) is not None]
    fields = ",".join(k for k, _ in frame.headers)
    return "|".join([frame.event or "", fields, *values])


NAMES = ("Channel", "BridgeUniqueid")  # action headers naming what the stream showed


def _note_names(frame: Frame, seen: list[str]) -> None:
    """Channel names and bridge ids in order of first appearance (an OriginateResponse's
    Channel may be a dial string, and its place in the stream is a race)."""
    if frame.event == "OriginateResponse":
        return
    for key in NAMES:
        if (name := frame.get(key)) and name not in seen:
            seen.append(name)


def _originate_response(frame: Frame) -> Item:
    fields = ",".join(k for k, _ in frame.headers)
    values = [f"{k}={frame.get(k)}" for k in ("Response", "Reason", "CallerIDNum")]
    channel = frame.get("Channel") or ""
    return (frame.get("ActionID") or "", _unnumbered(channel), *values, fields)


Action = tuple[int, list[tuple[str, str]]]
# Response, Message (channel names without their numbers); for an EventList, its items too.
Reply = tuple[str, ...]
# Actions the simulator does not do (it answers them as unknown): replies not compared.
NOT_SIMULATED: set[str] = set()


# ``core restart now`` typed on Asterisk's CLI (recording 13): not on the AMI link, so played
# where the recording shows its first effect, the soft hangups with the shutdown flag (Cause 4).
RESTART: list[tuple[str, str]] = [("Cli", "core restart now")]


def _reply(frame: Frame) -> Reply:
    return (frame.response or "", _unnumbered(frame.get("Message") or ""))


class Replies:
    """The replies to our actions, each EventList with its items (a set) and terminator."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.lists: dict[str, int] = {}  # ActionID -> index of its reply, while listing

    def add(self, frame: Frame) -> None:
        aid = frame.get("ActionID") or ""
        if frame.event is None:
            if frame.get("EventList") == "start":
                self.lists[aid] = len(self.replies)
            self.replies.append(_reply(frame))
            return
        at = self.lists[aid]
        reply = self.replies[at]
        self.replies[at] = (*reply[:2], *sorted([*reply[2:], _item(frame)]))
        if frame.get("EventList") == "Complete":
            del self.lists[aid]

    def expects(self, frame: Frame) -> bool:
        """Whether ``frame`` is a reply or an item of a list being received."""
        return frame.event is None or (frame.get("ActionID") or "") in self.lists

    def __len__(self) -> int:
        return len(self.replies) - len(self.lists)  # a list counts once it is complete


def recorded(
    path: Path, read: frozenset[str] = DEFAULT_READ
) -> tuple[list[Item], list[Action], list[Reply], list[Item]]:
    """The recording's wanted events, its actions with how many events preceded each, the
    replies to those actions and its OriginateResponse events.

    Channel names in actions become ``#n``: the n-th channel the recording showed, so that
    the simulator's own channel (the n-th it shows) can be put in their place; bridge ids
    likewise.
    """
    events: list[Item] = []
    actions: list[Action] = []
    replies = Replies()
    originated: list[Item] = []
    seen: list[str] = []
    sent: set[str | None] = set()
    splitter = FrameSplitter()
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record.get("dir") == "client":
            for frame in FrameSplitter().feed(record["data"]):
                if frame.action not in ("Login", "Challenge", "Logoff"):
                    if frame.action not in NOT_SIMULATED:
                        sent.add(frame.get("ActionID"))
                    headers = [
                        (k, f"#{seen.index(v)}" if k in NAMES and v in seen else v)
                        for k, v in frame.headers
                    ]
                    actions.append((len(events), headers))
        elif record.get("dir") == "server":
            for frame in splitter.feed(record["data"]):
                _note_names(frame, seen)
                if frame.event == "SoftHangupRequest" and frame.get("Cause") == "4":
                    if RESTART not in (a for _, a in actions):
                        actions.append((len(events), RESTART))
                if frame.event == "OriginateResponse":
                    originated.append(_originate_response(frame))
                if _wanted(frame, read):
                    events.append(_shape(frame))
                elif frame.get("ActionID") in sent and replies.expects(frame):
                    replies.add(frame)
    return events, actions, replies.replies, sorted(originated)


@contextlib.asynccontextmanager
async def agi_script(name: str | None) -> AsyncIterator[tuple[str, int] | None]:
    """A FastAGI server sending a recording's commands, one per reply (None: no AGI)."""
    if name is None:
        yield None
        return
    records = [json.loads(line) for line in (CAPTURES / name).read_text().splitlines()]
    commands = [r["data"] for r in records if r["dir"] == "agi"]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readline() not in (b"\n", b""):  # the environment block
            pass
        for command in commands:
            writer.write(command.encode())
            while (line := await reader.readline()) and not line[:1].isdigit():
                pass  # the unsolicited HANGUP line comes before the reply
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[:2]


async def simulated(
    actions: list[Action],
    total: int,
    replied: int,
    safety_net: float = 10_000,
    agi: str | None = None,
    read: frozenset[str] = DEFAULT_READ,
) -> tuple[list[Item], list[Reply], list[Item]]:
    async with agi_script(agi) as address:
        return await _simulated(actions, total, replied, safety_net, address, read)


async def _simulated(
    actions: list[Action],
    total: int,
    replied: int,
    safety_net: float,
    agi_address: tuple[str, int] | None,
    read: frozenset[str],
) -> tuple[list[Item], list[Reply], list[Item]]:
    # Only recording 11 is about the safety net; in the others a slow machine must not reach it.
    pbx = SimulatedPbx(
        time_scale=0.02, auth_delay=0.0, safety_net=safety_net, agi_address=agi_address, read=read
    )
    await pbx.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", pbx.port)
    events: list[Item] = []
    replies = Replies()
    originated: list[Item] = []
    seen: list[str] = []  # the simulator's channels in order of first appearance
    splitter = FrameSplitter()
    restarted = False
    unanswered = {"login"}  # replies left out of the comparison

    async def read_until(count: int, replies_count: int = 0) -> None:
        while len(events) < count or len(replies) < replies_count:
            data = await asyncio.wait_for(reader.read(65536), 10)
            if not data:  # Asterisk closes the link once it said Shutdown, and only then
                assert restarted, "the simulated PBX closed the link"
                return
            for frame in splitter.feed(data.decode()):
                _note_names(frame, seen)
                if frame.event == "OriginateResponse":
                    originated.append(_originate_response(frame))
                if _wanted(frame, read):
                    events.append(_shape(frame))
                elif frame.get("ActionID") not in unanswered and replies.expects(frame):
                    replies.add(frame)

    try:
        await reader.readline()
        login = [("Action", "Login"), ("ActionID", "login"), ("Username", "cti")]
        writer.write(encode_frame([*login, ("Secret", "cti-secret")]))
        for before, action in actions:
            await read_until(before)
            if action == RESTART:
                restarted = True
                await pbx.restart()
                continue
            if dict(action).get("Action") in NOT_SIMULATED:
                unanswered.add(dict(action).get("ActionID", ""))
            writer.write(
                encode_frame(
                    (k, seen[int(v[1:])] if k in NAMES and v.startswith("#") else v)
                    for k, v in action
                )
            )
        await read_until(total, replied)
        await asyncio.sleep(0)  # nothing more may follow: checked by the length comparison
        return events, replies.replies, sorted(originated)
    finally:
        writer.close()
        await pbx.close()


# Events whose order Asterisk's threads decide: answering a Local pair gives Newstate ;1,
# Newstate ;2 and DialEnd in an order that differs between recordings (04 vs 09 vs 11).
RACING = {"Newstate", "DialEnd"}
# Tearing down a Local pair: which half sends its Hangup first varies between calls (the
# citizen's pair in 04 vs the second call of 14; see the captures' README). Within one pair's
# unbroken run of hangup events, only each half's own order counts.
TEARDOWN = {"SoftHangupRequest", "HangupRequest", "Hangup"}


def _pair(item: Item) -> str | None:
    return item[1].rsplit(";", 1)[0] if item[0] in TEARDOWN else None


def _teardowns_by_half(items: list[Item]) -> list[Item]:
    out: list[Item] = []
    run: list[Item] = []
    for item in items:
        if run and _pair(item) != _pair(run[0]):
            out += sorted(run, key=lambda i: i[1])  # stable: each half keeps its order
            run = []
        if _pair(item) is None:
            out.append(item)
        else:
            run.append(item)
    return out + sorted(run, key=lambda i: i[1])


def per_call(events: list[Item]) -> list[list[Item]]:
    """Each call's events in order (calls interleave freely), races put in a fixed order."""
    calls: dict[str, list[Item]] = {}
    for item in events:
        calls.setdefault(item[0], []).append(item[1:])
    out = []
    for items in calls.values():
        ordered: list[Item] = []
        run: list[Item] = []
        for item in items + [("",)]:
            if item[0] in RACING:
                run.append(item)
                continue
            ordered += sorted(run) + ([item] if item != ("",) else [])
            run = []
        out.append(_teardowns_by_half(ordered))
    return out


@pytest.mark.parametrize("name", SCENARIOS)
async def test_simulator_reproduces_the_recording(name: str) -> None:
    read = AGI_READ if name in AGI_SCRIPTS else DEFAULT_READ
    expected, actions, replies, originated = recorded(CAPTURES / name, read)
    got, got_replies, got_originated = await simulated(
        actions,
        len(expected),
        len(replies),
        SAFETY_NETS.get(name, 10_000),
        AGI_SCRIPTS.get(name),
        read,
    )
    assert per_call(got[: len(expected)]) == per_call(expected)
    assert got_replies == replies
    assert got_originated == originated


async def _frames_until_closed(reader: asyncio.StreamReader) -> list[Frame]:
    frames: list[Frame] = []
    splitter = FrameSplitter()
    while data := await asyncio.wait_for(reader.read(65536), 10):
        frames += splitter.feed(data.decode())
    return frames


async def test_after_a_restart_the_link_closes_and_a_fresh_asterisk_answers() -> None:
    """13 then 13b: ``Shutdown`` is the last thing said before the close (no Goodbye); the next
    login's FullyBooted is as recorded with ``Uptime: 0``, and Uniqueids count from 0 again."""
    splitter = FrameSplitter()
    recorded_13b = [
        frame
        for line in (CAPTURES / "13b-reconnect-after-restart.jsonl").read_text().splitlines()
        if (record := json.loads(line))["dir"] == "server"
        for frame in splitter.feed(record["data"])
    ]
    booted = next(f for f in recorded_13b if f.event == "FullyBooted")
    pbx = SimulatedPbx(time_scale=0.02, auth_delay=0.0, safety_net=10_000)
    await pbx.start()
    login = encode_frame([("Action", "Login"), ("Username", "cti"), ("Secret", "cti-secret")])
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", pbx.port)
        await reader.readline()
        writer.write(login)
        assert b"FullyBooted" in await reader.readuntil(b"Status: Fully Booted\r\n\r\n")
        pbx.place_call("0688990011", "Fournier")
        await pbx.restart()
        before = await _frames_until_closed(reader)
        assert before[-1].headers == [
            ("Event", "Shutdown"),
            ("Privilege", "system,all"),
            ("Shutdown", "Cleanly"),
            ("Restart", "True"),
        ]
        writer.close()

        reader, writer = await asyncio.open_connection("127.0.0.1", pbx.port)
        assert await reader.readline() == b"Asterisk Call Manager/11.0.0\r\n"
        writer.write(login)
        splitter = FrameSplitter()
        data = await reader.readuntil(b"Status: Fully Booted\r\n\r\n")
        again = next(f for f in splitter.feed(data.decode()) if f.event == "FullyBooted")
        assert again.headers == booted.headers  # Uptime: 0, LastReload: 0
        pbx.place_call("0688990011", "Fournier")
        frames: list[Frame] = []
        while not any(f.event == "Newchannel" for f in frames):
            frames += splitter.feed((await asyncio.wait_for(reader.read(65536), 10)).decode())
        first = next(f for f in frames if f.event == "Newchannel")
        assert (first.get("Uniqueid") or "").endswith(".0")
        writer.close()
    finally:
        await pbx.close()
