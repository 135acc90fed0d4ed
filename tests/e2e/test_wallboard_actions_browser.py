"""The wallboard's actions on agents and its alerts' lives, in a real browser (Chromium).

The supervisor pauses Marie (201; confirmed, audited); Marie comes back and takes madame
Dupont's call: the board shows the citizen by name beside her number as people write it.
The supervisor ends the session Claire (205) forgot: her page is logged out and, as nobody
else can take the CCAS, its alert is raised; Claire back, the alert ends and, ended, offers
no acknowledgement; raised again, it is acknowledged by keyboard. Marie herself may do none
of this. axe-core: no serious or critical issue; nothing scrolls sideways at 390 px.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cti.assembly import DEMO_PASSWORD, Product
from cti.audit_trail import AuditFilter, entries
from cti.pbxsim.pbx import AgentPhone
from cti.web.audit_log import read_after_writes
from tests.e2e.browsing import async_api, serious_violations
from tests.e2e.desk_pages import desk_product, no_sideways_scrolling, open_desk, set_state

NOBODY = "CCAS » est ouvert et aucun agent"


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    async with desk_product(tmp_path) as product:
        assert product.pbx is not None
        product.pbx.telephony.agents["201"] = AgentPhone(ring=1, talk=3600)
        yield product


async def supervisor_page(browser: Any, product: Product) -> Any:
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # « Mettre Marie en pause ? » : oui
    await page.goto(product.url + "supervision")
    await page.get_by_label("Identifiant").fill("superviseur")
    await page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_selector("body[data-socket=open]")
    return page


async def test_a_supervisor_pauses_an_agent_and_ends_her_forgotten_session(
    product: Product, browser: Any
) -> None:
    assert product.pbx is not None
    expect = async_api.expect
    board = await supervisor_page(browser, product)
    claire = await open_desk(browser, product, "claire")
    alerts = board.locator("#alerts li", has_text=NOBODY)
    marie = await open_desk(browser, product, "marie")
    await set_state(marie, "Prêt", "Prêt")

    # Marie may not act on a colleague: supervisors only.
    refused = await marie.evaluate(
        "api('POST', '/api/supervision/agents/205/pause', {}).then(() => 0, (e) => e.status)"
    )
    assert refused == 403

    row = board.locator('#agents tr[data-agent="201"]')
    await row.get_by_role("button", name="Mettre en pause : Marie Lambert").click()
    await expect(board.locator("#agent-action-done")).to_have_text("Marie Lambert est en pause.")
    await expect(marie.locator("#state-badge")).to_have_text(
        "Pause (Mise en pause par la supervision)"
    )
    await expect(row).to_contain_text("En pause")
    # Audits go through the writer (held while the database is away): read after it.
    paused = await read_after_writes(
        product.pop, lambda: entries(product.database, AuditFilter(action="agent.paused"))
    )
    assert [e.detail for e in paused] == [
        "Marie Lambert (poste 201) : mise en pause par Nadia Superviseure (superviseur)"
    ]

    await set_state(marie, "Prêt", "Prêt")
    call = product.pbx.place_call("0612345678", "Dupont", service="etat-civil", talk=3600)
    await marie.locator("#call-stage", has_text="En communication").wait_for()
    await expect(row).to_contain_text("madame Jeanne Dupont (06 12 34 56 78)")
    assert "+33" not in await row.inner_text()
    assert await serious_violations(board) == []
    await no_sideways_scrolling(board)

    product.pbx.hangup_call(call)
    await marie.get_by_role("button", name="Terminer").click()
    await expect(row).to_contain_text("Prêt")
    claire_row = board.locator('#agents tr[data-agent="205"]')
    await claire_row.get_by_role("button", name="Fermer la session : Claire Morin").click()
    await expect(board.locator("#agent-action-done")).to_contain_text(
        "Session de Claire Morin fermée (1 page fermée)"
    )
    await expect(claire.locator("#login")).to_be_visible()
    await expect(claire_row).to_contain_text("Déconnecté")
    ended = await read_after_writes(
        product.pop, lambda: entries(product.database, AuditFilter(action="agent.offline"))
    )
    assert [e.username for e in ended] == ["superviseur"]
    assert "Claire Morin (poste 205) : session fermée" in ended[0].detail

    # Nobody else can take the CCAS: its alert. Claire back, it ends: nothing to acknowledge.
    await expect(alerts).to_have_count(1)
    claire = await open_desk(browser, product, "claire")
    await set_state(claire, "Prêt", "Prêt")
    await expect(alerts.first).to_contain_text("terminée à")
    await expect(alerts.get_by_role("button", name="Acquitter")).to_have_count(0)
    # Her session ended again: a new alert, acknowledged by keyboard.
    await claire_row.get_by_role("button", name="Fermer la session : Claire Morin").click()
    again = board.locator("#alerts li", has_text=NOBODY).get_by_role("button", name="Acquitter")
    await expect(again).to_have_count(1)
    await again.focus()
    await board.keyboard.press("Enter")
    await expect(board.locator("#alerts li", has_text="acquittée par superviseur")).to_have_count(1)
    assert await serious_violations(board) == []
