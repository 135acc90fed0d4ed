"""Fixtures of the browser tests (helpers in ``tests/e2e/browsing.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    # Imported here: the demo-process test of this folder needs no Playwright.
    from tests.e2e.browsing import launched

    async with launched() as chromium:
        yield chromium
