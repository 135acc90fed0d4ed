"""« Et si… » on the services page, in a real browser (Debian's chromium, Playwright).

The database holds two recorded mornings (3 and 4 March 2025). The admin, on a phone-sized
screen, first picks a period without calls (refused beside the date), then replays the
unchanged draft (no difference), then loosens État civil's objective: the page says how
its service level would change and shows both configurations side by side, while the
configuration in force is untouched; « Appliquer ce brouillon » then applies it through the
page's one save path, audited. axe-core: nothing serious or critical in each state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cti.assembly import Product, prepare_database, running
from cti.settings import Settings
from tests.e2e.browsing import async_api, need_browser, serious_violations
from tests.e2e.test_admin_users_browser import PHONE, fits, log_in, open_page
from tests.routing.recorded_traffic import recorded_calls, store


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    need_browser()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cti.db'}", http_port=0, demo_citizens=10, sim_rate=0
    )
    db = prepare_database(settings, demo=True)
    store(db, recorded_calls())
    db.close()
    async with running(settings, simulated=True, traffic=False) as product:
        yield product


async def test_what_if_on_recorded_calls_then_apply(product: Product, browser: Any) -> None:
    expect = async_api.expect
    page = await open_page(
        browser, product.url + "admin/services", viewport=PHONE, base_url=product.url
    )
    await log_in(page, "admin")
    await page.get_by_role("link", name="Et si… : essayer les changements").click()
    start, end = page.get_by_label("Du", exact=True), page.get_by_label("Au", exact=True)
    run = page.get_by_role("button", name="Simuler avec ce brouillon")

    await start.fill("2025-02-03")
    await end.fill("2025-02-09")
    await run.click()
    await expect(page.locator("#whatif .field-error")).to_have_text(
        "Aucun appel enregistré sur la période choisie."
    )
    await expect(start).to_have_attribute("aria-invalid", "true")
    assert await serious_violations(page) == []

    await start.fill("2025-03-03")
    await end.fill("2025-03-09")
    await run.click()
    summary = page.locator(".whatif-summary li")
    await expect(summary).to_have_text(
        [
            "Aucune différence : sur ces appels, le brouillon donne les mêmes résultats que "
            "la configuration en vigueur."
        ]
    )
    await expect(page.locator("#whatif .field-error")).to_have_count(0)
    civil_table = page.locator("table.whatif").filter(has_text="État civil")
    await expect(civil_table.locator("tr.changed")).to_have_count(0)
    assert await serious_violations(page) == []
    assert await fits(page)

    civil = page.locator('details[data-service="etat-civil"]')
    await civil.locator("summary").click()
    await civil.get_by_label("en moins de (secondes)").fill("90")
    await civil.get_by_label("en moins de (secondes)").press("Tab")
    await expect(page.locator("#whatif-stale")).to_contain_text("Le brouillon a changé")
    await run.click()
    await expect(summary.first).to_contain_text("Le taux de service de l'État civil passerait de")
    await expect(summary.first).to_contain_text(
        "(objectif passé de 80 % en 30 s à 80 % en 1 min 30 s)"
    )
    await expect(civil_table.locator("tr.changed th")).to_contain_text(["Taux de service"])
    await expect(civil_table.locator("caption")).to_have_text("État civil")
    assert await serious_violations(page) == []
    assert await fits(page)
    before = (await (await page.request.get("/api/routing/config")).json())["config"]
    assert before["services"]["etat-civil"]["sl_threshold_s"] == 30  # nothing applied yet

    await page.get_by_role("button", name="Appliquer ce brouillon").click()
    await expect(page.locator("#routing-done")).to_contain_text("Enregistré et appliqué")
    after = (await (await page.request.get("/api/routing/config")).json())["config"]
    assert after["services"]["etat-civil"]["sl_threshold_s"] == 90
    audit = await (await page.request.get("/api/audit?action=routing.update")).json()
    assert len(audit) == 1 and audit[0]["username"] == "admin"
