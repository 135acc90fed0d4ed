"""What the web layer audits (logins, searches) and the voice menu's runs survive a database
that refuses writes: held by the product's writer, written when the database is back.

The whole product runs in-process on the simulated PBX (real AMI and FastAGI over TCP) with an
SQLite file; another program keeps the file locked for writing (reads go on, as they do when a
backup or an import holds it), then lets it go.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select

from cti.assembly import DEMO_PASSWORD, Product, running
from cti.settings import Settings
from screenpop.models import AuditEntry, IvrRun


async def until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)
    assert check(), what


def _short_busy_wait(dbapi_connection: Any, _record: Any) -> None:
    # A locked file makes a writer wait 10 s (cti.db's busy_timeout) before it says so.
    dbapi_connection.execute("PRAGMA busy_timeout=200")


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cti.db'}",
        spool_dir=tmp_path / "spool",
        http_port=0,
        demo_citizens=10,
        sim_rate=0,
        sim_time_scale=0.02,
    )
    async with running(settings, simulated=True, traffic=False) as product:
        event.listen(product.database.engine, "connect", _short_busy_wait)
        product.database.engine.dispose()  # the next connections wait briefly
        await until(lambda: product.service.link_state == "ready", "the AMI link up")
        yield product


async def test_logins_searches_and_menu_runs_wait_for_a_locked_database(
    product: Product, tmp_path: Path
) -> None:
    assert product.pbx is not None and product.ivr is not None
    writer = product.pop.writer
    locker = sqlite3.connect(tmp_path / "cti.db", isolation_level=None)
    try:
        locker.execute("BEGIN IMMEDIATE")  # another program writes: nobody else may
        async with httpx.AsyncClient(base_url=product.url) as client:
            login = {"username": "marie", "password": DEMO_PASSWORD}
            assert (await client.post("/api/login", json=login)).status_code == 200
            found = await client.get("/api/citizens", params={"q": "Dupont"})
            assert found.status_code == 200
            call = product.pbx.place_call("0698765432", keys="1", talk=30)
            await until(
                lambda: call.stage in ("waiting", "ringing") or call.ended.is_set(),
                "the caller through the menu",
            )
            # The menu's run is reported as the caller leaves the menu, before cti-wait.
            product.pop.records.flush()
            await until(lambda: writer.holding, "the writes held")
            assert writer.health().state == "down"
            health = (await client.get("/healthz")).json()
            assert health["database"]["state"] == "down", health
        locker.execute("ROLLBACK")  # free again
        await until(lambda: not writer.holding, "the held writes written")
        await product.pop.drained()
    finally:
        locker.close()
    with product.database.session() as session:
        actions = session.execute(select(AuditEntry.username, AuditEntry.action)).all()
        runs = session.scalars(select(IvrRun.call_id)).all()
    assert ("marie", "login") in actions
    assert ("marie", "citizen.search") in actions
    assert call.linkedid in runs  # the menu's run of the call made during the outage
    assert writer.errors == 0
