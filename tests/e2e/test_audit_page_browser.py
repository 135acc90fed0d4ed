"""The audit page and the live board's login in a real browser (Debian's chromium, Playwright).

The admin logs in on /audit, reads the logins just made, filters, exports a citizen's data;
an agent is told the page is not hers; the supervisor logs in on the live board. axe-core finds
no serious or critical accessibility issue on either page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cti.assembly import DEMO_PASSWORD, Product, running
from cti.settings import Settings
from tests.e2e.browsing import async_api, need_browser, serious_violations


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    need_browser()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cti.db'}", http_port=0, demo_citizens=10, sim_rate=0
    )
    async with running(settings, simulated=True, traffic=False) as product:
        yield product


async def log_in(browser: Any, url: str, username: str) -> Any:
    page = await (await browser.new_context(locale="fr-FR")).new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    await page.goto(url)
    await page.get_by_label("Identifiant").fill(username)
    await page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    return page


async def test_the_admin_reads_filters_and_exports_and_an_agent_is_turned_away(
    product: Product, browser: Any
) -> None:
    expect = async_api.expect
    agent = await log_in(browser, product.url + "audit", "marie")
    await expect(agent.get_by_role("alert")).to_have_text("Page réservée aux administrateurs.")

    admin = await log_in(browser, product.url + "audit", "admin")
    rows = admin.locator("#entries tr")
    await expect(rows.filter(has_text="marie").first).to_contain_text("Connexion")
    assert await serious_violations(admin) == []

    await admin.get_by_label("Action").select_option("login")
    await admin.get_by_label("Utilisateur").fill("admin")
    await admin.get_by_role("button", name="Afficher").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("admin")

    await admin.get_by_label("N° d'administré", exact=True).fill("1")
    await admin.get_by_role("button", name="Afficher").click()
    await expect(rows).to_have_count(0)
    await admin.get_by_label("Action").select_option("")
    await admin.get_by_label("Utilisateur").fill("")
    await admin.get_by_label("N° de l'administré à exporter").fill("1")
    await admin.get_by_role("button", name="Exporter ses données (JSON)").click()
    await expect(
        admin.get_by_role("link", name="Télécharger l'export de l'administré 1")
    ).to_be_visible()
    await expect(rows.first).to_contain_text("Export droit d'accès")


async def test_the_live_board_asks_a_supervisor_to_log_in(product: Product, browser: Any) -> None:
    expect = async_api.expect
    anonymous = await (await browser.new_context()).new_page()
    await anonymous.goto(product.url)
    await expect(anonymous.get_by_role("button", name="Se connecter")).to_be_visible()
    assert await serious_violations(anonymous) == []

    agent = await log_in(browser, product.url, "marie")
    await expect(agent.get_by_role("alert")).to_have_text("Page réservée aux superviseurs.")
    supervisor = await log_in(browser, product.url, "superviseur")
    await expect(supervisor.locator("#link")).to_have_text("Asterisk connecté", timeout=15000)
    assert await serious_violations(supervisor) == []
