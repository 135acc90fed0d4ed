"""The agent's page in a real browser (Debian's chromium driven by Playwright).

The whole product runs in-process on the simulated PBX (no random traffic: the test places the
call). Marie logs in and says "Prêt"; madame Dupont calls through the voice menu; the ring is
announced (tab title, focus on the card, one short sentence) and the card greets her while the
phone rings, in the agents' words (her choices in the menu, services by label, colleagues by
name, numbers as people write them, past calls with their notes, dates in French); the phone
answers; Marie saves the call's reason (confirmed), writes a note and transfers to Claire
(205), whose page shows the note by Marie's name; Marie's next call starts with no reason
chosen. The search finds « Michel Leroy », a case by its reference, and tells namesakes apart.
Names are text, never markup; nothing scrolls sideways at 390 px; axe-core finds no serious or
critical accessibility issue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cti.assembly import Product
from screenpop.directory import Directory
from tests.e2e.browsing import async_api, serious_violations
from tests.e2e.desk_pages import desk_product, no_sideways_scrolling, open_desk

# What no screen shows: node ids of the voice menu, E.164 numbers, service ids.
NOT_PEOPLES_WORDS = ("vers_", "menu_principal", "bienvenue", "+33", "etat-civil")


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    async with desk_product(tmp_path) as product:
        yield product


async def test_card_pops_while_ringing_and_the_note_follows_the_transfer(
    product: Product, browser: Any
) -> None:
    assert product.pbx is not None
    expect = async_api.expect
    login_page = await (await browser.new_context()).new_page()
    await login_page.goto(product.url + "agent")
    assert await serious_violations(login_page) == []
    await no_sideways_scrolling(login_page)

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
                document.querySelector('#greeting').textContent + ' | ' + document.title +
                ' | ' + (document.activeElement && document.activeElement.id) + ' | ' +
                document.querySelector('#ring-announce').textContent
            )).observe(document.querySelector('#call-stage'), {childList: true});
        }"""
    )

    # The opening hours (7), back to the main menu (*), then état civil (1).
    product.pbx.place_call("0612345678", "Dupont", service="etat-civil", keys="7*1", talk=3600)
    await marie.wait_for_function("window.stages.some(s => s.startsWith('En communication'))")
    stages = await marie.evaluate("window.stages")
    assert stages[0] == (
        "Le téléphone sonne | Bonjour madame Dupont | Appel entrant – Poste agent – CTI mairie"
        " | greeting | Appel entrant : Bonjour madame Dupont, État civil."
    )
    # The card is not read out whole: only the one sentence is live.
    assert await marie.locator("#call[aria-live], #card [aria-live]").count() == 0
    card = marie.locator("#card")
    await expect(marie.locator("#ivr-path")).to_have_text("Horaires d'ouverture › État civil")
    await expect(marie.locator("#caller")).to_have_text("06 12 34 56 78")
    await expect(marie.locator("#did")).to_have_text("01 40 00 00 00")
    assert "État civil" in await marie.locator("#service").inner_text()
    cases = marie.locator("#cases")
    await expect(cases).to_contain_text("Mariage : constitution du dossier")
    await expect(cases.locator("tr", has_text="Mariage")).to_contain_text("Marie Lambert")
    await expect(cases.locator("tr", has_text="Déclaration")).to_contain_text("Luc Fabre")
    # Past calls with their notes, dated in French.
    history = marie.locator("#history > li")
    assert await history.count() == 2
    assert await marie.locator("#history .past-note").count() == 2
    months = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
    first = await history.first.inner_text()
    assert any(m in first for m in months.split()), first
    text = await card.inner_text()
    assert not [w for w in NOT_PEOPLES_WORDS if w in text], text
    assert await serious_violations(marie) == []
    await no_sideways_scrolling(marie)

    await marie.get_by_label("Motif de l'appel").select_option("Rendez-vous pris")
    await marie.get_by_role("button", name="Enregistrer le motif").click()
    await expect(marie.locator("#disposition-saved")).to_have_text(
        "Motif enregistré : Rendez-vous pris."
    )
    note = "Madame Dupont apporte le justificatif de domicile lundi."
    await marie.get_by_label("Note sur l'appel").fill(note)
    await marie.get_by_role("button", name="Enregistrer la note").click()
    await marie.locator("#my-notes li", has_text=note).wait_for()
    await marie.get_by_label("Transférer à").select_option("agent:205")
    await marie.get_by_role("button", name="Transférer", exact=True).click()

    await claire.locator("#greeting", has_text="Bonjour madame Dupont").wait_for()
    await claire.locator("#previous-notes li", has_text=note).wait_for()
    await expect(claire.locator("#previous-notes li")).to_contain_text("Marie Lambert :")
    await expect(claire.locator("#previous-agents")).to_have_text("Marie Lambert")
    await expect(marie.locator("#wrapup-text")).to_contain_text("transféré à Claire Morin")
    assert await marie.title() == "Poste agent – CTI mairie"

    # The next call starts with no reason chosen and no confirmation left from the last one.
    await marie.get_by_role("button", name="Terminer").click()
    await expect(marie.locator("#no-call")).to_be_visible()
    await marie.get_by_role("button", name="Prêt").click()
    product.pbx.place_call("0698765432", "Martin", service="etat-civil", talk=3600)
    await expect(marie.locator("#greeting")).to_have_text("Bonjour monsieur Martin")
    assert await marie.get_by_label("Motif de l'appel").input_value() == ""
    await expect(marie.locator("#disposition-saved")).to_have_text("")


async def test_the_search_takes_a_name_in_either_order_a_case_and_tells_namesakes_apart(
    product: Product, browser: Any
) -> None:
    expect = async_api.expect
    directory = Directory(product.database)
    directory.create_citizen(
        "monsieur", "Dupontel", "Alain", "+33611223344", address="3 rue des Lilas", city="Blois"
    )
    directory.create_citizen(
        "monsieur", "Dupontel", "Alain", "+33699887766", address="12 avenue Foch", city="Blois"
    )
    marie = await open_desk(browser, product, "marie")
    search = marie.get_by_label("Nom, numéro ou dossier")
    results = marie.locator("#results li")

    await search.fill("Michel Leroy")
    await marie.get_by_role("button", name="Rechercher").click()
    await expect(results.first).to_contain_text("monsieur Michel Leroy")
    await expect(results.first).to_contain_text("06 87 65 43 21")

    await search.fill("Alain Dupontel")
    await marie.get_by_role("button", name="Rechercher").click()
    await expect(results).to_have_count(2)
    await expect(results.nth(0)).to_contain_text("3 rue des Lilas, Blois – 06 11 22 33 44")
    await expect(results.nth(1)).to_contain_text("12 avenue Foch, Blois – 06 99 88 77 66")

    (jeanne,) = directory.citizens_by_number("+33612345678")
    reference = directory.open_cases(jeanne.id)[0].reference
    await search.fill(reference)
    await marie.get_by_role("button", name="Rechercher").click()
    await expect(results.first).to_contain_text("Jeanne Dupont")
    assert not [w for w in NOT_PEOPLES_WORDS if w in await marie.locator("#search").inner_text()]
    assert await serious_violations(marie) == []
    await no_sideways_scrolling(marie)


async def test_a_name_is_shown_as_text_and_runs_nothing(product: Product, browser: Any) -> None:
    evil = "<img src=x onerror=alert(1)>"
    Directory(product.database).create_citizen("madame", evil, "Test", "+33611111111")
    marie = await open_desk(browser, product, "marie")
    await marie.get_by_label("Nom, numéro ou dossier").fill("06 11 11 11 11")
    await marie.get_by_role("button", name="Rechercher").click()
    result = marie.locator("#results li").first
    await result.wait_for()
    assert evil in await result.inner_text()
    assert await marie.locator("#results img").count() == 0
