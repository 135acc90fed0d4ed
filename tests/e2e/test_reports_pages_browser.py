"""The reports and quality pages in a real browser (Debian's chromium driven by Playwright).

The product runs in-process on the simulated PBX without traffic; calls are recorded the way
the screen pop records them. The supervisor logs in with the keyboard, reads today's table,
the last hour and the weekly quality, with the voice menu's self-service share and the node
where callers hang up, from runs recorded in ivr_runs; an agent is told the page is not for
her. A service name is text, never markup; axe-core finds no serious or critical
accessibility issue.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from cti import ivr_store
from cti.assembly import DEMO_PASSWORD, Product, running
from cti.settings import Settings
from ivr_scripts.measures import MenuRun
from screenpop.directory import Directory
from tests.e2e.browsing import async_api, need_browser, serious_violations
from tests.e2e.desk_pages import no_sideways_scrolling

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    need_browser()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cti.db'}",
        http_port=0,
        demo_citizens=10,
        sim_rate=0,
    )
    async with running(settings, simulated=True, traffic=False) as product:
        directory = Directory(product.database)
        # Ten minutes ago (in the last hour, and today unless the test runs at midnight).
        at = datetime.now(UTC) - timedelta(minutes=10)
        for call_id, outcome, service, wait in [
            ("r1", "answered", "etat-civil", 12.0),
            ("r2", "abandoned", "etat-civil", 70.0),
            ("r3", "answered", EVIL, 3.0),
        ]:
            directory.upsert_interaction(
                call_id, started_at=at, outcome=outcome, service=service, wait_seconds=wait
            )
        # Three calls through the voice menu: two hear the opening hours, one hangs up.
        entry = ("bienvenue", "horaires_mairie", "menu_principal")
        for uniqueid, path, outcome in [
            ("m1", (*entry, "annonce_horaires"), "self_service"),
            ("m2", (*entry, "annonce_horaires"), "self_service"),
            ("m3", entry, "caller_hung_up"),
        ]:
            run = MenuRun(
                at=at,
                uniqueid=uniqueid,
                call_id=None,
                path=path,
                outcome=outcome,
                last_node=path[-1],
                timed_out_nodes=(),
                self_served=outcome == "self_service",
            )
            ivr_store.record_run(product.database, run)
        yield product


async def open_page(browser: Any, product: Product, path: str, username: str) -> Any:
    context = await browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    page = await context.new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    await page.goto(product.url + path)
    # Keyboard only: the login field has the focus, Tab to the password, Enter submits. The
    # focus comes once the page knows nobody is logged in (its /api/me answered): typing
    # before that was lost, and the test failed one run in three.
    await expect(page.get_by_label("Identifiant")).to_be_focused()
    await page.keyboard.type(username)
    await page.keyboard.press("Tab")
    await page.keyboard.type(DEMO_PASSWORD)
    await page.keyboard.press("Enter")
    return page


async def test_the_supervisor_reads_the_reports_and_the_quality_an_agent_may_not(
    product: Product, browser: Any
) -> None:
    page = await open_page(browser, product, "rapports", "superviseur")
    # First the essentials per service, in words; every figure on demand.
    essentials = page.get_by_role("table", name="Par service")
    civil = essentials.get_by_role("row", name="État civil")
    await civil.wait_for()
    assert await civil.get_by_role("cell").all_inner_texts() == [
        "2",
        "1",
        "50 %",
        "1 (50 %)",
        "12 s",
    ]
    await page.get_by_text("Que veulent dire ces mots ?").click()
    await async_api.expect(page.locator("#glossary")).to_contain_text("Filet de sécurité")
    await async_api.expect(page.locator("#glossary")).to_contain_text("Débordés")
    # A chart for the services too (bars), not only along hours.
    await page.locator("#chart-box:not([hidden])").wait_for()
    assert "par service" in (await page.locator("#chart").get_attribute("alt") or "")
    assert await serious_violations(page) == []
    await no_sideways_scrolling(page)
    await page.get_by_text("Tous les chiffres", exact=True).click()
    table = page.get_by_role("table", name="Appels par service")
    row = table.get_by_role("row", name="État civil")
    await row.wait_for()
    cells = await row.get_by_role("cell").all_inner_texts()
    assert cells[:4] == ["2", "2", "1", "1"]  # calls, offered, answered, within threshold
    assert await table.get_by_role("rowheader", name=EVIL).count() == 1
    assert await page.locator("#table img").count() == 0

    await page.get_by_label("Regrouper par").select_option("hour")
    await page.get_by_role("button", name="Dernière heure").click()
    await page.get_by_role("table", name="Appels par heure").wait_for()
    total = page.locator("#table").get_by_role("row", name="Total")
    assert (await total.get_by_role("cell").all_inner_texts())[:2] == ["3", "3"]
    await async_api.expect(page.locator("#chart")).to_have_attribute("alt", re.compile("par heure"))
    href = await page.get_by_role("link", name="Exporter en CSV").get_attribute("href")
    assert href is not None and href.startswith("/api/reports.csv?") and "by=hour" in href
    assert await serious_violations(page) == []

    await page.get_by_role("link", name="Qualité par semaine").click()
    trends = page.locator("#trends li", has_text="État civil")
    await trends.wait_for()
    assert "50 % la dernière semaine" in await trends.inner_text()
    alt = await page.locator("#chart").get_attribute("alt") or ""
    assert "État civil : 50 %" in alt
    assert await page.get_by_role("link", name="Exporter en CSV").get_attribute("href") == (
        "/api/quality.csv?weeks=8"
    )
    await no_sideways_scrolling(page)
    menu = page.locator("#menu-summary")
    await async_api.expect(menu).to_contain_text("traité seul 2 des 3 appels (66,7 %)")
    self_service = page.get_by_role("table", name="traités entièrement par le menu vocal")
    assert await self_service.locator("tbody tr").count() == 8  # one row per week
    week = await self_service.locator("tbody tr").last.get_by_role("cell").all_inner_texts()
    assert week[-1] == "66,7 % (2/3)" and week.count("66,7 % (2/3)") == 2  # the day, the week
    hang_ups = page.get_by_role("table", name="où le plus d'appelants raccrochent")
    # The step by its name in the editor, never its id (menu_principal).
    top = hang_ups.get_by_role("row", name="Menu “Pour l'état civil, les actes de…”")
    assert await top.get_by_role("cell").all_inner_texts() == [
        "Menu à touches",
        "1",
        "3",
        "33,3 %",
    ]
    assert await serious_violations(page) == []

    agent = await open_page(browser, product, "qualite", "marie")
    await agent.get_by_role("alert").filter(has_text="réservée aux superviseurs").wait_for()
    assert await agent.locator("#content").is_hidden()
