"""Database writes under the router's lease: a deposed router's owned writes (calls' records,
agents' states, callbacks' moves, kept answers) are refused, kept and counted; facts still
land; a spool is replayed only if nobody led in between.

Real databases (SQLite file, and PostgreSQL when CTI_TEST_DATABASE_URL is set), the real
writer, directory and spool; two nodes are two holders of the same lease row.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from cti import callback_store, ivr_store, routing_store
from cti.broker.answered import Answered, AnsweredStore
from cti.broker.envelope import ForwardedAnswer
from cti.callback_store import Audit
from cti.cluster.lease import NotLeader
from cti.cluster.lease_store import LeaseStore
from cti.cluster.write_fence import WriteFence
from cti.db import Database
from cti.settings import Settings
from cti.voice_menu import DEFAULT_TREE
from cti.web import lease_lost
from cti.web.serve import serving
from routing.callbacks import rules
from routing.callbacks.request import CallbackRequest, Source, Window
from screenpop.directory import AuditRecord, Directory, InteractionUpdate, NoteView
from screenpop.directory_writes import (
    agent_state_write,
    audits_write,
    calls_write,
    note_write,
    stale_calls_write,
)
from screenpop.models import AgentStateRow, AuditEntry, InteractionNote
from screenpop.spool import REFUSED_FILE_NAME, Spool
from screenpop.writer import OrderedWriter

T = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _writer(database: Database, store: LeaseStore, token: int, spool: Path) -> OrderedWriter:
    """A node's writer as the product builds it under the lease ``token``."""
    directory = Directory(database)
    directory.fence = WriteFence(store, token)
    writer = OrderedWriter(f"nœud {token}", apply=directory.apply, spool=Spool(spool))
    writer.token = token
    return writer


def _refused(spool: Path) -> list[dict[str, object]]:
    path = spool / REFUSED_FILE_NAME
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_a_deposed_routers_owned_writes_are_refused_kept_and_counted(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = LeaseStore(database)
    assert store.acquire("a", ttl=0.0) == 1  # A's lease lapses (paused)...
    assert store.acquire("b", ttl=30.0) == 2  # ...and B takes over
    directory = Directory(database)

    # B, in charge, records the call as still going on and Marie as ready.
    b = _writer(database, store, 2, tmp_path / "spool-b")
    b_task = asyncio.create_task(b.run())
    b.submit(calls_write([InteractionUpdate("c1", {"started_at": T, "outcome": "in_progress"})]))
    b.submit(agent_state_write("201", "ready", None))
    await b.settled()
    b_task.cancel()
    assert b.fenced == 0

    # A wakes up and writes what it had pending on its way out.
    a = _writer(database, store, 1, tmp_path / "spool-a")
    a_task = asyncio.create_task(a.run())
    ended = {"outcome": "abandoned", "duration_seconds": 12.0}
    a.submit(calls_write([InteractionUpdate("c1", ended), InteractionUpdate("c9", ended)]))
    a.submit(agent_state_write("201", "paused", "déjeuner"))
    a.submit(stale_calls_write([]))  # "every call in progress ended": B's calls would be lost
    a.submit(audits_write([AuditRecord("marie", "card.open", None, "appel c1", at=T)]))
    note = NoteView("201", "Rappeler demain", T)
    with caplog.at_level(logging.WARNING, logger="screenpop.writer"):
        assert await a.write(note_write("c1", note)) is True  # a fact: it lands
        with pytest.raises(NotLeader, match="remplacé par 2"):
            await a.write(calls_write([InteractionUpdate("c1", {"disposition": "info"})]))
    a_task.cancel()

    # Nothing A owned landed: the rows are B's.
    c1 = directory.interaction("c1")
    assert c1 is not None and (c1.outcome, c1.disposition) == ("in_progress", None)
    assert directory.interaction("c9") is None
    with database.session() as session:
        state = session.get(AgentStateRow, "201")
        assert state is not None and (state.state, state.reason) == ("ready", None)
        # What a person saw and typed is true whoever wrote it down.
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 1
        assert session.scalar(select(func.count()).select_from(InteractionNote)) == 1

    # Refused: counted (two calls, a state, the stale calls, the disposition), said, kept.
    assert a.fenced == 5
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("non faite" in line and "jeton 1" in line for line in said) == 4, said
    kept = _refused(tmp_path / "spool-a")
    assert [(line["kind"], line["token"]) for line in kept] == [
        ("calls", 1),
        ("agent_state", 1),
        ("stale_calls", 1),
        ("calls", 1),
    ]
    assert "remplacé par 2" in str(kept[0]["reason"])


async def test_a_spool_is_replayed_only_if_nobody_led_in_between(
    database: Database, tmp_path: Path
) -> None:
    store = LeaseStore(database)
    directory = Directory(database)
    spool = Spool(tmp_path / "spool")
    # Left by a previous process under token 1 (the database was away when it stopped).
    spool.append([(0, replace(agent_state_write("201", "paused", "réunion"), token=1))])
    assert store.acquire("old", ttl=0.0) == 1
    assert store.acquire("new", ttl=30.0) == 2  # straight from the maker to the replayer
    await _writer(database, store, 2, tmp_path / "spool").recover()
    with database.session() as session:
        state = session.get(AgentStateRow, "201")
        assert state is not None and state.state == "paused"

    # Another node led in between (token 2), this one now holds 3: refused, set aside.
    lost = calls_write([InteractionUpdate("c1", {"outcome": "lost"})])
    spool.append([(1, replace(lost, token=1))])
    store.release("new", 2)
    assert store.acquire("third", ttl=30.0) == 3
    late = _writer(database, store, 3, tmp_path / "spool")
    await late.recover()
    assert late.fenced == 1 and not late.holding
    assert directory.interaction("c1") is None
    assert [line["kind"] for line in _refused(tmp_path / "spool")] == ["calls"]


def test_a_deposed_routers_callback_move_is_refused_whole(database: Database) -> None:
    store = LeaseStore(database)
    assert store.acquire("a", ttl=0.0) == 1
    assert store.acquire("b", ttl=30.0) == 2
    fence_a, fence_b = WriteFence(store, 1), WriteFence(store, 2)
    asked = CallbackRequest(
        "r1", "+33612345678", "etat-civil", T, Window.REOPENING, T, None, Source.MENU
    )
    assert callback_store.add(database, asked)  # a citizen asked: a fact, not fenced
    offered_by_b = rules.offered(asked, "202", T)
    assert callback_store.move(database, asked, offered_by_b, fence=fence_b)
    # A, woken, takes an « Accepter » its page still showed and would commit the attempt.
    dialling_by_a = rules.dialling(offered_by_b, "202", "cti-rappel-r1-1", T)
    audit = Audit("paul", "callback.call", None, "le poste 202 rappelle, demande r1")
    with pytest.raises(NotLeader, match="remplacé par 2"):
        callback_store.move(database, offered_by_b, dialling_by_a, audit, fence=fence_a)
    stored = callback_store.get(database, "r1")
    assert stored is not None and (stored.state.value, stored.attempts) == ("offered", 0)
    with database.session() as session:  # its audit entry went with it: nothing half-done
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    assert (fence_a.refused, fence_b.refused) == (1, 0)


async def test_a_deposed_routers_answer_is_not_kept_so_its_successor_runs_the_resend(
    database: Database,
) -> None:
    store = LeaseStore(database)
    assert store.acquire("a", ttl=0.0) == 1
    assert store.acquire("b", ttl=30.0) == 2
    runs: list[str] = []

    async def run(who: str) -> ForwardedAnswer:
        runs.append(who)
        return ForwardedAnswer(500, [], b"refused by the lease")

    key = "k" * 64
    await Answered(AnsweredStore(database, WriteFence(store, 1))).once(key, lambda: run("a"))
    await Answered(AnsweredStore(database, WriteFence(store, 2))).once(key, lambda: run("b"))
    assert runs == ["a", "b"]  # B ran the resend rather than give A's answer back


def test_a_deposed_router_cannot_publish_a_routing_or_a_menu_its_successor_would_not_run(
    database: Database,
) -> None:
    store = LeaseStore(database)
    assert store.acquire("a", ttl=0.0) == 1
    assert store.acquire("b", ttl=30.0) == 2
    stale = WriteFence(store, 1)
    seeded = routing_store.ensure(database, Settings().routing_config)
    with pytest.raises(NotLeader):
        routing_store.save(database, seeded.config, "nadia", "sur l'ancien nœud", stale)
    current = routing_store.current(database)  # B's engine and the database agree
    assert current is not None and current.version == seeded.version

    menu = ivr_store.ensure(database, DEFAULT_TREE, set(seeded.config.services))
    draft = ivr_store.save_draft(database, menu.tree, "thierry", "un brouillon est un fait")
    with pytest.raises(NotLeader):
        ivr_store.publish(
            database, draft.version, "thierry", set(seeded.config.services), fence=stale
        )
    assert getattr(ivr_store.published(database), "version", None) == menu.version
    published = ivr_store.publish(
        database, draft.version, "thierry", set(seeded.config.services), fence=WriteFence(store, 2)
    )
    assert published.version == draft.version


async def test_a_request_refused_by_the_lease_answers_503_try_again() -> None:
    app = FastAPI()
    lease_lost.install(app)

    @app.post("/api/calls/c1/disposition")
    async def disposition() -> None:
        raise NotLeader("écriture refusée : le jeton 1 du routeur a été remplacé par 2")

    async with serving(app) as port:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            answer = await client.post("/api/calls/c1/disposition")
    assert answer.status_code == 503 and "réessayez" in answer.json()["detail"]
