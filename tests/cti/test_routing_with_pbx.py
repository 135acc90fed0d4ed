"""The routing engine carried out on a PBX: the whole product against the simulated Asterisk.

Real AMI over TCP, the dialplan contract of asterisk-conf/ played by the simulator, the router
placing offers with Setvar + Redirect, and the routing configuration read from the database
and changed through the API.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from cti import routing_store
from cti.agent_states import AgentStateStore, restore
from cti.ami.connection import AmiConnection
from cti.assembly import DEMO_PASSWORD, SIM_SECRET, Product, running
from cti.dispatch import Dispatcher
from cti.pbxsim.pbx import AgentPhone
from cti.router import RouterShell
from cti.service import CallService
from cti.settings import Settings
from cti.tracker import events as ev
from routing.engine import RoutingEngine
from routing.states import AgentState
from tests.cti import pbx_product
from tests.cti.pbx_product import until_connected

CONFIG: dict[str, Any] = {
    "skills": {"accueil": "Accueil", "etat-civil": "État civil", "urbanisme": "Urbanisme"},
    "max_missed_offers": 2,
    "services": {
        "accueil": {"label": "Accueil", "required_skills": {"accueil": 1}},
        "etat-civil": {"label": "État civil", "required_skills": {"etat-civil": 3}},
        "urbanisme": {
            "label": "Urbanisme",
            "required_skills": {"urbanisme": 3},
            "overflow": {"kind": "voicemail", "target": "urba"},
        },
    },
    "agents": {
        # 201 starts logged out (the demo's newcomer); the others start ready.
        "201": {"name": "Marie", "skills": {"accueil": 5, "etat-civil": 3}},
        "202": {"name": "Paul", "skills": {"etat-civil": 5}},
        "204": {"name": "Luc", "skills": {"accueil": 2, "etat-civil": 4}},
    },
}


class Watch:
    """Every domain event the product emits, and a way to wait for one."""

    def __init__(self) -> None:
        self.events: list[ev.DomainEvent] = []
        self._changed = asyncio.Event()

    def __call__(self, event: ev.DomainEvent) -> None:
        self.events.append(event)
        self._changed.set()

    async def until(self, check: Callable[[], bool], what: str) -> None:
        async def loop() -> None:
            while not check():
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(loop(), 30)
        except TimeoutError:
            seen = [e.to_dict() for e in self.events]
            pytest.fail(f"never saw {what}; events: {seen}")

    def of(self, kind: type[ev.CallEvent], call_id: str) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind) and e.call_id == call_id]


def settings_for(tmp_path: Path, **changes: Any) -> Settings:
    return pbx_product.settings_for(tmp_path, CONFIG, **changes)


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    async with running(settings_for(tmp_path), simulated=True, traffic=False) as product:
        assert product.pbx is not None
        # Phones that answer at once and keep the citizen until the test hangs up; the
        # dialplan's safety net out of the way (it has its own tests).
        product.pbx.telephony.agents.update(
            {ext: AgentPhone(ring=1.0, talk=3600) for ext in CONFIG["agents"]}
        )
        product.pbx.telephony.safety_net = 1e6
        await until_connected(product)
        yield product


def watch(product: Product) -> Watch:
    w = Watch()
    product.service.add_listener(w)
    return w


async def answered_by(product: Product, w: Watch, service: str) -> str:
    assert product.pbx is not None
    call = product.pbx.place_call("0612345678", "Dupont", service=service, talk=3600)
    await w.until(lambda: bool(w.of(ev.CallAnswered, call.linkedid)), f"{service} answered")
    agent: str = w.of(ev.CallAnswered, call.linkedid)[0].agent
    return agent


async def test_calls_go_to_agents_with_the_skill(product: Product) -> None:
    w = watch(product)
    # etat-civil: Paul (5) before Luc (4); the next one to Luc, Paul being on a call.
    assert await answered_by(product, w, "etat-civil") == "202"
    assert await answered_by(product, w, "etat-civil") == "204"
    assert product.router.engine.agent("202").state is AgentState.ON_CALL
    # accueil: only Luc has the skill among the logged-in agents, and he is busy: it waits.
    assert product.pbx is not None
    call = product.pbx.place_call("0698765432", "Martin", service="accueil", talk=3600)
    await w.until(lambda: bool(w.of(ev.CallWaiting, call.linkedid)), "accueil waiting")
    assert [x.call_id for x in product.router.engine.waiting("accueil")] == [call.linkedid]
    # Marie says "Prêt": the waiting accueil call is hers.
    product.router.set_agent_state("201", "ready", None)
    await w.until(lambda: bool(w.of(ev.CallAnswered, call.linkedid)), "accueil answered")
    assert w.of(ev.CallAnswered, call.linkedid)[0].agent == "201"


async def test_a_paused_agent_is_not_offered_calls(product: Product) -> None:
    w = watch(product)
    product.router.set_agent_state("202", "paused", "formation")
    product.router.set_agent_state("204", "front_desk", None)
    product.router.set_agent_state("201", "ready", None)
    assert await answered_by(product, w, "etat-civil") == "201"
    offered = {e.agent for e in w.events if isinstance(e, ev.CallOffered)}
    assert offered == {"201"}
    assert product.router.agent_state("202") == ("paused", "formation")
    # Answered, the call has left the engine; the router still says why it went to Marie.
    call_id = next(e.call_id for e in w.events if isinstance(e, ev.CallAnswered))
    why = product.router.why(call_id)
    assert why is not None and why.stage.value == "offered"
    reasons = {r.agent: r.reason for r in why.agents}
    assert reasons["201"] == "prise : la seule compétente libre"
    assert reasons["202"] == "en pause (formation)"
    assert reasons["204"] == "au guichet"


async def test_an_agent_who_does_not_answer_is_skipped_then_paused(product: Product) -> None:
    assert product.pbx is not None
    w = watch(product)
    product.pbx.telephony.agents["202"] = AgentPhone(answers=False)
    # Paul is the best for etat-civil: offered, no answer, the call goes to Luc.
    assert await answered_by(product, w, "etat-civil") == "204"
    assert [e.agent for e in w.events if isinstance(e, ev.CallNoAnswer)] == ["202"]
    assert product.router.engine.agent("202").missed_offers == 1
    # Second miss in a row (max_missed_offers: 2): Paul is paused, the supervisor is told,
    # and the call waits (Luc is busy, Marie logged out).
    call = product.pbx.place_call("0698765432", "Martin", service="etat-civil", talk=3600)
    await w.until(
        lambda: product.router.agent_state("202") == ("paused", "absence de réponse"),
        "Paul paused for not answering",
    )
    assert [a.agent for a in product.router.alerts] == ["202"]
    assert [x.call_id for x in product.router.engine.waiting("etat-civil")] == [call.linkedid]
    # Paused, he is offered nothing more: Marie's "Prêt" takes the call.
    product.router.set_agent_state("201", "ready", None)
    await w.until(lambda: bool(w.of(ev.CallAnswered, call.linkedid)), "answered by Marie")
    assert w.of(ev.CallAnswered, call.linkedid)[0].agent == "201"
    assert [e.agent for e in w.events if isinstance(e, ev.CallOffered)] == [
        "202",
        "204",
        "202",
        "201",
    ]


async def test_a_service_nobody_can_serve_overflows_to_its_voicemail(product: Product) -> None:
    assert product.pbx is not None
    w = watch(product)
    call = product.pbx.place_call("0612345678", "Dupont", service="urbanisme", talk=3600)
    await w.until(lambda: bool(w.of(ev.CallEnded, call.linkedid)), "the call ended")
    [overflowed] = w.of(ev.CallOverflowed, call.linkedid)
    assert (overflowed.kind, overflowed.target) == ("voicemail", "urba")
    assert w.of(ev.CallEnded, call.linkedid)[0].reason == "overflow"
    assert not w.of(ev.CallOffered, call.linkedid)


async def login(client: httpx.AsyncClient, username: str) -> httpx.AsyncClient:
    response = await client.post(
        "/api/login", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf"]
    return client


async def test_the_configuration_is_changed_through_the_api(product: Product) -> None:
    base_url = product.url.rstrip("/")
    async with httpx.AsyncClient(base_url=base_url) as s, httpx.AsyncClient(base_url=base_url) as a:
        supervisor, agent = await login(s, "superviseur"), await login(a, "paul")
        current = (await supervisor.get("/api/routing/config")).json()
        assert current["version"] == 1 and current["author"] == "installation"
        assert (await agent.get("/api/routing/config")).status_code == 403

        broken = current["config"] | {"agents": {"202": {"name": "Paul", "skills": {"x": 3}}}}
        refused = await supervisor.put("/api/routing/config", json={"config": broken})
        assert refused.status_code == 422
        assert "agent '202', skills: unknown skill 'x'" in refused.json()["detail"]
        no_default = dict(current["config"])
        no_default["services"] = {
            k: v for k, v in current["config"]["services"].items() if k != "accueil"
        }
        refused = await supervisor.put("/api/routing/config", json={"config": no_default})
        assert refused.status_code == 422 and "accueil" in refused.json()["detail"]

        # Luc learns urbanisme; the change applies to the next call at once.
        changed = current["config"]
        changed["agents"]["204"]["skills"]["urbanisme"] = 4
        saved = await supervisor.put(
            "/api/routing/config", json={"config": changed, "comment": "Luc formé"}
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["version"] == 2
        w = watch(product)
        assert await answered_by(product, w, "urbanisme") == "204"

        versions = (await supervisor.get("/api/routing/versions")).json()
        assert [(v["version"], v["author"]) for v in versions] == [
            (2, "superviseur"),
            (1, "installation"),
        ]
        restored = await supervisor.post("/api/routing/versions/1/restore")
        assert restored.json()["version"] == 3
        assert "urbanisme" not in product.router.engine.agent("204").skills
        agents = (await supervisor.get("/api/routing/agents")).json()
        # Luc's call goes on; the new engine did not route it, so it sees a busy phone.
        luc = next(a for a in agents if a["agent"] == "204")
        assert (luc["state"], luc["phone_busy"]) == ("ready", True)


async def test_a_restarted_router_finds_the_waiting_caller_and_goes_on(product: Product) -> None:
    """The service stops while a citizen waits; the next one rebuilds her from the channels."""
    assert product.pbx is not None
    for agent in ("202", "204"):
        product.router.set_agent_state(agent, "paused", "réunion")
    w = watch(product)
    call = product.pbx.place_call("0612345678", "Dupont", service="etat-civil", talk=3600)
    await w.until(lambda: bool(w.of(ev.CallWaiting, call.linkedid)), "the call waiting")
    await product.connection.close()  # the CTI service goes away; the caller keeps waiting

    service = CallService()
    again = Watch()
    service.add_listener(again)
    params = dataclasses.replace(
        product.settings.ami_params("127.0.0.1", product.pbx.port), secret=SIM_SECRET
    )
    conn = AmiConnection(params, service.on_ami_event, service.on_resync, service.on_link_state)
    config = routing_store.current(product.database)
    assert config is not None
    router = RouterShell(
        service, conn.send, Dispatcher(RoutingEngine(config.config), "accueil"), time.time
    )
    await product.agent_states.flush()
    restore(router, AgentStateStore(product.database).load())
    assert router.agent_state("202") == ("paused", "réunion")
    conn.start()
    try:
        await again.until(lambda: bool(again.of(ev.CallWaiting, call.linkedid)), "restored")
        [waiting] = router.engine.waiting("etat-civil")
        assert waiting.call_id == call.linkedid
        assert waiting.since == call.wait_start  # her wait counts from the dialplan's WAIT_START
        router.set_agent_state("202", "ready", None)
        await again.until(lambda: bool(again.of(ev.CallAnswered, call.linkedid)), "answered")
        assert again.of(ev.CallAnswered, call.linkedid)[0].agent == "202"
    finally:
        await router.close()
        await conn.close()


async def test_the_safety_net_waits_while_the_service_lives_and_takes_over_when_it_stops(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, safety_net=3.0)  # heartbeat every second
    async with running(settings, simulated=True, traffic=False) as product:
        assert product.pbx is not None
        product.pbx.telephony.safety_net = 3.0 / settings.sim_time_scale  # the dialplan's 3 s
        await until_connected(product)
        for agent in ("202", "204"):
            product.router.set_agent_state(agent, "paused", "réunion")
        w = watch(product)
        call = product.pbx.place_call("0612345678", "Dupont", service="etat-civil", talk=3600)
        await w.until(lambda: bool(w.of(ev.CallWaiting, call.linkedid)), "the call waiting")
        # Five heartbeats: the caller has waited longer than the net, and is still ours.
        start = product.router.heartbeats

        async def heartbeats() -> None:
            while product.router.heartbeats < start + 5:
                await asyncio.sleep(0.1)  # polls a counter; the timing is the router's

        await asyncio.wait_for(heartbeats(), 30)
        assert not w.of(ev.CallSafetyNet, call.linkedid)
        assert [x.call_id for x in product.router.engine.waiting("etat-civil")] == [call.linkedid]
        await product.router.close()  # the service falls silent
        await w.until(lambda: bool(w.of(ev.CallSafetyNet, call.linkedid)), "the safety net")


async def heartbeats_after(product: Product, count: int) -> None:
    """Wait for ``count`` more heartbeat pushes (polls a counter; the timing is the router's)."""
    start = product.router.heartbeats

    async def loop() -> None:
        while product.router.heartbeats < start + count:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(loop(), 60)


async def test_the_safety_net_stays_put_while_an_agent_never_answers(tmp_path: Path) -> None:
    """Issue 17: ring time a third of the net, an agent who never answers. The call was
    ringing at every heartbeat, so CTI_SAFETY never moved and, after the third no-answer,
    the dialplan's queue took the call from a live product."""
    settings = settings_for(tmp_path, safety_net=3.0)
    settings.sim_time_scale = 0.05  # the 20 s ring lasts 1 s: a third of the 3 s net
    config = {**CONFIG, "max_missed_offers": 3}
    settings.routing_config.write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    async with running(settings, simulated=True, traffic=False) as product:
        assert product.pbx is not None
        product.pbx.telephony.agents["202"] = AgentPhone(answers=False)
        await until_connected(product)
        product.router.set_agent_state("204", "paused", "réunion")  # 202 alone takes it
        w = watch(product)
        call = product.pbx.place_call("0612345678", "Dupont", service="etat-civil", talk=3600)
        cid = call.linkedid
        await w.until(lambda: len(w.of(ev.CallNoAnswer, cid)) >= 3, "three no-answers")
        await w.until(
            lambda: (
                w.events.index(w.of(ev.CallWaiting, cid)[-1])
                > w.events.index(w.of(ev.CallNoAnswer, cid)[-1])
            ),
            "the caller back in cti-wait",
        )
        # Paused after three misses, she is alerted about; the caller is still ours, well past
        # the net since she began to wait, and stays ours while the product lives.
        assert product.router.engine.agent("202").state is AgentState.PAUSED
        await heartbeats_after(product, 4)
        assert not w.of(ev.CallSafetyNet, cid)
        assert [x.call_id for x in product.router.engine.waiting("etat-civil")] == [cid]
        assert call in product.pbx.calls and not product.pbx.telephony.queue.entries


async def test_an_offer_while_the_link_is_down_is_no_miss_and_waits_for_the_link(
    tmp_path: Path,
) -> None:
    """Issue 17: link down, the router offered one call to 203 three times in 1 ms, counted
    three misses and paused her with an alert. Now: no offer while the link is down, the
    agent stays ready, and the call is offered once when the link is back."""
    settings = settings_for(tmp_path, ami_reconnect_min=0.05, ami_reconnect_max=0.2)
    async with running(settings, simulated=True, traffic=False) as product:
        assert product.pbx is not None
        product.pbx.telephony.agents.update(
            {ext: AgentPhone(ring=1.0, talk=3600) for ext in CONFIG["agents"]}
        )
        product.pbx.telephony.safety_net = 1e6
        await until_connected(product)
        router = product.router
        router.set_agent_state("204", "paused", "réunion")  # nobody ready for accueil
        w = watch(product)
        call = product.pbx.place_call("0612345678", "Dupont", service="accueil", talk=3600)
        cid = call.linkedid
        await w.until(lambda: bool(w.of(ev.CallWaiting, cid)), "the call waiting")
        sub = product.service.bus.subscribe()
        await product.pbx.stop_ami()
        while product.service.link_state == "ready":
            await asyncio.wait_for(sub.get(), 30)
        sub.close()
        router.set_agent_state("201", "ready", None)  # the engine would offer her the call
        assert router.engine.agent("201").state is AgentState.READY
        assert router.engine.agent("201").reason is None
        assert not router.alerts and router.offers_failed == 0
        await product.pbx.start_ami()
        await until_connected(product)
        await w.until(lambda: bool(w.of(ev.CallAnswered, cid)), "the call answered by 201")
        assert [e.agent for e in w.of(ev.CallOffered, cid)] == ["201"]
        assert router.offers_sent == 1 and not router.alerts
