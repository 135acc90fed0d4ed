"""An agent's browser behind a load balancer, when the web node she is on is killed.

Real processes: a router (``CTI_ROLE=router``) and two web nodes (``CTI_ROLE=web``) sharing
PostgreSQL and a NATS server of the test's own, the simulated PBX in the test's loop, a
TCP balancer (``bench/balancer_lab.py``) sending each new connection to the first web node
that takes it, and Debian's chromium. Marie's page is on the first node when a call rings
her; that node is killed (SIGKILL). Her page says it is reconnecting, comes back by itself
through the balancer to the second node, shows the same card once, and her note reaches the
router and comes back on the card.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bench.balancer_lab import balancer
from bench.broker_lab import NATS_SERVER, NatsServer, nats_server
from bench.cluster_lab import AGENT_LOGIN, ClusterLab, cluster_lab
from tests.e2e.browsing import async_api, need_browser

# Every message each of the page's sockets got, by socket (the page opens one per link).
RECORD_SOCKETS = """
window.socketLog = [];
const NativeSocket = window.WebSocket;
window.WebSocket = class extends NativeSocket {
  constructor(...args) {
    super(...args);
    const got = [];
    window.socketLog.push(got);
    this.addEventListener("message", (e) => got.push(JSON.parse(e.data).type));
  }
};
"""
# Every text the link's status line showed, as it showed it.
RECORD_LINK_STATUS = """() => {
  window.linkSaid = [];
  const status = document.querySelector('#link-status');
  new MutationObserver(() => window.linkSaid.push(status.hidden ? '' : status.textContent))
    .observe(status, {childList: true, characterData: true, subtree: true, attributes: true});
}"""
RECONNECTING = "Connexion perdue : reconnexion en cours… L'appel continue sur votre téléphone."


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[NatsServer]:
    if NATS_SERVER is None:
        pytest.skip("nats-server is not installed (Debian package nats-server)")
    async with nats_server(tmp_path / "jetstream") as server:
        yield server


@pytest.fixture
async def lab(database_url: str, tmp_path: Path) -> AsyncIterator[ClusterLab]:
    if database_url.startswith("sqlite"):
        pytest.skip("router and web nodes share PostgreSQL (CTI_TEST_DATABASE_URL)")
    need_browser()
    async with cluster_lab(database_url, tmp_path, ttl=1.5) as lab:
        yield lab


async def test_a_browser_reconnects_through_the_balancer_and_shows_its_card_once(
    lab: ClusterLab, broker: NatsServer, browser: Any
) -> None:
    expect = async_api.expect
    router = await lab.node("router", role="router", broker=broker.url)
    await lab.ready(router)
    w1 = await lab.node("w1", role="web", broker=broker.url)
    w2 = await lab.node("w2", role="web", broker=broker.url)
    nodes = [await lab.ready(w1), await lab.ready(w2)]
    async with balancer(nodes) as front:
        context = await browser.new_context(locale="fr-FR")
        await context.add_init_script(RECORD_SOCKETS)
        marie = await context.new_page()
        marie.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
        await marie.goto(front.url + "agent")
        await marie.get_by_label("Identifiant").fill(AGENT_LOGIN[0])
        await marie.get_by_label("Mot de passe").fill(AGENT_LOGIN[1])
        await marie.get_by_role("button", name="Se connecter").click()
        await marie.wait_for_selector("body[data-socket=open]")
        await expect(marie.locator("#state-badge")).to_have_text("Prêt")
        assert set(front.routed) == {0}  # all of it through the first node
        await marie.evaluate(RECORD_LINK_STATUS)

        calls = await lab.ring("201")
        mine = next(call for call in calls if call.agent == "201")
        card = marie.locator("#card")
        await expect(card).to_have_attribute("data-call-id", mine.linkedid)
        await expect(marie.locator("#call-stage")).to_have_text("En communication")
        greeting = await marie.locator("#greeting").inner_text()

        killed_at = time.monotonic()
        w1.proc.kill()
        # The page came back by itself, through the balancer, to the second node.
        await expect(marie.locator("#link-status")).to_have_text("Connexion rétablie.")
        print(f"web node killed: page back {time.monotonic() - killed_at:.1f} s after")
        await marie.wait_for_selector("body[data-socket=open]")
        assert front.routed[1] >= 1
        said = await marie.evaluate("window.linkSaid")
        assert RECONNECTING in said, said  # not silent while the link was away
        # The same card, shown once: the socket she is on now got it once, and the page shows
        # one card.
        await marie.wait_for_function(
            "window.socketLog.length >= 2 && "
            "window.socketLog.at(-1).some(t => t.startsWith('card.'))"
        )
        log = await marie.evaluate("window.socketLog")
        assert len([t for t in log[-1] if t.startswith("card.")]) == 1, log
        await expect(card).to_have_attribute("data-call-id", mine.linkedid)
        await expect(marie.locator("#greeting")).to_have_text(greeting)
        await expect(marie.locator("#call-stage")).to_have_text("En communication")
        assert await marie.locator("#card").count() == 1

        # Her note goes through the second node to the router and comes back on her card.
        note = "Rappeler lundi pour le justificatif."
        await marie.get_by_label("Note sur l'appel").fill(note)
        await marie.get_by_role("button", name="Enregistrer la note").click()
        await expect(marie.locator("#my-notes li")).to_have_text([note])
