"""``make run`` on a fresh install (``python -m cti.app``): the first admin is printed once.

A real process against an Asterisk that does not answer yet (a closed port): the web app
serves anyway, the banner gives the one-time password, which logs in only to be changed; a
second start prints no password.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from cti.web.auth import CSRF_HEADER


@pytest.fixture
def closed_port() -> Iterator[int]:
    """Bound, not listening: the AMI connection is refused and retries much later."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@contextlib.asynccontextmanager
async def serving_app(tmp_path: Path, ami_port: int) -> AsyncIterator[tuple[str, list[str]]]:
    """``cti.app`` running: its URL and the lines it printed up to it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTI_")}
    env |= {
        "CTI_AMI_HOST": "127.0.0.1",
        "CTI_AMI_PORT": str(ami_port),
        "CTI_AMI_RECONNECT_MIN": "3600",
        "CTI_AMI_RECONNECT_MAX": "3600",
        "CTI_HTTP_PORT": "0",
        "CTI_AGI_PORT": "0",
        "CTI_DATABASE_URL": f"sqlite:///{tmp_path / 'cti.db'}",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cti.app",
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        while True:
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            assert line, f"cti.app exited before printing its URL: {lines}"
            lines.append(line)
            if match := re.search(r"CTI mairie : (http://\S+/)", line):
                break
        yield match.group(1), lines
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def test_a_fresh_install_prints_its_first_admin_once(
    tmp_path: Path, closed_port: int
) -> None:
    async with serving_app(tmp_path, closed_port) as (url, lines):
        (banner,) = [line for line in lines if line.startswith("Premier administrateur")]
        found = re.search(r"identifiant « (\S+) », mot de passe à usage unique « (\S+) »", banner)
        assert found is not None, banner
        username, password = found.groups()
        assert username == "admin"
        async with httpx.AsyncClient(base_url=url) as client:
            login = await client.post(
                "/api/login", json={"username": username, "password": password}
            )
            assert login.status_code == 200, login.text
            assert login.json()["password_change_required"] is True
            client.headers[CSRF_HEADER] = login.json()["csrf"]
            assert (await client.get("/api/admin/users")).status_code == 403
            change = {"current_password": password, "new_password": "choisi par l'admin"}
            assert (await client.post("/api/password", json=change)).status_code == 204
            listed = await client.get("/api/admin/users")
            assert listed.status_code == 200 and listed.json()[0]["username"] == "admin"

    # Started again on the same database: no new admin, no password printed.
    async with serving_app(tmp_path, closed_port) as (_url, lines):
        assert not [line for line in lines if "usage unique" in line]
