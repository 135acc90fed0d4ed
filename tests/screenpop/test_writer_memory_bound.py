"""The writer past its memory bound while PostgreSQL is stopped: the overflow waits on disk
only, and once the server is back every write lands once, in the order it was made.

A real server of the test's own (``tests.private_postgres``), stopped with ``pg_ctl stop -m
fast`` and started again; the writer's bound is made small (it is a parameter: the product
keeps 10,000) so that the held writes cross it several times over, and the spool's
acknowledgement marks (every 100 writes replayed) too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cti.db import Database
from screenpop.directory import Directory
from screenpop.directory_writes import AuditRecord, audits_write
from screenpop.models import AuditEntry
from screenpop.spool import FILE_NAME, Spool
from screenpop.writer import ACK_EVERY, OrderedWriter
from tests.private_postgres import PrivateServer, private_server

BOUND = 40
HELD = 3 * ACK_EVERY + 17  # past the bound several times, and past three marks
T = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[PrivateServer]:
    with private_server() as server:
        yield server


async def until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll the writer's state (it has no event to wait on); the timeout only ends a hang."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)
    assert check(), what


def _entry(n: int) -> AuditRecord:
    return AuditRecord("poste 201", "card.open", None, f"appel {n}", at=T + timedelta(seconds=n))


@pytest.mark.parametrize("then", ["the server back", "the product restarted"])
async def test_writes_past_the_memory_bound_wait_on_disk_and_land_once_in_order(
    server: PrivateServer, tmp_path: Path, then: str
) -> None:
    database = Database(server.url)
    database.migrate()
    spool = Spool(tmp_path / "spool")
    writer = OrderedWriter(
        "bound",
        apply=Directory(database).apply,
        spool=spool,
        memory_bound=BOUND,  # the product's is 10,000: the same code, crossed sooner
        retry_min=0.05,
        retry_max=0.2,
    )
    task = asyncio.create_task(writer.run())
    try:
        assert await writer.write(audits_write([_entry(0)])) is True  # the server is up

        await asyncio.to_thread(server.stop)
        for n in range(1, HELD + 1):
            writer.submit(audits_write([_entry(n)]))
        await until(lambda: writer.pending_writes == HELD, "every write held")
        assert writer.health().state == "down"
        assert writer.held_in_memory == BOUND  # the rest only on disk
        on_disk = [write.data["entries"][0]["detail"] for _, write in spool.load()]
        assert on_disk == [f"appel {n}" for n in range(1, HELD + 1)]
        assert writer.lost == 0

        if then == "the product restarted":
            # Killed mid-outage: the next start takes the spool back, the bound applying
            # again (the first writes in memory, the rest read from disk as they go).
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            writer = OrderedWriter(
                "bound after the restart",
                apply=Directory(database).apply,
                spool=Spool(tmp_path / "spool"),
                memory_bound=BOUND,
                retry_min=0.05,
                retry_max=0.2,
            )
            await asyncio.to_thread(server.start)
            await writer.recover()  # what the product does first at start-up
            task = asyncio.create_task(writer.run())
        else:
            await asyncio.to_thread(server.start)
        await until(lambda: not writer.holding, "the held writes written")
        assert writer.health().state == "up" and writer.pending_writes == 0
        assert writer.replayed == HELD and writer.lost == 0 and writer.errors == 0
        assert (tmp_path / "spool" / FILE_NAME).read_text(encoding="utf-8") == ""
        with database.session() as session:
            written = session.scalars(select(AuditEntry.detail).order_by(AuditEntry.id)).all()
        assert written == [f"appel {n}" for n in range(HELD + 1)]  # once each, in order

        # Writes after the outage go straight in, after the replayed ones.
        assert await writer.write(audits_write([_entry(HELD + 1)])) is True
        with database.session() as session:
            last = session.scalars(select(AuditEntry.detail).order_by(AuditEntry.id.desc()))
            assert last.first() == f"appel {HELD + 1}"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        database.close()
