"""The accounts page and the password page in a real browser (Debian's chromium, Playwright).

An admin creates an agent's account (a taken extension is refused beside its field), reads the
one-time password once; the new agent logs in on her desk, is taken to change it, and goes back
to her desk. Other roles are turned away; axe-core finds no serious or critical issue on each
page and state, at a phone's width too.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cti.assembly import DEMO_PASSWORD, Product, running
from cti.settings import Settings
from tests.e2e.browsing import async_api, need_browser, serious_violations

PHONE = {"width": 390, "height": 844}


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    need_browser()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cti.db'}", http_port=0, demo_citizens=10, sim_rate=0
    )
    async with running(settings, simulated=True, traffic=False) as product:
        yield product


async def open_page(browser: Any, url: str, **context: Any) -> Any:
    page = await (await browser.new_context(locale="fr-FR", **context)).new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    await page.goto(url)
    return page


async def log_in(page: Any, username: str, password: str = DEMO_PASSWORD) -> None:
    await page.get_by_label("Identifiant", exact=True).fill(username)
    await page.get_by_label("Mot de passe", exact=True).fill(password)
    await page.get_by_role("button", name="Se connecter").click()


async def fits(page: Any) -> bool:
    width: int = await page.evaluate("document.documentElement.scrollWidth")
    return width <= PHONE["width"]


async def test_an_admin_creates_an_agent_who_logs_in_and_changes_her_password(
    product: Product, browser: Any
) -> None:
    expect = async_api.expect
    admin = await open_page(browser, product.url + "admin/utilisateurs", viewport=PHONE)
    await log_in(admin, "admin")
    await expect(
        admin.locator("#accounts td").filter(has_text="Marie Lambert").first
    ).to_be_visible()
    assert await serious_violations(admin) == []
    assert await fits(admin)

    await admin.get_by_label("Nom affiché").fill("Nadia Benali")
    await admin.get_by_label("Identifiant de connexion").fill("nadia")
    creating = admin.get_by_role("region", name="Nouveau compte")
    await creating.get_by_label("Rôle").select_option(label="Agent d'accueil")
    await admin.get_by_label("Poste téléphonique (agents)").fill("201")
    await admin.get_by_role("button", name="Créer le compte").click()
    extension = admin.get_by_label("Poste téléphonique (agents)")
    await expect(extension).to_have_attribute("aria-invalid", "true")
    await expect(admin.locator("#new-extension + .field-error")).to_contain_text("marie")
    assert await serious_violations(admin) == []

    await extension.fill("207")
    await admin.get_by_role("button", name="Créer le compte").click()
    once = admin.locator("#one-time code")
    await expect(once).to_have_text(re.compile(r"^\w{4}-\w{4}-\w{4}-\w{4}$"))
    password = await once.text_content()
    assert password is not None
    await expect(admin.get_by_role("row", name="Nadia Benali")).to_contain_text(
        "mot de passe à changer"
    )
    assert await serious_violations(admin) == []
    assert await fits(admin)

    nadia = await open_page(browser, product.url + "agent")
    await log_in(nadia, "nadia", password)
    await expect(nadia).to_have_url(product.url + "mot-de-passe?retour=%2Fagent")
    await expect(nadia.get_by_text("mot de passe à usage unique")).to_be_visible()
    assert await serious_violations(nadia) == []
    await nadia.get_by_label("Mot de passe actuel").fill(password)
    await nadia.get_by_label("Nouveau mot de passe", exact=True).fill("court")
    await nadia.get_by_role("button", name="Changer le mot de passe").click()
    await expect(nadia.locator("#new + .field-error")).to_contain_text("au moins 12")
    await nadia.get_by_label("Nouveau mot de passe", exact=True).fill("la mairie au soleil")
    await nadia.get_by_label("Nouveau mot de passe, une seconde fois").fill("la mairie au soleil")
    await nadia.get_by_role("button", name="Changer le mot de passe").click()
    await expect(nadia.get_by_role("status")).to_contain_text("Mot de passe changé.")
    await nadia.get_by_role("link", name="Continuer vers la page demandée").click()
    await expect(nadia).to_have_url(product.url + "agent")
    await expect(nadia.get_by_role("button", name="Prêt")).to_be_visible()

    await admin.reload()
    await expect(admin.get_by_role("row", name="Nadia Benali")).not_to_contain_text("à changer")


async def test_other_roles_are_turned_away_and_only_admins_see_the_links(
    product: Product, browser: Any
) -> None:
    expect = async_api.expect
    supervisor = await open_page(browser, product.url + "admin/utilisateurs")
    await log_in(supervisor, "superviseur")
    await expect(supervisor.locator("#login-error")).to_have_text(
        "Page réservée aux administrateurs."
    )
    assert await serious_violations(supervisor) == []
    await supervisor.goto(product.url)
    await expect(supervisor.get_by_role("heading", level=1)).to_be_visible()
    await expect(supervisor.get_by_role("navigation", name="Administration")).to_have_count(0)

    admin = await open_page(browser, product.url + "audit")
    await log_in(admin, "admin")
    links = admin.get_by_role("navigation", name="Administration")
    await expect(links.get_by_role("link", name="Utilisateurs")).to_be_visible()
    await links.get_by_role("link", name="Horaires").click()
    await expect(admin).to_have_url(product.url + "admin/horaires")
