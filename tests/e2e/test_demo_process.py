"""``python -m cti.demo`` as a new user runs it: a real process, a real WebSocket client."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets

from cti.assembly import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    env = {
        **os.environ,
        "CTI_HTTP_PORT": "0",
        "CTI_SIM_RATE": "120",
        "CTI_SIM_TIME_SCALE": "0.05",
        "CTI_DATABASE_URL": f"sqlite:///{tmp_path / 'cti.db'}",
    }
    env.pop("CTI_AMI_HOST", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cti.demo",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    url = ""
    try:
        while not url:
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            assert line, "the demo exited before printing its URL"
            if match := re.search(r"(http://\S+/)", line):
                url = match.group(1)
        yield proc, url
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def test_demo_shows_calls_flowing_then_stops_on_ctrl_c(
    demo: tuple[asyncio.subprocess.Process, str],
) -> None:
    proc, url = demo
    # The live board shows callers' numbers: a supervisor logs in first.
    async with httpx.AsyncClient(base_url=url) as client:
        login = {"username": "superviseur", "password": DEMO_PASSWORD}
        assert (await client.post("/api/login", json=login)).status_code == 200
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    ws_url = url.replace("http://", "ws://") + "ws/events"
    seen: list[str] = []
    async with websockets.connect(ws_url, additional_headers={"Cookie": cookie}) as ws:
        snapshot = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert snapshot["kind"] == "snapshot"
        # A call may already ring when the page connects: wait for a whole call's steps.
        while not {"CallArrived", "CallOffered", "CallAnswered", "CallEnded"} <= set(seen):
            message = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if message["kind"] == "event":
                seen.append(message["event"]["type"])
    proc.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(proc.wait(), 20) == 0


async def test_app_without_asterisk_says_what_to_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTI_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cti.app",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1
    assert "CTI_AMI_HOST" in err.decode() and "make demo" in err.decode()
