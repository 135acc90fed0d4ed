"""Two real products under one router lease (active and standby) against the simulated PBX.

Both are ``python -m cti.app`` processes sharing one database (a SQLite file or PostgreSQL);
only the lease's holder connects to the AMI and routes. Killed (``kill -9``) or paused
(SIGSTOP) with calls in progress, the active node is replaced by the standby, which rebuilds
from the PBX and the database as a restarted product does: every call is answered, and each
is offered exactly once (one ``DialBegin`` per call: no offer replayed by either node).
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets
from sqlalchemy import text

from bench.cluster_lab import AGENT_LOGIN, ClusterLab, all_rung, cluster_lab
from cti.db import Database
from cti.web.auth import COOKIE
from screenpop.spool import REFUSED_FILE_NAME

# What a node may send without driving anything (its link's upkeep and resync).
READ_ONLY = {"ping", "coreshowchannels", "getvar", "events"}


@pytest.fixture
async def lab(database_url: str, tmp_path: Path) -> AsyncIterator[ClusterLab]:
    # Two nodes share PostgreSQL in production; SQLite's lease is covered by test_lease.py
    # and the bench, so the suite spends these processes on PostgreSQL alone.
    if database_url.startswith("sqlite"):
        pytest.skip("the pair of nodes shares PostgreSQL (CTI_TEST_DATABASE_URL)")
    async with cluster_lab(database_url, tmp_path, ttl=1.5) as lab:
        yield lab


async def test_the_standby_takes_over_a_killed_node_with_calls_in_progress(
    lab: ClusterLab,
) -> None:
    a = await lab.node("a")
    await lab.ready(a)
    b = await lab.node("b")
    await b.until(lambda: b.said("nœud en attente"))
    assert b.url() is None  # a standby serves nothing: the balancer sends pages to A
    url_a = await lab.ready(a)
    async with httpx.AsyncClient(base_url=url_a) as marie:
        username, password = AGENT_LOGIN
        logged = await marie.post("/api/login", json={"username": username, "password": password})
        assert logged.status_code == 200, logged.text
        cookie = marie.cookies[COOKIE]
    calls = lab.calls()
    await lab.until(lambda: all_rung(calls))

    killed_at = time.monotonic()
    a.proc.kill()
    later = lab.calls()  # they wait while nobody routes
    url_b = await lab.ready(b)
    print(f"failover: node B ready {time.monotonic() - killed_at:.1f} s after kill -9")
    await lab.until(lambda: all_rung(later))
    assert all(lab.dials[call.linkedid] == 1 for call in calls + later), lab.dials

    # Marie's browser, sent to B by the balancer, is still logged in: page and socket.
    async with httpx.AsyncClient(base_url=url_b, cookies={COOKIE: cookie}) as marie:
        me = await marie.get("/api/me")
    assert me.status_code == 200 and me.json()["username"] == "marie"
    # Her current call's card comes back too, from the call B found on the PBX.
    talking = [c for c in calls + later if c.agent == "201" and not c.ended.is_set()]
    socket_url = url_b.replace("http://", "ws://") + "ws/agent"
    headers = {"Cookie": f"{COOKIE}={cookie}"}
    async with websockets.connect(socket_url, additional_headers=headers) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 30))
        card = json.loads(await asyncio.wait_for(ws.recv(), 30)) if talking else None
    assert (hello["type"], hello["agent"], hello["display_name"]) == (
        "hello",
        "201",
        "Marie Lambert",
    )
    assert talking, "Marie (201, accueil and État civil) took one of the six calls"
    assert card is not None and card["type"].startswith("card.")


# Who wrote each row of what the active router owns, under which lease token (PostgreSQL sees
# the writing node by its connection's application_name).
_PROBE = """
CREATE TABLE written_by (tbl text, app text, token bigint);
CREATE FUNCTION note_writer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO written_by VALUES (TG_TABLE_NAME, current_setting('application_name'),
                                   (SELECT max(token) FROM router_lease));
    RETURN NULL;
END $$;
CREATE TRIGGER note_writer AFTER INSERT OR UPDATE ON interactions
    FOR EACH ROW EXECUTE FUNCTION note_writer();
CREATE TRIGGER note_writer AFTER INSERT OR UPDATE ON agent_states
    FOR EACH ROW EXECUTE FUNCTION note_writer();
"""


def _named(lab: ClusterLab, name: str) -> dict[str, str]:
    return {"CTI_DATABASE_URL": f"{lab.url}&application_name=cti-{name}"}


def _written_by(lab: ClusterLab) -> list[tuple[str, str, int]]:
    database = Database(lab.url)
    try:
        with database.engine.connect() as conn:
            return [(r[0], r[1], int(r[2])) for r in conn.execute(text(_WRITTEN))]
    finally:
        database.close()


_WRITTEN = "SELECT tbl, app, token FROM written_by"


async def test_a_paused_node_steps_down_without_acting(lab: ClusterLab) -> None:
    database = Database(lab.url)
    with database.engine.begin() as conn:
        conn.exec_driver_sql(_PROBE)
    database.close()
    a = await lab.node("a", extra=_named(lab, "a"))
    await lab.ready(a)
    b = await lab.node("b", extra=_named(lab, "b"))
    await b.until(lambda: b.said("nœud en attente"))
    first = lab.calls()
    await lab.until(lambda: all_rung(first))

    # Calls arrive and A freezes before it has read them (a partition, a frozen VM): it wakes
    # up believing it leads, with stale free agents and new callers to offer them.
    waiting = lab.calls()
    a.proc.send_signal(signal.SIGSTOP)
    await lab.ready(b)
    await lab.until(lambda: all_rung(waiting))
    actions = lab.pbx.ami.actions
    drivers = [login for login, name in actions if name == "redirect"]
    a_login, b_login = drivers[0], drivers[-1]  # A offered the first calls, B the last ones
    assert a_login != b_login
    took_over = next(i for i, (login, _) in enumerate(actions) if login == b_login)
    # A call A offered ends under B: B records its end; A, frozen, has it in its AMI buffer.
    lab.pbx.hangup_call(first[0])
    await lab.until(lambda: first[0].ended.is_set())
    a.proc.send_signal(signal.SIGCONT)
    assert await asyncio.wait_for(a.proc.wait(), 60) == 75
    assert a.said("a perdu la main sur l'autocommutateur")

    # A froze within a second of offering the first calls: their records were still pending
    # (``call_records.FLUSH_AFTER``), and its AMI buffer held what happened under B. None of
    # it landed once B held the lease; each write was refused, said and set aside.
    written = _written_by(lab)
    b_token = max(token for _, app, token in written if app == "cti-b")  # B's rows are seen
    assert not [row for row in written if row[1] == "cti-a" and row[2] >= b_token], written
    assert a.said("non faite : écriture refusée"), a.tail(20)
    refused = lab.workdir / "spool-a" / REFUSED_FILE_NAME
    kept = [json.loads(line) for line in refused.read_text(encoding="utf-8").splitlines()]
    assert kept and all(line["token"] < b_token for line in kept), kept
    print(f"deposed node: {len(kept)} writes refused ({sorted({k['kind'] for k in kept})})")

    # Nothing from A reached the PBX once B drove it, other than reading its state.
    driven = {name for login, name in actions[took_over:] if login == a_login} - READ_ONLY
    assert not driven, driven
    assert all(lab.dials[call.linkedid] == 1 for call in first + waiting), lab.dials


async def test_the_failover_bench_runs_on_a_tiny_scale(tmp_path: Path) -> None:
    """``python -m bench failover`` end to end, one kill and one restart: its counts hold."""
    from bench import failover_bench

    (tmp_path / "single").mkdir()
    measured = await failover_bench.measure(kills=1, restarts=1, workdir=tmp_path)
    assert len(measured.takeovers) == 1 and len(measured.restarts) == 1
    assert len(measured.calls) == 6
    assert measured.lost == 0 and measured.rung_twice == 0
