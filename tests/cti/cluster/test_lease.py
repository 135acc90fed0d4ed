"""The router's lease: its local deadline (pure), the database's grants (SQLite, PostgreSQL)."""

from __future__ import annotations

import pytest

from cti.cluster.lease import Lease, NotLeader
from cti.cluster.lease_store import LeaseStore
from cti.db import Database


def test_local_deadline_counts_from_the_request_sent_minus_a_margin() -> None:
    lease = Lease(token=4, confirmed_at=100.0, ttl=3.0, margin=0.1)
    assert lease.may_act(102.6)
    assert not lease.may_act(102.7)
    with pytest.raises(NotLeader, match="jeton 4"):
        lease.check(105.0)
    # A renewal counts from when it was sent, never backwards.
    assert lease.renewed(101.0).deadline == pytest.approx(103.7)
    assert lease.renewed(99.0).deadline == lease.deadline


def test_one_holder_at_a_time_and_a_new_token_at_each_change(database: Database) -> None:
    store = LeaseStore(database)
    assert store.current() is None
    first = store.acquire("a", ttl=30.0)
    assert first == 1
    assert store.acquire("b", ttl=30.0) is None  # held and not expired
    assert store.acquire("a", ttl=30.0) == 1  # its holder keeps its token
    assert store.renew("a", 1, ttl=30.0)
    assert not store.renew("b", 1, ttl=30.0)
    holder, token, left = store.current() or ("", 0, 0.0)
    assert (holder, token) == ("a", 1) and 0 < left <= 30.0

    store.release("a", 1)
    assert store.acquire("b", ttl=30.0) == 2
    assert not store.renew("a", 1, ttl=30.0)  # the deposed holder cannot take it back
    assert store.acquire("a", ttl=30.0) is None


def test_an_expired_lease_passes_on_and_its_old_holder_cannot_renew(database: Database) -> None:
    store = LeaseStore(database)
    assert store.acquire("a", ttl=0.0) == 1  # expired at once, on the database's clock
    assert store.acquire("b", ttl=30.0) == 2
    assert not store.renew("a", 1, ttl=30.0)
    # Coming back after its own lapse, a holder gets a new token, not its old one.
    store.release("b", 2)
    assert store.acquire("b", ttl=30.0) == 3


def test_a_write_fenced_by_an_old_token_is_refused_whole(database: Database) -> None:
    store = LeaseStore(database)
    assert store.acquire("a", ttl=0.0) == 1
    assert store.acquire("b", ttl=30.0) == 2
    table = "settings"
    with database.engine.begin() as conn:
        store.fenced(conn, 2)
        conn.exec_driver_sql(f"INSERT INTO {table} (key, value) VALUES ('by-b', '1')")
    with pytest.raises(NotLeader, match="remplacé par 2"), database.engine.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO {table} (key, value) VALUES ('by-a', '1')")
        store.fenced(conn, 1)
    with database.engine.connect() as conn:
        keys = {row[0] for row in conn.exec_driver_sql(f"SELECT key FROM {table}")}
    assert "by-b" in keys and "by-a" not in keys
