"""What the browser tests share: Debian's chromium driven by Playwright, and axe-core.

Chromium comes from Debian (``/usr/bin/chromium``; .ci/run installs it), axe-core from the
npm registry (``npm ci``); Playwright never downloads a browser. Missing either fails the
test under CI and skips it elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Chromium must not try to reach the network (closed here) or update itself.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

async_api = pytest.importorskip("playwright.async_api")
# A page shows what it shows when the server has answered: assertions wait for it, bounded by
# pytest-timeout, not by Playwright's 5 s, which a loaded machine overruns (« Et si… » runs
# its replay in a process of its own).
async_api.expect.set_options(timeout=60_000)


def _need(path: Path, what: str) -> None:
    if path.exists():
        return
    message = f"{what} missing at {path}"
    if os.environ.get("CI"):
        pytest.fail(message + " (.ci/run and make install provide it)")
    pytest.skip(message)


def need_browser() -> None:
    """Chromium and axe-core are here (else fail under CI, skip elsewhere)."""
    _need(CHROMIUM, "Debian's chromium")
    _need(AXE, "axe-core (npm ci)")


@contextlib.asynccontextmanager
async def launched() -> AsyncIterator[Any]:
    """A headless chromium, closed on the way out."""
    assert shutil.which(str(CHROMIUM))
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        try:
            yield browser
        finally:
            await browser.close()


async def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on ``page``, one line each with where."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
