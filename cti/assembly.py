"""The running product: database, AMI connection, call service, router, screen pop, web app.

``running`` wires everything and yields it (the demo, ``python -m cti.app`` and the browser
tests share it); ``cti.roles.run`` keeps it up until asked to stop. With ``simulated`` the PBX
is the embedded simulator, the directory is seeded with fictitious citizens and demo accounts
exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from cti import routing_store
from cti.accounts import admin as user_admin
from cti.accounts.admin import WithPassword
from cti.agent_states import AgentStateStore, restore
from cti.ami.connection import AmiConnection
from cti.ami.events import ListedChannel
from cti.audit_trail import SYSTEM_USER
from cti.broker.answered import Answered, AnsweredStore
from cti.broker.bus import BrokerBus
from cti.broker.link import BrokerLink
from cti.broker.router_side import RouterBridge
from cti.broker.subjects import Subjects
from cti.bus import Bus
from cti.callback_offer import WaitOffers
from cti.callbacks.desk import CallbackDesk, service_calendar
from cti.callbacks.state import CallbackSettings
from cti.cluster.elector import Elector, node_identity
from cti.cluster.fenced import FencedSend
from cti.cluster.write_fence import WriteFence
from cti.db import Database
from cti.desk import DeskError
from cti.dispatch import Dispatcher
from cti.ivr_admin import IvrAdmin
from cti.loop_lag import LoopWatch
from cti.metrics import Metrics
from cti.pbxsim.simulator import SimulatedPbx
from cti.pbxsim.sounds import PbxSounds
from cti.pbxsim.traffic import DEMO_MENU_TIME, demo_agents, drive, welcome_burst
from cti.pbxsim.traffic import traffic as demo_traffic
from cti.periodic import Periodic
from cti.prompts.library import SoundLibrary
from cti.router import RouterShell
from cti.routing_admin import RoutingAdmin
from cti.service import CallService
from cti.settings import Settings, StartupError
from cti.supervision.callbacks import promised_windows
from cti.supervision.opening_hours import opening_hours
from cti.voice_menu import DEFAULT_TREE, start_voice_menu
from cti.wait_announcements import WaitAnnouncements
from cti.web.app import DeskParts, create_app
from cti.web.auth import Sessions
from cti.web.serve import serving
from cti.web.session_store import SessionStore
from cti.web.supervision_api import SupervisionFeed
from cti.what_if import Limits, WhatIfRunner
from ivr_scripts.callback_dialog import WAIT_OFFER
from ivr_scripts.commands import RecordCallback
from ivr_scripts.path_labels import menu_path_labels
from ivr_scripts.tree import TreeLimits
from routing.engine import RoutingEngine
from routing.errors import ConfigError
from screenpop import accounts
from screenpop.directory import Directory
from screenpop.directory_writes import stale_calls_write
from screenpop.hub import AgentHub
from screenpop.messages import AgentStateChanged
from screenpop.pop import ScreenPop
from screenpop.seed import seed_demo
from screenpop.spool import Spool, SpoolError
from screenpop.writer import OrderedWriter

log = logging.getLogger("cti")

SIM_SECRET = "demo-secret"
DEMO_PASSWORD = "mairie"
# (username, display name, extension or None, role)
DEMO_USERS = (
    ("marie", "Marie Lambert", "201", accounts.Role.AGENT),
    ("paul", "Paul Girard", "202", accounts.Role.AGENT),
    ("sophie", "Sophie Caron", "203", accounts.Role.AGENT),
    ("luc", "Luc Fabre", "204", accounts.Role.AGENT),
    ("claire", "Claire Morin", "205", accounts.Role.AGENT),
    ("hugo", "Hugo Renaud", "206", accounts.Role.AGENT),
    ("superviseur", "Nadia Superviseure", None, accounts.Role.SUPERVISOR),
    ("telecom", "Thierry Télécom", None, accounts.Role.TELECOM),
    ("admin", "Administrateur", None, accounts.Role.ADMIN),
)


@dataclass
class Product:
    settings: Settings
    pbx: SimulatedPbx | None
    database: Database
    service: CallService
    connection: AmiConnection
    router: RouterShell
    pop: ScreenPop
    hub: AgentHub
    agent_states: AgentStateStore
    port: int
    app: FastAPI | None = None  # the web app served on ``port`` (tests walk its routes)
    ivr: IvrAdmin | None = None  # the voice menu's versions and runs
    first_admin: WithPassword | None = None  # created at this start: its password, shown once
    callbacks: CallbackDesk | None = None  # callback requests, routed in their place
    announcements: WaitAnnouncements | None = None  # position and wait told in the wait

    @property
    def url(self) -> str:
        return f"http://{self.settings.http_host}:{self.port}/"


def prepare_database(settings: Settings, *, demo: bool) -> Database:
    """Migrate (always) and, for the demo, seed citizens and accounts (once)."""
    db = Database(settings.database_url)
    db.migrate()
    if demo:
        if seed_demo(db, settings.demo_citizens, seed=settings.sim_seed):
            log.info("annuaire de démonstration : %d administrés", settings.demo_citizens)
        for username, name, extension, role in DEMO_USERS:
            if accounts.find_user(db, username) is None:
                accounts.create_user(db, username, DEMO_PASSWORD, role, name, extension)
    return db


@contextlib.asynccontextmanager
async def running(
    settings: Settings,
    *,
    simulated: bool,
    traffic: bool = True,
    fence: Elector | None = None,
    pbx: SimulatedPbx | None = None,
    broker: BrokerLink | None = None,
) -> AsyncIterator[Product]:
    """The product, until the context exits. ``pbx`` (simulated only): a simulated PBX that
    is the caller's and outlives this product (a restart's tests: its calls go on meanwhile);
    its voice menu is pointed at this product's. Without it, a simulated product has its own.
    With ``broker`` (``CTI_ROLE=router``), pages' messages also go to the broker and web
    nodes' requests are answered (``cti.broker.router_side``)."""
    async with contextlib.AsyncExitStack() as stack:
        subjects = Subjects(settings.router_lease_name)
        token = fence.token if fence is not None and fence.token is not None else 0
        node = fence.holder if fence is not None else node_identity()

        def bus(subject: Callable[[], str], size: int = 1000, stream: bool = False) -> Bus:
            if broker is None:
                return Bus(size)
            # Stream ids unique to this process: a restart within the duplicate window does
            # not see its new events taken for the old ones.
            ids = f"{token}.{node.rsplit(':', 1)[-1]}" if stream else None
            return BrokerBus(broker, subject(), queue_size=size, stream_ids=ids)

        db = await asyncio.to_thread(prepare_database, settings, demo=simulated)
        stack.callback(db.close)
        # A real install without an active admin gets one, with a one-time password to print.
        first_admin = None
        if not simulated:
            first_admin = await asyncio.to_thread(user_admin.ensure_first_admin, db, SYSTEM_USER)
        host, port, secret = settings.ami_host, settings.ami_port, settings.ami_secret
        stored = await asyncio.to_thread(routing_store.ensure, db, settings.routing_config)
        config = stored.config
        if settings.default_service not in config.services:
            raise ConfigError(
                f"CTI_DEFAULT_SERVICE={settings.default_service!r} n'est pas un service de la "
                f"configuration du routage ({', '.join(config.services)})"
            )
        agents = list(config.agents)
        directory = Directory(db)
        # One writer for what calls, agents' notes and states leave to the database: held in
        # memory and in the spool while the database is away, written when it is back. What
        # a crash left in the spool is written first, before states and counters are read.
        spool = Spool(settings.spool_directory())
        try:
            await asyncio.to_thread(spool.check)
        except SpoolError as exc:
            raise StartupError(str(exc)) from exc
        writer = OrderedWriter(apply=directory.apply, spool=spool)
        write_fence: WriteFence | None = None
        if fence is not None and fence.token is not None:
            # Under the lease, what the active router owns (calls' records, agents' states,
            # callbacks' moves, answers kept) lands only while this node's token is the
            # lease's: a deposed node that wakes up cannot overwrite its successor's records
            # (``cti.cluster.write_fence``; README « Leadership with fencing »).
            write_fence = WriteFence(fence.store, fence.token)
            directory.fence = write_fence
            writer.token = fence.token
        await writer.recover()
        dispatcher = Dispatcher(RoutingEngine(config), settings.default_service)
        # The voice menu: the published tree (checked against the services of the routing
        # configuration in force), each call's path to ivr_runs and to the agent's card.
        # Its prompts are voiced by recordings or speech synthesis, written where Asterisk
        # reads them (CTI_SOUNDS_DIR) or served to it over HTTP (CTI_SOUNDS_URL).
        sounds = SoundLibrary(
            settings.sounds_dir,
            settings.sounds_url,
            settings.tts_voice,
            settings.recording_max_seconds,
        )
        ivr = IvrAdmin(
            db,
            lambda: dispatcher.engine.config.services,
            case_lookup=lambda ref: case.status if (case := directory.case_status(ref)) else None,
            on_menu_path=lambda call_id, path: pop.menu_path(call_id, path),
            sounds=sounds,
            limits=TreeLimits(max_bytes=settings.ivr_max_bytes, max_nodes=settings.ivr_max_nodes),
            check_timeout=settings.ivr_check_timeout,
            writer=writer,
        )
        ivr.fence = write_fence
        await ivr.start(DEFAULT_TREE)
        stack.push_async_callback(ivr.close)
        # The menu's callback requests go to the callbacks desk, built once the router is.
        callbacks: CallbackDesk | None = None

        def menu_callback(uniqueid: str, record: RecordCallback) -> None:
            if callbacks is not None:
                callbacks.from_menu(uniqueid, record)

        if simulated:
            # Any free port, given to the simulated PBX; its menu lives on a Tuesday morning
            # (DEMO_MENU_TIME) so that the demo's callers reach the agents at any hour.
            menu = await start_voice_menu(
                "127.0.0.1",
                0,
                ivr,
                directory,
                clock=lambda: DEMO_MENU_TIME,
                on_callback=menu_callback,
            )
        else:
            menu = await start_voice_menu(
                settings.agi_host, settings.agi_port, ivr, directory, on_callback=menu_callback
            )
        stack.push_async_callback(menu.wait_closed)
        stack.callback(menu.close)
        if not simulated:
            pbx = None
        elif pbx is not None:
            pbx.telephony.agi_address = menu.sockets[0].getsockname()[:2]
            host, port, secret = "127.0.0.1", pbx.port, SIM_SECRET
        else:
            pbx = SimulatedPbx(
                secret=SIM_SECRET,
                agents=demo_agents(agents, seed=settings.sim_seed),
                time_scale=settings.sim_time_scale,
                seed=settings.sim_seed,
                agi_address=menu.sockets[0].getsockname()[:2],
                # Same machine: it reads our sounds directory; else it fetches our URLs.
                sounds=PbxSounds(() if settings.sounds_url else (settings.sounds_dir,)),
            )
            await pbx.start()
            stack.push_async_callback(pbx.close)
            host, port, secret = "127.0.0.1", pbx.port, SIM_SECRET
            if traffic:
                # Drawn as it goes: no week of calls planned (and held) at start.
                calls = demo_traffic(
                    settings.sim_rate, services=list(config.services), seed=settings.sim_seed
                )
                task = asyncio.create_task(drive(pbx, calls), name="traffic")
                stack.callback(task.cancel)
        service = CallService(bus=bus(lambda: subjects.events, stream=True))
        hub = AgentHub(bus_for=lambda agent, size: bus(lambda: subjects.agent(agent), size))
        stack.callback(hub.close)
        labels = {name: spec.label for name, spec in config.services.items()}

        def wrap_up(name: str | None) -> float:
            spec = dispatcher.engine.config.services.get(name or "")
            return spec.wrap_up_s if spec is not None else 0.0

        # Colleagues by name: the routing's agents, else the accounts' holders (read at start).
        staff = await asyncio.to_thread(accounts.names_by_extension, db)

        def agent_name(agent: str) -> str | None:
            spec = dispatcher.engine.config.agents.get(agent)
            return spec.name if spec is not None else staff.get(agent)

        pop = ScreenPop(
            directory,
            hub,
            service_labels=labels,
            agent_names=agent_name,
            # In the words of the menu published now (the one the caller went through).
            menu_labels=lambda path: menu_path_labels(ivr.tree(), path, labels),
            wrap_up=wrap_up,
            writer=writer,
            clock=time.time,  # the AMI connection's: a card late by seconds says so
        )
        service.add_listener(pop.on_event)
        pop_task = asyncio.create_task(pop.run(), name="screen-pop")
        stack.callback(pop_task.cancel)
        stack.push_async_callback(pop.close)  # before the cancel: pending records are written
        params = dataclasses.replace(settings.ami_params(host, port), secret=secret)
        resyncs = 0

        def on_resync(channels: Iterable[ListedChannel], at: float) -> None:
            nonlocal resyncs
            service.on_resync(channels, at)
            resyncs += 1
            if resyncs == 1:
                # The first view of Asterisk since this start: the calls recorded in progress
                # that it no longer has ended while the product was down (in order, after the
                # spool's replay and before any record of a call seen from now on).
                live = [call.call_id for call in service.tracker.active_calls]
                writer.submit(stale_calls_write(live))

        conn = AmiConnection(
            params,
            service.on_ami_event,
            on_resync,
            service.on_link_state,
            on_devices=service.on_devices,
        )
        metrics = Metrics(ami_reconnects=lambda: conn.reconnects)
        service.add_listener(metrics.on_event)
        service.on_handled = metrics.observe_received
        # How late the product runs (the loop itself, the AMI events): /metrics and an alert.
        watch = LoopWatch()
        watch.start()
        stack.push_async_callback(watch.close)

        states = AgentStateStore(db, writer)
        stack.callback(states.close)
        saved = await asyncio.to_thread(states.load)

        supervision: SupervisionFeed | None = None

        # The demo's newcomer (the first agent) says « Prêt » for the first time: a few calls
        # at once (traffic.welcome_burst), so her first card comes within seconds.
        welcome_pending = simulated and traffic and pbx is not None
        welcome_tasks: set[asyncio.Task[int]] = set()
        stack.callback(lambda: [task.cancel() for task in welcome_tasks])

        def welcome(agent: str, state: str) -> None:
            nonlocal welcome_pending
            if not welcome_pending or agent != agents[0] or state != "ready" or pbx is None:
                return
            welcome_pending = False
            targets = {s.service: s.free for s in router.transfer_targets(agent).services}
            if "etat-civil" in targets:
                burst = welcome_burst(len(targets["etat-civil"]))
                task = asyncio.create_task(drive(pbx, burst), name="welcome-calls")
                welcome_tasks.add(task)
                task.add_done_callback(welcome_tasks.discard)

        def tell_agent(agent: str, state: str, reason: str | None) -> None:
            hub.send(agent, AgentStateChanged(agent=agent, state=state, reason=reason), keep=False)
            states.remember(agent, state, reason)
            if supervision is not None:
                supervision.on_agent_state(agent, state, reason)
            welcome(agent, state)

        router = RouterShell(
            service,
            # Under a lease, nothing reaches Asterisk once this node may have lost it.
            conn.send if fence is None else FencedSend(conn.send, fence),
            dispatcher,
            time.time,
            on_agent_state=tell_agent,
            safety_net=settings.safety_net,
        )
        if simulated and not saved:
            # The demo's colleagues are at their desks; the first agent is the newcomer's,
            # logged out until they say "Prêt".
            saved = {agent: ("ready", None) for agent in agents[1:]}
        # Before the AMI link is up: the resync's waiting callers find their agents.
        restore(router, saved)
        # The wallboard, after the restore (it starts from the agents' states); opening hours
        # come from the published menu, on the menu's clock.
        supervision = SupervisionFeed(
            lambda: router.engine,
            time.time,
            default_service=settings.default_service,
            is_open=opening_hours(ivr.tree, (lambda _at: DEMO_MENU_TIME) if simulated else None),
            pending_writes=lambda: writer.pending_writes,
            sl_min_calls=settings.sl_alert_min_calls,
            sl_clear_margin_pct=settings.sl_alert_clear_margin,
            citizen_of=pop.citizen_name,
            why=router.why,
            lag=lambda: max(watch.last, metrics.recent_lag()),
            bus=bus(lambda: subjects.supervision),
        )
        service.add_listener(supervision.on_event)
        await supervision.refill(db)
        supervision.start()
        stack.push_async_callback(supervision.close)
        stack.push_async_callback(router.close)
        # Callbacks: the services' calendars of the published menu (the demo's menu lives on
        # a fixed Tuesday morning: its callbacks are due at any hour).
        callbacks = CallbackDesk(
            db,
            router,
            hub,
            conn.send_list if fence is None else FencedSend(conn.send_list, fence),
            calendar=(lambda _s: None) if simulated else service_calendar(ivr.tree),
            service_label=lambda name: labels.get(name, name),
            menu_labels=lambda path: menu_path_labels(ivr.tree(), list(path), labels),
            citizen=directory.citizen,
            clock=time.time,
            speech=sounds.speech,
            default_service=settings.default_service,
            settings=CallbackSettings(agent_ring_s=settings.callback_agent_ring),
        )
        callbacks.fence = write_fence
        await callbacks.start()
        pop.callback_headline = callbacks.call_headline
        supervision.callback_windows = lambda: promised_windows(callbacks.pending())
        stack.push_async_callback(callbacks.close)
        offers = WaitOffers(router, lambda: callbacks.prompts.get(WAIT_OFFER, ""), time.time)
        offers.start()
        stack.push_async_callback(offers.close)
        announcements = WaitAnnouncements(router, sounds.speech, time.time)
        announcements.start()
        stack.push_async_callback(announcements.close)
        router.start()
        conn.start()
        stack.push_async_callback(conn.close)
        admin = RoutingAdmin(db, router, labels, settings.default_service)
        admin.fence = write_fence
        what_if = WhatIfRunner(
            db, Limits(settings.whatif_max_calls, settings.whatif_max_days, settings.whatif_timeout)
        )
        # Logged-in browsers in the database too: a restart or the standby taking over does not
        # log anybody out.
        sessions = Sessions(store=SessionStore(db))
        keeper = Periodic(60.0, sessions.keep, "sessions' sweep")
        keeper.start()
        stack.push_async_callback(sessions.close_store)
        stack.push_async_callback(keeper.close)
        app = create_app(
            service,
            DeskParts(
                db,
                directory,
                pop,
                hub,
                router,
                admin,
                ivr,
                supervision,
                voice_menu=menu,
                callbacks=callbacks,
                what_if=what_if,
                sessions=sessions,
            ),
            metrics=metrics,
            metrics_token=settings.metrics_token,
            trusted_proxies=settings.trusted_proxies,
            cookie_secure=settings.cookie_secure,
        )
        app.state.loop_watch = watch
        app.state.write_fence = write_fence
        app.state.broker = broker
        if broker is not None:
            bridge = RouterBridge(
                broker,
                subjects,
                token,
                app,
                sessions,
                agent_view=lambda agent: _agent_view(router, hub, agent),
                supervision=lambda: supervision.snapshot().model_dump(mode="json"),
                live=lambda: service.snapshot() | {"names": supervision.names()},
                until_ready=lambda: conn.wait_ready(3.0),
                node=node,
                answered=Answered(AnsweredStore(db, write_fence)),
            )
            app.state.answered = bridge.answered
            await bridge.start()
            stack.push_async_callback(bridge.close)
        bound = await stack.enter_async_context(
            serving(app, settings.http_host, settings.http_port)
        )
        # Everything built so far (modules, app, configuration) lives as long as the process:
        # out of the collector's sight, a full collection scans only what calls and pages
        # made since (it took 70 to 150 ms with them, and a card waiting behind it).
        gc.freeze()
        stack.callback(gc.unfreeze)
        yield Product(
            settings,
            pbx,
            db,
            service,
            conn,
            router,
            pop,
            hub,
            states,
            bound,
            app,
            ivr,
            first_admin,
            callbacks,
            announcements,
        )


def _agent_view(desk: RouterShell, hub: AgentHub, agent: str) -> dict[str, Any]:
    """What an agent's page gets first on a web node: her state and her current card."""
    try:
        state, reason = desk.agent_state(agent)
    except DeskError:  # a new account whose phone the routing does not know yet
        state, reason = "offline", None
    return {"state": state, "reason": reason, "current": hub.current(agent)}
