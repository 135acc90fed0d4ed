"""The live calls board `/` in a real browser (Debian's chromium driven by Playwright).

The product runs in-process on the simulated PBX with Marie (201, ready) and no random
traffic. The supervisor reaches the board from the wallboard's navigation; a citizen calls
État civil and Marie's phone rings: the board names the service by its label, the agent by
her name, the number as people write it, never an identifier; the wallboard's agents' table
shows the same number. The events' list scrolls and can be reached by keyboard; axe-core
finds no serious or critical accessibility issue; nothing scrolls sideways at 390 px.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cti.assembly import DEMO_PASSWORD, Product, running
from cti.settings import Settings
from tests.demo_routing import demo_routing_with
from tests.e2e.browsing import async_api, need_browser, serious_violations


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    need_browser()
    routing = demo_routing_with(tmp_path, ("201",))
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cti.db'}",
        http_port=0,
        demo_citizens=50,
        sim_rate=0,
        routing_config=routing,
    )
    async with running(settings, simulated=True, traffic=False) as product:
        yield product


async def test_the_live_board_speaks_peoples_words_and_is_linked(
    product: Product, browser: Any
) -> None:
    assert product.pbx is not None
    expect = async_api.expect
    product.router.set_agent_state("201", "ready", None)
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    await page.goto(product.url + "supervision")
    await page.get_by_label("Identifiant").fill("superviseur")
    await page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_selector("body[data-socket=open]")

    await page.get_by_role("link", name="Appels en direct").click()
    await page.wait_for_url(product.url)
    await expect(page.locator("#link")).to_have_text("Asterisk connecté")
    assert await serious_violations(page) == []

    product.pbx.place_call("0612345678", "Dupont", service="etat-civil", talk=3600)
    row = page.locator("#calls tr").first
    await expect(row).to_contain_text("06 12 34 56 78")
    await expect(row).to_contain_text("État civil")
    await expect(row).to_contain_text("Marie Lambert")
    events = page.locator("#events")
    await expect(events).to_contain_text("Proposé à l'agent · 06 12 34 56 78")
    await expect(events).to_contain_text("→ Marie Lambert")
    text = await page.locator("main").inner_text()
    assert "+33" not in text and "etat-civil" not in text and "201" not in text, text
    # The events' list scrolls on its own: the keyboard reaches it.
    await events.focus()
    assert await page.evaluate("document.activeElement.id") == "events"
    assert await serious_violations(page) == []
    await page.set_viewport_size({"width": 390, "height": 800})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390

    await page.get_by_role("link", name="Supervision").click()
    await page.wait_for_selector("body[data-socket=open]")
    marie = page.locator('#agents tr[data-agent="201"]')
    await expect(marie).to_contain_text("06 12 34 56 78")
    await expect(marie).to_contain_text("État civil")
    assert "+33" not in await marie.inner_text()
    await context.close()
