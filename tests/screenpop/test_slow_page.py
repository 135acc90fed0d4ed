"""A page too slow to read its messages is closed (1013, in French) and nobody else waits.

A real server, real WebSocket clients logged in over HTTP (the fixture of
``test_screenpop_socket``), a call from the recording of a real Asterisk ringing Marie's
phone. One of Marie's pages stops reading (its client's queue fills, then the kernel's
buffers, then the server's); her messages keep coming. The bus must drop that page once its
queue (100 messages per agent page) is full and close its socket with 1013 "trop lent :
reconnectez-vous" — the page sees it as soon as it reads again — while Marie's other page
and Luc's get everything, in order. The page then reconnects and is shown the ringing card
at once.

Marie's messages are pushed through the hub (``AgentHub.send``, what the product's producers
call) as state changes with a few KB of noise each, so that the kernel's buffers (about 4 MB
on loopback) fill in about 1,500 messages rather than tens of thousands. The 1013 waits
behind what the server's buffers already hold: a page that never reads again does not see
it, and is cut by the server's keepalive instead (about 40 s, close 1006 on its side).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from cti.bus import TOO_SLOW
from screenpop.messages import AgentStateChanged
from tests.screenpop.test_screenpop_socket import Desk, Feeder, desk, recv

__all__ = ["desk"]  # the fixture, shared

BURST = 50  # half a page's queue: a page that reads keeps up with every burst
NEVER = 20_000  # ~60 MB for a page that reads nothing: it should have been dropped long before
PADDING = 3000  # bytes of noise a message: the sockets' buffers fill in fewer of them


async def test_a_page_too_slow_to_read_is_closed_and_the_others_get_everything(
    desk: Desk,
) -> None:
    hub = desk.pop.hub
    marie, luc = await desk.login("marie"), await desk.login("luc")
    # max_queue=1: the client stops taking frames off the socket as soon as one waits.
    async with (
        desk.socket(marie, max_queue=1) as slow,
        desk.socket(marie) as other,
        desk.socket(luc) as ws_luc,
    ):
        for ws in (slow, other, ws_luc):
            assert (await recv(ws))["type"] == "hello"
        feed = Feeder(desk.service, "04-inbound-answered.jsonl")
        feed.until(7.0)  # offered to Marie (201), ringing
        offered = await recv(other)
        assert offered["type"] == "card.offered"
        call_id = offered["card"]["call_id"]
        assert hub.page_count == 3

        # Marie's messages keep coming, in bursts her other page reads, until the slow page
        # is dropped (the bus's queue for it full): a page count of 2.
        sent = 0
        numbers_of_other: list[int] = []
        while hub.page_count == 3:
            assert sent < NEVER, f"{sent} messages and the slow page is still served"
            for _ in range(BURST):
                sent += 1
                hub.send("201", AgentStateChanged(agent="201", state="paused", reason=_n(sent)))
            await _until_received(other, sent, numbers_of_other)
        assert sent >= 100  # past the queue of a page, at least
        assert numbers_of_other == list(range(1, sent + 1))  # every one, in order

        # Nobody else was slowed: Luc's page answers at once (Marie's other page read
        # every burst above).
        response = await luc.post("/api/agent/state", json={"state": "ready"})
        assert response.status_code == 200
        assert (await recv(ws_luc))["type"] == "agent.state"

        # The slow page reads again: what was already on its way, then the close.
        got: list[dict[str, Any]] = []
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                got.append(json.loads(await asyncio.wait_for(slow.recv(), 30)))
        assert (slow.close_code, slow.close_reason) == TOO_SLOW
        assert TOO_SLOW == (1013, "trop lent : reconnectez-vous")
        numbers = [int(m["reason"][:6]) for m in got if m["type"] == "agent.state"]
        assert numbers == sorted(set(numbers))  # in order, none twice
        assert len(numbers) < sent  # it missed the end: dropped, not waited for

        # The page reconnects: the call ringing on Marie's phone is shown at once, and
        # follows the call as her other page does.
        async with desk.socket(marie) as again:
            assert (await recv(again))["type"] == "hello"
            shown = await recv(again)
            assert (shown["type"], shown["card"]["call_id"]) == ("card.offered", call_id)
            feed.until(100)  # answered, then hung up
            for page in (again, other):
                assert (await _next_card(page))["type"] == "card.answered"
    await marie.aclose()
    await luc.aclose()


async def _next_card(ws: ClientConnection) -> dict[str, Any]:
    while True:
        message = await recv(ws)
        if message["type"].startswith("card."):
            return message


def _n(i: int) -> str:
    """The ``i``th message's reason: its number, then noise (compression would squeeze a
    repeated text to nothing: the buffers would take tens of thousands of messages)."""
    return f"{i:06d} {secrets.token_urlsafe(PADDING)}"


async def _until_received(ws: ClientConnection, last: int, numbers: list[int]) -> None:
    """Read ``ws`` until the message numbered ``last``, noting each one's number."""
    while not numbers or numbers[-1] != last:
        message = await recv(ws)
        if message["type"] == "agent.state":
            numbers.append(int(message["reason"][:6]))
