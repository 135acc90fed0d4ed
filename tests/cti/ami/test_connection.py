"""The AMI connection against a real TCP server that answers as the recordings show."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from recorded_asterisk import RecordedAsterisk

from cti.ami.connection import AmiConnection, AmiParams
from cti.ami.errors import AmiActionError, AmiTimeout
from cti.ami.events import DeviceStateChanged, ListedChannel
from cti.ami.frames import FrameSplitter, encode_frame
from cti.replay import read_server_chunks

CAPTURES = Path(__file__).resolve().parents[4] / "shared" / "ami-captures"


class Recorder:
    """What the connection hands to the service, in order."""

    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []
        self.changed = asyncio.Event()

    def on_event(self, headers: Mapping[str, Any], at: float) -> None:
        self.log.append(("event", headers.get("Event")))
        self.changed.set()

    def on_resync(self, channels: list[ListedChannel], at: float) -> None:
        self.log.append(("resync", channels))
        self.changed.set()

    def on_devices(self, devices: list[DeviceStateChanged], at: float) -> None:
        self.log.append(("devices", devices))
        self.changed.set()

    def on_state(self, state: str) -> None:
        self.log.append(("state", state))
        self.changed.set()

    def events(self) -> list[str]:
        return [v for k, v in self.log if k == "event"]

    def states(self) -> list[str]:
        return [v for k, v in self.log if k == "state"]

    async def until(self, predicate: Any, timeout: float = 10.0) -> None:
        async def wait() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), timeout)


def params(server: RecordedAsterisk, **overrides: Any) -> AmiParams:
    base: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.port,
        "username": "cti",
        "secret": "cti-secret",
        "ping_interval": 30.0,
        "action_timeout": 5.0,
        "reconnect_min": 0.05,
        "reconnect_max": 0.2,
        "auth_retry_delay": 0.3,
    }
    base.update(overrides)
    return AmiParams(**base)


@pytest.fixture
async def server() -> AsyncIterator[RecordedAsterisk]:
    srv = RecordedAsterisk()
    await srv.start()
    yield srv
    await srv.stop()


async def connect(server: RecordedAsterisk, **overrides: Any) -> tuple[AmiConnection, Recorder]:
    rec = Recorder()
    conn = AmiConnection(
        params(server, **overrides),
        rec.on_event,
        rec.on_resync,
        rec.on_state,
        on_devices=rec.on_devices,
    )
    conn.start()
    return conn, rec


def recorded_listing() -> list[list[tuple[str, str]]]:
    """The CoreShowChannel items of recording 10 (mid-call), headers in their order."""
    items = []
    splitter = FrameSplitter()
    for _, data in read_server_chunks(CAPTURES / "10-coreshowchannels-and-status-midcall.jsonl"):
        for frame in splitter.feed(data):
            if frame.event == "CoreShowChannel":
                items.append([(k, v) for k, v in frame.headers if k not in ("Event", "ActionID")])
            elif frame.event == "CoreShowChannelsComplete":
                return items
    raise AssertionError("no listing in recording 10")


async def test_md5_login_resync_then_ready(server: RecordedAsterisk) -> None:
    server.channels = recorded_listing()
    caller = "Local/0140000000@from-pstn-00000016;2"
    server.variables[(caller, "CTI_IVR_CHOICE")] = "etat-civil"
    server.variables[(caller, "AGENT")] = "206"
    conn, rec = await connect(server)
    try:
        await conn.wait_ready(10)
        assert server.actions[:2] == ["Challenge", "Login"]
        assert rec.states() == ["connecting", "authenticating", "resyncing", "ready"]
        listed = next(v for k, v in rec.log if k == "resync")
        assert [c.chan.channel for c in listed] == [dict(c)["Channel"] for c in server.channels]
        by_name = {c.chan.channel: c for c in listed}
        assert by_name[caller].variables == {"CTI_IVR_CHOICE": "etat-civil", "AGENT": "206"}
        assert by_name["Local/206@agents-00000017;2"].variables == {}  # agents: not read
    finally:
        await conn.close()


async def test_the_phones_states_are_read_before_the_link_is_ready(
    server: RecordedAsterisk,
) -> None:
    """Issue 18: an agent talking on a call no citizen's channel shows (one she placed, a
    colleague's) is known busy from her phone's state, read before the link is ready."""
    server.devices = [("PJSIP/201", "INUSE"), ("PJSIP/202", "NOT_INUSE"), ("Queue:accueil", "")]
    conn, rec = await connect(server)
    try:
        await conn.wait_ready(10)
        assert server.actions[2:] == ["CoreShowChannels", "DeviceStateList"]
        kinds = [k for k, v in rec.log if k in ("resync", "devices") or v == "ready"]
        assert kinds == ["resync", "devices", "state"]  # before "ready", after the channels
        devices = next(v for k, v in rec.log if k == "devices")
        assert devices == [
            DeviceStateChanged("PJSIP/201", "INUSE"),
            DeviceStateChanged("PJSIP/202", "NOT_INUSE"),
            DeviceStateChanged("Queue:accueil", ""),
        ]
    finally:
        await conn.close()


async def test_an_asterisk_that_cannot_list_the_phones_is_said_and_the_link_is_ready(
    server: RecordedAsterisk, caplog: pytest.LogCaptureFixture
) -> None:
    """Without res_manager_devicestate the action is unknown: one warning, then ready (a
    refused list action must not hang until the action times out)."""
    caplog.set_level(logging.WARNING, logger="cti.ami")
    conn, rec = await connect(server, action_timeout=30.0)
    try:
        await conn.wait_ready(10)
        assert "devices" not in [k for k, _ in rec.log]
        assert any("res_manager_devicestate" in r.getMessage() for r in caplog.records)
    finally:
        await conn.close()


async def test_the_log_says_when_the_link_is_up_and_when_it_is_back(
    server: RecordedAsterisk, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 18, defect 5: the log said when the link went down, never that it was back."""
    caplog.set_level(logging.INFO, logger="cti.ami")
    server.devices = [("PJSIP/201", "INUSE")]
    where = f"127.0.0.1:{server.port}"
    conn, rec = await connect(server)
    try:
        await conn.wait_ready(10)
        said = [r for r in caplog.records if r.levelno == logging.INFO]
        assert [r.getMessage().startswith(f"AMI link to {where} up") for r in said] == [True]
        await server.stop()
        await rec.until(lambda: "disconnected" in rec.states())
        await server.start()  # same port
        await rec.until(lambda: rec.states().count("ready") == 2)
        said = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
        assert len(said) == 2 and said[1].startswith(f"AMI link to {where} back"), said
        assert said[1].endswith("0 channels and 1 phone states read")
    finally:
        await conn.close()


async def test_plain_login_when_md5_is_not_offered(server: RecordedAsterisk) -> None:
    server.offer_md5 = False
    conn, _ = await connect(server)
    try:
        await conn.wait_ready(10)
        assert server.logins == 1
    finally:
        await conn.close()


async def test_events_during_resync_are_held_and_delivered_after_it(
    server: RecordedAsterisk,
) -> None:
    server.after_login = encode_frame(
        [("Event", "Newchannel"), ("Channel", "PJSIP/trunk-1"), ("Uniqueid", "1.1")]
    )
    conn, rec = await connect(server)
    try:
        await conn.wait_ready(10)
        await rec.until(lambda: "Newchannel" in rec.events())
        kinds = [k for k, v in rec.log if k != "state"]
        # FullyBooted and Newchannel came before the CoreShowChannels answer, yet after resync.
        assert kinds == ["resync", "event", "event"]
        assert rec.events() == ["FullyBooted", "Newchannel"]
    finally:
        await conn.close()


async def test_the_callers_variables_are_asked_many_at_once(server: RecordedAsterisk) -> None:
    # Issue 18: one Getvar per round trip made a resync with thousands of waiting callers
    # last minutes, every event meanwhile held in memory. This server answers Getvars only
    # by the hundred: a connection that waits for each answer never finishes its resync.
    callers = [f"PJSIP/trunk-{n:04d}" for n in range(30)]
    server.channels = [
        [
            ("Channel", name),
            ("Uniqueid", f"1.{n}"),
            ("Linkedid", f"1.{n}"),
            ("Context", "cti-wait"),
            ("ChannelState", "6"),
        ]
        for n, name in enumerate(callers)
    ]
    for n, name in enumerate(callers):
        server.variables[(name, "CTI_IVR_CHOICE")] = f"service-{n}"
    server.getvars_together = 100
    conn, rec = await connect(server, action_timeout=30.0)
    try:
        await conn.wait_ready(20)
        listed = next(v for k, v in rec.log if k == "resync")
        assert {c.chan.channel: c.variables for c in listed} == {
            name: {"CTI_IVR_CHOICE": f"service-{n}"} for n, name in enumerate(callers)
        }
    finally:
        await conn.close()


async def test_a_link_lost_while_the_variables_are_asked_comes_back(
    server: RecordedAsterisk,
) -> None:
    callers = [f"PJSIP/trunk-{n:04d}" for n in range(30)]
    server.channels = [
        [("Channel", name), ("Uniqueid", f"1.{n}"), ("Linkedid", f"1.{n}"), ("Context", "cti-wait")]
        for n, name in enumerate(callers)
    ]
    server.getvars_together = 10_000  # never answered: the link drops mid-resync
    conn, rec = await connect(server, action_timeout=30.0)
    try:

        async def all_asked() -> None:  # the server's side: no event to wait on
            while server.actions.count("Getvar") < 300:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(all_asked(), 10)
        server.getvars_together = 0
        server.drop()
        await rec.until(lambda: rec.states().count("ready") == 1)
        assert server.logins == 2
        assert rec.states().count("resyncing") == 2
    finally:
        await conn.close()


async def test_wrong_secret_is_a_clear_error_and_a_slow_retry(
    server: RecordedAsterisk, caplog: pytest.LogCaptureFixture
) -> None:
    conn, rec = await connect(server, secret="wrong", auth_retry_delay=0.5)
    loop = asyncio.get_running_loop()
    try:
        await rec.until(lambda: "auth_failed" in rec.states())
        first = loop.time()
        await rec.until(lambda: server.login_attempts >= 2)
        assert loop.time() - first >= 0.45  # waited the retry delay, no tight loop
        assert conn.state in ("auth_failed", "connecting", "authenticating")
        assert "127.0.0.1" in conn.last_error and "'cti'" in conn.last_error
        assert "Authentication failed" in conn.last_error
        assert any("refused AMI user 'cti'" in r.message for r in caplog.records)
    finally:
        await conn.close()


async def test_server_restart_gives_exactly_one_reconnect(server: RecordedAsterisk) -> None:
    conn, rec = await connect(server)
    try:
        await conn.wait_ready(10)
        await server.stop()
        await rec.until(lambda: "disconnected" in rec.states())
        await server.start()  # same port
        await rec.until(lambda: rec.states().count("ready") == 2)
        assert conn.reconnects == 1
        assert [k for k, _ in rec.log].count("resync") == 2
    finally:
        await conn.close()


async def test_shutdown_event_drops_the_link_and_reconnects(server: RecordedAsterisk) -> None:
    conn, rec = await connect(server)
    try:
        await conn.wait_ready(10)
        await server.push(
            encode_frame(
                [
                    ("Event", "Shutdown"),
                    ("Privilege", "system,all"),
                    ("Shutdown", "Cleanly"),
                    ("Restart", "True"),
                ]
            )
        )
        await rec.until(lambda: rec.states().count("ready") == 2)
        assert "Shutdown" in rec.events()
        assert conn.reconnects == 1
    finally:
        await conn.close()


@pytest.mark.parametrize(
    "bad, why",
    [
        (b"this is not AMI at all\r\n\r\n", "neither Event nor Response"),
        (b"Foo: bar\r\nBaz: qux\r\n\r\n", "neither Event nor Response"),
        (b"Event: Newchannel\r\nCallerIDName: Andr\xe9 \xff\r\nUniqueid: 9.9\r\n\r\n", "UTF-8"),
        (b"Event: UserEvent\r\nData: " + b"x" * 1_000_000 + b"\r\n\r\n", "larger than the limit"),
    ],
    ids=["garbage", "no-event-no-response", "not-utf8", "1MB-field"],
)
async def test_bad_input_is_logged_skipped_and_the_link_goes_on(
    server: RecordedAsterisk, caplog: pytest.LogCaptureFixture, bad: bytes, why: str
) -> None:
    conn, rec = await connect(server)
    caplog.set_level(logging.WARNING, logger="cti.ami")
    try:
        await conn.wait_ready(10)
        await server.push(bad + encode_frame([("Event", "Hangup"), ("Uniqueid", "1.2")]))
        await rec.until(lambda: "Hangup" in rec.events())
        assert any(why in r.getMessage() for r in caplog.records), why
        assert all(len(r.getMessage()) < 400 for r in caplog.records)  # truncated in the log
        assert conn.state == "ready" and conn.reconnects == 0
    finally:
        await conn.close()


async def test_invalid_utf8_is_replaced_not_dropped(server: RecordedAsterisk) -> None:
    names: list[str] = []
    conn = AmiConnection(params(server), lambda h, at: names.append(h.get("CallerIDName", "")))
    conn.start()
    try:
        await conn.wait_ready(10)
        await server.push(b"Event: Newchannel\r\nCallerIDName: Andr\xe9\r\n\r\n")
        await server.push(encode_frame([("Event", "Hangup")]))
        while len(names) < 3:
            await asyncio.sleep(0.01)
        assert "Andr\ufffd" in names  # panoramisk alone would say "Andr"
    finally:
        await conn.close()


async def test_frame_cut_by_a_disconnect_is_logged(
    server: RecordedAsterisk, caplog: pytest.LogCaptureFixture
) -> None:
    conn, rec = await connect(server)
    try:
        await conn.wait_ready(10)
        await server.push(b"Event: Newchannel\r\nChannel: PJSIP/tru")
        await server.stop()
        await rec.until(lambda: "disconnected" in rec.states())
        assert any("cut by the disconnect" in r.getMessage() for r in caplog.records)
    finally:
        await conn.close()


async def test_error_response_becomes_our_exception(server: RecordedAsterisk) -> None:
    conn, _ = await connect(server)
    try:
        await conn.wait_ready(10)
        with pytest.raises(AmiActionError) as err:
            await conn.send(
                {"Action": "Redirect", "Channel": "Local/x@y-1;2", "Context": "cti-connect"}
            )
        assert err.value.message == "Channel does not exist: Local/x@y-1;2"
        assert err.value.action == "Redirect" and err.value.channel == "Local/x@y-1;2"
    finally:
        await conn.close()


async def test_action_without_response_times_out(server: RecordedAsterisk) -> None:
    conn, _ = await connect(server)
    try:
        await conn.wait_ready(10)
        server.answer_pings = False
        with pytest.raises(AmiTimeout):
            await conn.send({"Action": "Ping"}, timeout=0.2)
    finally:
        await conn.close()


async def test_silent_peer_is_noticed_by_the_keepalive(server: RecordedAsterisk) -> None:
    conn, rec = await connect(server, ping_interval=0.2)
    try:
        await conn.wait_ready(10)
        server.answer_pings = False
        await rec.until(lambda: "disconnected" in rec.states())
        server.answer_pings = True
        await rec.until(lambda: rec.states().count("ready") == 2)
        assert conn.reconnects == 1
    finally:
        await conn.close()


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


def hangup(uniqueid: str, *extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [
        ("Event", "Hangup"),
        ("Channel", f"PJSIP/trunk-{uniqueid}"),
        ("Uniqueid", uniqueid),
        ("Linkedid", uniqueid),
        *extra,
    ]


@pytest.mark.parametrize(
    "repeated",
    ["Event", "Uniqueid", "Channel", "Linkedid", "Context", "UserEvent", "State"],
)
async def test_a_repeated_header_keeps_its_first_value_and_the_link(
    server: RecordedAsterisk, caplog: pytest.LogCaptureFixture, repeated: str
) -> None:
    """panoramisk turned the second line into a list and the link dropped (issue 18)."""
    seen: list[Mapping[str, Any]] = []
    conn = AmiConnection(params(server), lambda h, at: seen.append(dict(h)))
    conn.start()
    caplog.set_level(logging.WARNING, logger="cti.ami")
    try:
        await conn.wait_ready(10)
        doubled = [
            *hangup("1.1"),
            ("Context", "cti-wait"),
            ("UserEvent", "CtiWaiting"),
            ("State", "INUSE"),
        ]
        first = dict(doubled)[repeated]
        doubled.append((repeated, "Hangup" if repeated == "Event" else "second"))
        # The bad frame and a good one in the same TCP read.
        await server.push(encode_frame(doubled) + encode_frame(hangup("1.2")))
        await until(lambda: any(h.get("Uniqueid") == "1.2" for h in seen))
        bad = next(h for h in seen if h.get("Uniqueid") == "1.1" or h.get("Linkedid") == "1.1")
        assert bad[repeated] == first
        assert any(
            f"repeats {repeated}" in r.getMessage() and "Event: Hangup" in r.getMessage()
            for r in caplog.records
        )
        assert conn.state == "ready" and conn.reconnects == 0
    finally:
        await conn.close()


async def test_chan_variables_become_a_dict_of_variables(server: RecordedAsterisk) -> None:
    seen: list[Mapping[str, Any]] = []
    conn = AmiConnection(params(server), lambda h, at: seen.append(dict(h)))
    conn.start()
    try:
        await conn.wait_ready(10)
        frame = hangup(
            "1.3",
            ("ChanVariable", "CTI_IVR_CHOICE=etat-civil"),
            ("ChanVariable", "CTI_DID=0140000000"),
            ("ChanVariable", "WAIT_START="),
        )
        await server.push(encode_frame(frame))
        await until(lambda: any(h.get("Uniqueid") == "1.3" for h in seen))
        event = next(h for h in seen if h.get("Uniqueid") == "1.3")
        assert event["ChanVariable"] == {
            "CTI_IVR_CHOICE": "etat-civil",
            "CTI_DID": "0140000000",
            "WAIT_START": "",
        }
    finally:
        await conn.close()


async def test_a_failing_service_costs_one_event_not_the_link(
    server: RecordedAsterisk, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    def on_event(headers: Mapping[str, Any], at: float) -> None:
        if headers.get("Uniqueid") == "1.4":
            raise TypeError("a bug behind the edge")
        seen.append(str(headers.get("Uniqueid")))

    conn = AmiConnection(params(server), on_event)
    conn.start()
    try:
        await conn.wait_ready(10)
        await server.push(encode_frame(hangup("1.4")) + encode_frame(hangup("1.5")))
        await until(lambda: "1.5" in seen)
        assert any("1.4" in r.getMessage() for r in caplog.records if r.exc_info)
        assert conn.state == "ready" and conn.reconnects == 0
    finally:
        await conn.close()
