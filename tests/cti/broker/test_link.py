"""The broker link against real NATS servers of the test's own (free loopback ports)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest

from bench.broker_lab import NATS_SERVER, NatsServer, free_port, nats_server
from cti.broker.link import BrokerLink
from cti.broker.subjects import STREAM


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[NatsServer]:
    if NATS_SERVER is None:
        pytest.skip("nats-server is not installed (Debian package nats-server)")
    async with nats_server(tmp_path / "js") as server:
        yield server


async def test_a_list_of_servers_is_joined_through_one_that_answers(broker: NatsServer) -> None:
    down = f"nats://127.0.0.1:{free_port()}"  # nobody listens there
    link = BrokerLink(f"{down}, {broker.url}", "essai")
    assert link.servers == [down, broker.url]
    link.start()
    try:
        await link.wait_connected(20)
        link.publish("cti.essai.events", b"{}", msg_id="essai-1")
        await link.drain()
    finally:
        await link.close()
    nc = await nats.connect(broker.url)
    try:
        info = await nc.jetstream().stream_info(STREAM)
    finally:
        await nc.close()
    assert (info.state.messages, info.config.num_replicas) == (1, 1)
