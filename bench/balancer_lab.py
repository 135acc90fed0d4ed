"""A load balancer in front of web nodes, for tests and benches: a TCP proxy on loopback.

Each new connection goes to the first node of its list that takes it, as HAProxy does with
``balance first`` and health checks: a node killed refuses connections at once, so the next
one in the list gets them. Bytes are copied both ways untouched (HTTP, WebSocket upgrades,
cookies: the browser sees one address). When a node goes away, the connections it held are
closed on the browser's side too, as a balancer does, and the browser reconnects through it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator


class Balancer:
    def __init__(self, nodes: list[str]) -> None:
        """``nodes``: the web nodes' URLs (``http://127.0.0.1:port/``), first preferred."""
        self.nodes = [_host_port(url) for url in nodes]
        self.port = 0
        self.routed: Counter[int] = Counter()  # connections sent to each node, by index
        self.refused = 0  # connections no node took
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for index, (host, port) in enumerate(self.nodes):
            try:
                up_reader, up_writer = await asyncio.open_connection(host, port)
            except OSError:
                continue  # down: the next node in the list
            self.routed[index] += 1
            break
        else:
            self.refused += 1
            writer.close()
            return
        pipes = [
            asyncio.create_task(_copy(reader, up_writer)),
            asyncio.create_task(_copy(up_reader, writer)),
        ]
        self._pipes.update(pipes)
        try:
            # Either side gone: both connections closed (a node killed closes its pages').
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
                self._pipes.discard(pipe)
            for end in (writer, up_writer):
                end.close()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()


def _host_port(url: str) -> tuple[str, int]:
    host, _, port = url.split("://", 1)[-1].strip("/").rpartition(":")
    return host, int(port)


@contextlib.asynccontextmanager
async def balancer(nodes: list[str]) -> AsyncIterator[Balancer]:
    front = Balancer(nodes)
    await front.start()
    try:
        yield front
    finally:
        await front.close()
