"""The administration API on the running product (simulated PBX): opening hours published as
the voice menu's calendars, holidays computed for the year asked, refusals by field in French.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest

from cti import ivr_store
from cti.assembly import DEMO_PASSWORD, Product, prepare_database, running
from cti.settings import Settings
from ivr_scripts.hours import is_open


def settings_for(database: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{database}", http_port=0, demo_citizens=10, sim_rate=0)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("admin") / "cti.db"
    prepare_database(settings_for(database), demo=True).close()
    return database


@pytest.fixture
async def product(prepared: Path, tmp_path: Path) -> AsyncIterator[Product]:
    database = tmp_path / "cti.db"
    shutil.copyfile(prepared, database)
    async with running(settings_for(database), simulated=True, traffic=False) as product:
        yield product


@contextlib.asynccontextmanager
async def client_of(product: Product, username: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{product.port}") as client:
        response = await client.post(
            "/api/login", json={"username": username, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf"]
        yield client


async def test_holidays_are_those_of_the_year_asked_with_alsace_moselle_on_demand(
    product: Product,
) -> None:
    async with client_of(product, "admin") as admin:
        plain = (await admin.get("/api/admin/holidays", params={"year": 2027})).json()
        local = (
            await admin.get("/api/admin/holidays", params={"year": 2027, "alsace_moselle": "true"})
        ).json()
        missing_year = await admin.get("/api/admin/holidays")
    assert [h["date"] for h in plain["holidays"]][:3] == ["2027-01-01", "2027-03-29", "2027-05-01"]
    assert len(plain["holidays"]) == 11
    added = {h["date"]: h["name"] for h in local["holidays"]}.items() - {
        h["date"]: h["name"] for h in plain["holidays"]
    }.items()
    assert sorted(added) == [("2027-03-26", "Vendredi saint"), ("2027-12-26", "Saint-Étienne")]
    assert missing_year.status_code == 422


async def test_new_hours_are_published_audited_and_refused_by_field(product: Product) -> None:
    assert product.ivr is not None
    async with client_of(product, "admin") as admin:
        hours = (await admin.get("/api/admin/hours")).json()
        assert hours["town_hall"] == "mairie"
        urbanisme = next(s for s in hours["services"] if s["service"] == "urbanisme")
        assert urbanisme["own"] and hours["calendars"]["urbanisme"]["used_by"]
        calendars = {name: c["calendar"] for name, c in hours["calendars"].items()}

        calendars["urbanisme"]["weekly"]["wed"] = ["14:00-12:00"]
        refused = await admin.put("/api/admin/hours", json={"calendars": calendars})
        assert refused.status_code == 422
        assert refused.json()["fields"] == {
            "calendars.urbanisme.weekly.wed.0": (
                "horaires invalides : la fin est avant le début dans « 14:00-12:00 »"
            )
        }
        assert product.ivr.published_version == hours["version"]

        calendars["urbanisme"]["weekly"]["wed"] = ["14:00-16:00"]
        saved = await admin.put(
            "/api/admin/hours", json={"calendars": calendars, "comment": "mercredi"}
        )
        assert saved.status_code == 200, saved.text
        version = saved.json()["version"]
        trail = (await admin.get("/api/audit", params={"action": "hours.update"})).json()
    assert product.ivr.published_version == version > hours["version"]
    wednesday = product.ivr.tree().calendars["urbanisme"]
    assert is_open(wednesday, _at(date(2027, 1, 6), 15)).open
    assert trail[0]["detail"] == f"menu vocal version {version} : mercredi"


async def test_a_newer_draft_keeps_the_new_hours(product: Product) -> None:
    assert product.ivr is not None
    async with client_of(product, "admin") as admin:
        published = product.ivr.tree()
        renamed = published.model_copy(update={"name": "brouillon du service télécom"})
        draft = await product.ivr.save_draft(renamed, "telecom", "travail en cours")
        calendars = {
            n: c.model_dump(mode="json", exclude_none=True) for n, c in published.calendars.items()
        }
        calendars["urbanisme"]["weekly"]["sat"] = ["09:00-11:00"]
        saved = await admin.put("/api/admin/hours", json={"calendars": calendars})
        assert saved.status_code == 200, saved.text
    latest = ivr_store.history(product.ivr.db, 1)[0]
    assert latest.version > draft.version and latest.status == ivr_store.DRAFT
    assert latest.tree.name == "brouillon du service télécom"
    assert latest.tree.calendars["urbanisme"].weekly.sat == ["09:00-11:00"]


async def test_other_roles_are_refused_in_french(product: Product) -> None:
    async with client_of(product, "superviseur") as supervisor:
        hours = await supervisor.get("/api/admin/hours")
        routing = await supervisor.put("/api/routing/admin", json={"config": {}})
    assert hours.status_code == routing.status_code == 403
    assert hours.json()["detail"] == "Accès réservé aux comptes administrateur."


async def test_routing_refusals_come_back_by_field_in_french(product: Product) -> None:
    async with client_of(product, "admin") as admin:
        config = (await admin.get("/api/routing/config")).json()["config"]
        config["services"]["accueil"]["overflow"] = {"kind": "service", "target": "etat-civil"}
        config["agents"]["201"]["skills"]["cuisine"] = 3
        config["services"]["ccas"]["required_skills"] = {}
        refused = await admin.put("/api/routing/admin", json={"config": config})
        config["agents"]["201"]["skills"].pop("cuisine")
        config["services"]["ccas"]["required_skills"] = {"ccas": 3}
        cycle = await admin.put("/api/routing/admin", json={"config": config})
    assert refused.status_code == 422
    assert refused.json()["fields"] == {
        "config.services.ccas.required_skills": "ne peut pas être vide"
    }
    assert cycle.json()["fields"] == {
        "config.services.accueil.overflow.target": (
            "débordement en boucle : accueil → etat-civil → accueil"
        )
    }


async def test_announcements_are_set_per_service_and_refused_by_field(product: Product) -> None:
    async with client_of(product, "admin") as admin:
        config = (await admin.get("/api/routing/config")).json()["config"]
        config["services"]["ccas"]["announce"] = {"on_entry": True, "every_s": 10}
        config["services"]["ecoles"]["announce"] = {
            "on_entry": True,
            "position": False,
            "wait": False,
        }
        refused = await admin.put("/api/routing/admin", json={"config": config})
        config["services"]["ccas"]["announce"]["every_s"] = 90
        config["services"]["ecoles"]["announce"]["wait"] = True
        applied = await admin.put("/api/routing/admin", json={"config": config})
    assert refused.status_code == 422
    assert refused.json()["fields"] == {
        "config.services.ccas.announce.every_s": (
            "au plus toutes les 30 secondes (0 : pas de répétition)"
        ),
        "config.services.ecoles.announce": "une annonce donne le rang, l'attente, ou les deux",
    }
    assert applied.status_code == 200, applied.text
    rules = product.router.engine.config.services["ccas"].announce
    assert (rules.on_entry, rules.every_s, rules.position, rules.wait) == (True, 90, True, True)


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour)
