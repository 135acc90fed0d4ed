"""A NATS server of our own for tests and benches: on a free loopback port, JetStream in a
directory of ours, stopped and started again on the same port and store (a broker restart)
without touching the machine's own broker that other programs use.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

NATS_SERVER = shutil.which("nats-server") or (
    "/usr/sbin/nats-server" if Path("/usr/sbin/nats-server").exists() else None
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NatsServer:
    def __init__(self, store: Path, port: int | None = None) -> None:
        if NATS_SERVER is None:
            raise FileNotFoundError("nats-server introuvable (paquet Debian nats-server)")
        self.binary = NATS_SERVER
        self.store = store
        self.port = port or free_port()
        self.proc: asyncio.subprocess.Process | None = None

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
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self.proc.stderr is not None
        # It says so once it takes clients (its log goes to stderr).
        async with asyncio.timeout(timeout):
            async for line in self.proc.stderr:
                if b"Server is ready" in line:
                    break
            else:
                raise RuntimeError(f"nats-server stopped at start (exit {await self.proc.wait()})")
        self._drain = asyncio.create_task(self._discard(self.proc.stderr))

    @staticmethod
    async def _discard(stream: asyncio.StreamReader) -> None:
        async for _ in stream:
            pass

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()
            self._drain.cancel()
        self.proc = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()


@contextlib.asynccontextmanager
async def nats_server(store: Path) -> AsyncIterator[NatsServer]:
    server = NatsServer(store)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
