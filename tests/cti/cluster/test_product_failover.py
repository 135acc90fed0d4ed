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

from bench.cluster_lab import AGENT_LOGIN, ClusterLab, all_rung, cluster_lab
from cti.web.auth import COOKIE

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


async def test_a_paused_node_steps_down_without_acting(lab: ClusterLab) -> None:
    a = await lab.node("a")
    await lab.ready(a)
    b = await lab.node("b")
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
    a.proc.send_signal(signal.SIGCONT)
    assert await asyncio.wait_for(a.proc.wait(), 60) == 75
    assert a.said("a perdu la main sur l'autocommutateur")

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
