"""Running a web node (``CTI_ROLE=web``): the broker link, the feeds, sessions, the web app.

A web node holds no call and drives nothing: it needs the broker (``CTI_BROKER_URL``) and
the database (``CTI_DATABASE_URL``, for the sessions the router's node opened). It does not
migrate the database: the router's node does, at its start.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from cti.broker.feeds import Feeds
from cti.broker.link import BrokerLink
from cti.broker.subjects import Subjects
from cti.cluster.elector import node_identity
from cti.db import Database
from cti.periodic import Periodic
from cti.settings import Settings, StartupError
from cti.web.auth import Sessions
from cti.web.serve import serving
from cti.web.session_ends import SessionsEnded
from cti.web.session_store import SessionStore
from cti.web.web_node import create_web_app

log = logging.getLogger("cti")
# How often a web node reads its sessions back from the database (ends, sliding expiry).
REREAD_S = 60.0


async def run_web_node(settings: Settings, stop: asyncio.Event) -> None:
    if not settings.broker_url:
        raise StartupError(
            "CTI_ROLE=web : indiquez le courtier où parle le routeur "
            "(CTI_BROKER_URL, par exemple nats://127.0.0.1:4222)"
        )
    database = Database(settings.database_url)
    link = BrokerLink(settings.broker_url, f"cti-web {node_identity()}")
    sessions = Sessions(store=SessionStore(database))
    tasks: set[asyncio.Task[None]] = set()

    def session_ended(notice: SessionsEnded) -> None:
        if notice.which == "refresh":  # a role, extension or password changed: read it again
            task = asyncio.create_task(_reread(sessions))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        else:
            sessions.end_where(notice)

    feeds = Feeds(link, Subjects(settings.router_lease_name), on_session_end=session_ended)
    await feeds.start()
    link.start()
    keeper = Periodic(REREAD_S, functools.partial(_keep, sessions), "sessions' reread")
    keeper.start()
    try:
        app = create_web_app(feeds, sessions, metrics_token=settings.metrics_token)
        async with serving(app, settings.http_host, settings.http_port) as port:
            url = f"http://{settings.http_host}:{port}/"
            print(f"Nœud web : pages et sockets, le reste demandé au routeur par {link.url}")
            print(f"CTI mairie : {url}  (Ctrl-C pour arrêter)", flush=True)
            await stop.wait()
            feeds.reset("arrêt du nœud web")  # the pages go to another node at once
    finally:
        for task in tasks:
            task.cancel()
        await keeper.close()
        await link.close()
        await asyncio.to_thread(database.close)


async def _reread(sessions: Sessions) -> None:
    try:
        await sessions.reread()
    except Exception:
        log.exception("sessions : relecture en échec")


async def _keep(sessions: Sessions) -> None:
    """One round of the web node's sessions: expired ones end, the others are read back."""
    sessions.sweep()
    await _reread(sessions)
