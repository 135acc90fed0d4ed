"""The live page's WebSocket, over a real server and a real WebSocket client."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import websockets

from cti.ami.frames import FrameSplitter
from cti.replay import read_server_chunks
from cti.service import CallService
from cti.web.app import create_app
from cti.web.serve import serving

CAPTURES = Path(__file__).resolve().parents[4] / "shared" / "ami-captures"


def _feed(service: CallService, name: str) -> None:
    splitter = FrameSplitter()
    for t, data in read_server_chunks(CAPTURES / name):
        for frame in splitter.feed(data):
            service.on_ami_event(frame.as_dict(), t)


async def test_page_receives_snapshot_then_each_domain_event() -> None:
    service = CallService()
    async with serving(create_app(service)) as port:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/events") as ws:
            first = json.loads(await ws.recv())
            assert first["kind"] == "snapshot" and first["calls"] == []
            _feed(service, "04-inbound-answered.jsonl")
            types = []
            while True:
                message = json.loads(await ws.recv())
                types.append(message["event"]["type"])
                if message["event"]["type"] == "CallEnded":
                    break
    assert types == ["CallArrived", "CallWaiting", "CallOffered", "CallAnswered", "CallEnded"]


async def test_a_reconnecting_page_gets_the_calls_in_progress() -> None:
    service = CallService()
    # Only the first half of a call: it is waiting when the page connects.
    splitter = FrameSplitter()
    for t, data in read_server_chunks(CAPTURES / "06-caller-abandons-while-waiting.jsonl"):
        if t > 3.0:
            break
        for frame in splitter.feed(data):
            service.on_ami_event(frame.as_dict(), t)
    async with serving(create_app(service)) as port:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/events") as ws:
            snapshot = json.loads(await ws.recv())
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            page = await client.get("/")
            health = (await client.get("/healthz")).json()
    assert [c["stage"] for c in snapshot["calls"]] == ["en attente"]
    assert snapshot["calls"][0]["caller_number"] == "0611223344"
    assert page.status_code == 200 and "Appels en direct" in page.text
    assert health["live_calls"] == 1
