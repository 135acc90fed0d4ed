"""Fixtures of the real-Asterisk suite: a lab per test, set up as the install guide says.

Skipped, with the reason, where no Asterisk build or no sipp is available (``make
test-asterisk`` builds it; ``make test`` runs this suite wherever the build exists).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from cti.assembly import DEMO_USERS
from cti.db import Database
from screenpop import accounts
from tests.asterisk.lab import ONE_TIME, ROOT, Lab, LabError, first_login, unavailable

DATA = Path(__file__).resolve().parent / "data"

# The demo's staff (the first admin is created by the product itself at first start).
STAFF = tuple(user for user in DEMO_USERS if user[3] is not accounts.Role.ADMIN)

MakeLab = Callable[..., Awaitable[Lab]]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = unavailable()
    for item in items:
        if "tests/asterisk/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.timeout(300))
            if reason:
                item.add_marker(pytest.mark.skip(reason=f"real Asterisk: {reason}"))


def _run(database: str, module: str, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", module, "--database", database, *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise LabError(f"{module} {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done.stdout


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the technician does once (asterisk-conf/README.md, "Install"): migrate, create
    the staff's accounts with a one-time password, import the directory and the cases.
    Done once; each lab starts from a copy of the database file."""
    path = tmp_path_factory.mktemp("install") / "cti.db"
    database = f"sqlite:///{path}"
    db = Database(database)
    db.migrate()
    db.close()
    for username, name, extension, role in STAFF:
        args = ["create", username, "--name", name, "--role", role.value]
        if extension:
            args += ["--extension", extension]
        _run(database, "cti.users", *args, "--password-stdin", stdin=ONE_TIME + "\n")
    _run(database, "screenpop.import_citizens", str(DATA / "citizens.csv"))
    _run(database, "screenpop.import_cases", str(DATA / "cases.csv"))
    return path


async def publish_tree(lab: Lab, tree: Path) -> None:
    """Telecom staff publish the lab's voice menu through the API, as the editor does."""
    async with httpx.AsyncClient(base_url=lab.product.url) as client:
        headers = await first_login(client, "telecom")
        draft = await client.post(
            "/api/ivr/drafts",
            json={"yaml": tree.read_text(encoding="utf-8"), "comment": "labo"},
            headers=headers,
        )
        if draft.status_code != 201:
            raise LabError(f"draft refused: {draft.text}")
        number = draft.json()["version"]
        published = await client.post(
            f"/api/ivr/versions/{number}/publish", json={"comment": "labo"}, headers=headers
        )
        if published.status_code != 200:
            raise LabError(f"publish refused: {published.text}")


@pytest.fixture
async def make_lab(tmp_path: Path, installed: Path) -> AsyncIterator[MakeLab]:
    labs: list[Lab] = []

    async def make(
        agents: tuple[str, ...] = ("201",),
        safety_net: int = 60,
        agent_ring: int = 8,
        routing: Path = DATA / "routing.yaml",
    ) -> Lab:
        lab = Lab(tmp_path, routing, safety_net=safety_net, agent_ring=agent_ring)
        labs.append(lab)
        shutil.copy(installed, lab.product.database.removeprefix("sqlite:///"))
        lab.asterisk.write_config()
        await lab.asterisk.start()
        await lab.product.start()
        await publish_tree(lab, DATA / "lab_tree.yaml")
        for extension in agents:
            await lab.phone(extension)
        return lab

    try:
        yield make
    finally:
        for lab in labs:
            await lab.close()
