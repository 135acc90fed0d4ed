"""The agent's page in a real browser (Debian's chromium driven by Playwright).

The whole product runs in-process on the simulated PBX (no random traffic: the test places the
call). Marie logs in and says "Prêt"; madame Dupont calls; the card greets her while the phone
rings; the phone answers; Marie writes a note and transfers to Claire (205), whose page shows the
note. Names are text, never markup; axe-core finds no serious or critical accessibility issue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cti.assembly import DEMO_PASSWORD, Product, running
from cti.settings import Settings
from screenpop.directory import Directory
from tests.demo_routing import demo_routing_with
from tests.e2e.browsing import need_browser, serious_violations


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    need_browser()
    # The demo's routing with two agents: Marie (201) and Claire (205).
    routing = demo_routing_with(tmp_path, ("201", "205"))
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cti.db'}",
        http_port=0,
        demo_citizens=300,
        sim_rate=0,
        routing_config=routing,
    )
    async with running(settings, simulated=True, traffic=False) as product:
        yield product


async def open_desk(browser: Any, product: Product, username: str) -> Any:
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    await page.goto(product.url + "agent")
    await page.get_by_label("Identifiant").fill(username)
    await page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_selector("body[data-socket=open]")
    return page


async def test_card_pops_while_ringing_and_the_note_follows_the_transfer(
    product: Product, browser: Any
) -> None:
    assert product.pbx is not None
    login_page = await (await browser.new_context()).new_page()
    await login_page.goto(product.url + "agent")
    assert await serious_violations(login_page) == []

    claire = await open_desk(browser, product, "claire")
    await claire.get_by_role("button", name="Pause").click()
    await claire.wait_for_function(
        "document.querySelector('#state-badge').textContent.startsWith('Pause')"
    )
    marie = await open_desk(browser, product, "marie")
    await marie.get_by_role("button", name="Prêt").click()
    await marie.wait_for_function("document.querySelector('#state-badge').textContent === 'Prêt'")
    # Record every stage the card goes through, so "before answer" does not depend on timing.
    await marie.evaluate(
        """() => {
            window.stages = [];
            new MutationObserver(() => window.stages.push(
                document.querySelector('#call-stage').textContent + ' | ' +
                document.querySelector('#greeting').textContent
            )).observe(document.querySelector('#call-stage'), {childList: true});
        }"""
    )

    product.pbx.place_call("0612345678", "Dupont", service="etat-civil", talk=3600)
    await marie.wait_for_function("window.stages.some(s => s.startsWith('En communication'))")
    stages = await marie.evaluate("window.stages")
    assert stages[0] == "Le téléphone sonne | Bonjour madame Dupont"
    card = marie.locator("#card")
    assert "Mariage : constitution du dossier" in await card.inner_text()
    assert "État civil" in await marie.locator("#service").inner_text()
    assert await serious_violations(marie) == []

    note = "Madame Dupont apporte le justificatif de domicile lundi."
    await marie.get_by_label("Note sur l'appel").fill(note)
    await marie.get_by_role("button", name="Enregistrer la note").click()
    await marie.locator("#my-notes li", has_text=note).wait_for()
    await marie.get_by_label("Transférer au poste").fill("205")
    await marie.get_by_role("button", name="Transférer").click()

    await claire.locator("#greeting", has_text="Bonjour madame Dupont").wait_for()
    await claire.locator("#previous-notes li", has_text=note).wait_for()
    assert "201" in await claire.locator("#previous-agents").inner_text()
    await marie.locator("#wrapup-text", has_text="transféré").wait_for()


async def test_a_name_is_shown_as_text_and_runs_nothing(product: Product, browser: Any) -> None:
    evil = "<img src=x onerror=alert(1)>"
    Directory(product.database).create_citizen("madame", evil, "Test", "+33611111111")
    marie = await open_desk(browser, product, "marie")
    await marie.get_by_label("Nom ou numéro").fill("06 11 11 11 11")
    await marie.get_by_role("button", name="Rechercher").click()
    result = marie.locator("#results li").first
    await result.wait_for()
    assert evil in await result.inner_text()
    assert await marie.locator("#results img").count() == 0
