"""A web node's side of the broker: local buses fed from it, and the router to ask.

Every message the router publishes for pages arrives here and goes on the matching local
``cti.bus.Bus`` (one per agent, the wallboard's, the live board's), to which the node's
sockets subscribe exactly as they would on a single node. The router is found by its
heartbeat: the highest lease token heard lately is the one to ask (a router deposed while
paused still beats with a lower one until it exits).

When messages may have been missed (this node's broker link came back, the router's did,
as its heartbeat says, or another router took over), every page socket is closed with
1012: the pages reconnect at once, here or on another web node, and get a fresh snapshot
from the router in charge. A page that may have missed a card is never left showing an old
one.

A request whose router goes while it runs (another router announces itself, or its
heartbeat lapses) is not waited for: it is sent again to the router heard next, up to
``MAX_RESENDS`` times, each time waiting at most ``ROUTER_WAIT_S`` for one. A state-changing
request carries its idempotency key, by which the next router gives back the answer its
predecessor stored instead of running it again (``cti.broker.answered``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from cti.broker.link import BrokerLink, BrokerUnavailable, NoResponders
from cti.broker.subjects import Subjects
from cti.bus import Bus
from cti.web.session_ends import SessionsEnded, decode

log = logging.getLogger("cti.broker")

# A router not heard for this long is taken as gone (its heartbeat is every 0.5 s).
ROUTER_SILENT_S = 2.0
# How long a request waits for a router to announce itself (a start, a failover: the lease's
# time to lapse and the standby's start) before it is answered 503.
ROUTER_WAIT_S = 8.0
# Routers a request may outlive before it is answered 503.
MAX_RESENDS = 3
RECONNECT = (1012, "serveur changé : reconnexion")


class Feeds:
    def __init__(
        self,
        link: BrokerLink,
        subjects: Subjects,
        *,
        on_session_end: Callable[[SessionsEnded], None] = lambda _notice: None,
        clock: Callable[[], float] = time.monotonic,
        queue_size: int = 100,
    ) -> None:
        self.link = link
        self.subjects = subjects
        self.on_session_end = on_session_end
        self.clock = clock
        self._queue_size = queue_size
        self.agents: dict[str, Bus] = {}
        self.supervision = Bus()
        self.live = Bus()
        self.router_token: int | None = None
        self.router_node: str | None = None
        self._heard_at = float("-inf")
        self._announced = asyncio.Event()  # set at each heartbeat
        self.router_changes = 0
        self._router_links = 0  # the router's broker link came back this often (heartbeat)
        self.received = 0
        self.resent = 0  # requests sent again: their router went while they ran
        link.on_restored.append(lambda: self.reset("lien avec le courtier rétabli"))

    async def start(self) -> None:
        s, link = self.subjects, self.link
        await link.subscribe(s.router, self._heartbeat)
        await link.subscribe(s.agents, self._to_agent)
        await link.subscribe(s.supervision, lambda _s, data: self._to(self.supervision, data))
        await link.subscribe(s.events, lambda _s, data: self._to(self.live, data))
        await link.subscribe(s.sessions, self._session)

    # -- pages -------------------------------------------------------------------------------

    def agent_bus(self, agent: str) -> Bus:
        bus = self.agents.get(agent)
        if bus is None:
            bus = self.agents[agent] = Bus(self._queue_size)
        return bus

    @property
    def page_count(self) -> int:
        buses = [*self.agents.values(), self.supervision, self.live]
        return sum(bus.subscriber_count for bus in buses)

    def reset(self, why: str) -> None:
        """Close every page socket (1012): they reconnect and read everything afresh."""
        pages = self.page_count
        for bus in [*self.agents.values(), self.supervision, self.live]:
            bus.close(RECONNECT)
        if pages:
            log.warning("%s : %d pages reconnectées", why, pages)

    def _to(self, bus: Bus, data: bytes) -> None:
        self.received += 1
        if bus.wanted:
            bus.publish(data.decode())

    def _to_agent(self, subject: str, data: bytes) -> None:
        bus = self.agents.get(self.subjects.extension_of(subject))
        if bus is not None:
            self._to(bus, data)

    def _session(self, _subject: str, data: bytes) -> None:
        notice = decode(data)
        if notice is None:
            log.warning("courtier : avis de fin de session illisible")
            return
        self.on_session_end(notice)

    # -- the router --------------------------------------------------------------------------

    def _heartbeat(self, _subject: str, data: bytes) -> None:
        try:
            beat = json.loads(data)
            token, node = int(beat["token"]), str(beat.get("node", "?"))
            links = int(beat.get("links", 0))
        except (ValueError, KeyError, TypeError):
            return
        now = self.clock()
        current, was = self.router_token, self.router_node
        # A higher token, or the same one from another process (a router without a lease,
        # restarted), or anyone once the one we knew fell silent.
        newer = current is None or token > current or (token == current and node != was)
        if newer or now - self._heard_at > ROUTER_SILENT_S:
            self.router_token, self.router_node = token, node
            if current is not None and (token, node) != (current, was):
                self.router_changes += 1
                self.reset(f"le routeur a changé (jeton {current} -> {token}, {node})")
            elif current is None:
                log.info("routeur entendu : jeton %d (%s)", token, node)
        if token == self.router_token and node == self.router_node:
            if (token, node) == (current, was) and links > self._router_links:
                self.reset("le lien du routeur avec le courtier a été rétabli")
            self._router_links = links
            self._heard_at = now
            self._announced.set()

    @property
    def router_heard(self) -> bool:
        return self.router_token is not None and self.clock() - self._heard_at <= ROUTER_SILENT_S

    async def _router(self, heard_since: float = float("-inf")) -> int:
        """The token of the router to ask: one heard lately, and after ``heard_since``,
        waiting up to ``ROUTER_WAIT_S`` for one to announce itself."""

        def found() -> bool:
            return self.router_heard and self._heard_at > heard_since

        try:
            async with asyncio.timeout(ROUTER_WAIT_S):
                while not found():
                    self._announced.clear()
                    await self._announced.wait()
        except TimeoutError:
            raise BrokerUnavailable("aucun routeur ne s'annonce sur le courtier") from None
        assert self.router_token is not None
        return self.router_token

    async def ask(self, op: str, payload: bytes = b"", timeout: float = 5.0) -> bytes:
        """The router's answer to ``op``; raises ``BrokerUnavailable`` (no router heard, none
        answering, the broker away).

        Nobody listening on the router's subject means it is gone (killed: the next router
        takes over) or not yet subscribed again (its link came back after ours): the request
        waits for the next heartbeat, sent once the router listens, and goes to its sender.
        A router that goes while the request runs is not waited for either: the request goes
        to the next one (same payload, so the same idempotency key)."""
        token = await self._router()
        message = op.encode() + b"\n" + payload
        for resend in range(MAX_RESENDS + 1):
            node = self.router_node
            try:
                answer = await self._ask_while_there(token, node, message, timeout)
            except NoResponders:
                answer = None
            if answer is not None:
                return answer
            if resend == MAX_RESENDS:
                break
            self.resent += 1
            # Another router already heard: to it now; else the next heartbeat, whoever sends it.
            replaced = (self.router_token, self.router_node) != (token, node)
            token = await self._router(float("-inf") if replaced else self.clock())
            log.warning("courtier : requête %r renvoyée au routeur de jeton %d", op, token)
        raise BrokerUnavailable(f"{MAX_RESENDS + 1} routeurs partis pendant la requête")

    async def _ask_while_there(
        self, token: int, node: str | None, message: bytes, timeout: float
    ) -> bytes | None:
        """The answer of router ``token``, or None once it is taken as gone."""
        request = asyncio.ensure_future(
            self.link.request(self.subjects.rpc(token), message, timeout)
        )
        gone = asyncio.ensure_future(self._gone(token, node))
        try:
            await asyncio.wait({request, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (request, gone):
                if not task.done():
                    task.cancel()
        if request.done() and not request.cancelled():
            return request.result()
        log.warning("courtier : le routeur de jeton %d est parti pendant une requête", token)
        return None

    async def _gone(self, token: int, node: str | None) -> None:
        """Returns once the router ``token`` of ``node`` is taken as gone: another one
        announced itself, or it has not been heard for ``ROUTER_SILENT_S``."""
        while (self.router_token, self.router_node) == (token, node) and self.router_heard:
            self._announced.clear()
            left = self._heard_at + ROUTER_SILENT_S - self.clock()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._announced.wait(), max(left, 0.01) + 0.01)

    async def ask_json(self, op: str, payload: bytes = b"") -> Any:
        return json.loads(await self.ask(op, payload))
