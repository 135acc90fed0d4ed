"""The screen pop's call records: changes merged per call, written in bulk, nothing lost.

A real database (SQLite file, and PostgreSQL when CTI_TEST_DATABASE_URL is set) behind a real
``OrderedWriter`` task; the writes the directory receives are watched through its own
``apply``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from cti.db import Database
from screenpop.call_records import CallRecords
from screenpop.directory import AuditRecord, Directory
from screenpop.spool import Write
from screenpop.writer import OrderedWriter

T = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


class Watched:
    """``Directory.apply``, telling the test (on its loop) about each batch of calls."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.batches: list[list[str]] = []
        self.saved = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def __call__(self, write: Write, replay: bool) -> None:
        if write.kind == "calls":
            self.batches.append([c["call_id"] for c in write.data["changes"]])
        try:
            self.directory.apply(write, replay)
        finally:
            self._loop.call_soon_threadsafe(self.saved.set)


@pytest.fixture
async def directory(database: Database) -> Directory:
    return Directory(database)


@pytest.fixture
async def save(directory: Directory) -> Watched:
    return Watched(directory)


@pytest.fixture
async def writer(save: Watched) -> AsyncIterator[OrderedWriter]:
    writer = OrderedWriter("test", apply=save)
    task = asyncio.create_task(writer.run())
    try:
        yield writer
    finally:
        task.cancel()


async def test_a_calls_changes_are_merged_and_written_once_when_the_delay_is_up(
    directory: Directory, save: Watched, writer: OrderedWriter
) -> None:
    records = CallRecords(writer, flush_after=0.0)
    records.update("c1", started_at=T, caller_raw="0612345678", outcome="in_progress")
    records.update("c1", service="etat-civil")
    records.update("c1", add_agent="201", wait_seconds=12.0)
    records.update("c1", add_agent="202", service=None)  # None: leave the service alone
    records.update("c2", started_at=T, outcome="in_progress")
    assert records.pending == 2
    await asyncio.wait_for(save.saved.wait(), 10)  # the timer handed them over
    await writer.idle.wait()
    assert save.batches == [["c1", "c2"]]  # one write for five changes of two calls
    assert records.pending == 0
    c1 = directory.interaction("c1")
    assert c1 is not None
    assert (c1.service, c1.agents, c1.wait_seconds, c1.outcome) == (
        "etat-civil",
        ("201", "202"),
        12.0,
        "in_progress",
    )
    assert c1.started_at == T
    assert directory.interaction("c2") is not None


async def test_later_changes_update_the_stored_record_and_keep_its_agents(
    directory: Directory, writer: OrderedWriter
) -> None:
    directory.upsert_interaction("c1", started_at=T, add_agent="201", ivr_path=["accueil"])
    records = CallRecords(writer)
    records.update("c1", add_agent="202")
    records.update("c1", add_agent="201", outcome="answered", talk_seconds=42.0)
    records.flush()
    await writer.idle.wait()
    c1 = directory.interaction("c1")
    assert c1 is not None
    assert c1.agents == ("201", "202") and c1.outcome == "answered"
    assert c1.talk_seconds == 42.0 and c1.ivr_path == ("accueil",)  # untouched fields stay


async def test_a_refused_record_does_not_lose_the_others_of_its_batch(
    directory: Directory, writer: OrderedWriter, caplog: pytest.LogCaptureFixture
) -> None:
    jeanne = directory.create_citizen("madame", "Dupont", "Jeanne", "+33612345678")
    records = CallRecords(writer)
    records.update("good-1", started_at=T, citizen_id=jeanne.id)
    records.update("bad", started_at=T, citizen_id=999_999)  # no such citizen: refused
    records.update("good-2", started_at=T, outcome="answered")
    with caplog.at_level(logging.WARNING):
        records.flush()
        await writer.idle.wait()
    good_1, good_2 = directory.interaction("good-1"), directory.interaction("good-2")
    assert good_1 is not None and good_2 is not None and good_2.outcome == "answered"
    assert directory.interaction("bad") is None
    assert writer.errors == 1
    assert "fiches d'appel non enregistrées : bad" in caplog.text


async def test_unknown_fields_are_refused_at_once() -> None:
    records = CallRecords(OrderedWriter("test"))
    with pytest.raises(TypeError, match="colour"):
        records.update("c1", colour="blue")
    assert records.pending == 0


async def test_audit_entries_ride_with_the_next_batch(
    directory: Directory, save: Watched, writer: OrderedWriter
) -> None:
    records = CallRecords(writer, flush_after=0.0)
    records.update("c1", started_at=T)
    records.audit(AuditRecord("poste 201", "card.open", None, "appel c1"))
    records.audit(AuditRecord("poste 202", "card.open", None, "appel c1"))
    assert records.pending == 3
    await asyncio.wait_for(save.saved.wait(), 10)
    await writer.idle.wait()
    assert writer.batches == 1  # one trip to the writer's thread for both
    assert directory.audit_count("card.open") == 2 and records.pending == 0


async def test_saved_returns_once_everything_pending_is_in_the_database(
    directory: Directory, writer: OrderedWriter
) -> None:
    # What a request tells a user is saved waits for ``saved``: no delay, no second timer.
    records = CallRecords(writer, flush_after=3600.0)
    records.update("c1", started_at=T, outcome="answered", add_agent="201")
    records.audit(AuditRecord("marie", "citizen.search", None, "recherche « Dupont »", at=T))
    assert await records.saved() is True
    assert records.pending == 0
    c1 = directory.interaction("c1")  # read at once: already committed
    assert c1 is not None and c1.outcome == "answered"
    assert directory.audit_count("citizen.search") == 1
