"""The database goes away while calls flow: nothing the product had to record is lost.

The whole product runs in-process on the simulated PBX (real AMI over TCP) against a real
PostgreSQL reached through a TCP relay this test owns: cutting the relay refuses new
connections and drops the open ones, as a stopped server does (the machine's shared server
itself is never touched). Calls are answered and end, an agent changes state, an opened card
is audited and a note is written during the outage; the database comes back; then every
call's record is complete, every audit entry, note and state is there, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, func, select, text

from cti.assembly import Product, running
from cti.db import Database, engine_url
from cti.pbxsim.pbx import AgentPhone
from cti.settings import Settings
from cti.supervision.alerts import AlertKind
from cti.tracker import events as ev
from cti.web.supervision_api import SupervisionFeed
from screenpop.models import AgentStateRow, AuditEntry, Interaction, InteractionNote

CONFIG: dict[str, Any] = {
    "skills": {"accueil": "Accueil", "etat-civil": "État civil"},
    "services": {
        "accueil": {"label": "Accueil", "required_skills": {"accueil": 1}},
        "etat-civil": {"label": "État civil", "required_skills": {"etat-civil": 3}},
    },
    "agents": {
        "201": {"name": "Marie", "skills": {"accueil": 5, "etat-civil": 5}},
        "202": {"name": "Paul", "skills": {"accueil": 5, "etat-civil": 5}},
    },
}


class Relay:
    """TCP from a local port to the database server, cut and restored at will."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """New connections refused, open ones dropped."""
        assert self._server is not None
        self._server.close()
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._links |= {writer, up_writer}
        with contextlib.suppress(asyncio.CancelledError):  # the loop closing at the end
            await asyncio.gather(
                self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True
            )
        self._links -= {writer, up_writer}

    @staticmethod
    async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        finally:
            sink.transport.abort()


async def until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll ``check`` (state of the product, no event to wait on) until it holds."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)
    assert check(), what


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A schema of our own on the test server (as tests/conftest.py's ``database_url``)."""
    server = os.environ.get("CTI_TEST_DATABASE_URL")
    if not server:
        pytest.skip("CTI_TEST_DATABASE_URL is not set: PostgreSQL not covered here")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(engine_url(server))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _with_schema(url: str, schema: str, port: int | None = None) -> str:
    parts = urlsplit(url)
    if port is not None:
        user = f"{parts.username}@" if parts.username else ""
        parts = parts._replace(netloc=f"{user}127.0.0.1:{port}")
    separator = "&" if parts.query else ""
    query = f"{parts.query}{separator}options=-csearch_path%3D{schema}"
    return urlunsplit(parts._replace(query=query))


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    server = urlsplit(os.environ.get("CTI_TEST_DATABASE_URL", ""))
    relay = Relay((server.hostname or "127.0.0.1", server.port or 5432))
    await relay.start()
    try:
        yield relay
    finally:
        if relay._server is not None:
            await relay.cut()


@pytest.fixture
async def product(postgres_schema: str, relay: Relay, tmp_path: Path) -> AsyncIterator[Product]:
    server = os.environ["CTI_TEST_DATABASE_URL"]
    routing = tmp_path / "routing.yaml"
    routing.write_text(yaml.safe_dump(CONFIG, allow_unicode=True), encoding="utf-8")
    settings = Settings(
        database_url=_with_schema(server, postgres_schema, relay.port),
        spool_dir=tmp_path / "spool",
        http_port=0,
        demo_citizens=10,
        sim_rate=0,
        sim_time_scale=0.02,
        routing_config=routing,
    )
    async with running(settings, simulated=True, traffic=False) as product:
        assert product.pbx is not None
        product.pbx.telephony.agents.update(
            {ext: AgentPhone(ring=1.0, talk=5) for ext in CONFIG["agents"]}
        )
        product.pbx.telephony.safety_net = 1e6
        await until(lambda: product.service.link_state == "ready", "the AMI link up")
        yield product


class Seen:
    def __init__(self) -> None:
        self.events: list[ev.DomainEvent] = []

    def __call__(self, event: ev.DomainEvent) -> None:
        self.events.append(event)

    def has(self, kind: type[ev.CallEvent], call_id: str) -> bool:
        return any(isinstance(e, kind) and e.call_id == call_id for e in self.events)


async def test_nothing_is_lost_while_postgresql_refuses_connections(
    product: Product, relay: Relay, postgres_schema: str, tmp_path: Path
) -> None:
    pbx, pop, writer = product.pbx, product.pop, product.pop.writer
    assert pbx is not None and product.app is not None
    feed: SupervisionFeed = product.app.state.supervision
    seen = Seen()
    product.service.add_listener(seen)
    for agent in ("201", "202"):
        product.router.set_agent_state(agent, "paused", "réunion")
    # Madame Dupont calls before the outage: her card is read from the directory, she waits.
    dupont = pbx.place_call("0612345678", "Dupont", service="etat-civil", talk=10)
    await until(lambda: seen.has(ev.CallWaiting, dupont.linkedid), "Dupont waiting")
    await pop.drained()

    await relay.cut()
    # During the outage: Paul comes back, takes her call (the card opens: audited), writes a
    # note; Marie comes back too; four more citizens call, are answered and hang up.
    product.router.set_agent_state("202", "ready", None)
    await until(lambda: seen.has(ev.CallAnswered, dupont.linkedid), "Dupont answered")
    saved = await pop.add_note(dupont.linkedid, "202", "Demande d'acte de naissance")
    assert saved.pending  # accepted, kept, written later
    product.router.set_agent_state("201", "ready", None)
    others = [
        pbx.place_call(f"06987654{n:02d}", "Martin", service="accueil", talk=10) for n in range(4)
    ]
    calls = [dupont, *others]
    await until(lambda: all(seen.has(ev.CallEnded, c.linkedid) for c in calls), "every call ended")
    pop.records.flush()
    await until(lambda: writer.holding and not pop.records.pending, "the writes held")

    async with httpx.AsyncClient(base_url=product.url.rstrip("/")) as client:
        health = (await client.get("/healthz")).json()
        metrics = (await client.get("/metrics")).text
    assert health["status"] == "degraded" and health["ami"] == "ready"
    assert health["database"]["state"] == "down"
    assert health["database"]["pending_writes"] == writer.pending_writes > 0
    assert health["database"]["since"] is not None
    assert health["voice_menu"] == {"state": "listening"}
    # prometheus_client writes every sample as a float.
    assert "cti_db_up 0.0" in metrics.splitlines()
    assert f"cti_db_pending_writes {float(writer.pending_writes)}" in metrics.splitlines()
    await until(
        lambda: any(a.kind is AlertKind.DATABASE for a in feed.board.alerts.values()),
        "the wallboard's alert",
    )
    [alert] = [a for a in feed.board.alerts.values() if a.kind is AlertKind.DATABASE]
    assert alert.message.startswith("Base de données injoignable : ")
    assert "en attente" in alert.message
    assert (tmp_path / "spool").is_dir()

    await relay.start()  # the database is back
    await until(lambda: not writer.holding, "the held writes written", timeout=60)
    await pop.drained()
    async with httpx.AsyncClient(base_url=product.url.rstrip("/")) as client:
        health = (await client.get("/healthz")).json()
    assert health["database"]["state"] == "up" and health["database"]["pending_writes"] == 0
    await until(
        lambda: all(
            a.cleared_at is not None
            for a in feed.board.alerts.values()
            if a.kind is AlertKind.DATABASE
        ),
        "the alert cleared",
    )

    # Read straight from the server, not through the relay.
    db = Database(_with_schema(os.environ["CTI_TEST_DATABASE_URL"], postgres_schema))
    try:
        with db.session() as session:
            ids = [c.linkedid for c in calls]
            rows = {
                r.call_id: r
                for r in session.scalars(select(Interaction).where(Interaction.call_id.in_(ids)))
            }
            in_progress = [i for i in ids if i not in rows or rows[i].outcome == "in_progress"]
            assert in_progress == []  # no call lost, none left half-written
            # Each record says what the events said (a caller may tire of waiting).
            expected = ["answered" if seen.has(ev.CallAnswered, i) else "abandoned" for i in ids]
            assert [rows[i].outcome for i in ids] == expected
            answered_by = {
                e.call_id: e.agent for e in seen.events if isinstance(e, ev.CallAnswered)
            }
            assert all(answered_by[i] in rows[i].agents for i in answered_by if i in rows)
            assert rows[dupont.linkedid].agents == ["202"]
            assert rows[dupont.linkedid].citizen_id is not None
            assert all(rows[i].duration_seconds for i in ids)
            opened = session.scalar(
                select(func.count(AuditEntry.id)).where(
                    AuditEntry.action == "card.open",
                    AuditEntry.detail == f"appel {dupont.linkedid}",
                )
            )
            assert opened == 1  # the card opened during the outage, audited once
            notes = session.scalars(
                select(InteractionNote.text).where(
                    InteractionNote.interaction_id == rows[dupont.linkedid].id
                )
            ).all()
            assert notes == ["Demande d'acte de naissance"]
            states = {r.agent: r.state for r in session.scalars(select(AgentStateRow))}
            assert states == {"201": "ready", "202": "ready"}
    finally:
        db.close()
    assert writer.lost == 0
    with contextlib.suppress(FileNotFoundError):
        assert (tmp_path / "spool" / "ecritures-en-attente.jsonl").read_text() == ""
