"""PostgreSQL stopped while calls flow: a real server stopped and started, the product a real
process, and nothing lost.

The rig of ``test_faults_process`` (the product as ``make run`` runs it, the simulated PBX
over real TCP, six agents' pages, 24 calls up) on a PostgreSQL server of the test's own
(``tests.private_postgres``: the machine's shared server is never stopped). The server is
stopped with ``pg_ctl stop -m fast`` (the product's connections cut, new ones refused) and
stays down for ``CTI_TEST_DB_OUTAGE_S`` seconds (30 by default, as issue 18 asks): a fault's
length, not a timing assertion. All that time calls flow: talking callers hang up, new ones
call, waiting ones are answered, and every one of those calls must be recorded once the
server is back. Then the four counts of ``test_faults_process`` must be 0, every call's record
must be there once, and /healthz must have said the database was away, then back.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.e2e.test_faults_process import AGENTS, NONE, Rig, rig_up
from tests.private_postgres import PrivateServer, private_server

#: How long the server stays stopped. 30 s by default; shorter still holds the writer's
#: retries at their longest delay (5 s) several times over, when a quicker run is wanted.
OUTAGE_S = float(os.environ.get("CTI_TEST_DB_OUTAGE_S", "30"))


@pytest.fixture
def server() -> Iterator[PrivateServer]:
    with private_server() as server:
        yield server


@pytest.fixture
async def rig(tmp_path: Path, server: PrivateServer) -> AsyncIterator[Rig]:
    async with rig_up(tmp_path, server.url) as rig:
        yield rig


async def test_postgresql_stopped_while_calls_flow_loses_nothing(
    rig: Rig, server: PrivateServer
) -> None:
    loop = asyncio.get_running_loop()
    await rig.product.until_health(
        lambda h: h["database"]["state"] == "up", "the database up before the outage"
    )
    await asyncio.to_thread(server.stop)
    stopped_at = loop.time()
    before = len(rig.placed)

    # Calls flow for the whole outage: each round, the talking callers hang up, as many new
    # ones call, and the waiting callers are answered (six talking again).
    rounds = 0
    while rounds < 2 or loop.time() - stopped_at < OUTAGE_S:
        talking = rig.connected()
        for call in talking:
            rig.hang_up(call)
        rig.place(len(talking))
        await rig.until_pbx(
            lambda talking=talking: (  # type: ignore[misc]
                all(c.ended.is_set() for c in talking) and len(rig.connected()) == len(AGENTS)
            ),
            "the talking callers gone and six calls talking again",
        )
        rounds += 1
    await rig.product.until_health(
        lambda h: (
            h["status"] == "degraded"
            and h["ami"] == "ready"
            and h["database"]["state"] == "down"
            and h["database"]["pending_writes"] > 0
            and h["database"]["since"] is not None
        ),
        "the database away, writes held",
    )
    flowed = len(rig.placed) - before
    assert flowed >= 2 * len(AGENTS)  # calls did flow while the server was down

    await asyncio.to_thread(server.start)
    await rig.product.until_health(
        lambda h: h["database"]["state"] == "up" and h["database"]["pending_writes"] == 0,
        "the database back, every held write written",
    )
    await rig.settled()
    assert await rig.disagreeing_agents() == []

    await rig.serve_everyone()
    assert await rig.counts() == NONE
    ids = {c.linkedid for c in rig.placed}
    records = await asyncio.to_thread(
        rig.product.rows, "SELECT call_id, count(*) AS n FROM interactions GROUP BY call_id"
    )
    assert {r["call_id"]: r["n"] for r in records} == dict.fromkeys(ids, 1)  # each once
