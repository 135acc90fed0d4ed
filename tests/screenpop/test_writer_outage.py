"""The writer while the database is away: held writes survive a crash, replays come once,
and a locked SQLite file is treated like a server that does not answer.

Real databases throughout: the ``database`` fixture (SQLite file, and PostgreSQL when
CTI_TEST_DATABASE_URL is set) for the one that comes back; for the one that is away, an SQLite
file in a directory that does not exist and a PostgreSQL port nobody listens on (both refuse
at once, as a stopped server does), or an SQLite file another connection keeps locked.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from cti.db import Database
from screenpop.call_records import CallRecords
from screenpop.directory import AuditRecord, Directory, NoteView
from screenpop.directory_writes import agent_state_write, audits_write, note_write
from screenpop.errors import DatabaseUnavailable
from screenpop.models import AgentStateRow, AuditEntry, Interaction, InteractionNote
from screenpop.spool import FILE_NAME, Spool
from screenpop.writer import OrderedWriter

T = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


async def until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)
    assert check(), what


def _unreachable_like(database: Database, tmp_path: Path) -> Database:
    """A database of the same kind that refuses every connection."""
    if database.dialect == "sqlite":
        return Database(f"sqlite:///{tmp_path / 'no-such-directory' / 'cti.db'}")
    with socket.socket() as probe:  # a free port: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return Database(f"postgresql://postgres@127.0.0.1:{port}/test?connect_timeout=5")


def _count(database: Database, model: Any, *where: Any) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def test_a_crash_mid_outage_loses_nothing_and_the_spool_is_replayed_once(
    database: Database, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "spool"
    away = _unreachable_like(database, tmp_path)
    first = OrderedWriter("before the crash", apply=Directory(away).apply, spool=Spool(spool_dir))
    task = asyncio.create_task(first.run())
    records = CallRecords(first)
    records.update("c1", started_at=T, outcome="in_progress", add_agent="201")
    records.update("c2", started_at=T, outcome="in_progress")
    opened = AuditRecord("poste 201", "card.open", None, "appel c1", at=T)
    records.audit(opened)
    records.flush()
    note = NoteView("201", "Rappeler demain", T)
    assert await first.write(note_write("c1", note)) is False  # held, not written
    records.update("c1", outcome="answered", talk_seconds=42.0)
    records.flush()
    first.submit(agent_state_write("201", "paused", "déjeuner"))
    await until(lambda: first.pending_writes == 6, "six records held")
    assert first.health().state == "down" and first.health().error
    with pytest.raises(DatabaseUnavailable, match="base de données injoignable"):
        await first.call(lambda: None)  # a read cannot see what is held
    task.cancel()  # the product dies here, mid-outage
    away.close()
    assert (spool_dir / FILE_NAME).stat().st_size > 0

    # Some writes had reached the database before the link dropped (committed, not marked).
    directory = Directory(database)
    directory.apply(audits_write([opened]))
    directory.apply(note_write("c1", note))

    second = OrderedWriter("after the restart", apply=directory.apply, spool=Spool(spool_dir))
    await second.recover()  # what the product does first at start-up
    assert not second.holding and second.replayed == 5
    c1, c2 = directory.interaction("c1"), directory.interaction("c2")
    assert c1 is not None and c2 is not None
    assert (c1.outcome, c1.talk_seconds, c1.agents) == ("answered", 42.0, ("201",))
    assert [(n.agent, n.text) for n in c1.notes] == [("201", "Rappeler demain")]  # once
    assert c2.outcome == "in_progress"
    assert _count(database, AuditEntry, AuditEntry.action == "card.open") == 1  # once
    with database.session() as session:
        state = session.get(AgentStateRow, "201")
        assert state is not None and (state.state, state.reason) == ("paused", "déjeuner")
    assert (spool_dir / FILE_NAME).read_text(encoding="utf-8") == ""

    third = OrderedWriter("a later start", apply=directory.apply, spool=Spool(spool_dir))
    await third.recover()
    assert third.replayed == 0  # nothing replayed twice
    assert _count(database, InteractionNote) == 1 and _count(database, Interaction) == 2


async def test_saved_while_the_database_is_away_returns_once_the_writes_are_on_disk(
    database: Database, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "spool"
    away = _unreachable_like(database, tmp_path)
    writer = OrderedWriter("outage", apply=Directory(away).apply, spool=Spool(spool_dir))
    task = asyncio.create_task(writer.run())
    records = CallRecords(writer, flush_after=3600.0)
    records.update("c1", started_at=T, outcome="answered", add_agent="201")
    records.audit(AuditRecord("marie", "citizen.search", None, "recherche « Dupont »", at=T))
    try:
        assert await records.saved() is False  # held: the request says « en attente »
        # Already in the spool when the request answers: a crash now loses neither.
        kinds = [write.kind for _, write in Spool(spool_dir).load()]
        assert kinds == ["calls", "audits"]
    finally:
        task.cancel()
        away.close()


async def test_a_crash_cutting_the_spools_last_line_keeps_the_lines_before(
    database: Database, tmp_path: Path
) -> None:
    spool = Spool(tmp_path)
    spool.append([(0, agent_state_write("201", "ready", None))])
    with spool.path.open("a", encoding="utf-8") as file:
        file.write('{"seq": 1, "kind": "agent_st')  # the crash came mid-line
    writer = OrderedWriter("restart", apply=Directory(database).apply, spool=Spool(tmp_path))
    await writer.recover()
    assert writer.replayed == 1 and not writer.holding
    Spool(tmp_path).append([(5, agent_state_write("202", "ready", None))])  # not glued on
    assert [seq for seq, _ in Spool(tmp_path).load()] == [5]


def _short_busy_wait(dbapi_connection: Any, _record: Any) -> None:
    # A locked file makes a writer wait 10 s (cti.db's busy_timeout) before it says so.
    dbapi_connection.execute("PRAGMA busy_timeout=200")


async def test_a_locked_sqlite_file_holds_the_writes_until_it_is_free(tmp_path: Path) -> None:
    path = tmp_path / "cti.db"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    database.close()
    database = Database(f"sqlite:///{path}")
    event.listen(database.engine, "connect", _short_busy_wait)
    directory = Directory(database)
    writer = OrderedWriter("test", apply=directory.apply, spool=Spool(tmp_path / "spool"))
    task = asyncio.create_task(writer.run())
    locker = sqlite3.connect(path, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")  # another program holds the file
        records = CallRecords(writer)
        records.update("c1", started_at=T, outcome="in_progress")
        records.flush()
        note = NoteView("201", "Pièce manquante", T)
        assert await writer.write(note_write("c1", note)) is False
        records.update("c1", outcome="answered")
        records.flush()
        await until(lambda: writer.pending_writes == 3, "three records held")
        assert writer.health().state == "down"
        assert "locked" in (writer.health().error or "")
        locker.execute("ROLLBACK")  # free again
        await until(lambda: not writer.holding, "the held writes written")
        await writer.idle.wait()
    finally:
        locker.close()
        task.cancel()
    stored = directory.interaction("c1")
    assert stored is not None and stored.outcome == "answered"
    assert [n.text for n in stored.notes] == ["Pièce manquante"]
    assert writer.health().state == "up" and writer.errors == 0
    database.close()
