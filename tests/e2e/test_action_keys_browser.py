"""The pages' shared fetch helper in a real browser: one Idempotency-Key per user action.

Every state-changing call a page makes carries a key of its own (so that a router dying
while running it does not make it run twice, ``cti/broker/answered.py``); reads carry none.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cti.assembly import Product, running
from cti.settings import Settings
from tests.e2e.browsing import async_api, need_browser


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    need_browser()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cti.db'}", http_port=0, demo_citizens=10, sim_rate=0
    )
    async with running(settings, simulated=True, traffic=False) as product:
        yield product


async def test_each_action_of_a_page_carries_its_own_key_and_reads_none(
    product: Product, browser: Any
) -> None:
    page = await (await browser.new_context(locale="fr-FR")).new_page()
    sent: list[tuple[str, str, str | None]] = []
    page.on(
        "request",
        lambda r: (
            sent.append((r.method, r.url, r.headers.get("idempotency-key")))
            if "/api/" in r.url
            else None
        ),
    )
    await page.goto(product.url + "mot-de-passe")
    await page.get_by_label("Identifiant", exact=True).fill("admin")
    await page.get_by_label("Mot de passe", exact=True).fill("mauvais mot de passe")
    await page.get_by_role("button", name="Se connecter").click()
    await async_api.expect(page.locator("#login-error")).not_to_be_empty()
    await page.get_by_role("button", name="Se connecter").click()  # the same, clicked again
    await page.evaluate("ctiSession.call('GET', '/api/me').catch(() => null)")

    logins = [key for method, url, key in sent if method == "POST" and url.endswith("/api/login")]
    reads = [key for method, _url, key in sent if method == "GET"]
    assert len(logins) == 2 and all(logins), sent
    assert logins[0] != logins[1]  # two clicks, two actions
    assert reads and all(key is None for key in reads), sent
