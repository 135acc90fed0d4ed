"""Which parts a process runs (``CTI_ROLE``), and for how long: ``run`` until asked to stop.

- ``all`` (the default, ``make demo``): one process holds the AMI link, routes, pops cards and
  serves every page, on an in-process bus.
- ``router``: the same, and every message for pages also goes to the broker, where web nodes
  read it; their requests are answered over it (``cti.broker.router_side``). With a router
  lease (``CTI_ROUTER_LEASE_TTL``) it waits as a standby until it holds the lease.
- ``web``: pages and sockets only (``cti.web_node_run``).
"""

from __future__ import annotations

import asyncio

from cti.assembly import DEMO_PASSWORD, DEMO_USERS, running
from cti.broker.link import BrokerLink
from cti.cluster.elector import Elector, node_identity
from cti.cluster.lease_store import LeaseStore
from cti.db import Database
from cti.settings import Settings, StartupError


class LeaseLost(Exception):
    """This node drove the PBX and lost the router's lease: it stopped without acting."""


async def run(settings: Settings, *, simulated: bool, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set (or forever).

    With a router lease (``CTI_ROUTER_LEASE_TTL``), wait as a standby until this node holds
    it, then start as a restarted product does (agents' states from the database, calls from
    Asterisk); stop at once if it is lost, raising ``LeaseLost``.
    """
    stop = stop or asyncio.Event()
    if settings.role == "web":
        from cti.web_node_run import run_web_node  # the web role needs none of the router

        await run_web_node(settings, stop)
        return
    broker = None
    if settings.role == "router":
        if not settings.broker_url:
            raise StartupError(
                "CTI_ROLE=router : indiquez le courtier que lisent les nœuds web "
                "(CTI_BROKER_URL, par exemple nats://127.0.0.1:4222)"
            )
        broker = BrokerLink(
            settings.broker_url,
            f"cti-routeur {node_identity()}",
            replicas=settings.broker_replicas,
        )
        broker.start()
    try:
        await _run_router(settings, simulated, stop, broker)
    finally:
        if broker is not None:
            await broker.drain()
            await broker.close()


async def _run_router(
    settings: Settings, simulated: bool, stop: asyncio.Event, broker: BrokerLink | None
) -> None:
    if settings.router_lease_ttl <= 0:
        await _serve(settings, simulated, stop, None, broker)
        return
    database = Database(settings.database_url)
    try:
        await asyncio.to_thread(database.migrate)
        elector = Elector(
            LeaseStore(database, settings.router_lease_name),
            ttl=settings.router_lease_ttl,
            on_deposed=lambda _token: stop.set(),
        )
        elector.start()
        try:
            elected = asyncio.create_task(elector.elected.wait())
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({elected, stopped}, return_when=asyncio.FIRST_COMPLETED)
            elected.cancel()
            stopped.cancel()
            if not stop.is_set():
                await _serve(settings, simulated, stop, elector, broker)
        finally:
            await elector.close()
    finally:
        await asyncio.to_thread(database.close)
    if elector.lost is not None:
        raise LeaseLost(
            f"ce nœud a perdu la main sur l'autocommutateur ({elector.lost}) et s'est arrêté "
            "sans agir ; relancé, il attendra en secours"
        )


async def _serve(
    settings: Settings,
    simulated: bool,
    stop: asyncio.Event,
    fence: Elector | None,
    broker: BrokerLink | None = None,
) -> None:
    async with running(settings, simulated=simulated, fence=fence, broker=broker) as product:
        if product.pbx is not None:
            print(
                f"PBX simulé (AMI) sur 127.0.0.1:{product.pbx.port}, "
                f"{settings.sim_rate:g} appels/min"
            )
            first = DEMO_USERS[0]
            print(
                f"Poste agent : {product.url}agent  — identifiant « {first[0]} », "
                f"mot de passe « {DEMO_PASSWORD} » (poste {first[2]}), puis « Prêt »."
            )
            others = ", ".join(u[0] for u in DEMO_USERS[1:])
            print(f"Autres comptes de démonstration (même mot de passe) : {others}")
            print(f"Supervision : {product.url}supervision  — identifiant « superviseur »")
            print(f"Rapports et qualité : {product.url}rapports, {product.url}qualite")
            print(f"Menu vocal (éditeur) : {product.url}ivr  — identifiant « telecom »")
            print(f"Journal d'audit : {product.url}audit  — identifiant « admin »")
        first_admin = product.first_admin
        if first_admin is not None:
            print(
                f"Premier administrateur créé : identifiant « {first_admin.account.username} », "
                f"mot de passe à usage unique « {first_admin.password} » "
                "(affiché cette fois seulement, à changer à la première connexion)."
            )
        print(f"CTI mairie : {product.url}  (Ctrl-C pour arrêter)", flush=True)
        await stop.wait()
