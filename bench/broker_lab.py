"""A NATS server of our own for tests and benches: on a free loopback port, JetStream in a
directory of ours, stopped and started again on the same port and store (a broker restart)
without touching the machine's own broker that other programs use.

``NatsCluster``: three such servers routed together on loopback, JetStream clustered (a
stream may be kept on all three), each with its monitoring port to tell which clients it
holds; one can be killed as a machine would fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx

NATS_SERVER = shutil.which("nats-server") or (
    "/usr/sbin/nats-server" if Path("/usr/sbin/nats-server").exists() else None
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NatsServer:
    def __init__(self, store: Path, port: int | None = None, args: Sequence[str] = ()) -> None:
        """``args``: more of nats-server's options (a cluster's)."""
        if NATS_SERVER is None:
            raise FileNotFoundError("nats-server introuvable (paquet Debian nats-server)")
        self.binary = NATS_SERVER
        self.store = store
        self.port = port or free_port()
        self.args = list(args)
        self.proc: asyncio.subprocess.Process | None = None
        self.log: list[str] = []  # what it said since its last start
        self._said = asyncio.Event()

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 20) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            self.binary,
            "-a",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-js",
            "-sd",
            str(self.store),
            *self.args,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self.proc.stderr is not None
        self.log = []
        self._drain = asyncio.create_task(self._read(self.proc.stderr))
        # It says so once it takes clients (its log goes to stderr).
        await self.until_said("Server is ready", timeout)

    async def _read(self, stream: asyncio.StreamReader) -> None:
        async for line in stream:
            self.log.append(line.decode(errors="replace").rstrip())
            self._said.set()
        self._said.set()

    async def until_said(self, words: str, timeout: float = 20) -> None:
        def said() -> bool:
            return any(words in line for line in self.log)

        async def wait() -> None:
            while not said():
                if self._drain.done():
                    code = self.proc.returncode if self.proc else None
                    raise RuntimeError(f"nats-server stopped (exit {code}): {self.log[-3:]}")
                self._said.clear()
                await self._said.wait()

        try:
            await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise RuntimeError(
                f"nats-server {self.url} has not said « {words} » in {timeout:g} s: {self.log[-3:]}"
            ) from None

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()
            self._drain.cancel()
        self.proc = None

    async def kill(self) -> None:
        """Gone at once (SIGKILL), as a failed machine: nothing said to its clients."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
            self._drain.cancel()
        self.proc = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()


class NatsCluster:
    """``size`` servers routed to each other on loopback, JetStream clustered."""

    def __init__(self, store: Path, size: int = 3, name: str = "cti") -> None:
        routes = [free_port() for _ in range(size)]
        self.monitors = [free_port() for _ in range(size)]
        every_route = ",".join(f"nats://127.0.0.1:{port}" for port in routes)
        self.servers = [
            NatsServer(
                store / f"n{i}",
                args=[
                    *("-n", f"n{i}", "--cluster_name", name),
                    *("--cluster", f"nats://127.0.0.1:{routes[i]}", "--routes", every_route),
                    *("-m", str(self.monitors[i])),
                ],
            )
            for i in range(size)
        ]

    @property
    def url(self) -> str:
        """Every server, comma-separated (as ``CTI_BROKER_URL`` takes them)."""
        return ",".join(server.url for server in self.servers)

    async def start(self, timeout: float = 30) -> None:
        await asyncio.gather(*(server.start(timeout) for server in self.servers))
        # JetStream takes requests once the servers have elected who keeps its metadata and
        # each one is current with it: /healthz says so.
        async with httpx.AsyncClient() as http:

            async def healthy(monitor: int) -> None:
                while (await http.get(f"http://127.0.0.1:{monitor}/healthz")).status_code != 200:
                    await asyncio.sleep(0.1)  # polling a probe, as a load balancer does

            try:
                await asyncio.wait_for(
                    asyncio.gather(*(healthy(monitor) for monitor in self.monitors)), timeout
                )
            except TimeoutError:
                raise RuntimeError(
                    f"NATS cluster {self.url}: JetStream not healthy after {timeout:g} s"
                ) from None

    async def stop(self) -> None:
        await asyncio.gather(*(server.stop() for server in self.servers))

    async def stream_leader(self, stream: str) -> NatsServer | None:
        """The server leading ``stream`` now (None: none elected, or no such stream)."""
        async with httpx.AsyncClient() as http:
            for server, monitor in zip(self.servers, self.monitors, strict=True):
                if server.proc is None:
                    continue
                answer = await http.get(f"http://127.0.0.1:{monitor}/jsz?streams=true")
                for account in answer.json().get("account_details") or []:
                    for detail in account.get("stream_detail") or []:
                        if detail.get("name") == stream:
                            leader = (detail.get("cluster") or {}).get("leader")
                            return next(
                                (s for i, s in enumerate(self.servers) if f"n{i}" == leader), None
                            )
        return None

    async def holding(self, client: str) -> NatsServer:
        """The server a client whose connection name starts with ``client`` is on."""
        async with httpx.AsyncClient() as http:
            for server, monitor in zip(self.servers, self.monitors, strict=True):
                if server.proc is None:
                    continue
                answer = await http.get(f"http://127.0.0.1:{monitor}/connz")
                names = [c.get("name", "") for c in answer.json().get("connections", [])]
                if any(name.startswith(client) for name in names):
                    return server
        raise LookupError(f"no server of the cluster holds a client named {client}…")


@contextlib.asynccontextmanager
async def nats_server(store: Path) -> AsyncIterator[NatsServer]:
    server = NatsServer(store)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def nats_cluster(store: Path, size: int = 3) -> AsyncIterator[NatsCluster]:
    cluster = NatsCluster(store, size)
    try:
        await cluster.start()
        yield cluster
    finally:
        await cluster.stop()
