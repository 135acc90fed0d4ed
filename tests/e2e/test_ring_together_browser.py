"""Two phones rung together (``ring_together: 2``) in a real browser: both pages show the
ringing card; Claire picks up first, Marie's page says the call was taken by a colleague."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from cti.assembly import Product, running
from cti.pbxsim.pbx import AgentPhone
from cti.settings import Settings
from tests.demo_routing import demo_routing_with
from tests.e2e.browsing import need_browser
from tests.e2e.desk_pages import open_desk, set_state


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    need_browser()
    routing = demo_routing_with(tmp_path, ("201", "205"))
    config = yaml.safe_load(routing.read_text(encoding="utf-8"))
    routing.write_text(yaml.safe_dump(config | {"ring_together": 2}, allow_unicode=True), "utf-8")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cti.db'}",
        http_port=0,
        demo_citizens=300,
        sim_rate=0,
        routing_config=routing,
    )
    async with running(settings, simulated=True, traffic=False) as product:
        yield product


async def test_both_pages_ring_and_the_slower_one_is_told_a_colleague_took_it(
    product: Product, browser: Any
) -> None:
    assert product.pbx is not None
    tel = product.pbx.telephony
    tel.agents["201"] = AgentPhone(ring=8, talk=3600)  # Marie is slower to pick up
    tel.agents["205"] = AgentPhone(ring=2, talk=3600)
    marie = await open_desk(browser, product, "marie")
    claire = await open_desk(browser, product, "claire")
    await set_state(marie, "Prêt", "Prêt")
    await set_state(claire, "Prêt", "Prêt")
    tel.place_call("0612345678", "Dupont", service="accueil", talk=3600)
    for page in (marie, claire):
        await page.wait_for_function(
            "document.querySelector('#call-stage').textContent === 'Le téléphone sonne'"
        )
        assert await page.locator("#greeting").text_content() == "Bonjour madame Dupont"
    await claire.wait_for_function(
        "document.querySelector('#call-stage').textContent.startsWith('En communication')"
    )
    await marie.wait_for_function(
        "document.querySelector('#wrapup-text').textContent === 'Appel pris par un collègue.'"
    )
    await marie.wait_for_function("document.querySelector('#state-badge').textContent === 'Prêt'")
