"""The screen pop's lookup keeps a connection per thread: it must survive the server dropping it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from cti.db import Database
from screenpop.directory import Directory


def test_each_thread_reads_on_its_own_connection_and_sees_new_citizens(
    database: Database,
) -> None:
    directory = Directory(database)
    assert directory.citizens_by_number("+33612345678") == []
    # Written through the ORM after the reader's connection was opened: autocommit sees it.
    directory.create_citizen("madame", "Dupont", "Jeanne", "+33612345678")
    assert [c.last_name for c in directory.citizens_by_number("+33612345678")] == ["Dupont"]
    seen: list[object] = []
    worker = threading.Thread(target=lambda: seen.append(database.reader()))
    worker.start()
    worker.join()
    assert seen[0] is not database.reader()


def test_a_dropped_link_fails_one_lookup_then_the_next_one_reconnects(
    database: Database,
) -> None:
    if database.dialect != "postgresql":
        pytest.skip("a SQLite file has no server to drop the link")
    directory = Directory(database)
    directory.create_citizen("madame", "Dupont", "Jeanne", "+33612345678")
    assert len(directory.citizens_by_number("+33612345678")) == 1
    pid = database.reader().info.backend_pid
    with database.engine.begin() as conn:  # as a server restart or an admin would
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(DBAPIError):
        directory.citizens_by_number("+33612345678")
    assert len(directory.citizens_by_number("+33612345678")) == 1
    assert database.reader().info.backend_pid != pid
