"""Shared test fixtures: where the recordings live."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT.parent / "shared" / "ami-captures"


@pytest.fixture(scope="session")
def captures_dir() -> Path:
    if not CAPTURES.is_dir():
        pytest.fail(f"recordings not found at {CAPTURES}: ../shared must sit beside the checkout")
    return CAPTURES
