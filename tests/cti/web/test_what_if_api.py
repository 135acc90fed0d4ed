"""« Et si… » over HTTP on a real database holding two recorded mornings (3 and 4 March 2025).

SQLite, and PostgreSQL when CTI_TEST_DATABASE_URL is set; the real product on the simulated
PBX, real HTTP clients. A draft equal to the configuration in force gives the same figures;
a new État civil agent or a looser objective changes them, and nothing is applied; a period
without calls, too many calls or a wrong draft are refused in French; admins only.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from cti.assembly import DEMO_PASSWORD, Product, prepare_database, running
from cti.settings import Settings
from tests.routing.recorded_traffic import recorded_calls, store

PERIOD = {"from": "2025-03-03", "to": "2025-03-09"}


def settings_for(database_url: str, **more: Any) -> Settings:
    return Settings(database_url=database_url, http_port=0, demo_citizens=10, sim_rate=0, **more)


@pytest.fixture
def recorded(database_url: str) -> str:
    """The demo database with the two recorded mornings in its ``interactions``."""
    db = prepare_database(settings_for(database_url), demo=True)
    try:
        store(db, recorded_calls())
    finally:
        db.close()
    return database_url


@pytest.fixture
async def product(recorded: str) -> AsyncIterator[Product]:
    async with running(settings_for(recorded), simulated=True, traffic=False) as product:
        yield product


@contextlib.asynccontextmanager
async def client_of(product: Product, username: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{product.port}", timeout=120
    ) as client:
        response = await client.post(
            "/api/login", json={"username": username, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf"]
        yield client


def by_service(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["service"]: s for s in answer["services"]}


async def test_the_draft_beside_the_config_in_force_and_nothing_applied(
    product: Product,
) -> None:
    calls = recorded_calls()
    async with client_of(product, "admin") as admin:
        stored = (await admin.get("/api/routing/config")).json()
        config = stored["config"]
        same = await admin.post("/api/routing/what-if", json={"config": config, **PERIOD})
        assert same.status_code == 200, same.text

        more = {**config, "agents": {**config["agents"]}}
        more["agents"]["207"] = {"name": "Nina Petit", "skills": {"etat-civil": 4}}
        added = await admin.post("/api/routing/what-if", json={"config": more, **PERIOD})
        assert added.status_code == 200, added.text

        looser = {**config, "services": {**config["services"]}}
        looser["services"]["etat-civil"] = {
            **config["services"]["etat-civil"],
            "sl_threshold_s": 90,
        }
        target = await admin.post("/api/routing/what-if", json={"config": looser, **PERIOD})
        assert target.status_code == 200, target.text

        after = (await admin.get("/api/routing/config")).json()
        trail = (await admin.get("/api/audit", params={"action": "routing.update"})).json()

    same_body = same.json()
    assert same_body["from"] == "2025-03-03" and same_body["to"] == "2025-03-09"
    assert same_body["calls"] == len(calls) and same_body["days"] == 2
    assert same_body["identical"] is True
    for service in same_body["services"]:
        assert service["current"] == service["draft"] and service["sentence"] is None
    assert same_body["summary"][0].startswith("Aucune différence")

    added_body = added.json()
    assert added_body["identical"] is False
    civil = by_service(added_body)["etat-civil"]
    assert civil["label"] == "État civil"
    assert civil["draft"]["sl_pct"] > civil["current"]["sl_pct"]
    assert civil["draft"]["avg_wait_s"] < civil["current"]["avg_wait_s"]
    assert civil["current"] == by_service(same_body)["etat-civil"]["current"]
    said = f"Le taux de service de l'État civil passerait de {round(civil['current']['sl_pct'])} %"
    assert civil["sentence"].startswith(said)
    assert civil["sentence"] in added_body["summary"]
    assert any("Nina Petit (poste 207)" in note for note in added_body["notes"])

    loose = by_service(target.json())["etat-civil"]
    assert loose["draft"]["sl_threshold_s"] == 90 and loose["current"]["sl_threshold_s"] == 30
    assert loose["draft"]["sl_pct"] > loose["current"]["sl_pct"]
    assert loose["draft"]["avg_wait_s"] == loose["current"]["avg_wait_s"]

    # Nothing applied: same version, no change in the audit trail.
    assert after["version"] == stored["version"] and after["config"] == config
    assert trail == []


async def test_refusals_in_french(product: Product) -> None:
    async with client_of(product, "admin") as admin:
        config = (await admin.get("/api/routing/config")).json()["config"]
        empty = await admin.post(
            "/api/routing/what-if",
            json={"config": config, "from": "2025-02-03", "to": "2025-02-09"},
        )
        backwards = await admin.post(
            "/api/routing/what-if",
            json={"config": config, "from": "2025-03-09", "to": "2025-03-03"},
        )
        wrong = {**config, "services": {**config["services"]}}
        wrong["services"]["accueil"] = {**config["services"]["accueil"], "sl_target_pct": 120}
        invalid = await admin.post("/api/routing/what-if", json={"config": wrong, **PERIOD})
    assert empty.status_code == 422
    assert empty.json()["detail"] == "Aucun appel enregistré sur la période choisie."
    assert empty.json()["fields"] == {"from": "Aucun appel enregistré sur la période choisie."}
    assert backwards.status_code == 422
    assert backwards.json()["fields"] == {"to": "La fin de la période précède son début."}
    assert invalid.status_code == 422
    assert invalid.json()["fields"] == {
        "config.services.accueil.sl_target_pct": "doit valoir au plus 100"
    }

    async with client_of(product, "superviseur") as supervisor:
        refused = await supervisor.post("/api/routing/what-if", json={"config": config, **PERIOD})
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Accès réservé aux comptes administrateur."


async def test_too_many_calls_for_the_limit_are_refused(recorded: str) -> None:
    limited = settings_for(recorded, whatif_max_calls=50)
    async with running(limited, simulated=True, traffic=False) as product:
        async with client_of(product, "admin") as admin:
            config = (await admin.get("/api/routing/config")).json()["config"]
            answer = await admin.post("/api/routing/what-if", json={"config": config, **PERIOD})
    assert answer.status_code == 422
    assert answer.json()["detail"] == (
        "Plus de 50 appels sur la période choisie : choisissez une période plus courte."
    )
