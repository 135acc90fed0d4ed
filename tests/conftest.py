"""Shared test fixtures: where the recordings live, databases to run against, and where the
voice menu's sounds go.

``database`` runs a test on a fresh SQLite file and, when ``CTI_TEST_DATABASE_URL`` names a
PostgreSQL server, again on PostgreSQL, in a schema of its own that is dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text

from cti.db import Database, engine_url

ROOT = Path(__file__).resolve().parent.parent

# A request answers when it answers: tests wait for what they expect, bounded by pytest-timeout,
# not by httpx's own 5 s, which a loaded machine overruns (a login's password hashing under
# a load of 12 on two cores took longer, and the test failed for no fault of the product).
for _client in (httpx.Client, httpx.AsyncClient):
    assert _client.__init__.__kwdefaults__ is not None
    _client.__init__.__kwdefaults__["timeout"] = httpx.Timeout(60.0)
CAPTURES = ROOT.parent / "shared" / "ami-captures"

# Property tests draw the same examples on every run (a red CI names a real defect, never a
# new random draw); `pytest --hypothesis-profile=explore` draws new ones to look for more.
settings.register_profile("deterministic", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("deterministic")


@pytest.fixture(scope="session", autouse=True)
def sounds_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The products the tests start write the voice menu's sounds here, not in the checkout
    (one directory for the session: speech rendered once serves every test)."""
    path = tmp_path_factory.mktemp("sounds")
    before = os.environ.get("CTI_SOUNDS_DIR")
    os.environ["CTI_SOUNDS_DIR"] = str(path)
    yield path
    if before is None:
        os.environ.pop("CTI_SOUNDS_DIR", None)
    else:
        os.environ["CTI_SOUNDS_DIR"] = before


@pytest.fixture(scope="session")
def captures_dir() -> Path:
    if not CAPTURES.is_dir():
        pytest.fail(f"recordings not found at {CAPTURES}: ../shared must sit beside the checkout")
    return CAPTURES


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database's URL (not migrated)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cti.db'}"
        return
    server = os.environ.get("CTI_TEST_DATABASE_URL")
    if not server:
        pytest.skip("CTI_TEST_DATABASE_URL is not set: PostgreSQL not covered here")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(engine_url(server))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in server else "?"
    try:
        yield f"{server}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated, empty database."""
    db = Database(database_url)
    db.migrate()
    try:
        yield db
    finally:
        db.close()
