"""The opening-hours page in a real browser (Debian's chromium, Playwright).

The admin opens urbanisme's hours on Wednesday afternoon: the voice menu's simulator (the
existing ``POST /api/ivr/simulate`` on the published menu) put a caller pressing 2 on a
Wednesday at 15:00 through to the closed-service menu before, and through to the service
after. A range half filled is refused beside its field, a closure appears in the menu, the
Alsace-Moselle switch adds its two holidays. axe-core finds nothing serious or critical, at a
phone's width too. Dates are fixed (2027-01-06 is a Wednesday), never today.
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

WEDNESDAY_AFTERNOON = "2027-01-06T15:00"


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    need_browser()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cti.db'}", http_port=0, demo_citizens=10, sim_rate=0
    )
    async with running(settings, simulated=True, traffic=False) as product:
        yield product


async def simulate(page: Any, keys: str, at: str) -> dict[str, Any]:
    """The published menu walked by the editor's simulator, from the admin's browser."""
    me = await (await page.request.get("/api/me")).json()
    headers = {"X-CSRF-Token": me["csrf"]}
    versions = await (await page.request.get("/api/ivr/versions")).json()
    published = await (await page.request.get(f"/api/ivr/versions/{versions['published']}")).json()
    walked = await page.request.post(
        "/api/ivr/simulate",
        data={"tree": published["tree"], "keys": keys, "at": at},
        headers=headers,
    )
    assert walked.ok, await walked.text()
    result: dict[str, Any] = await walked.json()
    return result


async def test_changed_hours_are_what_the_voice_menu_follows(
    product: Product, browser: Any
) -> None:
    expect = async_api.expect
    page = await open_page(
        browser, product.url + "admin/horaires", viewport=PHONE, base_url=product.url
    )
    await log_in(page, "admin")
    await page.get_by_label("Horaires de").select_option(label="Urbanisme (horaires propres)")
    await expect(page.get_by_text("Le menu vocal les consulte")).to_be_visible()
    assert await serious_violations(page) == []
    assert await fits(page)

    before = await simulate(page, "2", WEDNESDAY_AFTERNOON)
    assert "urbanisme_ferme" in [step["node"] for step in before["steps"]]

    await page.get_by_label("Mercredi matin, ouverture").fill("09:00")
    await page.get_by_role("button", name="Enregistrer et appliquer").click()
    half = page.get_by_label("Mercredi matin, ouverture")
    await expect(half).to_have_attribute("aria-invalid", "true")
    await expect(page.locator(".field-error").first).to_have_text(
        "indiquez l'heure d'ouverture et celle de fermeture"
    )
    assert await serious_violations(page) == []

    await half.fill("")
    await page.get_by_label("Mercredi après-midi, ouverture").fill("14:00")
    await page.get_by_label("Mercredi après-midi, fermeture").fill("16:00")
    await page.get_by_label("Motif du changement").fill("permanence du mercredi")
    await page.get_by_role("button", name="Enregistrer et appliquer").click()
    await expect(page.get_by_role("status")).to_contain_text("Horaires appliqués")

    after = await simulate(page, "2", WEDNESDAY_AFTERNOON)
    assert after["steps"][-1]["node"] == "vers_urbanisme"
    assert after["variables"]["CTI_IVR_CHOICE"] == "urbanisme"
    audit = await (await page.request.get("/api/audit?action=hours.update")).json()
    assert "permanence du mercredi" in audit[0]["detail"]

    await page.get_by_label("Horaires de").select_option(
        label="La mairie (les services sans horaires propres)"
    )
    await page.get_by_role("button", name="Ajouter une fermeture").click()
    added = page.get_by_role("group", name="Fermeture 2")  # after the menu's 24 December
    await added.get_by_label("Du").fill("2027-01-06")
    await added.get_by_label("Motif").fill("Inventaire")
    await added.get_by_label("Annonce aux appelants").fill("La mairie est fermée pour inventaire.")
    await page.get_by_role("button", name="Enregistrer et appliquer").click()
    await expect(page.get_by_role("status")).to_contain_text("Horaires appliqués")
    closed = await simulate(page, "", WEDNESDAY_AFTERNOON)
    assert any("fermée pour inventaire" in said for s in closed["steps"] for said in s["said"])

    holidays = page.locator("#holiday-years")
    await expect(holidays).not_to_contain_text("Vendredi saint")
    await page.get_by_label("Alsace-Moselle").check()
    await expect(holidays).to_contain_text("Vendredi saint")
    await expect(holidays).to_contain_text("26 décembre")
    assert await serious_violations(page) == []
    assert await fits(page)
