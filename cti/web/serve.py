"""Running the app with uvicorn inside an existing event loop (demo, tests)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI

from cti.settings import StartupError


@contextlib.asynccontextmanager
async def serving(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[int]:
    """Serve ``app`` until the block exits; yields the bound port."""
    # Bound here, not by uvicorn: on a taken port uvicorn exits the whole process.
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        listener = socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise StartupError(
            f"le serveur web ne peut pas écouter sur {host}:{port} ({exc.strerror or exc}) : "
            "un autre programme utilise-t-il ce port ? Arrêtez-le ou choisissez-en un autre "
            "(CTI_HTTP_PORT, CTI_HTTP_HOST)."
        ) from exc
    # proxy_headers off: uvicorn would believe X-Forwarded-For from loopback; the app believes
    # it from CTI_TRUSTED_PROXIES only (cti.web.transport).
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="on", proxy_headers=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            if task.done():
                task.result()  # the app's start-up error, if any
                raise StartupError("le serveur web s'est arrêté pendant le démarrage")
            await asyncio.sleep(0.01)
        yield listener.getsockname()[1]
    finally:
        server.should_exit = True
        if not task.done():  # a failed start-up was read above
            await task
        listener.close()
