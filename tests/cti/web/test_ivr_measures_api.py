"""The voice menu's measures over HTTP: who may read them, and their figures against runs
recorded through ``cti.ivr_store`` (SQLite, and PostgreSQL when configured).

The app holds only the menu's router and an ``IvrAdmin`` over the test database whose clock
is a fixed Tuesday; the published tree is the installation's default one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from itertools import count

import httpx
import pytest
from fastapi import FastAPI

from cti import ivr_store
from cti.db import Database
from cti.ivr_admin import IvrAdmin
from cti.voice_menu import DEFAULT_TREE
from cti.web import ivr_api
from cti.web.auth import COOKIE, Sessions
from ivr_scripts.measures import PARIS, MenuRun
from ivr_scripts.tree import parse_tree
from ivr_scripts.validate import DEFAULT_SERVICES
from screenpop.accounts import Role, UserView

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)  # a Tuesday
ENTRY = ("bienvenue", "horaires_mairie", "menu_principal")
_ids = count(1)


def run(
    at: datetime,
    path: tuple[str, ...],
    outcome: str,
    timed_out: tuple[str, ...] = (),
) -> MenuRun:
    uniqueid = f"1700000000.{next(_ids)}"
    return MenuRun(
        at=at,
        uniqueid=uniqueid,
        call_id=uniqueid,
        path=path,
        outcome=outcome,
        last_node=path[-1],
        timed_out_nodes=timed_out,
        self_served=outcome == "self_service",
    )


def seed(db: Database) -> None:
    hours = (*ENTRY, "annonce_horaires", "au_revoir")
    runs = [
        # Today: 5 callers hang up in the main menu (one let it time out first) ...
        *(run(NOW - timedelta(minutes=m), ENTRY, "caller_hung_up") for m in (1, 2, 3, 4)),
        run(NOW - timedelta(minutes=5), ENTRY, "caller_hung_up", timed_out=("menu_principal",)),
        # ... 2 hear the opening hours (self-service), 1 goes to the civil registry.
        run(NOW - timedelta(minutes=6), hours, "self_service"),
        run(NOW - timedelta(minutes=7), hours, "self_service"),
        run(NOW - timedelta(minutes=8), (*ENTRY, "vers_etat_civil"), "routed"),
        # Two days ago: one self-served call, one through a node the menu no longer has.
        run(NOW - timedelta(days=2), hours, "self_service"),
        run(NOW - timedelta(days=2, hours=1), ("bienvenue", "ancien_menu"), "caller_hung_up"),
        # Ten days ago: outside a 7-day period.
        run(NOW - timedelta(days=10), ENTRY, "caller_hung_up"),
    ]
    for item in runs:
        ivr_store.record_run(db, item)


@pytest.fixture
async def app(database: Database) -> AsyncIterator[FastAPI]:
    seed(database)
    admin = IvrAdmin(database, lambda: DEFAULT_SERVICES, clock=lambda: NOW)
    await admin.start(DEFAULT_TREE)
    app = FastAPI()
    app.state.sessions = Sessions()
    app.state.ivr = admin
    app.include_router(ivr_api.router)
    try:
        yield app
    finally:
        await admin.close()


def client(app: FastAPI, role: Role | None) -> httpx.AsyncClient:
    cookies = {}
    if role is not None:
        user = UserView(
            id=1, username=role.value, display_name=role.value, role=role, agent_extension=None
        )
        cookies[COOKIE] = app.state.sessions.open(user).token
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", cookies=cookies
    )


async def test_supervisors_read_the_measures_but_nothing_else_of_the_menu(app: FastAPI) -> None:
    for role, status in [
        (None, 401),
        (Role.AGENT, 403),
        (Role.SUPERVISOR, 200),
        (Role.TELECOM, 200),
        (Role.ADMIN, 200),
    ]:
        async with client(app, role) as c:
            assert (await c.get("/api/ivr/measures")).status_code == status, role
    async with client(app, Role.SUPERVISOR) as c:
        assert (await c.get("/api/ivr/versions")).status_code == 403
        assert (await c.get("/api/ivr/versions/1")).status_code == 403


async def test_figures_per_node_and_per_day_from_the_recorded_runs(app: FastAPI) -> None:
    async with client(app, Role.SUPERVISOR) as c:
        week = (await c.get("/api/ivr/measures", params={"days": 7})).json()
        today = (await c.get("/api/ivr/measures", params={"days": 1})).json()
        assert (await c.get("/api/ivr/measures", params={"days": 732})).status_code == 422
        assert (await c.get("/api/ivr/measures", params={"days": 731})).status_code == 200

    nodes = {n["node"]: n for n in week["nodes"]}
    main = nodes["menu_principal"]
    assert (main["passed"], main["hung_up"], main["timed_out"]) == (9, 5, 1)
    assert main["hang_up_share"] == pytest.approx(5 / 9)
    assert main["high_hang_up"] is True
    assert (main["kind"], main["kind_label"], main["label"]) == ("menu", "Menu à touches", "")
    assert main["order"] == list(parse_tree(DEFAULT_TREE.read_text(encoding="utf-8")).nodes).index(
        "menu_principal"
    )
    start = nodes["bienvenue"]
    assert (start["passed"], start["hung_up"], start["high_hang_up"]) == (10, 0, False)
    assert (start["order"], start["kind_label"]) == (0, "Message")
    gone = nodes["ancien_menu"]
    assert (gone["passed"], gone["hung_up"], gone["kind"], gone["order"]) == (1, 1, None, None)
    assert gone["kind_label"] == "absent du menu publié"
    assert gone["high_hang_up"] is False  # one call says nothing yet
    assert nodes["annonce_horaires"]["kind_label"] == "Message"
    assert nodes["vers_etat_civil"]["kind_label"] == "Mise en relation"
    assert [n["node"] for n in week["nodes"]][:2] == ["bienvenue", "horaires_mairie"]

    assert [d["day"] for d in week["days"]] == [
        (NOW.date() - timedelta(days=n)).isoformat() for n in range(6, -1, -1)
    ]
    figures = {d["day"]: (d["calls"], d["self_served"], d["share"]) for d in week["days"]}
    assert figures["2026-11-24"] == (8, 2, 0.25)
    assert figures["2026-11-22"] == (2, 1, 0.5)
    assert figures["2026-11-23"] == (0, 0, 0.0)
    assert sum(d["calls"] for d in week["days"]) == 10  # the run of ten days ago is left out

    assert [d["day"] for d in today["days"]] == ["2026-11-24"]
    assert {n["node"]: n["passed"] for n in today["nodes"]}["menu_principal"] == 8
    assert "ancien_menu" not in {n["node"] for n in today["nodes"]}
