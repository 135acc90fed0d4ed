"""Callback requests in the database (SQLite and PostgreSQL): once, compare-and-set moves."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cti import callback_store
from cti.db import Database
from routing.callbacks import rules
from routing.callbacks.request import CallbackRequest, CallbackState, Source, Window

AT = datetime(2026, 12, 1, 9, 42, tzinfo=UTC)


def request(rid: str = "a1", **kw: object) -> CallbackRequest:
    base = CallbackRequest(
        rid,
        "+33612345678",
        "etat-civil",
        AT,
        Window.REOPENING,
        AT,
        None,
        Source.MENU,
        menu_path=("bienvenue", "menu_principal"),
        note="acte de naissance",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_written_exactly_once_and_read_back_whole(database: Database) -> None:
    r = request(updated_at=AT)
    assert callback_store.add(database, r)
    assert not callback_store.add(database, request(note="autre"))
    back = callback_store.get(database, "a1")
    assert back == r
    assert callback_store.open_requests(database) == [r]


def test_moves_are_compare_and_set(database: Database) -> None:
    r = request()
    callback_store.add(database, r)
    offered = rules.offered(r, "201", AT + timedelta(minutes=1))
    assert callback_store.move(database, r, offered)
    dialling = rules.dialling(offered, "201", "cb-a1-1", AT + timedelta(minutes=2))
    assert callback_store.move(database, offered, dialling)
    # A second writer who read the offered request loses: it must not dial.
    again = rules.dialling(offered, "202", "cb-a1-1", AT + timedelta(minutes=2))
    assert not callback_store.move(database, offered, again)
    stored = callback_store.get(database, "a1")
    assert stored is not None
    assert (stored.state, stored.agent, stored.action_id, stored.attempts) == (
        CallbackState.DIALLING,
        "201",
        "cb-a1-1",
        1,
    )


def test_final_requests_are_not_reopened_after_a_restart(database: Database) -> None:
    done = request("b2", state=CallbackState.REACHED, attempts=1)
    callback_store.add(database, request("a1"))
    callback_store.add(database, done)
    callback_store.add(database, request("c3", asked_at=AT - timedelta(hours=1)))
    # A new Database object on the same URL: what a restarted product reads.
    again = Database(database.url)
    try:
        assert [r.id for r in callback_store.open_requests(again)] == ["c3", "a1"]
        counts = {c.state: c.count for c in callback_store.count_by_state(again)}
        assert counts == {CallbackState.PENDING: 2, CallbackState.REACHED: 1}
    finally:
        again.close()
