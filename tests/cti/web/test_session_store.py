"""Sessions known to every node: opened on one, taken back by another from the database.

Each ``Sessions`` stands for one node's memory; they share a real database (SQLite file or
PostgreSQL). A token is taken back only while its session may go on: not ended (logout,
closed by an admin or a supervisor), not expired, its account active.
"""

from __future__ import annotations

from sqlalchemy import update

from cti.db import Database
from cti.web.auth import Sessions
from cti.web.session_store import SessionStore, token_hash
from screenpop import accounts
from screenpop.accounts import Role
from screenpop.models import User, WebSession


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def node(db: Database, wall: Clock) -> Sessions:
    return Sessions(ttl=600, clock=Clock(50.0), store=SessionStore(db), wall=wall)


async def test_a_session_opened_on_one_node_is_taken_back_by_another(database: Database) -> None:
    marie = accounts.create_user(database, "marie", "x" * 12, Role.AGENT, "Marie", "201")
    wall = Clock(1_000_000.0)
    a, b = node(database, wall), node(database, wall)
    opened = a.open(marie)
    await a.flush()
    with database.session() as session:
        stored = session.get(WebSession, token_hash(opened.token))
        assert stored is not None and stored.csrf == opened.csrf
    assert stored_values(database) == [token_hash(opened.token)]  # never the token itself

    taken = await b.find(opened.token)
    assert taken is not None and taken is not opened
    assert (taken.user, taken.csrf) == (marie, opened.csrf)
    assert await b.find("not-a-token") is None
    assert await b.find(opened.token) is taken  # from memory the second time


async def test_an_ended_expired_or_disabled_session_is_not_taken_back(database: Database) -> None:
    marie = accounts.create_user(database, "marie", "x" * 12, Role.AGENT, "Marie", "201")
    paul = accounts.create_user(database, "paul", "x" * 12, Role.AGENT, "Paul", "202")
    luc = accounts.create_user(database, "luc", "x" * 12, Role.AGENT, "Luc", "204")
    wall = Clock(1_000_000.0)
    a = node(database, wall)
    logged_out, closed, by_supervisor, disabled, expired = (
        a.open(marie),
        a.open(marie),
        a.open(paul),
        a.open(luc),
        a.open(luc),
    )
    other_tab = a.open(marie)
    a.close(logged_out.token)
    a.close_extension("202", "fermée par la supervision")
    await a.flush()
    assert await node(database, wall).find(closed.token) is not None
    a.close_user(marie.id)
    await a.flush()
    with database.engine.begin() as conn:
        conn.execute(update(User).where(User.id == luc.id).values(active=False))

    b = node(database, wall)
    for ended in (logged_out, closed, other_tab, by_supervisor, disabled):
        assert await b.find(ended.token) is None, ended.user.username
    with database.engine.begin() as conn:
        conn.execute(update(User).where(User.id == luc.id).values(active=True))
    assert await node(database, wall).find(expired.token) is not None
    wall.now += 601
    assert await node(database, wall).find(expired.token) is None


async def test_a_session_in_use_lives_on_in_the_store(database: Database) -> None:
    marie = accounts.create_user(database, "marie", "x" * 12, Role.AGENT, "Marie", "201")
    wall = Clock(1_000_000.0)
    a = node(database, wall)
    opened = a.open(marie)
    await a.flush()
    # Used for 500 s past its first deadline on A: the store hears of it at A's sweep.
    for _ in range(11):
        wall.now += 100
        a.clock.now += 100  # type: ignore[attr-defined]
        assert a.get(opened.token) is opened
    await a.keep()
    assert await node(database, wall).find(opened.token) is not None


def stored_values(database: Database) -> list[str]:
    with database.engine.connect() as conn:
        return [value for (value,) in conn.exec_driver_sql("SELECT token_hash FROM web_sessions")]
