"""Our AMI connection and call service against the simulated PBX over TCP.

The cases the foundation promises: login ok or refused, the AMI side killed and restarted in the
middle of a call (exactly one reconnect, the call known once, no second CallArrived), Asterisk
restarted, and malformed input that must not stop the link.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from cti.ami.connection import AmiConnection, AmiParams
from cti.ami.errors import AmiError
from cti.pbxsim import SimulatedPbx
from cti.pbxsim.pbx import AgentPhone
from cti.service import CallService
from cti.tracker.events import DomainEvent
from tests.cti.pbxsim.backlog import pour_until_dropped


class Harness:
    def __init__(self, pbx: SimulatedPbx, secret: str = "cti-secret") -> None:
        self.pbx = pbx
        self.service = CallService()
        self.events: list[DomainEvent] = []
        self.states: list[str] = []
        self.changed = asyncio.Event()
        self.service.add_listener(self._on_domain_event)
        self.conn = AmiConnection(
            AmiParams(
                port=pbx.port,
                secret=secret,
                ping_interval=30.0,
                reconnect_min=0.05,
                reconnect_max=0.2,
                auth_retry_delay=0.3,
            ),
            self.service.on_ami_event,
            self.service.on_resync,
            self._on_state,
        )

    def _on_domain_event(self, event: DomainEvent) -> None:
        self.events.append(event)
        self.changed.set()

    def _on_state(self, state: str) -> None:
        self.service.on_link_state(state)
        self.states.append(state)
        self.changed.set()

    def types(self, call_id: str | None = None) -> list[str]:
        return [e.type for e in self.events if call_id is None or e.call_id == call_id]

    async def until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async def wait() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), timeout)

    async def route(self, call_id: str, agent: str) -> None:
        """What the router does: Setvar AGENT then Redirect into cti-connect."""
        call = self.service.tracker.call(call_id)
        assert call is not None and call.dialplan_channel is not None
        channel = call.dialplan_channel
        await self.conn.send(
            {"Action": "Setvar", "Channel": channel, "Variable": "AGENT", "Value": agent}
        )
        await self.conn.send(
            {
                "Action": "Redirect",
                "Channel": channel,
                "Context": "cti-connect",
                "Exten": "s",
                "Priority": "1",
            }
        )


@pytest.fixture
async def pbx() -> AsyncIterator[SimulatedPbx]:
    agents = {"201": AgentPhone(ring=0.2, talk=10_000), "202": AgentPhone(answers=False)}
    sim = SimulatedPbx(time_scale=0.05, auth_delay=0.05, safety_net=10_000, agents=agents)
    await sim.start()
    yield sim
    await sim.close()


@pytest.fixture
async def harness(pbx: SimulatedPbx) -> AsyncIterator[Harness]:
    h = Harness(pbx)
    h.conn.start()
    await h.conn.wait_ready(10)
    yield h
    await h.conn.close()


def _count(h: Harness, kind: str, **fields: Any) -> int:
    return sum(
        1
        for e in h.events
        if e.type == kind and all(getattr(e, k, None) == v for k, v in fields.items())
    )


async def test_a_routed_call_lives_and_ends(harness: Harness, pbx: SimulatedPbx) -> None:
    call = pbx.place_call("0612345678", "Dupont", talk=None)
    await harness.until(lambda: "CallWaiting" in harness.types())
    await harness.route(call.linkedid, "202")  # never answers
    await harness.until(lambda: "CallNoAnswer" in harness.types())
    await harness.until(lambda: harness.types().count("CallWaiting") == 2)
    await harness.route(call.linkedid, "201")
    await harness.until(lambda: "CallAnswered" in harness.types())
    pbx.hangup_call(call)
    await harness.until(lambda: "CallEnded" in harness.types())
    assert harness.types() == [
        "CallArrived",
        "CallerIdSettled",  # from-pstn says the presentation as the call enters
        "CallWaiting",
        "CallOffered",
        "CallNoAnswer",
        "CallWaiting",
        "CallOffered",
        "CallAnswered",
        "CallEnded",
    ]
    ended = harness.events[-1]
    assert (ended.reason, ended.agent, ended.caller_number) == (  # type: ignore[attr-defined]
        "caller_hangup",
        "201",
        "0612345678",
    )


async def blind_transfer(harness: Harness, call_id: str, to: str) -> dict[str, Any]:
    call = harness.service.tracker.call(call_id)
    assert call is not None and call.agent_channel is not None
    reply: dict[str, Any] = await harness.conn.send(
        {
            "Action": "BlindTransfer",
            "Channel": call.agent_channel,
            "Context": "transfer",
            "Exten": to,
        }
    )
    return reply


@pytest.mark.parametrize(("target", "answered"), [("201", True), ("202", False)])
async def test_a_blind_transfer_reaches_the_colleague_or_comes_back_to_waiting(
    harness: Harness, pbx: SimulatedPbx, target: str, answered: bool
) -> None:
    pbx.telephony.agents["204"] = AgentPhone(ring=0.2, talk=10_000)
    call = pbx.place_call("0622334455", "Moreau", talk=None)
    await harness.until(lambda: "CallWaiting" in harness.types())
    await harness.route(call.linkedid, "204")
    await harness.until(lambda: "CallAnswered" in harness.types())
    reply = await blind_transfer(harness, call.linkedid, target)
    assert reply["Message"] == "Transfer succeeded"
    after = ["CallAnswered"] if answered else ["CallNoAnswer", "CallWaiting"]
    start = ["CallArrived", "CallerIdSettled", "CallWaiting", "CallOffered", "CallAnswered"]
    expected = [*start, "CallTransferred", "CallOffered", *after]
    await harness.until(lambda: len(harness.types()) >= len(expected))
    assert harness.types() == expected
    transferred, offered = harness.events[5], harness.events[6]
    assert (transferred.agent, transferred.to_agent, transferred.kind) == (  # type: ignore[attr-defined]
        "204",
        target,
        "blind",
    )
    assert offered.agent == target  # type: ignore[attr-defined]
    pbx.hangup_call(call)
    await harness.until(lambda: "CallEnded" in harness.types())
    # A transfer of a channel that is not an agent in conversation is refused, as Asterisk does.
    with pytest.raises(AmiError, match="Channel specified does not exist"):
        await harness.conn.send(
            {
                "Action": "BlindTransfer",
                "Channel": "Local/999@x;1",
                "Context": "transfer",
                "Exten": "2",
            }
        )


@pytest.mark.parametrize("stage", ["waiting", "connected"])
async def test_ami_killed_and_restarted_mid_call(
    harness: Harness, pbx: SimulatedPbx, stage: str
) -> None:
    call = pbx.place_call("0612345678", "Dupont", talk=None)
    await harness.until(lambda: "CallWaiting" in harness.types())
    if stage == "connected":
        await harness.route(call.linkedid, "201")
        await harness.until(lambda: "CallAnswered" in harness.types())
    before = list(harness.events)

    await pbx.stop_ami()
    await harness.until(lambda: "disconnected" in harness.states)
    await pbx.start_ami()
    await harness.until(lambda: harness.states.count("ready") == 2)

    assert harness.conn.reconnects == 1
    assert harness.events == before  # the call is known once: nothing announced again
    assert [c.call_id for c in harness.service.tracker.active_calls] == [call.linkedid]
    assert len(harness.service.snapshot()["calls"]) == 1

    pbx.hangup_call(call)  # the call goes on being followed after the reconnect
    await harness.until(lambda: "CallEnded" in harness.types())
    assert _count(harness, "CallArrived") == 1
    reason = "caller_hangup" if stage == "connected" else "abandoned"
    assert _count(harness, "CallEnded", reason=reason) == 1


async def test_a_link_that_stops_reading_is_dropped_by_the_pbx_then_reconnects_and_resyncs(
    harness: Harness, pbx: SimulatedPbx
) -> None:
    """The product's loop too busy to read: Asterisk drops the session (writetimeout)."""
    call = pbx.place_call("0612345678", "Dupont", talk=None)
    await harness.until(lambda: "CallWaiting" in harness.types())
    before = list(harness.events)
    protocol = harness.conn._protocol
    assert protocol is not None
    protocol.transport.pause_reading()  # what a blocked event loop does to the socket
    await asyncio.wait_for(pour_until_dropped(pbx), 60)
    assert pbx.ami.sessions == []
    protocol.transport.resume_reading()  # it reads what the kernel kept, then the end

    await harness.until(lambda: harness.states.count("ready") == 2, timeout=60)
    assert harness.conn.reconnects == 1
    assert harness.events == before  # resynchronised: the waiting call known once
    assert [c.call_id for c in harness.service.tracker.active_calls] == [call.linkedid]
    pbx.hangup_call(call)
    await harness.until(lambda: "CallEnded" in harness.types())
    assert _count(harness, "CallArrived") == 1
    assert _count(harness, "CallEnded", reason="abandoned") == 1


async def test_call_that_ends_during_the_outage_ends_once_at_resync(
    harness: Harness, pbx: SimulatedPbx
) -> None:
    call = pbx.place_call("0612345678", "Dupont", talk=None)
    await harness.until(lambda: "CallWaiting" in harness.types())
    await pbx.stop_ami()
    await harness.until(lambda: "disconnected" in harness.states)
    pbx.hangup_call(call)
    await call.ended.wait()
    await pbx.start_ami()
    await harness.until(lambda: "CallEnded" in harness.types())
    await harness.until(lambda: harness.states.count("ready") == 2)
    assert _count(harness, "CallEnded") == 1
    assert harness.service.tracker.active_calls == []


async def test_a_call_that_arrived_during_the_outage_is_announced_once_as_restored(
    harness: Harness, pbx: SimulatedPbx
) -> None:
    await pbx.stop_ami()
    await harness.until(lambda: "disconnected" in harness.states)
    call = pbx.place_call("0655667788", "Roux", talk=None)
    await pbx.start_ami()
    await harness.until(lambda: "CallArrived" in harness.types())
    arrived = harness.events[0]
    assert (arrived.call_id, arrived.restored) == (call.linkedid, True)  # type: ignore[attr-defined]
    pbx.hangup_call(call)
    await harness.until(lambda: "CallEnded" in harness.types())
    assert _count(harness, "CallArrived") == 1


async def test_asterisk_restart_ends_calls_as_shutdown_and_reconnects(
    harness: Harness, pbx: SimulatedPbx
) -> None:
    pbx.place_call("0612345678", "Dupont", talk=None)
    await harness.until(lambda: "CallWaiting" in harness.types())
    await pbx.restart()
    await harness.until(lambda: "CallEnded" in harness.types())
    await harness.until(lambda: harness.states.count("ready") == 2)
    assert _count(harness, "CallEnded", reason="shutdown") == 1
    pbx.place_call("0612345678", "Dupont", talk=None)  # and the next call is followed
    await harness.until(lambda: _count(harness, "CallArrived") == 2)


async def test_bad_secret_is_reported_with_host_port_and_user(pbx: SimulatedPbx) -> None:
    h = Harness(pbx, secret="wrong")
    h.conn.start()
    try:
        await h.until(lambda: "auth_failed" in h.states)
        error = h.conn.last_error or ""
        assert f"127.0.0.1:{pbx.port}" in error and "'cti'" in error
        assert pbx.logins == 0
    finally:
        await h.conn.close()


@pytest.mark.parametrize(
    "garbage",
    [
        b"this is not AMI\r\n\r\n",
        b"Foo: bar\r\nBaz: qux\r\n\r\n",
        b"Event: Newchannel\r\nCallerIDName: \xff\xfe\r\n\r\n",
        b"Event: UserEvent\r\nPadding: " + b"x" * 1_000_000 + b"\r\n\r\n",
    ],
    ids=["garbage", "no-event-no-response", "not-utf8", "1MB-field"],
)
async def test_malformed_input_is_skipped_and_the_link_goes_on(
    harness: Harness, pbx: SimulatedPbx, garbage: bytes
) -> None:
    pbx.inject(garbage)
    call = pbx.place_call("0612345678", "Dupont", talk=None)
    await harness.until(lambda: "CallWaiting" in harness.types())
    assert harness.conn.reconnects == 0
    assert harness.events[0].call_id == call.linkedid
