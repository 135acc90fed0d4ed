"""Kept answers, by idempotency key: a request resent to the next router is not run again.

Two ``Answered`` over one database stand for two routers, the first one gone after storing
its answer; the database is a real one (SQLite, and PostgreSQL when the tests have it).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from cti.broker.answered import KEEP_S, REPLAYED, Answered, AnsweredStore, keepable, request_key
from cti.broker.envelope import ForwardedAnswer, ForwardedRequest
from cti.db import Database
from screenpop.models import AnsweredRequest


def note(
    key: str | None = "k-1", cookie: str = "cti_session=marie", body: bytes = b"{}"
) -> ForwardedRequest:
    headers = [("cookie", cookie)] + ([("Idempotency-Key", key)] if key else [])
    return ForwardedRequest("POST", "/api/calls/c1/note", "", headers, None, "http", body)


def test_a_key_is_taken_with_its_session_and_body_and_safe_methods_have_none() -> None:
    assert request_key(note()) == request_key(note())
    assert request_key(note()) != request_key(note(cookie="cti_session=paul"))
    assert request_key(note()) != request_key(note(body=b'{"text": "autre"}'))
    assert request_key(note(key=None)) is None
    read = ForwardedRequest("GET", "/api/me", "", [("idempotency-key", "k")], None, "http", b"")
    assert request_key(read) is None


def test_answers_that_set_a_cookie_hold_a_password_or_did_nothing_are_not_kept() -> None:
    assert keepable(ForwardedAnswer(201, [("content-type", "application/json")], b"{}"))
    assert not keepable(ForwardedAnswer(200, [("set-cookie", "cti_session=x")], b""))
    assert not keepable(ForwardedAnswer(201, [("Cache-Control", "no-store")], b"{}"))
    assert not keepable(ForwardedAnswer(503, [], b"{}"))


async def test_the_next_router_gives_back_the_stored_answer_instead_of_running_again(
    database: Database,
) -> None:
    store = AnsweredStore(database)
    runs: list[str] = []

    async def run(who: str) -> ForwardedAnswer:
        runs.append(who)
        return ForwardedAnswer(201, [("content-type", "application/json")], b'{"id": 1}')

    key = request_key(note())
    assert key is not None
    first = await Answered(store).once(key, lambda: run("a"))
    # Router A stored it and died before the web node got it: B is asked the same.
    successor = Answered(store)
    again = await successor.once(key, lambda: run("b"))
    assert runs == ["a"]
    assert (again.status, again.body) == (first.status, first.body)
    assert REPLAYED in again.headers and REPLAYED not in first.headers
    assert successor.replayed == 1


async def test_the_same_key_twice_at_once_on_one_router_runs_once(database: Database) -> None:
    answered = Answered(AnsweredStore(database))
    release = asyncio.Event()
    runs = 0

    async def slow() -> ForwardedAnswer:
        nonlocal runs
        runs += 1
        await release.wait()
        return ForwardedAnswer(200, [], b"fait")

    first = asyncio.create_task(answered.once("k", slow))
    second = asyncio.create_task(answered.once("k", slow))
    await asyncio.sleep(0)  # both started: the second found the first running
    release.set()
    answers = await asyncio.gather(first, second)
    assert runs == 1
    assert [a.body for a in answers] == [b"fait", b"fait"]


async def test_kept_answers_are_forgotten_after_the_retention(database: Database) -> None:
    now = [1_000_000.0]
    answered = Answered(AnsweredStore(database), clock=lambda: now[0])

    async def run() -> ForwardedAnswer:
        return ForwardedAnswer(200, [], b"")

    await answered.once("old", run)
    now[0] += KEEP_S + 61  # past the retention and the sweep's period
    await answered.once("new", run)
    with database.session() as session:
        kept = session.scalars(select(AnsweredRequest.key_hash)).all()
        assert session.scalar(select(func.count()).select_from(AnsweredRequest)) == 1
    assert kept == ["new"]


async def test_the_database_away_does_not_hold_a_request() -> None:
    nowhere = Database("postgresql://postgres@127.0.0.1:9/absent")  # refused at once
    answered = Answered(AnsweredStore(nowhere))
    runs = 0

    async def run() -> ForwardedAnswer:
        nonlocal runs
        runs += 1
        return ForwardedAnswer(201, [], b"{}")

    try:
        answers = [await answered.once("k", run), await answered.once("k", run)]
    finally:
        nowhere.close()
    # Run each time: nothing could be kept, and nothing is given back that was not.
    assert [a.status for a in answers] == [201, 201] and runs == 2
    assert answered.replayed == 0
