"""Callbacks on the agent's page in a real browser (Debian's chromium driven by Playwright).

A request for État civil waits (asked by a colleague); Marie, on a break, sees it in her
services' list; ready, she has it offered as a card
(« Rappel demandé à … par … , État civil »), clicks Accepter; the simulated PBX rings her
phone, then the citizen's, and the card says she was reached. axe-core finds no serious or
critical accessibility issue on the page with the callback shown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cti.assembly import DEMO_PASSWORD, Product, running
from cti.callbacks.state import NewRequest
from cti.pbxsim.pbx import AgentPhone
from cti.settings import Settings
from routing.callbacks.request import Source, Window
from tests.demo_routing import demo_routing_with
from tests.e2e.browsing import need_browser, serious_violations


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    need_browser()
    routing = demo_routing_with(tmp_path, ("201", "205"))
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cti.db'}",
        http_port=0,
        demo_citizens=300,
        sim_rate=0,
        sim_time_scale=0.05,
        routing_config=routing,
    )
    async with running(settings, simulated=True, traffic=False) as product:
        assert product.pbx is not None
        product.pbx.telephony.agents.update({"201": AgentPhone(ring=1, talk=3600)})
        yield product


async def open_desk(browser: Any, product: Product, username: str) -> Any:
    page = await (await browser.new_context(locale="fr-FR")).new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    await page.goto(product.url + "agent")
    await page.get_by_label("Identifiant").fill(username)
    await page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_selector("body[data-socket=open]")
    return page


async def test_a_callback_is_offered_accepted_and_the_citizen_reached(
    product: Product, browser: Any
) -> None:
    assert product.callbacks is not None
    marie = await open_desk(browser, product, "marie")
    await marie.get_by_role("button", name="Pause").click()
    await marie.wait_for_function(
        "document.querySelector('#state-badge').textContent.startsWith('Pause')"
    )
    request = await product.callbacks.request(
        NewRequest("+33612345678", "etat-civil", Source.AGENT, Window.REOPENING, note="acte"),
        "claire",
    )
    await marie.reload()
    await marie.wait_for_selector("body[data-socket=open]")
    await marie.wait_for_function(
        "document.querySelector('#callback-list').textContent.includes('Rappel demandé')"
    )
    await marie.get_by_role("button", name="Prêt").click()
    await marie.wait_for_function(
        "!document.querySelector('#callback-offer').hidden && "
        "document.querySelector('#callback-headline').textContent.includes('État civil')"
    )
    headline = await marie.locator("#callback-headline").text_content()
    assert headline is not None and headline.startswith("Rappel demandé ")
    assert "+33" not in headline and "etat-civil" not in headline
    assert await serious_violations(marie) == []
    await marie.get_by_role("button", name="Accepter").click()
    await marie.wait_for_function(
        "document.querySelector('#callback-state').textContent.startsWith('rappelé')"
    )
    assert product.pbx is not None and product.pbx.telephony.dialled_back == ["0612345678"]
    stored = product.callbacks.requests.get(request.id)
    assert stored is None  # reached: final, out of the open requests
