"""The voice menu's HTTP API on the running product (simulated PBX), and a call through a
newly published version: roles, CSRF, every endpoint of the contract, rollback."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import subprocess
import threading
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from cti import ivr_store
from cti.assembly import DEMO_PASSWORD, Product, prepare_database, running
from cti.pbxsim.sounds import PbxSounds
from cti.settings import Settings
from tests.ivr_scripts.test_ivr_yaml_fuzz import hostile_files, in_french

IVR_PAGE = Path(__file__).resolve().parents[3] / "cti" / "web" / "static" / "ivr.html"


def settings_for(database: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{database}",
        http_port=0,
        demo_citizens=10,
        sim_rate=0,
        sim_time_scale=0.02,
    )


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with the demo's citizens and accounts, made once (hashing the
    accounts' passwords is slow); each test runs the product on a copy."""
    database = tmp_path_factory.mktemp("ivr") / "cti.db"
    prepare_database(settings_for(database), demo=True).close()
    return database


@pytest.fixture
async def product(prepared: Path, tmp_path: Path) -> AsyncIterator[Product]:
    database = tmp_path / "cti.db"
    shutil.copyfile(prepared, database)
    async with running(settings_for(database), simulated=True, traffic=False) as product:
        yield product


async def login(client: httpx.AsyncClient, username: str) -> httpx.AsyncClient:
    response = await client.post(
        "/api/login", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf"]
    return client


def client_of(product: Product) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=product.url.rstrip("/"))


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait (30 s at most) for a condition the product reaches by itself."""

    async def loop() -> None:
        while not await check():
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(loop(), 30)
    except TimeoutError:
        pytest.fail(f"never saw {what}")


async def test_only_telecom_and_admin_reach_the_api_and_changes_need_the_csrf_token(
    product: Product,
) -> None:
    async with client_of(product) as anonymous, client_of(product) as agent:
        assert (await anonymous.get("/api/ivr/versions")).status_code == 401
        # The editor page itself is public (the API checks the role); served once installed.
        page = await anonymous.get("/ivr")
        assert page.status_code == (200 if IVR_PAGE.is_file() else 404)
        assert (await anonymous.post("/api/ivr/validate", json={"yaml": "x"})).status_code == 401
        await login(agent, "paul")
        assert (await agent.get("/api/ivr/versions")).status_code == 403
        assert (await agent.get("/api/ivr/schema")).status_code == 403
    for username in ("telecom", "admin"):
        async with client_of(product) as client:
            await login(client, username)
            assert (await client.get("/api/ivr/versions")).status_code == 200
            token = client.headers.pop("X-CSRF-Token")
            refused = await client.post("/api/ivr/versions/1/publish", json={"comment": ""})
            assert refused.status_code == 403
            client.headers["X-CSRF-Token"] = token
            assert (await client.post("/api/ivr/versions/1/publish", json={})).status_code == 200


async def test_versions_validate_simulate_drafts_publish_diff_schema_measures(
    product: Product,
) -> None:
    async with client_of(product) as client:
        await login(client, "telecom")
        listing = (await client.get("/api/ivr/versions")).json()
        assert listing["published"] == 1
        [first] = listing["versions"]
        assert first | {"created_at": None, "published_at": None} == {
            "version": 1,
            "status": "published",
            "created_at": None,
            "author": "installation",
            "comment": "chargée depuis default_tree.yaml",
            "published_at": None,
            "published_by": "installation",
            "valid": True,
        }
        detail = (await client.get("/api/ivr/versions/1")).json()
        tree: dict[str, Any] = detail["tree"]
        assert tree["start"] == "bienvenue" and "menu_principal:" in detail["yaml"]
        assert (await client.get("/api/ivr/versions/9")).status_code == 404

        # validate: a JSON tree or YAML text; prompts without a recording are said by speech
        # synthesis, which is no problem
        checked = (await client.post("/api/ivr/validate", json={"tree": tree})).json()
        assert checked == {"valid": True, "problems": []}
        bad = {**tree, "nodes": {**tree["nodes"]}}
        bad["nodes"]["menu_principal"] = {
            **tree["nodes"]["menu_principal"],
            "choices": {**tree["nodes"]["menu_principal"]["choices"], "8": "nulle_part"},
        }
        checked = (await client.post("/api/ivr/validate", json={"tree": bad})).json()
        assert checked["valid"] is False
        [error] = [p for p in checked["problems"] if p["severity"] == "error"]
        assert error["path"] == "nodes.menu_principal.choices.8"
        assert error["node"] == "menu_principal" and "nulle_part" in error["message"]
        unreadable = (await client.post("/api/ivr/validate", json={"yaml": "nodes: ["})).json()
        assert (
            unreadable["valid"] is False
            and "YAML illisible" in unreadable["problems"][0]["message"]
        )

        # simulate: Christmas day, the town hall is closed
        simulated = await client.post(
            "/api/ivr/simulate",
            json={"yaml": detail["yaml"], "keys": "1", "at": "2026-12-25T10:00"},
        )
        assert simulated.status_code == 200, simulated.text
        result = simulated.json()
        assert [s["node"] for s in result["steps"]][:3] == [
            "bienvenue",
            "horaires_mairie",
            "menu_ferme",
        ]
        assert result["steps"][0]["said"] == ["Bonjour et bienvenue à la mairie."]
        assert result["end"] == "messagerie vocale 100@mairie"
        assert result["variables"]["IVR_RESULT"] == "done"
        refused = await client.post("/api/ivr/simulate", json={"tree": bad, "keys": "1"})
        assert refused.status_code == 422
        assert refused.json()["detail"]["problems"][0]["node"] == "menu_principal"

        # drafts: an invalid one is kept (valid: false); what is not a tree is refused
        draft = await client.post("/api/ivr/drafts", json={"tree": bad, "comment": "essai"})
        assert draft.status_code == 201
        assert draft.json() | {"created_at": None} == {
            "version": 2,
            "status": "draft",
            "created_at": None,
            "author": "telecom",
            "comment": "essai",
            "published_at": None,
            "published_by": None,
            "valid": False,
        }
        not_a_tree = await client.post("/api/ivr/drafts", json={"tree": {"nodes": 3}})
        assert not_a_tree.status_code == 422
        assert {p["path"] for p in not_a_tree.json()["detail"]["problems"]} >= {"start", "nodes"}

        refused = await client.post("/api/ivr/versions/2/publish", json={"comment": "non"})
        assert refused.status_code == 422
        assert refused.json()["detail"]["problems"][0]["path"] == "nodes.menu_principal.choices.8"
        assert "version 2" in refused.json()["detail"]["message"]
        assert (await client.get("/api/ivr/versions")).json()["published"] == 1
        assert (await client.post("/api/ivr/versions/7/publish", json={})).status_code == 404

        good = {**tree, "name": "Menu d'hiver"}
        draft = (
            await client.post("/api/ivr/drafts", json={"tree": good, "comment": "hiver"})
        ).json()
        published = await client.post(f"/api/ivr/versions/{draft['version']}/publish", json={})
        assert published.status_code == 200
        assert published.json()["status"] == "published"
        assert published.json()["published_by"] == "telecom"
        listing = (await client.get("/api/ivr/versions")).json()
        assert listing["published"] == 3
        assert [(v["version"], v["status"]) for v in listing["versions"]] == [
            (3, "published"),
            (2, "draft"),
            (1, "archived"),
        ]
        diff = (await client.get("/api/ivr/diff", params={"from": 1, "to": 3})).json()
        assert diff["from"] == 1 and diff["to"] == 3
        assert diff["lines"][:2] == ["--- version 1", "+++ version 3"]
        assert "-name: Mairie - menu principal" in diff["lines"]
        assert "+name: Menu d'hiver" in diff["lines"]
        assert diff["changes"] == ["Nom du menu : « Mairie - menu principal » → « Menu d'hiver »"]
        assert diff["identical"] is False
        same = (await client.get("/api/ivr/diff", params={"from": 3, "to": 3})).json()
        assert same["identical"] is True and same["changes"] == []
        assert (await client.get("/api/ivr/diff", params={"from": 1, "to": 8})).status_code == 404

        # what a publication would change, said before it is confirmed (nothing saved)
        ahead = await client.post("/api/ivr/compare", json={"tree": bad, "against": 3})
        assert ahead.status_code == 200, ahead.text
        assert ahead.json()["changes"][-1].startswith("Nœud « Menu “Pour l'état civil")
        assert "touche 8 ajoutée (vers « nulle_part »)" in ahead.json()["changes"][-1]
        assert len((await client.get("/api/ivr/versions")).json()["versions"]) == 3
        lost = await client.post("/api/ivr/compare", json={"tree": good, "against": 9})
        assert lost.status_code == 404

        schema = (await client.get("/api/ivr/schema")).json()
        assert "nodes" in schema["properties"] and schema["$schema"].endswith("schema")

        measures = (await client.get("/api/ivr/measures", params={"days": 3})).json()
        assert measures["nodes"] == [] and len(measures["days"]) == 3
        assert measures["days"][-1]["calls"] == 0 and measures["days"][-1]["share"] == 0.0
        assert (await client.get("/api/ivr/measures", params={"days": 0})).status_code == 422


async def test_a_published_version_takes_effect_on_the_next_call_and_rollback_works(
    product: Product,
) -> None:
    assert product.pbx is not None and product.ivr is not None
    async with client_of(product) as client:
        await login(client, "telecom")
        tree = (await client.get("/api/ivr/versions/1")).json()["tree"]
        tree["nodes"]["bienvenue"]["prompt"] = {
            "text": "Bonjour, la mairie vous souhaite de bonnes fêtes."
        }
        draft = (
            await client.post("/api/ivr/drafts", json={"tree": tree, "comment": "fêtes"})
        ).json()
        published = await client.post(f"/api/ivr/versions/{draft['version']}/publish", json={})
        assert published.status_code == 200, published.text

        # Jeanne Dupont asks the opening hours (7) and lets the menu say goodbye.
        call = product.pbx.place_call("0612345678", "Dupont", keys="7")

        async def run_recorded() -> bool:
            runs = await asyncio.to_thread(ivr_store.runs, product.database, _long_ago())
            return any(r.call_id == call.linkedid for r in runs)

        await eventually(run_recorded, "the call's run in ivr_runs")
        sounds = product.ivr.sounds
        assert sounds is not None
        heard = [sounds.words(sound) for sound in call.heard]
        assert heard[0] == "Bonjour, la mairie vous souhaite de bonnes fêtes."
        runs = await asyncio.to_thread(ivr_store.runs, product.database, _long_ago())
        [run] = [r for r in runs if r.call_id == call.linkedid]
        assert run.version == draft["version"]
        assert run.path[:4] == (
            "bienvenue",
            "horaires_mairie",
            "menu_principal",
            "annonce_horaires",
        )
        assert run.outcome == "self_service" and run.self_served
        assert run.timed_out_nodes == ("apres_horaires",)

        # The call's record (what the agent's card shows) has the menu path too.
        async def path_on_record() -> bool:
            record = await asyncio.to_thread(product.pop.directory.interaction, call.linkedid)
            return record is not None and record.ivr_path == run.path

        await eventually(path_on_record, "the menu path on the call's record")

        measures = (await client.get("/api/ivr/measures", params={"days": 1})).json()
        assert measures["days"][-1]["calls"] == 1 and measures["days"][-1]["share"] == 1.0
        figures = {
            n["node"]: (n["passed"], n["hung_up"], n["timed_out"]) for n in measures["nodes"]
        }
        assert figures["apres_horaires"] == (1, 0, 1)
        names = {n["node"]: n["name"] for n in measures["nodes"]}
        assert names["annonce_horaires"] == "Horaires d'ouverture"  # the editor's names

        # Rollback to version 1: the next call hears the original greeting again.
        assert (await client.post("/api/ivr/versions/1/publish", json={})).status_code == 200
        again = product.pbx.place_call("0612345678", "Dupont", keys="7")

        async def second_recorded() -> bool:
            runs = await asyncio.to_thread(ivr_store.runs, product.database, _long_ago())
            return any(r.call_id == again.linkedid for r in runs)

        await eventually(second_recorded, "the second call's run")
        assert sounds.words(again.heard[0]) == "Bonjour et bienvenue à la mairie."


def _long_ago() -> datetime:
    return datetime(2000, 1, 1, tzinfo=UTC)


async def test_recordings_are_uploaded_heard_and_missing_ones_are_reported(
    product: Product, tmp_path: Path
) -> None:
    assert product.pbx is not None and product.ivr is not None
    studio = tmp_path / "accueil.wav"  # as a studio makes it: 44.1 kHz stereo
    args = ["-n", "-r", "44100", "-c", "2", str(studio), "synth", "1.5", "sine", "440"]
    subprocess.run(["sox", *args], check=True)
    async with client_of(product) as client:
        await login(client, "telecom")
        upload = await client.post(
            "/api/ivr/recordings", params={"filename": "accueil.wav"}, content=studio.read_bytes()
        )
        assert upload.status_code == 201, upload.text
        recording = upload.json()
        assert recording["file"].startswith("cti/") and 1.4 < recording["seconds"] < 1.6
        # What Asterisk on another machine (or the editor) fetches: 8 kHz mono 16-bit WAV.
        served = await client.get(recording["url"])
        assert served.status_code == 200 and served.headers["content-type"] == "audio/wav"
        with wave.open(io.BytesIO(served.content)) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)

        refused = await client.post(
            "/api/ivr/recordings", params={"filename": "menu.mp3"}, content=b"pas un son"
        )
        assert refused.status_code == 422
        assert (
            "« menu.mp3 » refusé : ce n'est pas un fichier son lisible"
            in (refused.json()["detail"]["message"])
        )

        tree = (await client.get("/api/ivr/versions/1")).json()["tree"]
        tree["nodes"]["bienvenue"]["prompt"] = {
            "text": "Bonjour et bienvenue.",
            "file": recording["file"],
        }
        tree["nodes"]["au_revoir"]["prompt"] = {
            "text": "Merci de votre appel. Au revoir.",
            "file": "mairie/au-revoir",  # a recording nobody gave
        }
        checked = (await client.post("/api/ivr/validate", json={"tree": tree})).json()
        assert checked["valid"] is True
        assert [(p["path"], p["severity"]) for p in checked["problems"]] == [
            ("nodes.au_revoir.prompt.file", "warning")
        ]
        assert "« mairie/au-revoir » introuvable" in checked["problems"][0]["message"]
        draft = (await client.post("/api/ivr/drafts", json={"tree": tree})).json()
        published = await client.post(f"/api/ivr/versions/{draft['version']}/publish", json={})
        assert published.status_code == 200, published.text

        health = (await client.get("/healthz")).json()
        [missing] = health["voice_menu_missing_sounds"]
        assert missing["path"] == "nodes.au_revoir.prompt"
        assert missing["file"] == "mairie/au-revoir"
        assert "lu par synthèse vocale" in missing["reason"]

        call = product.pbx.place_call("0612345678", "Dupont", keys="7")

        async def run_recorded() -> bool:
            runs = await asyncio.to_thread(ivr_store.runs, product.database, _long_ago())
            return any(r.call_id == call.linkedid for r in runs)

        await eventually(run_recorded, "the call's run in ivr_runs")
        assert call.heard[0] == recording["file"]  # the staff's recording, by name

        # An Asterisk on another machine fetches the same file over HTTP (CTI_SOUNDS_URL).
        elsewhere = PbxSounds()
        url = product.url.rstrip("/") + recording["url"]
        await elsewhere.fetch(url)
        assert 1.4 < (elsewhere.seconds(url) or 0.0) < 1.6


BILLION_LAUGHS = "\n".join(
    ['a0: &a0 ["lol"]']
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 7)]
    + ["start: x", "nodes: {x: {kind: route, service: accueil, label: *a6}}"]
)


async def test_hostile_and_huge_menus_are_refused_in_french(product: Product) -> None:
    """Issue 18: 398 bytes of YAML held everything for 84 s; 12,000 nodes were saved."""
    huge = {
        "start": "m0",
        "nodes": {
            f"m{i}": {"kind": "message", "prompt": {"text": f"étape {i}"}, "next": f"m{i + 1}"}
            for i in range(12_000)
        },
    }
    async with client_of(product) as client:
        await login(client, "telecom")
        for path in ("/api/ivr/validate", "/api/ivr/simulate", "/api/ivr/drafts"):
            response = await client.post(path, json={"yaml": BILLION_LAUGHS})
            assert "ancres YAML (&a0) ne sont pas acceptées" in response.text, path
            response = await client.post(path, json={"tree": huge})
            assert "menu trop volumineux" in response.text, path
            assert "limite : 524288 octets" in response.text
        drafts = (await client.get("/api/ivr/versions")).json()["versions"]
        assert [v["version"] for v in drafts] == [1]  # nothing was saved


async def test_healthz_answers_while_a_menu_is_being_checked(
    product: Product, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check runs off the event loop: /healthz is answered before it ends. The real
    check is held (a gate) until /healthz has answered; on the event loop it would hold the
    loop, /healthz could not be answered and the gate would open only by its timeout."""
    assert product.ivr is not None
    loop = asyncio.get_running_loop()
    started = asyncio.Event()
    healthz_answered = threading.Event()
    gate_opened_by_healthz: list[bool] = []
    real_check = product.ivr.check

    def gated_check(tree: Any) -> Any:
        loop.call_soon_threadsafe(started.set)
        gate_opened_by_healthz.append(healthz_answered.wait(20))
        return real_check(tree)

    order: list[str] = []
    async with client_of(product) as client:
        await login(client, "telecom")
        tree = (await client.get("/api/ivr/versions/1")).json()["tree"]
        monkeypatch.setattr(product.ivr, "check", gated_check)

        async def check() -> httpx.Response:
            response = await client.post("/api/ivr/validate", json={"tree": tree})
            order.append("validate")
            return response

        checking = asyncio.create_task(check())
        await asyncio.wait_for(started.wait(), 30)
        async with client_of(product) as other:
            health = await other.get("/healthz")
        order.append("healthz")
        healthz_answered.set()
        checked = await checking
    assert health.status_code == 200
    assert checked.json()["valid"] is True
    assert gate_opened_by_healthz == [True]
    assert order == ["healthz", "validate"]


async def test_hostile_menu_files_get_french_answers_over_http_and_healthz_stays_up(
    product: Product,
) -> None:
    """The voice-menu fuzz's files (tests/ivr_scripts/test_ivr_yaml_fuzz.py) posted to
    /api/ivr/validate as the editor sends a text, a /healthz beside each: never a 500, every
    problem in French, /healthz answered every time. Lone surrogates travel as JSON escapes."""
    texts: list[str] = []

    @settings(
        max_examples=40,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(raw=hostile_files)
    def collect(raw: bytes) -> None:
        texts.append(raw.decode("utf-8", "surrogateescape"))

    collect()
    async with client_of(product) as client, client_of(product) as other:
        await login(client, "telecom")
        for text in texts:
            body = json.dumps({"yaml": text}).encode()  # ASCII: surrogates escaped
            checking = asyncio.create_task(
                client.post(
                    "/api/ivr/validate",
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
            )
            health = await other.get("/healthz")
            response = await checking
            assert health.status_code == 200, text[:80]
            assert response.status_code == 200, (text[:80], response.text[:300])
            answer = response.json()
            messages = [p["message"] for p in answer["problems"] if p["severity"] == "error"]
            assert answer["valid"] or messages, text[:80]
            assert all(in_french(m) for m in messages), messages
