"""The router's node answering the web nodes over the broker.

While this node holds the router's lease it announces its token every half second
(``cti.<pbx>.router``) and answers on ``cti.<pbx>.rpc.<token>``:

- ``http``: a page's HTTP request, run through this node's own application as if it had
  come on its port (same routes, same sessions, roles, CSRF and audit), the answer sent back;
  a state-changing one carries an idempotency key and runs once, even sent again to the
  next router after this one died (``cti.broker.answered``);
- ``agent``: what an agent's page gets when its socket opens (her state, her current card);
- ``supervision`` and ``live``: the wallboard's and the live board's snapshots.

Sessions ended here are told to the web nodes (``cti.<pbx>.sessions``). A session opened
here is in the database before the answer leaves, so the page's socket, opened next on any
web node, finds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message

from cti.broker.answered import Answered, request_key
from cti.broker.envelope import (
    BadEnvelope,
    ForwardedAnswer,
    ForwardedRequest,
    decode_request,
    encode_answer,
)
from cti.broker.link import BrokerLink
from cti.broker.subjects import Subjects
from cti.web.auth import Sessions
from cti.web.session_ends import SessionsEnded

log = logging.getLogger("cti.broker")

HEARTBEAT_S = 0.5
# Longest a forwarded request may run (an « Et si… » replay is bounded by CTI_WHATIF_TIMEOUT).
FORWARD_TIMEOUT_S = 120.0


async def run_asgi(app: ASGIApp, request: ForwardedRequest) -> ForwardedAnswer:
    """``request`` through ``app`` as one HTTP exchange; the whole answer, body included."""
    path, _, _ = request.path.partition("?")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": request.scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": request.query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers],
        "client": request.client,
        "server": ("cti-router", 0),
    }
    sent_body = False
    never: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": request.body, "more_body": False}
        return await never  # the client stays: nothing streams after the body here

    status, headers, chunks = 500, [], []

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"]]
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))

    try:
        await asyncio.wait_for(app(scope, receive, send), FORWARD_TIMEOUT_S)
    finally:
        never.cancel()
    return ForwardedAnswer(status, headers, b"".join(chunks))


class RouterBridge:
    def __init__(
        self,
        link: BrokerLink,
        subjects: Subjects,
        token: int,
        app: ASGIApp,
        sessions: Sessions,
        *,
        agent_view: Callable[[str], dict[str, Any]],
        supervision: Callable[[], dict[str, Any]] | None,
        live: Callable[[], dict[str, Any]],
        until_ready: Callable[[], Awaitable[None]],
        node: str,
        answered: Answered | None = None,
    ) -> None:
        self.link = link
        self.subjects = subjects
        self.token = token
        self.app = app
        self.sessions = sessions
        self.agent_view = agent_view
        self.supervision = supervision
        self.live = live
        self.until_ready = until_ready
        self.node = node
        self.answered = answered
        self.forwarded = 0
        self._beat: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.sessions.on_end = self._session_ended
        await self.link.serve(self.subjects.rpc(self.token), self._answer)
        self._beat = asyncio.create_task(self._heartbeat(), name="router-heartbeat")

    async def close(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
            await asyncio.gather(self._beat, return_exceptions=True)
        self.sessions.on_end = None

    def _session_ended(self, notice: SessionsEnded) -> None:
        self.link.publish(self.subjects.sessions, notice.encode())

    async def _heartbeat(self) -> None:
        while True:
            # ``links``: how often this node's broker link came back. Messages for pages sent
            # as it went down may be lost; web nodes hearing it grow send their pages to read
            # everything again (a NATS server of a cluster lost under the router alone).
            beat = {"token": self.token, "node": self.node, "links": self.link.reconnects}
            self.link.publish(self.subjects.router, json.dumps(beat).encode())
            await asyncio.sleep(HEARTBEAT_S)

    async def _answer(self, data: bytes) -> bytes:
        op, _, rest = data.partition(b"\n")
        if op == b"http":
            return await self._http(rest)
        if op == b"agent":
            # Just after a takeover: her card once the calls in progress are read back.
            with contextlib.suppress(Exception):
                await self.until_ready()
            return json.dumps(self.agent_view(rest.decode())).encode()
        if op == b"supervision" and self.supervision is not None:
            return json.dumps(self.supervision()).encode()
        if op == b"live":
            return json.dumps(self.live()).encode()
        log.warning("courtier : requête inconnue %r", op[:40])
        return b"{}"

    async def _http(self, data: bytes) -> bytes:
        try:
            request = decode_request(data)
        except BadEnvelope as exc:
            log.warning("courtier : requête HTTP illisible (%s)", exc)
            return encode_answer(ForwardedAnswer(400, [], b""))
        self.forwarded += 1
        key = request_key(request)
        if key is None or self.answered is None:
            return encode_answer(await self._run(request))
        return encode_answer(await self.answered.once(key, lambda: self._run(request)))

    async def _run(self, request: ForwardedRequest) -> ForwardedAnswer:
        answer = await run_asgi(self.app, request)
        # A login's session must be in the database before the page opens its socket.
        await self.sessions.flush()
        return answer
