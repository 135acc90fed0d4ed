"""The audit page and the live board's login in a real browser (Debian's chromium, Playwright).

The admin logs in on /audit, reads the logins just made, filters; one person is one identity
in every entry, citizens are found by name, a citizen's data is a printable page or JSON in one
click, and /audit logs out; an agent is told the page is not hers; the supervisor logs in on
the live board. axe-core finds no serious or critical accessibility issue on either page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cti.assembly import DEMO_PASSWORD, Product, running
from cti.settings import Settings
from screenpop.directory import Directory
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
    await admin.get_by_label("Agent (nom ou poste)").fill("admin")
    await admin.get_by_role("button", name="Afficher").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("admin")

    await admin.get_by_label("Administré (nom ou n°)").fill("1")
    await admin.get_by_role("button", name="Afficher").click()
    await expect(rows).to_have_count(0)


async def test_one_identity_per_person_citizens_by_name_and_a_printable_export(
    product: Product, browser: Any
) -> None:
    """Issue 22: « marie » and « poste 201 » are one person; citizens are found by name; the
    right of access is a page the citizen reads, or JSON, in one click; /audit logs out."""
    expect = async_api.expect
    directory = Directory(product.database)
    (jeanne,) = directory.citizens_by_number("+33612345678")
    # Her card popped on Marie's phone (the screen pop writes « poste 201 »).
    directory.audit("poste 201", "card.open", jeanne.id, "appel 1795379035.26")
    marie = await log_in(browser, product.url + "agent", "marie")
    await marie.wait_for_selector("body[data-socket=open]")

    admin = await log_in(browser, product.url + "audit", "admin")
    rows = admin.locator("#entries tr")
    await admin.get_by_label("Agent (nom ou poste)").fill("Marie")
    await admin.get_by_role("button", name="Afficher").click()
    await expect(rows).to_have_count(2)  # her login, her phone's card: one person
    for row in await rows.all():
        await expect(row).to_contain_text("Marie Lambert (marie, poste 201)")
    assert not [t for t in await rows.all_inner_texts() if "\tposte 201\t" in t]

    await admin.get_by_label("Agent (nom ou poste)").fill("")
    await admin.get_by_label("Administré (nom ou n°)").fill("Jeanne Dupont")
    await admin.get_by_role("button", name="Afficher").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(f"madame Jeanne Dupont (n° {jeanne.id})")
    assert await serious_violations(admin) == []
    await admin.set_viewport_size({"width": 390, "height": 800})
    assert await admin.evaluate("document.documentElement.scrollWidth") <= 390
    await admin.set_viewport_size({"width": 1280, "height": 800})

    await admin.get_by_label("Administré (nom, numéro de téléphone ou n°)").fill("Jeanne Dupont")
    await admin.get_by_role("button", name="Trouver").click()
    choice = admin.locator("#export-list li", has_text="Jeanne Dupont")
    async with admin.context.expect_page() as opened:
        await choice.get_by_role("link", name="Version à imprimer pour l'administré").click()
    printable = await opened.value
    await expect(printable.get_by_role("heading", level=1)).to_contain_text(
        "Vos données personnelles"
    )
    text = await printable.locator("main").inner_text()
    assert "Mariage : constitution du dossier" in text and "06 12 34 56 78" in text
    assert "Marie Lambert" in text and "a consulté votre fiche" in text
    assert "+33" not in text and "poste 201" not in text
    assert await serious_violations(printable) == []
    async with admin.expect_download() as saved:
        await choice.get_by_role("link", name="Données complètes (JSON)").click()
    assert (await saved.value).suggested_filename == f"administre-{jeanne.id}.json"

    await admin.get_by_role("button", name="Se déconnecter").click()
    await expect(admin.get_by_role("button", name="Se connecter")).to_be_visible()
    await admin.reload()
    await expect(admin.get_by_role("button", name="Se connecter")).to_be_visible()


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
