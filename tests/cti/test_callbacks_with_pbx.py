"""Callbacks carried out by the whole product on the simulated Asterisk (real AMI over TCP).

A request waits in its place among the callers of its service, is offered to a qualified
agent's page, and on « Accepter » the product Originates: the agent's phone first, then the
citizen's number through ``cti-callback``; outcomes are stored; a restart at each step loses
no request and dials none twice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from cti import callback_store
from cti.assembly import DEMO_PASSWORD, Product, running
from cti.callbacks.desk import CallbackDesk
from cti.callbacks.state import NewRequest
from cti.pbxsim import SimulatedPbx
from cti.pbxsim.callback_call import CalledBack
from cti.pbxsim.channels import Channel
from cti.pbxsim.pbx import AgentPhone
from cti.settings import Settings
from cti.tracker import events as ev
from ivr_scripts.commands import RecordCallback
from routing.callbacks.request import CallbackRequest, CallbackState, Source, Window
from screenpop.models import AuditEntry, CallbackRow
from tests.cti import pbx_product
from tests.cti.pbx_product import until_connected

S = CallbackState
CONFIG: dict[str, Any] = {
    "skills": {"accueil": "Accueil", "etat-civil": "État civil", "urbanisme": "Urbanisme"},
    "services": {
        "accueil": {
            "label": "Accueil",
            "required_skills": {"accueil": 1},
            "callback": {"offer_in_wait": True, "offer_after_s": 1},
        },
        "etat-civil": {
            "label": "État civil",
            "required_skills": {"etat-civil": 3},
            "callback": {"attempts": 2, "spacing_min": 15},
        },
        "urbanisme": {
            "label": "Urbanisme",
            "required_skills": {"urbanisme": 3},
            "max_wait_s": 1,
            "overflow": {"kind": "callback"},
        },
    },
    "agents": {
        "201": {"name": "Marie", "skills": {"accueil": 5, "etat-civil": 3}},
        "202": {"name": "Paul", "skills": {"etat-civil": 5, "urbanisme": 3}},
    },
}
NUMBER = "+33612345678"


def settings_for(tmp_path: Path) -> Settings:
    return pbx_product.settings_for(tmp_path, CONFIG, callback_agent_ring=20)


async def until(check: Callable[[], bool], what: str) -> None:
    """Wait for ``check`` (the product's own tasks move things along)."""

    async def loop() -> None:
        while not check():
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(loop(), 30)
    except TimeoutError:
        pytest.fail(f"never saw {what}")


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    async with started(tmp_path) as product:
        yield product


class started:
    """The product on the simulated PBX, phones answering at once, every agent paused
    (``pbx``: one that outlives the product, see ``running``)."""

    def __init__(self, tmp_path: Path, pbx: SimulatedPbx | None = None) -> None:
        self._cm = running(settings_for(tmp_path), simulated=True, traffic=False, pbx=pbx)

    async def __aenter__(self) -> Product:
        product = await self._cm.__aenter__()
        assert product.pbx is not None
        product.pbx.telephony.agents.update(
            {ext: AgentPhone(ring=1.0, talk=3600) for ext in CONFIG["agents"]}
        )
        product.pbx.telephony.safety_net = 1e6
        for agent in CONFIG["agents"]:  # at their desks, not taking calls yet
            product.router.set_agent_state(agent, "paused", "réunion")
        await until_connected(product)
        return product

    async def __aexit__(self, *exc: Any) -> None:
        await self._cm.__aexit__(*exc)


def desk_of(product: Product) -> CallbackDesk:
    assert product.callbacks is not None
    return product.callbacks


def stored(product: Product, request_id: str) -> CallbackRequest:
    found = callback_store.get(product.database, request_id)
    assert found is not None
    return found


class Page:
    """What the agent's page receives (the hub's messages, as JSON)."""

    def __init__(self, product: Product, agent: str) -> None:
        self.sub = product.hub.subscribe(agent)
        self.messages: list[dict[str, Any]] = []

    async def next(self, kind: str) -> dict[str, Any]:
        while True:
            text = await asyncio.wait_for(self.sub.get(), 30)
            assert text is not None
            message: dict[str, Any] = json.loads(str(text))
            self.messages.append(message)
            if message["type"] == kind:
                return message


async def test_offered_in_its_place_then_accepted_and_the_citizen_is_called(
    product: Product,
) -> None:
    desk = desk_of(product)
    assert product.pbx is not None
    tel = product.pbx.telephony
    page = Page(product, "202")
    # Asked while nobody serves etat-civil: it waits; a live caller arrives after her.
    request = await desk.request(
        NewRequest(NUMBER, "etat-civil", Source.MENU, Window.REOPENING, ("bienvenue",)), "système"
    )
    assert stored(product, request.id).state is S.PENDING
    waiting = product.router.engine.waiting("etat-civil")
    assert [w.call_id for w in waiting] == [f"rappel:{request.id}"]
    call = tel.place_call("0698765432", "Martin", service="etat-civil", talk=3600)
    await until(lambda: len(product.router.engine.waiting("etat-civil")) == 2, "the live caller")
    # Paul is ready: the callback is first in line, offered to his page, not rung by Redirect.
    product.router.set_agent_state("202", "ready", None)
    offered = await page.next("callback.offered")
    card = offered["callback"]
    assert card["id"] == request.id
    assert card["headline"].startswith("Rappel demandé à ")
    assert "État civil" in card["headline"] and card["number"] == "06 12 34 56 78"
    assert product.router.engine.agent("202").state.value == "ringing"
    await until(lambda: stored(product, request.id).state is S.OFFERED, "stored as offered")
    # Accepter, over HTTP as his page does.
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{product.port}") as http:
        login = await http.post("/api/login", json={"username": "paul", "password": DEMO_PASSWORD})
        http.headers["X-CSRF-Token"] = login.json()["csrf"]
        listed = await http.get("/api/callbacks")
        assert [c["id"] for c in listed.json()["callbacks"]] == [request.id]
        accepted = await http.post(f"/api/callbacks/{request.id}/accept")
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["state"] == "dialling"
        again = await http.post(f"/api/callbacks/{request.id}/accept")
        assert again.status_code == 409
    await until(lambda: stored(product, request.id).state is S.REACHED, "reached")
    assert tel.dialled_back == ["0612345678"]
    assert desk.originates_sent == 1
    done = stored(product, request.id)
    assert (done.attempts, done.agent, done.outcome) == (1, "202", "ANSWER")
    with product.database.session() as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "callback.call"))
        [entry] = list(audit)
    assert entry.username == "paul"
    assert entry.detail.startswith("le poste 202 rappelle le 06 12 34 56 78 (État civil), essai 1")
    # His callback done (no wrap-up here), Paul takes the live caller who came after.
    watch: list[ev.DomainEvent] = []
    product.service.add_listener(watch.append)
    await until(
        lambda: any(isinstance(e, ev.CallAnswered) and e.call_id == call.linkedid for e in watch),
        "the live caller answered by Paul",
    )


async def test_no_answer_retries_later_then_fails_after_the_attempts(product: Product) -> None:
    desk = desk_of(product)
    assert product.pbx is not None
    tel = product.pbx.telephony
    tel.called_back["0612345678"] = CalledBack(status="NOANSWER")
    page = Page(product, "202")
    request = await desk.request(NewRequest(NUMBER, "etat-civil", Source.AGENT), "marie")
    product.router.set_agent_state("202", "ready", None)
    await page.next("callback.offered")
    await until(lambda: stored(product, request.id).state is S.OFFERED, "offered")
    await desk.accept("202", "paul", request.id)
    await until(lambda: stored(product, request.id).state is S.PENDING, "back in line")
    first = stored(product, request.id)
    assert (first.attempts, first.outcome) == (1, "NOANSWER")
    assert first.not_before is not None and first.updated_at is not None
    assert (first.not_before - first.updated_at).total_seconds() == 15 * 60
    assert product.router.engine.waiting("etat-civil") == []  # not before its spacing
    # Fifteen minutes later (the request's clock moved for the test): offered, no answer,
    # and with two attempts used it has failed.
    desk.requests[request.id] = replace(first, not_before=datetime.now(UTC))
    await desk.sweep()
    await page.next("callback.offered")
    await until(lambda: stored(product, request.id).state is S.OFFERED, "offered again")
    await desk.accept("202", "paul", request.id)
    await until(lambda: stored(product, request.id).state is S.FAILED, "failed")
    assert tel.dialled_back == ["0612345678", "0612345678"]
    assert desk.pending() == []


async def test_reporter_keeps_the_place_and_uses_no_attempt(product: Product) -> None:
    desk = desk_of(product)
    page = Page(product, "202")
    request = await desk.request(NewRequest(NUMBER, "etat-civil", Source.MENU), "système")
    product.router.set_agent_state("202", "ready", None)
    await page.next("callback.offered")
    await until(lambda: stored(product, request.id).state is S.OFFERED, "offered")
    later = await desk.postpone("202", request.id)
    assert (later.state, later.attempts, later.asked_at) == (S.PENDING, 0, request.asked_at)
    assert product.router.engine.agent("202").state.value == "ready"
    assert product.router.engine.waiting("etat-civil") == []
    assert stored(product, request.id).state is S.PENDING


async def test_a_caller_past_the_max_wait_overflows_to_a_callback_in_her_place(
    product: Product,
) -> None:
    assert product.pbx is not None
    tel = product.pbx.telephony
    product.router.set_agent_state("202", "paused", "réunion")  # urbanisme: nobody free
    call = tel.place_call("0612345678", "Dupont", service="urbanisme", talk=3600)
    desk = desk_of(product)
    await until(lambda: len(desk.pending({"urbanisme"})) == 1, "the callback recorded")
    [request] = desk.pending({"urbanisme"})
    assert (request.number, request.source, request.call_id) == (
        NUMBER,
        Source.OVERFLOW,
        call.linkedid,
    )
    await until(lambda: any("cti/" in h for h in call.heard), "the recorded prompt played")
    # She heard the prompt the product rendered: the file exists where Asterisk reads it.
    [prompt] = [h for h in call.heard if h.startswith("cti/")]
    assert (product.settings.sounds_dir / f"{prompt}.wav").is_file()


async def test_a_withheld_caller_cannot_be_called_back_and_is_told_so(product: Product) -> None:
    assert product.pbx is not None
    tel = product.pbx.telephony
    product.router.set_agent_state("202", "paused", "réunion")
    call = tel.place_call("0612345678", "", service="urbanisme", withheld=True, talk=3600)
    await until(lambda: any("cti/" in h for h in call.heard), "the withheld prompt played")
    assert call.leg.variables.get("CTI_OVERFLOW") == "voicemail"
    assert desk_of(product).pending() == []


async def test_served_again_cancels_the_request(product: Product) -> None:
    assert product.pbx is not None
    desk = desk_of(product)
    request = await desk.request(NewRequest(NUMBER, "accueil", Source.MENU), "système")
    # Marie takes her new call (accueil) before the callback's turn: it is cancelled.
    product.router.set_agent_state("202", "paused", "réunion")
    await until(lambda: request.id in desk.requests, "held")
    desk.requests[request.id] = replace(request, not_before=datetime(2100, 1, 1, tzinfo=UTC))
    await desk.sweep()
    product.pbx.telephony.place_call("0612345678", "Dupont", service="accueil", talk=3600)
    product.router.set_agent_state("201", "ready", None)
    await until(lambda: stored(product, request.id).state is S.CANCELLED, "cancelled")
    assert desk.pending() == []


async def test_a_restart_loses_no_request_and_dials_none_twice(tmp_path: Path) -> None:
    async with started(tmp_path) as product:
        desk = desk_of(product)
        pending = await desk.request(NewRequest(NUMBER, "etat-civil", Source.MENU), "système")
        page = Page(product, "202")
        offered = await desk.request(NewRequest("+33611111111", "etat-civil", Source.MENU), "x")
        product.router.set_agent_state("202", "ready", None)
        message = await page.next("callback.offered")
        assert message["callback"]["id"] == pending.id  # the oldest first
        await until(lambda: stored(product, pending.id).state is S.OFFERED, "offered")
        # Killed just after "dialling" was committed, before the Originate left: as if.
        before = stored(product, offered.id)
        dialling = replace(before, state=S.DIALLING, agent="201", action_id="x-1", attempts=1)
        assert callback_store.move(product.database, before, dialling)
    async with started(tmp_path) as product:
        desk = desk_of(product)
        assert product.pbx is not None
        # The offered one was put back in line and offered again (Paul is still ready); the
        # dialling one is left alone: never dialled again.
        assert stored(product, offered.id).state is S.DIALLING
        await until(lambda: stored(product, pending.id).state is S.OFFERED, "offered again")
        assert desk.requests[pending.id].agent == "202"
        await desk.sweep()
        assert [w.call_id for w in product.router.engine.waiting("etat-civil")] == []
        assert desk.originates_sent == 0 and product.pbx.telephony.dialled_back == []
        # Its result, should the call have outlived the product, still closes it.
        product.pbx.telephony._user_event(
            Channel("Local/201@agents-00000001;1", "1", "1"),
            "CtiCallbackResult",
            ("CallbackId", offered.id),
            ("CallbackAction", "x-1"),
            ("DialStatus", "ANSWER"),
        )
        await until(lambda: stored(product, offered.id).state is S.REACHED, "closed by its result")


async def test_requests_from_the_voice_menu(product: Product) -> None:
    desk = desk_of(product)
    desk.from_menu(
        "1.1", RecordCallback(NUMBER, "rappel", "etat-civil", "ce_matin", ("bienvenue", "rappel"))
    )
    desk.from_menu("1.2", RecordCallback(None, "rappel", "disparu", "a_la_reouverture"))
    await until(lambda: len(desk.pending()) == 1, "the menu's request")
    [request] = desk.pending()
    assert (request.service, request.source, request.menu_path) == (
        "etat-civil",
        Source.MENU,
        ("bienvenue", "rappel"),
    )
    with product.database.session() as session:
        rows = list(session.scalars(select(CallbackRow).where(CallbackRow.number.is_(None))))
    # No number: recorded for the record (unknown service: the default one), never called.
    assert [(r.state, r.service, r.outcome) for r in rows] == [("failed", "accueil", "sans numéro")]


async def test_a_colleague_notes_a_callback_from_the_call_on_her_screen(product: Product) -> None:
    assert product.pbx is not None
    watch: list[ev.DomainEvent] = []
    product.service.add_listener(watch.append)
    product.router.set_agent_state("202", "ready", None)
    call = product.pbx.telephony.place_call("0612345678", "Dupont", service="etat-civil", talk=3600)
    await until(
        lambda: (
            product.hub.card_of("202", call.linkedid) is not None
            and any(isinstance(e, ev.CallAnswered) for e in watch)
        ),
        "Paul on the call",
    )
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{product.port}") as http:
        login = await http.post("/api/login", json={"username": "paul", "password": DEMO_PASSWORD})
        http.headers["X-CSRF-Token"] = login.json()["csrf"]
        url = f"/api/calls/{call.linkedid}/callback"
        bad = await http.post(url, json={"number": "12", "note": "x"})
        assert bad.status_code == 422 and "illisible" in bad.json()["detail"]
        gone = await http.post("/api/calls/1.2/callback", json={"note": "x"})
        assert gone.status_code == 404
        made = await http.post(url, json={"note": "pièce manquante", "window": "a_la_reouverture"})
        assert made.status_code == 201, made.text
        card = made.json()
    assert card["note"] == "pièce manquante" and card["number"] == "06 12 34 56 78"
    [request] = desk_of(product).pending()
    assert (request.source, request.requested_by, request.call_id) == (
        Source.AGENT,
        "paul",
        call.linkedid,
    )


async def test_supervisors_see_the_board_and_the_report(product: Product) -> None:
    desk = desk_of(product)
    waiting = await desk.request(NewRequest(NUMBER, "etat-civil", Source.MENU), "système")
    await desk.request(NewRequest("+33611111111", "etat-civil", Source.MENU), "système")
    failed = await desk.request(NewRequest(None, "accueil", Source.MENU), "système")
    assert failed.state is S.FAILED
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{product.port}") as http:
        login = await http.post(
            "/api/login", json={"username": "superviseur", "password": DEMO_PASSWORD}
        )
        assert login.status_code == 200
        board = (await http.get("/api/callbacks/board")).json()
        assert [(r["label"], r["waiting"]) for r in board] == [("État civil", 2)]
        assert board[0]["oldest_asked_at"].startswith(waiting.asked_at.isoformat()[:19])
        report = (await http.get("/api/callbacks/report")).json()
        rows = {r["label"]: (r["requested"], r["failed"], r["open"]) for r in report["rows"]}
        assert rows == {"Accueil": (1, 1, 0), "État civil": (2, 0, 2)}
        empty = await http.get("/api/callbacks/report?from=2026-12-02T10:00&to=2026-12-01T10:00")
        assert empty.status_code == 422
        # The audit says who asked for whom.
    with product.database.session() as session:
        actions = list(
            session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("callback.%")))
        )
    assert actions == ["callback.request"] * 3


async def test_a_waiting_caller_keys_1_and_keeps_her_place_in_line(product: Product) -> None:
    """« Tapez 1 pour être rappelé »: offered after the service's wait, her number confirmed
    by the FastAGI dialogue, the request keeps her WAIT_START, and she is no longer routed."""
    assert product.pbx is not None
    tel = product.pbx.telephony
    call = tel.place_call("0612345678", "Dupont", service="accueil", talk=3600, wait_keys="11")
    await until(lambda: call.wait_start is not None, "her entry in cti-wait")
    later = tel.place_call("0698765432", "Martin", service="accueil", talk=3600)
    await until(lambda: call.ended.is_set(), "her key 1, the dialogue and the hang-up")
    desk = desk_of(product)
    await until(lambda: any(r.source is Source.WAIT for r in desk.pending()), "her request")
    [request] = [r for r in desk.pending() if r.source is Source.WAIT]
    assert request.number == NUMBER and request.service == "accueil"
    assert call.wait_start is not None
    assert request.asked_at == datetime.fromtimestamp(call.wait_start, UTC)
    assert request.call_id == call.linkedid
    # She left the line for good: only Martin's call is still held by the router...
    assert call.linkedid not in product.router.dispatcher.holding()
    assert later.linkedid in product.router.dispatcher.holding()
    # ...and her request comes before him, in her place: Marie, free, is offered it first.
    page = Page(product, "201")
    product.router.set_agent_state("201", "ready", None)
    offered = await page.next("callback.offered")
    assert offered["callback"]["id"] == request.id
    assert stored(product, request.id).source is Source.WAIT


async def test_supervisors_are_alerted_before_a_promised_window_is_missed(
    product: Product,
) -> None:
    desk = desk_of(product)
    feed = product.app.state.supervision if product.app is not None else None
    assert feed is not None
    sub = feed.bus.subscribe()
    try:
        request = await desk.request(NewRequest(NUMBER, "etat-civil", Source.MENU), "système")
        # Promised « ce matin », and the morning ends in 10 minutes (the demo's menu is always
        # open: its windows have no end, so the promise is set here, in the desk's memory).
        soon = datetime.fromtimestamp(desk.clock() + 600, UTC)
        desk.requests[request.id] = replace(request, window=Window.MORNING, window_end=soon)
        while True:  # the wallboard's next tick reads the callbacks not done yet
            message = await asyncio.wait_for(sub.get(), 30)
            assert message is not None
            if message["type"] == "alert.raised" and message["alert"]["kind"] == "callback_window":
                break
        alert = message["alert"]
        assert (alert["kind"], alert["service"]) == ("callback_window", "etat-civil")
        assert alert["message"].startswith("« État civil » : 1 rappel promis avant ")
        assert alert["message"].endswith(" n'est pas encore fait")
    finally:
        sub.close()
