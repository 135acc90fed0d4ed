"""A request in flight when the router's node is killed: answered by the standby, run once.

Real processes (two routers under the lease, a web node), PostgreSQL and a NATS server of
the test's own. The request is held deterministically where the test wants it: the test
locks the ``citizens`` table, so the router creating Marie's citizen waits on PostgreSQL
(the test sees it waiting in ``pg_locks``) until the router is killed and its successor,
asked the same request by the web node, waits there too.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from bench.broker_lab import NatsServer
from bench.cluster_lab import AGENT_LOGIN, ClusterLab
from cti.db import engine_url

KEY = "action-de-marie-1"
CITIZEN = {"last_name": "Renvoyé", "first_name": "Jules"}


def lock_waiters(conn: Connection) -> set[int]:
    """Backends waiting for the test's lock on this schema's ``citizens``."""
    rows = conn.execute(
        text(
            "SELECT pid FROM pg_locks WHERE NOT granted AND locktype = 'relation' "
            "AND relation = 'citizens'::regclass"
        )
    )
    return {int(pid) for (pid,) in rows}


async def until(predicate: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Until ``predicate`` holds, looked at every 50 ms (PostgreSQL tells no one who waits)."""
    try:
        async with asyncio.timeout(timeout):
            while not await asyncio.to_thread(predicate):
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"still waiting after {timeout:g} s: {what}") from None


def count_citizens(url: str) -> int:
    engine = create_engine(engine_url(url))
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM citizens WHERE last_name = :n"),
                    {"n": CITIZEN["last_name"]},
                ).scalar_one()
            )
    finally:
        engine.dispose()


async def test_a_request_in_flight_when_the_router_is_killed_is_answered_by_the_standby_once(
    lab: ClusterLab, broker: NatsServer
) -> None:
    a = await lab.node("a", role="router", broker=broker.url)
    await lab.ready(a)
    b = await lab.node("b", role="router", broker=broker.url)
    await b.until(lambda: b.said("nœud en attente"))
    web = await lab.node("web", role="web", broker=broker.url)
    url = await lab.ready(web)
    marie = httpx.AsyncClient(base_url=url)
    username, password = AGENT_LOGIN
    logged = await marie.post("/api/login", json={"username": username, "password": password})
    assert logged.status_code == 200, logged.text
    csrf = (await marie.get("/api/me")).json()["csrf"]
    headers = {"X-CSRF-Token": csrf, "Idempotency-Key": KEY}

    engine = create_engine(engine_url(lab.url))
    holder, watcher = engine.connect(), engine.connect()
    watcher.execution_options(isolation_level="AUTOCOMMIT")
    try:
        holder.execute(text("LOCK TABLE citizens IN EXCLUSIVE MODE"))  # reads go on, no write
        saving = asyncio.create_task(marie.post("/api/citizens", json=CITIZEN, headers=headers))
        await until(lambda: bool(lock_waiters(watcher)), "router A creating the citizen")
        first = lock_waiters(watcher)
        killed_at = time.monotonic()
        a.proc.kill()
        # The web node hears B take over and asks it the same request: B waits there too.
        await until(lambda: bool(lock_waiters(watcher) - first), "router B asked the same")
        print(f"request resent to the standby {time.monotonic() - killed_at:.1f} s after kill -9")
        holder.rollback()  # A's half-done insert dies with its connection; B's goes through
        answer = await saving
    finally:
        holder.close()
        watcher.close()
        engine.dispose()
    assert answer.status_code == 201, answer.text
    assert await asyncio.to_thread(count_citizens, lab.url) == 1
    assert "idempotent-replayed" not in answer.headers  # run by B, not given back

    # The page sends the same action again (its answer got lost): the stored answer, not a
    # second citizen.
    again = await marie.post("/api/citizens", json=CITIZEN, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert json.loads(again.content) == json.loads(answer.content)
    assert await asyncio.to_thread(count_citizens, lab.url) == 1

    assert counter(await scrape(url), "cti_forward_retried") >= 1
    b_url = b.url()
    assert b_url is not None
    assert counter(await scrape(b_url), "cti_forward_replayed") == 1
    await marie.aclose()


async def scrape(url: str) -> str:
    async with httpx.AsyncClient(base_url=url) as client:
        return (await client.get("/metrics")).text


def counter(metrics: str, name: str) -> float:
    values = [line.split()[-1] for line in metrics.splitlines() if line.startswith(name)]
    assert values, f"{name} not in the scrape: {metrics}"
    return float(values[0])
