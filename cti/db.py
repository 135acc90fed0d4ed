"""The database: one SQLAlchemy engine, sessions, and migrations run by Alembic.

SQLite (a file) is the embedded default; PostgreSQL is production. ``postgresql://`` URLs
are given the psycopg 3 driver. ``migrate()`` brings the schema to the newest Alembic revision,
so that ``make demo`` and a fresh install need no manual step.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

from alembic.config import Config
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from alembic import command

ROOT = Path(__file__).resolve().parents[1]

# Named constraints, so that migrations can drop and alter them on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table; its metadata names constraints the same way on every database."""

    metadata = MetaData(naming_convention=NAMING)


def engine_url(url: str) -> str:
    """``postgresql://`` -> ``postgresql+psycopg://`` (psycopg 3 is the driver we ship)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MB: a million citizens' indexes stay in memory
    # A writer waits for another one (the importer, the web app) instead of failing at once.
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Database:
    """The engine of ``url`` and its sessions (``expire_on_commit=False``: views outlive them)."""

    def __init__(self, url: str) -> None:
        self.url = engine_url(url)
        if self.url.startswith("sqlite"):
            # No pre-ping: a file does not drop the connection, and the lookup is the hot path.
            self.engine: Engine = create_engine(self.url)
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(self.url, pool_pre_ping=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = threading.local()
        self._reader_lock = threading.Lock()
        self._reader_conns: list[Any] = []

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def session(self) -> Session:
        return self._sessions()

    def _alembic(self) -> Config:
        config = Config(str(ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(ROOT / "alembic"))
        config.attributes["engine"] = self.engine
        return config

    def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent)."""
        command.upgrade(self._alembic(), "head")

    def downgrade_base(self) -> None:
        """Drop every table of ours (tests)."""
        command.downgrade(self._alembic(), "base")

    def reader(self) -> Any:
        """The calling thread's own driver connection, in autocommit, for hot lookups.

        Kept open for the thread's life: no pool checkout, no reset when given back, no
        transaction to open and close around a lone SELECT. Closed by ``close``; after a
        driver error call ``drop_reader`` so the next lookup opens a fresh one.
        """
        conn: Any = getattr(self._readers, "conn", None)
        if conn is None:
            pooled = self.engine.raw_connection()
            conn = pooled.driver_connection
            pooled.detach()  # ours now: the pool neither resets nor hands it to anyone else
            if self.dialect == "sqlite":
                conn.isolation_level = None
            else:
                conn.autocommit = True
            self._readers.conn = conn
            with self._reader_lock:
                self._reader_conns.append(conn)
        return conn

    def drop_reader(self) -> None:
        conn = getattr(self._readers, "conn", None)
        if conn is None:
            return
        self._readers.conn = None
        with self._reader_lock:
            self._reader_conns.remove(conn)
        with contextlib.suppress(Exception):
            conn.close()

    def close(self) -> None:
        with self._reader_lock:
            conns, self._reader_conns = self._reader_conns, []
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()
        self.engine.dispose()
