"""The connection to the broker (NATS, JetStream for the domain events), kept up for good.

Nothing on the router waits for the broker: calls are routed and cards built whether it is
there or not. What leaves for it goes through one bounded queue, in order, sent by one task
once the link is up: page messages as plain NATS messages (at most once: a page that may
have missed one is told to reconnect and gets a fresh snapshot), domain events to the
JetStream stream, each with a message id and sent again until the stream acknowledges it
(at least once, and the stream's duplicate window drops a second copy: once). Past the
queue's bound (a broker away for long) the newest messages are dropped and counted.

``url`` may list several servers of one NATS cluster, comma-separated: nats-py connects to
one of them and, when it goes, to another (it also learns the cluster's other servers from
the one it joined). The stream is then kept on ``replicas`` servers, so one of them lost
loses no domain event. nats-py reconnects by itself and subscribes again; it does not retry
a first connection that fails, so that loop is here. Its errors are wrapped in
``BrokerUnavailable`` with what a technician needs: the broker's address and what was
asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import StorageType, StreamConfig

from cti.broker.subjects import STREAM

log = logging.getLogger("cti.broker")

Handler = Callable[[bytes], Awaitable[bytes]]
OnMessage = Callable[[str, bytes], None]
# How long the stream keeps domain events, and over which window a second copy is dropped.
STREAM_MAX_AGE_S = 24 * 3600
DUPLICATE_WINDOW_S = 120


class BrokerUnavailable(Exception):
    """The broker cannot carry a request now (away, nobody answering, too slow)."""


class NoResponders(BrokerUnavailable):
    """Nobody listens on the request's subject (its router is gone)."""


@dataclass(frozen=True, slots=True)
class _Outgoing:
    subject: str
    payload: bytes
    msg_id: str | None  # set: a domain event for the stream, kept until acknowledged


class BrokerLink:
    def __init__(
        self,
        url: str,
        name: str,
        *,
        queue_limit: int = 10_000,
        reconnect_wait: float = 0.5,
        replicas: int = 1,
    ) -> None:
        self.url = url
        self.servers = [server.strip() for server in url.split(",") if server.strip()]
        self.name = name
        self.replicas = replicas
        self.reconnect_wait = reconnect_wait
        self.state = "connecting"
        self.reconnects = 0  # links lost then back
        self.dropped = 0  # messages that did not fit in the queue
        self.published = 0
        self.connected = asyncio.Event()
        #: Told each time the link comes back after a loss (messages may have been missed).
        self.on_restored: list[Callable[[], None]] = []
        self._nc: Client | None = None
        self._out: asyncio.Queue[_Outgoing] = asyncio.Queue(queue_limit)
        self._subs: list[tuple[str, OnMessage]] = []
        self._served: list[tuple[str, Handler]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stream_ready = False

    # -- life --------------------------------------------------------------------------------

    def start(self) -> None:
        self._spawn(self._connect(), "broker-connect")
        self._spawn(self._pump(), "broker-pump")

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()

    async def wait_connected(self, timeout: float) -> None:
        await asyncio.wait_for(self.connected.wait(), timeout)

    def _spawn(self, coro: Awaitable[Any], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self) -> None:
        delay = self.reconnect_wait
        said = False
        while True:
            try:
                nc = await nats.connect(
                    servers=self.servers,
                    name=self.name,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=self.reconnect_wait,
                    connect_timeout=2,
                    ping_interval=5,
                    max_outstanding_pings=2,
                    disconnected_cb=self._lost,
                    reconnected_cb=self._restored,
                    error_cb=self._error,
                )
            except Exception as exc:
                if not said:
                    log.warning("courtier %s injoignable (%s) : nouvel essai", self.url, exc)
                    said = True
                self.state = "down"
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            break
        self._nc = nc
        for subject, on_message in self._subs:
            await self._subscribe(nc, subject, on_message)
        for subject, handler in self._served:
            await self._serve(nc, subject, handler)
        self._up()
        log.info("courtier %s joint", _joined(nc))

    def _up(self) -> None:
        self.state = "up"
        self._stream_ready = False  # a broker restarted on an empty store lost it: ask again
        self.connected.set()

    async def _lost(self) -> None:
        if self.state == "up":
            log.warning("lien avec le courtier %s perdu : reconnexion", self.url)
        self.state = "down"
        self.connected.clear()

    async def _restored(self) -> None:
        self.reconnects += 1
        self._up()
        if self._nc is not None:
            log.warning("lien avec le courtier rétabli (%s)", _joined(self._nc))
        for told in list(self.on_restored):
            told()

    async def _error(self, exc: Exception) -> None:
        log.debug("courtier %s : %s", self.url, exc)

    # -- out ---------------------------------------------------------------------------------

    def publish(self, subject: str, payload: bytes, msg_id: str | None = None) -> None:
        """Queue a message (``msg_id``: a domain event for the stream); never waits."""
        try:
            self._out.put_nowait(_Outgoing(subject, payload, msg_id))
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning(
                    "courtier %s : %d messages perdus (file d'envoi pleine)", self.url, self.dropped
                )

    @property
    def backlog(self) -> int:
        return self._out.qsize()

    async def _pump(self) -> None:
        while True:
            item = await self._out.get()
            while True:
                await self.connected.wait()
                nc = self._nc
                assert nc is not None
                try:
                    if item.msg_id is None:
                        await nc.publish(item.subject, item.payload)
                    else:
                        await self._to_stream(nc, item)
                    self.published += 1
                    break
                except Exception as exc:  # whatever the client raised: this task must go on
                    # Sent again, same id: the stream keeps one copy if the first one landed.
                    log.debug("courtier : envoi de %s à refaire (%r)", item.subject, exc)
                    await asyncio.sleep(0.2)

    async def _to_stream(self, nc: Client, item: _Outgoing) -> None:
        js = nc.jetstream()
        if not self._stream_ready:
            await ensure_stream(nc, self.replicas)
            self._stream_ready = True
        assert item.msg_id is not None
        await js.publish(
            item.subject, item.payload, timeout=2, headers={"Nats-Msg-Id": item.msg_id}
        )

    async def drain(self, timeout: float = 5.0) -> None:
        """Until what was queued so far has left (or ``timeout``)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while not self._out.empty():
                    await asyncio.sleep(0.02)

    # -- in ----------------------------------------------------------------------------------

    async def subscribe(self, subject: str, on_message: OnMessage) -> None:
        """``on_message(subject, payload)`` for every message on ``subject`` (a wildcard may
        stand in it), now and after every reconnect."""
        self._subs.append((subject, on_message))
        if self._nc is not None:
            await self._subscribe(self._nc, subject, on_message)

    async def _subscribe(self, nc: Client, subject: str, on_message: OnMessage) -> None:
        async def deliver(msg: Msg) -> None:
            on_message(msg.subject, msg.data)

        await nc.subscribe(subject, cb=deliver)
        await self._flush(nc)

    @staticmethod
    async def _flush(nc: Client) -> None:
        # The server has the subscription once this returns (a PING answered after it).
        with contextlib.suppress(nats.errors.Error, TimeoutError):
            await nc.flush(timeout=2)

    async def serve(self, subject: str, handler: Handler) -> None:
        """Answer each request on ``subject`` with ``handler(payload)``, each in a task of its
        own (a slow one holds nobody else)."""
        self._served.append((subject, handler))
        if self._nc is not None:
            await self._serve(self._nc, subject, handler)

    async def _serve(self, nc: Client, subject: str, handler: Handler) -> None:
        async def answer(msg: Msg) -> None:
            try:
                reply = await handler(msg.data)
            except Exception:
                log.exception("courtier : requête %s en échec", subject)
                return
            with contextlib.suppress(nats.errors.Error):
                await msg.respond(reply)

        async def deliver(msg: Msg) -> None:
            self._spawn(answer(msg), f"rpc {subject}")

        await nc.subscribe(subject, cb=deliver)
        await self._flush(nc)

    async def request(self, subject: str, payload: bytes, timeout: float) -> bytes:
        """The answer to a request; raises ``BrokerUnavailable`` saying why there is none."""
        nc = self._nc
        if nc is None or not self.connected.is_set():
            raise BrokerUnavailable(f"courtier {self.url} injoignable")
        if len(payload) > nc.max_payload:
            raise BrokerUnavailable(
                f"requête de {len(payload)} octets, plus que les {nc.max_payload} que le "
                f"courtier {self.url} accepte (max_payload)"
            )
        try:
            msg = await nc.request(subject, payload, timeout=timeout)
        except nats.errors.NoRespondersError as exc:
            raise NoResponders(f"aucun routeur n'écoute sur {subject}") from exc
        except nats.errors.TimeoutError as exc:
            raise BrokerUnavailable(f"pas de réponse sur {subject} en {timeout:g} s") from exc
        except nats.errors.Error as exc:
            raise BrokerUnavailable(f"courtier {self.url} : {exc}") from exc
        return bytes(msg.data)


def _joined(nc: Client) -> str:
    """The server of the list the client is on now (``host:port``)."""
    joined = nc.connected_url
    return joined.netloc if joined is not None else "?"


async def ensure_stream(nc: Client, replicas: int = 1) -> None:
    """The domain events' stream (on disk, a day kept, duplicates dropped over two minutes),
    kept on ``replicas`` servers of the cluster."""
    js = nc.jetstream()
    config = StreamConfig(
        name=STREAM,
        subjects=["cti.*.events"],
        storage=StorageType.FILE,
        max_age=STREAM_MAX_AGE_S,
        duplicate_window=DUPLICATE_WINDOW_S,
        num_replicas=replicas,
    )
    try:
        await js.add_stream(config)
    except nats.js.errors.BadRequestError:  # exists with another configuration
        await js.update_stream(config)
