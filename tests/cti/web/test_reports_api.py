"""The reports' HTTP API on SQLite and PostgreSQL: calls recorded as the product records them
(``Directory.upsert_interaction``, the menu's runs through ``ivr_store.record_run``), then the
JSON and the CSV say the same figures; only supervisors and admins read them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from cti import ivr_store, routing_store
from cti.db import Database
from cti.reports.csv_export import cell
from cti.reports.quality import week_of
from cti.reports.records import PARIS
from cti.web import reports_api
from cti.web.auth import COOKIE, Sessions
from ivr_scripts.measures import MenuRun
from routing.config import parse_config
from screenpop.accounts import Role, UserView
from screenpop.directory import Directory

CONFIG = {
    "skills": {"accueil": "Accueil", "etat-civil": "État civil", "urbanisme": "Urbanisme"},
    "services": {
        "accueil": {"label": "Accueil", "required_skills": {"accueil": 1}, "sl_threshold_s": 20},
        "etat-civil": {
            "label": "État civil",
            "required_skills": {"etat-civil": 1},
            "sl_target_pct": 90,
        },
        "urbanisme": {"label": "Urbanisme", "required_skills": {"urbanisme": 1}},
    },
    "agents": {"202": {"name": "Paul", "skills": {"etat-civil": 5}}},
}
# Three hours ago, to the minute: the report's period is [T0, T0 + 2 h).
T0 = (datetime.now(UTC) - timedelta(hours=3)).replace(second=0, microsecond=0)
PERIOD = {"from": T0.isoformat(), "to": (T0 + timedelta(hours=2)).isoformat()}


def record(directory: Directory, call_id: str, minutes: float, **fields: Any) -> None:
    """What the screen pop writes over a call's life: arrival, then the end."""
    directory.upsert_interaction(
        call_id, started_at=T0 + timedelta(minutes=minutes), outcome="in_progress"
    )
    for agent in fields.pop("agents", ()):
        directory.upsert_interaction(call_id, add_agent=agent)
    directory.upsert_interaction(call_id, **fields)


def seed(db: Database) -> None:
    routing_store.save(db, parse_config(CONFIG, "test"), "test")
    d = Directory(db)
    record(
        d,
        "a1",
        10,
        outcome="answered",
        service="etat-civil",
        wait_seconds=12.0,
        talk_seconds=90.0,
        agents=["202"],
        caller_e164="+33612345678",
        disposition="Rendez-vous pris",
        ivr_path=["bienvenue", "etat-civil"],
    )
    record(
        d,
        "a2",
        20,
        outcome="abandoned",
        service="etat-civil",
        wait_seconds=75.0,
        caller_e164="+33698765432",
    )
    record(d, "a3", 30, outcome="overflow", service="urbanisme", wait_seconds=300.0)
    record(d, "a4", 40, outcome="menu", ivr_path=["bienvenue", "horaires"])
    record(d, "a5", 50, outcome="answered", service="accueil", wait_seconds=25.0, talk_seconds=10.0)
    record(
        d,
        "a6",
        70,
        outcome="answered",
        service="etat-civil",
        wait_seconds=5.0,
        talk_seconds=30.0,
        agents=["204", "202"],
        caller_e164="+33612345678",
    )
    record(d, "before", -24 * 60, outcome="lost", caller_e164="+33698765432")  # a2 repeats it
    record(d, "after", 121, outcome="answered", service="accueil")
    ivr_store.record_run(
        db,
        MenuRun(
            at=T0 + timedelta(minutes=41),
            uniqueid="a4",
            call_id="a4",
            path=("bienvenue", "horaires"),
            outcome="self_service",
            last_node="horaires",
            timed_out_nodes=(),
            self_served=True,
        ),
    )


def user(role: Role) -> UserView:
    return UserView(
        id=1, username=role.value, display_name=role.value, role=role, agent_extension=None
    )


@pytest.fixture
async def app(database: Database) -> AsyncIterator[FastAPI]:
    seed(database)
    app = FastAPI()
    app.state.database = database
    app.state.sessions = Sessions()
    app.include_router(reports_api.router)
    yield app


def client(app: FastAPI, role: Role | None) -> httpx.AsyncClient:
    cookies = {}
    if role is not None:
        cookies[COOKIE] = app.state.sessions.open(user(role)).token
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", cookies=cookies
    )


ENDPOINTS = [
    "/api/reports",
    "/api/reports.csv",
    "/api/reports.svg",
    "/api/quality",
    "/api/quality.csv",
    "/api/quality.svg",
]


async def test_only_supervisors_and_admins_read_the_reports(app: FastAPI) -> None:
    for role, status in [
        (None, 401),
        (Role.AGENT, 403),
        (Role.TELECOM, 403),
        (Role.SUPERVISOR, 200),
        (Role.ADMIN, 200),
    ]:
        async with client(app, role) as c:
            for path in ENDPOINTS:
                response = await c.get(path, params=PERIOD if "reports" in path else {})
                assert response.status_code == status, (role, path, response.text)
    async with client(app, None) as c:
        for page in ("/rapports", "/qualite"):  # the shells carry no data
            assert (await c.get(page)).status_code == 200


async def test_the_report_by_service_and_its_csv_say_the_same(app: FastAPI) -> None:
    async with client(app, Role.SUPERVISOR) as c:
        data = (await c.get("/api/reports", params=PERIOD)).json()
        exported = await c.get("/api/reports.csv", params=PERIOD)
    rows = {r["key"]: r for r in data["rows"]}
    assert [r["label"] for r in data["rows"]] == [
        "Accueil",
        "État civil",
        "Urbanisme",
        "Sans service",
    ]
    ec = rows["etat-civil"]
    assert (ec["offered"], ec["answered"], ec["answered_in_sl"], ec["abandoned"]) == (3, 2, 2, 1)
    assert (ec["service_level_pct"], ec["abandon_delays"]) == (66.7, [0, 0, 1, 0])
    assert (ec["transfers"], ec["repeats"]) == (1, 2)  # a6 after a1; a2 a day after "before"
    assert (ec["avg_answer_s"], ec["avg_handling_s"]) == (8.5, 60.0)
    assert ec["top_dispositions"] == [["Rendez-vous pris", 1]]
    assert rows["accueil"]["service_level_pct"] == 0.0  # 25 s against its 20 s
    assert rows["urbanisme"]["overflowed"] == 1
    menu = rows[""]
    assert (menu["calls"], menu["ended_in_menu"], menu["self_served"]) == (1, 1, 1)
    assert menu["top_menu_choices"] == [["horaires", 1]]
    total = data["total"]
    assert (total["calls"], total["offered"], total["answered"]) == (6, 5, 3)

    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = exported.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="rapport-service-')
    assert exported.content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == data["headers"]
    assert lines[1:] == [[cell(v) for v in row] for row in data["cells"]]
    assert lines[2][:3] == ["État civil", "3", "3"] and lines[-1][0] == "Total"


async def test_periods_are_read_in_paris_time_and_checked(app: FastAPI) -> None:
    local = {
        "from": T0.astimezone(PARIS).replace(tzinfo=None).isoformat(),
        "to": (T0 + timedelta(hours=2)).astimezone(PARIS).replace(tzinfo=None).isoformat(),
        "by": "agent",
    }
    async with client(app, Role.SUPERVISOR) as c:
        by_agent = (await c.get("/api/reports", params=local)).json()
        assert [(r["label"], r["calls"]) for r in by_agent["rows"]] == [
            ("Paul (202)", 2),
            ("Aucun agent", 4),
        ]
        hours = (await c.get("/api/reports", params={**PERIOD, "by": "hour"})).json()
        assert sum(r["calls"] for r in hours["rows"]) == 6
        first = (T0 + timedelta(minutes=10)).astimezone(PARIS)  # a1, the first call
        assert hours["rows"][0]["label"] == f"{first:%d/%m/%Y %H}h"
        backwards = await c.get("/api/reports", params={"from": PERIOD["to"], "to": PERIOD["from"]})
        assert backwards.status_code == 422
        assert "la fin doit être après le début" in backwards.json()["detail"]
        assert (await c.get("/api/reports", params={"by": "mois"})).status_code == 422
        chart = await c.get("/api/reports.svg", params={**PERIOD, "by": "hour"})
        assert chart.headers["content-type"] == "image/svg+xml"
        assert "<title>Appels par heure</title>" in chart.text


async def test_the_weekly_quality_and_its_csv(app: FastAPI) -> None:
    async with client(app, Role.ADMIN) as c:
        data = (await c.get("/api/quality", params={"weeks": 2})).json()
        exported = await c.get("/api/quality.csv", params={"weeks": 2})
        assert (await c.get("/api/quality", params={"weeks": 0})).status_code == 422
    week = week_of(T0).key
    assert [w["key"] for w in data["weeks"]][-1] == week_of(datetime.now(UTC)).key
    ec = next(r for r in data["rows"] if r["service"] == "etat-civil" and r["week"] == week)
    assert (ec["target_pct"], ec["threshold_s"], ec["offered"], ec["answered_in_sl"]) == (
        90.0,
        30.0,
        3,
        2,
    )
    assert (ec["service_level_pct"], ec["abandon_rate_pct"], ec["met"]) == (66.7, 33.3, False)
    assert [t["service"] for t in data["trends"]] == ["accueil", "etat-civil", "urbanisme"]
    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == data["headers"]
    assert len(lines) == 1 + 3 * 2
    label = next(w["label"] for w in data["weeks"] if w["key"] == week)
    assert [label, "État civil", "90,0", "30,0", "3", "2", "2", "66,7", "1", "33,3", "non"] in lines
    assert 'filename="qualite-' in exported.headers["content-disposition"]
