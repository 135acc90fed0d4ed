"""What the agent's-desk browser tests share: the product with Marie (201) and Claire (205)
on the simulated PBX, logging in a page, and the 390 px check."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cti.assembly import DEMO_PASSWORD, Product, running
from cti.settings import Settings
from tests.demo_routing import demo_routing_with
from tests.e2e.browsing import need_browser


@contextlib.asynccontextmanager
async def desk_product(tmp_path: Path) -> AsyncIterator[Product]:
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


async def open_desk(browser: Any, product: Product, username: str, url: str | None = None) -> Any:
    """``username``'s desk, logged in, its socket open (through ``url`` if given)."""
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    await page.goto((url or product.url) + "agent")
    await page.get_by_label("Identifiant").fill(username)
    await page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_selector("body[data-socket=open]")
    return page


# The elements that stick out past the window's right edge, widest first (for the message).
_STICKING_OUT = """() => [...document.querySelectorAll('body *')]
  .map(e => [e, e.getBoundingClientRect()])
  .filter(([e, r]) => r.right > innerWidth + 1 && r.width > 0)
  .sort((a, b) => b[1].right - a[1].right).slice(0, 5)
  .map(([e, r]) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}`
    + `${e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : ''}`
    + ` (${Math.round(r.right)} px)`)"""


async def no_sideways_scrolling(page: Any) -> None:
    await page.set_viewport_size({"width": 390, "height": 800})
    width = await page.evaluate("document.documentElement.scrollWidth")
    culprits = await page.evaluate(_STICKING_OUT) if width > 390 else []
    assert width <= 390, f"the page is {width} px wide at 390 px: {', '.join(culprits)}"
    await page.set_viewport_size({"width": 1280, "height": 800})


async def set_state(page: Any, button: str, badge: str) -> None:
    await page.get_by_role("button", name=button, exact=True).click()
    await page.wait_for_function(
        f"document.querySelector('#state-badge').textContent.startsWith({badge!r})"
    )
