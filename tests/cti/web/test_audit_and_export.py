"""The audit trail page's API and the right-of-access export, over HTTP on a real database.

SQLite, and PostgreSQL when CTI_TEST_DATABASE_URL is set. Also the export command as the
data-protection officer runs it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cti import callback_store
from cti.db import Database
from cti.service import CallService
from cti.web.app import DeskParts, create_app
from cti.web.serve import serving
from routing.callbacks.request import CallbackRequest, CallbackState, Source, Window
from screenpop.accounts import Role, create_user
from screenpop.directory import Directory
from screenpop.hub import AgentHub
from screenpop.models import AuditEntry, Case, CaseStatusChange, PhoneNumber
from screenpop.pop import ScreenPop
from tests.cti.web.desk_site import DeskOffline, logged_in

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Site:
    url: str
    database: Database
    directory: Directory
    jeanne: int

    async def login(self, username: str, password: str = "pw") -> httpx.AsyncClient:
        return await logged_in(self.url, username, password)


def _seed(database: Database) -> tuple[Directory, int]:
    directory = Directory(database)
    jeanne = directory.create_citizen("madame", "Dupont", "Jeanne", "+33612345678", city="Lyon")
    directory.create_citizen("monsieur", "Martin", "Pierre", "+33698765432")
    # A landline Jeanne shares with her neighbour Lucien: its requests may be his.
    directory.create_citizen("monsieur", "Bernard", "Lucien", "+33478000000")
    with database.session() as session, session.begin():
        session.add(PhoneNumber(citizen_id=jeanne.id, e164="+33478000000", label="fixe"))
    with database.session() as session, session.begin():
        case = Case(
            reference="EC-2026-00012",
            citizen_id=jeanne.id,
            service="etat-civil",
            subject="Acte de naissance",
            status="en cours",
        )
        session.add(case)
        session.flush()
        session.add(CaseStatusChange(case_id=case.id, status="ouvert", by="201"))
        session.add(CaseStatusChange(case_id=case.id, status="en cours", by="201"))
        # An old entry, to filter by date.
        session.add(
            AuditEntry(
                at=datetime(2025, 1, 10, 9, 0, tzinfo=UTC),
                username="paul",
                action="card.open",
                citizen_id=jeanne.id,
                detail="appel ancien",
            )
        )
    directory.upsert_interaction(
        "1700000000.42",
        caller_raw="0612345678",
        caller_e164="+33612345678",
        citizen_id=jeanne.id,
        ivr_path=["menu_principal", "etat-civil"],
        service="etat-civil",
        outcome="answered",
        add_agent="201",
    )
    directory.add_note("1700000000.42", "201", "Veut son acte de naissance <b>vite</b>")
    asked = datetime(2026, 3, 2, 10, 42, tzinfo=UTC)
    for rid, number, citizen, source, note in (
        # Asked by an agent for her: linked to her.
        ("cb-agent", "+33612345678", jeanne.id, Source.AGENT, "Rappeler pour le livret"),
        # From the voice menu, not linked, but to her own mobile: hers.
        ("cb-menu", "+33612345678", None, Source.MENU, ""),
        # To the shared landline, not linked: maybe Lucien's, not in her export.
        ("cb-shared", "+33478000000", None, Source.MENU, "landline"),
        # Martin's.
        ("cb-martin", "+33698765432", None, Source.MENU, "martin"),
    ):
        callback_store.add(
            database,
            CallbackRequest(
                rid,
                number,
                "etat-civil",
                asked,
                Window.REOPENING,
                asked,
                None,
                source,
                menu_path=("menu_principal",) if source is Source.MENU else (),
                citizen_id=citizen,
                note=note,
                requested_by="marie" if source is Source.AGENT else None,
                state=CallbackState.REACHED if citizen else CallbackState.PENDING,
                updated_at=asked,
            ),
        )
    directory.audit("marie", "card.open", jeanne.id, "appel 1700000000.42")
    directory.audit("marie", "card.open", jeanne.id + 1, "appel 1700000000.43")
    for name, role, extension in (
        ("marie", Role.AGENT, "201"),
        ("superviseur", Role.SUPERVISOR, None),
        ("admin", Role.ADMIN, None),
    ):
        create_user(database, name, "pw", role, name.capitalize(), extension)
    return directory, jeanne.id


@pytest.fixture
async def site(database: Database) -> AsyncIterator[Site]:
    directory, jeanne = _seed(database)
    hub = AgentHub()
    pop = ScreenPop(directory, hub)
    parts = DeskParts(database, directory, pop, hub, DeskOffline())  # type: ignore[arg-type]
    writer = asyncio.create_task(pop.run())  # logins and searches are audited through it
    try:
        async with serving(create_app(CallService(), parts)) as port:
            yield Site(f"http://127.0.0.1:{port}", database, directory, jeanne)
    finally:
        writer.cancel()


async def test_the_audit_trail_filters_by_citizen_user_and_period(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.url) as anonymous:
        bad = await anonymous.post("/api/login", json={"username": "admin", "password": "non"})
        assert bad.status_code == 401
    admin = await site.login("admin")
    supervisor = await site.login("superviseur")
    assert (await supervisor.get("/api/audit")).status_code == 403

    about_jeanne = (await admin.get("/api/audit", params={"citizen": site.jeanne})).json()
    assert [(e["username"], e["detail"]) for e in about_jeanne] == [
        ("marie", "appel 1700000000.42"),
        ("paul", "appel ancien"),
    ]
    period: dict[str, str | int] = {
        "citizen": site.jeanne,
        "from": "2025-01-01T00:00:00Z",
        "to": "2025-02-01",
    }
    assert [e["detail"] for e in (await admin.get("/api/audit", params=period)).json()] == [
        "appel ancien"
    ]
    by_marie = (await admin.get("/api/audit", params={"user": "marie"})).json()
    assert {e["action"] for e in by_marie} == {"card.open"} and len(by_marie) == 2
    failed = (await admin.get("/api/audit", params={"action": "login.failed"})).json()
    assert [(e["username"], e["detail"]) for e in failed] == [("admin", "depuis 127.0.0.1")]
    logins = (await admin.get("/api/audit", params={"action": "login"})).json()
    assert {e["username"] for e in logins} == {"admin", "superviseur"}
    backwards = {"from": "2025-02-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}
    assert (await admin.get("/api/audit", params=backwards)).status_code == 422
    await admin.aclose()
    await supervisor.aclose()


async def test_the_export_holds_everything_about_her_and_nothing_about_others(site: Site) -> None:
    admin = await site.login("admin")
    supervisor = await site.login("superviseur")
    url = f"/api/admin/citizens/{site.jeanne}/export"
    assert (await supervisor.get(url)).status_code == 403
    response = await admin.get(url)
    assert response.status_code == 200
    data = response.json()
    assert data["identity"]["last_name"] == "Dupont" and data["identity"]["city"] == "Lyon"
    assert sorted((p["e164"], p["label"]) for p in data["phones"]) == [
        ("+33478000000", "fixe"),
        ("+33612345678", None),
    ]
    [case] = data["cases"]
    assert case["reference"] == "EC-2026-00012"
    assert [h["status"] for h in case["history"]] == ["ouvert", "en cours"]
    [call] = data["calls"]
    assert call["caller_e164"] == "+33612345678"
    assert call["ivr_path"] == ["menu_principal", "etat-civil"]
    assert call["notes"][0]["text"] == "Veut son acte de naissance <b>vite</b>"
    assert [a["detail"] for a in data["audit"]] == ["appel ancien", "appel 1700000000.42"]
    assert [
        (c["source"], c["note"], c["state"], c["window"], c["menu_path"]) for c in data["callbacks"]
    ] == [
        ("à rappeler", "Rappeler pour le livret", "rappelé", "à la réouverture", []),
        ("menu vocal", "", "en attente", "à la réouverture", ["menu_principal"]),
    ]
    assert {c["number"] for c in data["callbacks"]} == {"+33612345678"}
    assert "Martin" not in response.text and "1700000000.43" not in response.text
    assert "landline" not in response.text and "martin" not in response.text
    # The printable page says the same, her callback requests included, in her words.
    page = (await admin.get(f"{url}.html")).text
    requests = page.split("<h2>Vos demandes de rappel</h2>", 1)[1].split("<h2>", 1)[0]
    assert "Rappeler pour le livret" in requests and "06 12 34 56 78" in requests
    assert "rappelé" in requests and "en attente" in requests and "+33" not in requests
    assert "<b>vite</b>" not in page  # a note is text, never markup
    # The exports themselves are audited, with who asked.
    trail = (await admin.get("/api/audit", params={"action": "citizen.export"})).json()
    assert [(e["username"], e["citizen_id"]) for e in trail] == [("admin", site.jeanne)] * 2
    assert (await admin.get("/api/admin/citizens/999999/export")).status_code == 404
    await admin.aclose()
    await supervisor.aclose()


def test_the_export_command_writes_the_file_and_says_when_nobody_has_that_id(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    db.migrate()
    try:
        _, jeanne = _seed(db)
    finally:
        db.close()
    env = {**os.environ, "CTI_DATABASE_URL": database_url}
    out = tmp_path / "jeanne.json"

    def export(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "cti.citizen_export", *args]
        return subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )

    done = export(str(jeanne), "--out", str(out))
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["identity"]["first_name"] == "Jeanne" and len(data["calls"]) == 1
    exported_at = datetime.fromisoformat(data["exported_at"])
    assert datetime.now(UTC) - exported_at < timedelta(minutes=5)
    missing = export("999999")
    assert missing.returncode == 1
    assert "aucun administré n'a l'identifiant 999999" in missing.stderr
