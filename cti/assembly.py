"""The running product: AMI connection, call service, router and web app, wired together.

``run`` is shared by ``python -m cti.demo`` (embedded simulated PBX and traffic when no
``CTI_AMI_HOST`` is set) and ``python -m cti.app`` (a real Asterisk).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time

from cti.ami.connection import AmiConnection
from cti.pbxsim.simulator import SimulatedPbx
from cti.pbxsim.traffic import demo_agents, drive, schedule
from cti.router import LongestIdlePolicy, RouterShell
from cti.service import CallService
from cti.settings import Settings
from cti.web.app import create_app
from cti.web.serve import serving

log = logging.getLogger("cti")

SIM_SECRET = "demo-secret"


async def run(settings: Settings, *, simulated: bool, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set (or forever)."""
    stop = stop or asyncio.Event()
    async with contextlib.AsyncExitStack() as stack:
        host, port, secret = settings.ami_host, settings.ami_port, settings.ami_secret
        if simulated:
            pbx = SimulatedPbx(
                secret=SIM_SECRET,
                agents=demo_agents(settings.agent_extensions, seed=settings.sim_seed),
                time_scale=settings.sim_time_scale,
                seed=settings.sim_seed,
            )
            await pbx.start()
            stack.push_async_callback(pbx.close)
            host, port, secret = "127.0.0.1", pbx.port, SIM_SECRET
            calls = schedule(settings.sim_rate, 7 * 24 * 3600, seed=settings.sim_seed)
            traffic = asyncio.create_task(drive(pbx, calls), name="traffic")
            stack.callback(traffic.cancel)
            print(f"PBX simulé (AMI) sur 127.0.0.1:{port}, {settings.sim_rate:g} appels/min")
        service = CallService()
        params = dataclasses.replace(settings.ami_params(host, port), secret=secret)
        conn = AmiConnection(params, service.on_ami_event, service.on_resync, service.on_link_state)
        router = RouterShell(
            service, conn.send, LongestIdlePolicy(settings.agent_extensions), time.time
        )
        stack.push_async_callback(router.close)
        conn.start()
        stack.push_async_callback(conn.close)
        app = create_app(service)
        bound = await stack.enter_async_context(
            serving(app, settings.http_host, settings.http_port)
        )
        print(
            f"CTI mairie : http://{settings.http_host}:{bound}/  (Ctrl-C pour arrêter)", flush=True
        )
        await stop.wait()
