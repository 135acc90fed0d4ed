"""The services and agents page in a real browser (Debian's chromium, Playwright).

The admin sets a service's objective and maximum wait out of bounds: the server's refusals
(pydantic, reworded in French) show beside those two fields and nothing changes; corrected,
the configuration is applied at once and audited. An agent's level and languages change the
same way. A supervisor is turned away. axe-core: nothing serious or critical, at 390 px too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cti.assembly import Product, running
from cti.settings import Settings
from tests.e2e.browsing import async_api, need_browser, serious_violations
from tests.e2e.test_admin_users_browser import PHONE, fits, log_in, open_page


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    need_browser()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cti.db'}", http_port=0, demo_citizens=10, sim_rate=0
    )
    async with running(settings, simulated=True, traffic=False) as product:
        yield product


async def test_refusals_show_beside_their_fields_then_the_change_applies(
    product: Product, browser: Any
) -> None:
    expect = async_api.expect
    page = await open_page(
        browser, product.url + "admin/services", viewport=PHONE, base_url=product.url
    )
    await log_in(page, "admin")
    civil = page.locator('details[data-service="etat-civil"]')
    await civil.locator("summary").click()
    assert await serious_violations(page) == []
    assert await fits(page)

    await civil.get_by_label("Objectif : appels décrochés").fill("120")
    await civil.get_by_label("Attente maximale (secondes)").fill("0")
    await page.get_by_role("button", name="Enregistrer et appliquer").click()
    await expect(page.locator("#routing-summary")).to_have_text(
        "Rien n'est changé : 2 points à corriger."
    )
    target = civil.get_by_label("Objectif : appels décrochés")
    await expect(target).to_have_attribute("aria-invalid", "true")
    await expect(civil.locator(".field-error")).to_have_text(
        ["doit valoir au plus 100", "doit être supérieur à 0"]
    )
    assert await serious_violations(page) == []
    before = await (await page.request.get("/api/routing/config")).json()
    assert before["config"]["services"]["etat-civil"]["max_wait_s"] == 240

    await target.fill("85")
    await civil.get_by_label("Attente maximale (secondes)").fill("200")
    marie = page.locator('details[data-agent="201"]')
    await marie.locator("summary").click()
    await marie.get_by_label("Urbanisme — Marie Lambert").select_option("4")
    await marie.get_by_label("Langues parlées").fill("fr, en")
    await page.get_by_label("Motif du changement").fill("renfort état civil")
    await page.get_by_role("button", name="Enregistrer et appliquer").click()
    await expect(page.get_by_role("status")).to_contain_text("Enregistré et appliqué")
    await expect(page.locator(".field-error")).to_have_count(0)

    after = (await (await page.request.get("/api/routing/config")).json())["config"]
    assert after["services"]["etat-civil"]["max_wait_s"] == 200
    assert after["services"]["etat-civil"]["sl_target_pct"] == 85
    assert after["agents"]["201"]["skills"]["urbanisme"] == 4
    assert sorted(after["agents"]["201"]["languages"]) == ["en", "fr"]
    audit = await (await page.request.get("/api/audit?action=routing.update")).json()
    assert "renfort état civil" in audit[0]["detail"]
    assert await serious_violations(page) == []
    assert await fits(page)


async def test_a_supervisor_is_turned_away(product: Product, browser: Any) -> None:
    page = await open_page(browser, product.url + "admin/services")
    await log_in(page, "superviseur")
    await async_api.expect(page.locator("#login-error")).to_have_text(
        "Page réservée aux administrateurs."
    )
