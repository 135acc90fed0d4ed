"""The live page's WebSocket, over a real server and a real WebSocket client.

The board shows callers' numbers, so it needs a supervisor's session: the app without a desk
has no login route, the test opens the session on the app's own ``Sessions``.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import websockets
from fastapi import FastAPI

from cti.replay import read_server_chunks, recorded_messages
from cti.service import CallService
from cti.web.app import create_app
from cti.web.auth import COOKIE
from cti.web.serve import serving
from screenpop.accounts import Role, UserView

CAPTURES = Path(__file__).resolve().parents[4] / "shared" / "ami-captures"


SUPERVISOR = UserView(1, "superviseur", "Nadia", Role.SUPERVISOR, None)


def _cookie(app: FastAPI) -> dict[str, str]:
    session = app.state.sessions.open(SUPERVISOR)
    return {"Cookie": f"{COOKIE}={session.token}"}


def _feed(service: CallService, name: str) -> None:
    for t, message in recorded_messages(read_server_chunks(CAPTURES / name)):
        service.on_ami_event(message, t)


async def test_page_receives_snapshot_then_each_domain_event() -> None:
    service = CallService()
    app = create_app(service)
    async with serving(app) as port:
        url = f"ws://127.0.0.1:{port}/ws/events"
        async with websockets.connect(url, additional_headers=_cookie(app)) as ws:
            first = json.loads(await ws.recv())
            assert first["kind"] == "snapshot" and first["calls"] == []
            _feed(service, "04-inbound-answered.jsonl")
            types = []
            while True:
                message = json.loads(await ws.recv())
                types.append(message["event"]["type"])
                if message["event"]["type"] == "CallEnded":
                    break
    assert types == [
        "CallArrived",
        "CallerIdSettled",
        "CallWaiting",
        "CallOffered",
        "CallAnswered",
        "CallEnded",
    ]


async def test_a_reconnecting_page_gets_the_calls_in_progress() -> None:
    service = CallService()
    # Only the first half of a call: it is waiting when the page connects.
    recording = read_server_chunks(CAPTURES / "06-caller-abandons-while-waiting.jsonl")
    for t, message in recorded_messages(recording):
        if t > 3.0:
            break
        service.on_ami_event(message, t)
    app = create_app(service)
    async with serving(app) as port:
        url = f"ws://127.0.0.1:{port}/ws/events"
        async with websockets.connect(url, additional_headers=_cookie(app)) as ws:
            snapshot = json.loads(await ws.recv())
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            page = await client.get("/")
            health = (await client.get("/healthz")).json()
            anonymous = await client.get("/api/calls")
            calls = await client.get("/api/calls", headers=_cookie(app))
    assert anonymous.status_code == 401
    assert calls.json()["calls"][0]["caller_number"] == "0611223344"
    assert [c["stage"] for c in snapshot["calls"]] == ["en attente"]
    assert snapshot["calls"][0]["caller_number"] == "0611223344"
    assert page.status_code == 200 and "Appels en direct" in page.text
    assert health["live_calls"] == 1
