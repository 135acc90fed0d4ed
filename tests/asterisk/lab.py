"""A real Asterisk 22 with this repository's asterisk-conf/, the product, phones and callers.

The lab follows the install guide of asterisk-conf/README.md: the shipped files as they are,
plus the overlay beside this module (addresses, ports, the lab's AMI account). Asterisk runs
from the build of ../shared/asterisk/build.sh (``CTI_ASTERISK_PREFIX``, by default
/var/cache/cti-asterisk/22.10.1); the product runs as ``make run`` runs it (``python -m
cti.app`` with ``CTI_`` variables) in a process of its own, so a test can kill it.

Everything a test waits for is an event: an AMI event seen by the lab's own account, a
message on an agent's WebSocket, a state read back from the product's API. Timeouts are
only there to fail a test that would otherwise hang; they never decide an outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from cti.db import engine_url
from tests.asterisk.sipp import (
    Sipp,
    caller_scenario,
    free_udp_port,
    key_pcaps,
    phone_scenario,
    register_scenario,
    start_sipp,
)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "asterisk-conf"
OVERLAY = Path(__file__).resolve().parent / "overlay"
PREFIX = Path(os.environ.get("CTI_ASTERISK_PREFIX", "/var/cache/cti-asterisk/22.10.1"))
TRUNK_IP = "127.0.0.2"  # the operator (sipp callers); phones live on 127.0.0.1
ONE_TIME = "mot-de-passe-provisoire"  # given by the technician, changed at first login
PASSWORD = "mot-de-passe-du-labo"
WAIT = 60.0  # a step that takes longer than this is a failure, not a slow machine


def unavailable() -> str | None:
    """Why the real-Asterisk suite cannot run here, or None."""
    if not (PREFIX / "sbin" / "asterisk").exists():
        return f"no Asterisk build in {PREFIX} (make test-asterisk builds it)"
    if shutil.which("sipp") is None:
        return "sipp is not installed (Debian package sip-tester)"
    return None


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LabError(AssertionError):
    """A step of the lab did not happen: the message says which, with what was seen."""


# --------------------------------------------------------------------------------------------
# The lab's own AMI account: sees everything, drives Asterisk (core restart, PJSIPNotify).


class LabAmi:
    """Also writes what it reads to ``recording`` in the format of ../shared/ami-captures, so
    that ``python -m cti.replay`` shows what the tracker makes of a failed test's calls."""

    def __init__(self, port: int, recording: Path | None = None) -> None:
        self.port = port
        self.recording = recording
        self.events: list[dict[str, str]] = []
        self._changed = asyncio.Event()
        self._responses: dict[str, asyncio.Future[dict[str, str]]] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._next = 0

    async def connect(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        await reader.readline()  # banner
        self._writer = writer
        self._reader_task = asyncio.create_task(self._read(reader))
        reply = await self.action("Login", Username="lab", Secret="lab", Events="on")
        if reply.get("Response") != "Success":
            raise LabError(f"lab AMI login refused: {reply}")

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader_task

    async def _read(self, reader: asyncio.StreamReader) -> None:
        out = open(self.recording, "a", encoding="utf-8") if self.recording else None  # noqa: SIM115
        try:
            await self._frames(reader, out, asyncio.get_running_loop().time)
        finally:
            if out is not None:
                out.close()
            for future in self._responses.values():  # the link is gone: no answer will come
                if not future.done():
                    future.set_exception(ConnectionError("AMI link closed"))
            self._responses.clear()

    async def _frames(
        self, reader: asyncio.StreamReader, out: Any, clock: Callable[[], float]
    ) -> None:
        frame: dict[str, str] = {}
        raw: list[str] = []
        while line := await reader.readline():
            decoded = line.decode("utf-8", "replace")
            raw.append(decoded)
            text = decoded.rstrip("\r\n")
            if text:
                key, _, value = text.partition(":")
                key, value = key.strip(), value.strip()
                # Asterisk repeats headers (a Command's Output lines, ChanVariable): keep all.
                frame[key] = f"{frame[key]}\n{value}" if key in frame else value
                continue
            if out is not None:
                out.write(json.dumps({"t": clock(), "dir": "server", "data": "".join(raw)}) + "\n")
            raw.clear()
            if "Response" in frame and frame.get("ActionID") in self._responses:
                future = self._responses.pop(frame["ActionID"])
                if not future.done():
                    future.set_result(frame)
            elif "Event" in frame:
                self.events.append(frame)
                self._changed.set()
            frame = {}
        self._changed.set()

    async def action(self, name: str, **fields: str) -> dict[str, str]:
        assert self._writer is not None
        self._next += 1
        action_id = f"lab-{self._next}"
        future: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
        self._responses[action_id] = future
        text = f"Action: {name}\r\nActionID: {action_id}\r\n"
        text += "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
        self._writer.write(text.encode())
        return await asyncio.wait_for(future, WAIT)

    async def until(
        self, check: Callable[[dict[str, str]], bool], what: str, since: int = 0
    ) -> dict[str, str]:
        async def loop() -> dict[str, str]:
            seen = since
            while True:
                for event in self.events[seen:]:
                    if check(event):
                        return event
                seen = len(self.events)
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(loop(), WAIT)
        except TimeoutError:
            last = "\n".join(str(e) for e in self.events[-15:])
            raise LabError(f"Asterisk never sent {what}; last events:\n{last}") from None

    def mark(self) -> int:
        return len(self.events)


# --------------------------------------------------------------------------------------------
# Asterisk itself.


@dataclass
class Ports:
    sip: int = field(default_factory=free_udp_port)
    ami: int = field(default_factory=free_tcp_port)
    http: int = field(default_factory=free_tcp_port)
    agi: int = field(default_factory=free_tcp_port)
    # The citizen's phone the product calls back (sipp on the operator's address).
    citizen: int = field(default_factory=lambda: free_udp_port(TRUNK_IP))
    rtp_start: int = 0
    rtp_end: int = 0

    def __post_init__(self) -> None:
        if not self.rtp_start:
            base = 20000 + (os.getpid() % 200) * 100
            self.rtp_start, self.rtp_end = base, base + 98


class Asterisk:
    def __init__(self, folder: Path, ports: Ports, safety_net: int, agent_ring: int) -> None:
        self.folder = folder
        self.ports = ports
        self.etc = folder / "etc"
        self.run = folder / "var"
        self.data = folder / "data"
        # Asterisk's sounds directory, as on an install where the product shares the machine
        # (README: CTI_SOUNDS_DIR): the core sounds, and the product's own under cti/.
        self.sounds = self.data / "sounds"
        self.safety_net = safety_net
        self.agent_ring = agent_ring
        self.process: asyncio.subprocess.Process | None = None
        # One account for the lab's life: its events stay in one list across restarts.
        self.ami = LabAmi(ports.ami, folder / "ami-lab.jsonl")

    def write_config(self) -> None:
        """The shipped files as they are, then the overlay's text appended (see overlay/)."""
        self.etc.mkdir(parents=True, exist_ok=True)
        for sub in ("db", "keys", "spool", "run", "log"):
            (self.run / sub).mkdir(parents=True, exist_ok=True)
        shipped_data = PREFIX / "var" / "lib" / "asterisk"
        self.sounds.mkdir(parents=True, exist_ok=True)
        for entry in shipped_data.iterdir():
            if entry.name != "sounds":
                (self.data / entry.name).symlink_to(entry)
        for entry in (shipped_data / "sounds").iterdir():
            (self.sounds / entry.name).symlink_to(entry)
        values = {
            "etc": self.etc,
            "run": self.run,
            "prefix": PREFIX,
            "data": self.data,
            "ami_port": self.ports.ami,
            "sip_port": self.ports.sip,
            "agi_port": self.ports.agi,
            "citizen_port": self.ports.citizen,
            "rtp_start": self.ports.rtp_start,
            "rtp_end": self.ports.rtp_end,
            "safety_net": self.safety_net,
            "agent_ring": self.agent_ring,
        }
        for shipped in SHIPPED.glob("*.conf"):
            shutil.copy(shipped, self.etc / shipped.name)
        for extra in OVERLAY.glob("*.conf"):
            target = self.etc / extra.name
            text = extra.read_text(encoding="utf-8").format(**values)
            before = target.read_text(encoding="utf-8") if target.exists() else ""
            target.write_text(before + "\n" + text, encoding="utf-8")

    async def start(self) -> None:
        with open(self.folder / "asterisk.out", "ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                str(PREFIX / "sbin" / "asterisk"),
                "-f",
                "-n",
                "-C",
                str(self.etc / "asterisk.conf"),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        await self.connect_ami()

    async def connect_ami(self) -> None:
        for _ in range(600):
            if self.process is not None and self.process.returncode is not None:
                raise LabError(f"Asterisk exited: {self.log_tail()}")
            try:
                await self.ami.connect()
                break
            except OSError:
                await asyncio.sleep(0.1)
        else:
            raise LabError(f"Asterisk's AMI never answered: {self.log_tail()}")
        # Modules load after the AMI listens: wait until Asterisk says it has fully booted.
        reply = await self.ami.action("CoreStatus")
        if reply.get("Response") != "Success":
            raise LabError(f"CoreStatus: {reply}")
        for _ in range(600):
            status = await self.ami.action("Command", Command="core waitfullybooted")
            if status.get("Response") == "Success":
                break
            await asyncio.sleep(0.1)

    async def restart_now(self) -> None:
        """``core restart now``: every channel hung up, the same process starts again."""
        try:
            await self.ami.action("Command", Command="core restart now")
        except (TimeoutError, ConnectionError):
            pass
        await self.ami.close()
        await asyncio.sleep(0.5)  # let the old listener close before knocking again
        await self.connect_ami()

    async def command(self, text: str) -> str:
        reply = await self.ami.action("Command", Command=text)
        return reply.get("Output", "") or json.dumps(reply)

    async def stop(self) -> None:
        await self.ami.close()
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    def log_tail(self, lines: int = 60) -> str:
        out = self.folder / "asterisk.out"
        text = out.read_text(errors="replace") if out.exists() else ""
        messages = self.run / "log" / "messages.log"
        if messages.exists():
            text += messages.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------------------------
# The product, as `make run` starts it.


class Product:
    def __init__(
        self, folder: Path, ports: Ports, routing: Path, safety_net: int, sounds: Path
    ) -> None:
        self.folder = folder
        self.ports = ports
        self.url = f"http://127.0.0.1:{ports.http}"
        self.database = f"sqlite:///{folder / 'cti.db'}"
        self.env = {
            **os.environ,
            "CTI_AMI_HOST": "127.0.0.1",
            "CTI_AMI_PORT": str(ports.ami),
            "CTI_AMI_USERNAME": "cti",
            "CTI_AMI_SECRET": "change-me-cti-secret",  # asterisk-conf/manager.conf as shipped
            "CTI_AMI_RECONNECT_MAX": "2",
            "CTI_HTTP_PORT": str(ports.http),
            "CTI_AGI_PORT": str(ports.agi),
            "CTI_DATABASE_URL": self.database,
            "CTI_ROUTING_CONFIG": str(routing),
            "CTI_SAFETY_NET": str(safety_net),
            "CTI_SOUNDS_DIR": str(sounds),
            "CTI_LOG_LEVEL": "INFO",
        }
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        with open(self.folder / f"product-{self.starts}.log", "ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "cti.app",
                cwd=ROOT,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        async with httpx.AsyncClient(base_url=self.url) as client:
            for _ in range(1200):
                if self.process.returncode is not None:
                    raise LabError(f"the product exited: {self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    health = (await client.get("/healthz")).json()
                    if health.get("ami") == "ready":
                        return
                await asyncio.sleep(0.1)
        raise LabError(f"the product never reached Asterisk: {self.log_tail()}")

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(sig)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    async def until_health(self, check: Callable[[dict[str, Any]], bool], what: str) -> None:
        async with httpx.AsyncClient(base_url=self.url) as client:
            health: dict[str, Any] = {}
            for _ in range(int(WAIT * 10)):
                with contextlib.suppress(httpx.HTTPError):
                    health = (await client.get("/healthz")).json()
                    if check(health):
                        return
                await asyncio.sleep(0.1)
        raise LabError(f"/healthz never showed {what}: {health}\n{self.log_tail()}")

    def rows(self, sql: str, *params: Any) -> list[Any]:
        """Rows of the product's own database, read as a technician would (each row is read
        by column name; ``params`` in the driver's style: ``?`` for SQLite)."""
        if not self.database.startswith("sqlite:///"):
            engine = create_engine(engine_url(self.database), poolclass=NullPool)
            try:
                with engine.connect() as conn:
                    return list(conn.exec_driver_sql(sql, tuple(params)).mappings())
            finally:
                engine.dispose()
        path = self.database.removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
            db.row_factory = sqlite3.Row
            return list(db.execute(sql, params))

    def execute(self, sql: str, *params: Any) -> None:
        path = self.database.removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(path, timeout=10)) as db, db:
            db.execute(sql, params)

    async def until_rows(
        self, sql: str, check: Callable[[list[Any]], bool], what: str, *params: Any
    ) -> list[Any]:
        """Records reach the database up to a second after the event (by design): read
        until they are there."""
        for _ in range(int(WAIT * 10)):
            found = await asyncio.to_thread(self.rows, sql, *params)
            if check(found):
                return found
            await asyncio.sleep(0.1)
        raise LabError(f"the database never showed {what}: {[dict(r) for r in found]}")

    def log_tail(self, lines: int = 60) -> str:
        logs = sorted(self.folder.glob("product-*.log"))
        text = "".join(p.read_text(errors="replace") for p in logs)
        return "\n".join(text.splitlines()[-lines:])


async def first_login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    """Log in; on the first login, change the technician's one-time password as the page
    asks. Returns the headers a state-changing request needs (CSRF)."""
    reply = await client.post("/api/login", json={"username": username, "password": PASSWORD})
    if reply.status_code == 401:
        reply = await client.post("/api/login", json={"username": username, "password": ONE_TIME})
    if reply.status_code != 200:
        raise LabError(f"login {username}: {reply.status_code} {reply.text}")
    headers = {"X-CSRF-Token": reply.json()["csrf"]}
    if reply.json().get("password_change_required"):
        changed = await client.post(
            "/api/password",
            json={"current_password": ONE_TIME, "new_password": PASSWORD},
            headers=headers,
        )
        if changed.status_code not in (200, 204):
            raise LabError(f"password change {username}: {changed.status_code} {changed.text}")
    return headers


class Agent:
    """An agent at her desk: a logged-in session and her page's WebSocket."""

    def __init__(self, product: Product, username: str, extension: str) -> None:
        self.product = product
        self.username = username
        self.extension = extension
        self.client = httpx.AsyncClient(base_url=product.url)
        self.csrf = ""
        self.messages: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._socket_task: asyncio.Task[None] | None = None

    async def login(self) -> None:
        headers = await first_login(self.client, self.username)
        self.csrf = headers["X-CSRF-Token"]
        await self.open_socket()

    async def open_socket(self) -> None:
        cookie = "; ".join(f"{k}={v}" for k, v in self.client.cookies.items())
        url = self.product.url.replace("http", "ws") + "/ws/agent"
        opened = asyncio.Event()

        async def listen() -> None:
            async with websockets.connect(url, additional_headers={"Cookie": cookie}) as ws:
                opened.set()
                async for text in ws:
                    self.messages.append(json.loads(text))
                    self._changed.set()

        self._socket_task = asyncio.create_task(listen())
        await self.until(lambda m: m.get("type") == "hello", "the page's hello")
        await opened.wait()

    async def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(path, json=body, headers={"X-CSRF-Token": self.csrf})

    async def ready(self) -> None:
        reply = await self.post("/api/agent/state", {"state": "ready"})
        if reply.status_code != 200:
            raise LabError(f"{self.username} ready: {reply.status_code} {reply.text}")

    def cards(self, kind: str = "card.offered") -> list[dict[str, Any]]:
        return [m["card"] for m in self.messages if m.get("type") == kind]

    async def until(
        self, check: Callable[[dict[str, Any]], bool], what: str, since: int = 0
    ) -> dict[str, Any]:
        async def loop() -> dict[str, Any]:
            seen = since
            while True:
                for message in self.messages[seen:]:
                    if check(message):
                        return message
                seen = len(self.messages)
                self._changed.clear()
                if self._socket_task is not None and self._socket_task.done():
                    raise LabError(f"{self.username}'s page lost its socket")
                await self._changed.wait()

        try:
            return await asyncio.wait_for(loop(), WAIT)
        except TimeoutError:
            kinds = [m.get("type") for m in self.messages]
            raise LabError(
                f"{self.username}'s page never got {what}; got {kinds}\n{self.product.log_tail()}"
            ) from None

    def mark(self) -> int:
        return len(self.messages)

    async def close(self) -> None:
        if self._socket_task is not None:
            self._socket_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._socket_task
        await self.client.aclose()


# --------------------------------------------------------------------------------------------
# The lab: Asterisk, the product, phones and callers together.


class Caller:
    """A citizen on the line (one sipp call from the operator's trunk)."""

    def __init__(self, lab: Lab, sipp: Sipp, number: str, since: int) -> None:
        self.lab = lab
        self.sipp = sipp
        self.number = number
        self.since = since
        self._channel: str | None = None

    async def channel(self) -> str:
        """Her channel in Asterisk (PJSIP/operateur-...), once Asterisk has created it."""
        if self._channel is None:
            # Claimed by Uniqueid: channel names start again at 00000000 after a restart.
            claimed = self.lab.claimed_channels
            event = await self.lab.ami.until(
                lambda e: (
                    e.get("Event") == "Newchannel"
                    and e.get("Channel", "").startswith("PJSIP/operateur-")
                    and e.get("CallerIDNum") == self.number
                    and e.get("Uniqueid") not in claimed
                ),
                f"the channel of the call from {self.number}",
                since=self.since,
            )
            self._channel = event["Channel"]
            claimed.add(event["Uniqueid"])
        return self._channel

    async def tell(self) -> None:
        """Press her next key, or, once her keys are pressed, hang up (an in-dialog NOTIFY)."""
        reply = await self.lab.ami.action(
            "PJSIPNotify", Channel=await self.channel(), Option="cti-key"
        )
        if reply.get("Response") != "Success":
            raise LabError(f"PJSIPNotify to {self._channel}: {reply}")

    async def menu_listens(self, since: int = 0) -> None:
        """Wait until the voice menu asks her for keys (the AGI's GET DATA on her channel)."""
        channel = await self.channel()
        await self.lab.ami.until(
            lambda e: (
                e.get("Event") == "AGIExecStart"
                and e.get("Channel") == channel
                and e.get("Command", "").startswith("GET DATA")
            ),
            f"the menu asking {self.number} for keys",
            since=since or self.since,
        )

    async def press(self, keys: str) -> None:
        """Press ``keys`` one by one (her scenario must hold them), each heard by Asterisk
        (DTMFEnd received on her channel) before the next."""
        channel = await self.channel()
        for key in keys:
            mark = self.lab.ami.mark()
            await self.tell()
            await self.lab.ami.until(
                lambda e, pressed=key: (
                    e.get("Event") == "DTMFEnd"
                    and e.get("Channel") == channel
                    and e.get("Direction") == "Received"
                    and e.get("Digit") == pressed
                ),
                f"key {key} from {self.number}",
                since=mark,
            )

    async def hang_up(self) -> None:
        await self.tell()
        if await self.sipp.wait() != 0:
            raise LabError(f"the caller {self.number} ended badly: {self.sipp.errors()}")

    async def ended(self) -> int:
        return await asyncio.wait_for(self.sipp.wait(), WAIT)


class Lab:
    def __init__(
        self, folder: Path, routing: Path, safety_net: int = 60, agent_ring: int = 8
    ) -> None:
        self.folder = folder
        self.ports = Ports()
        self.asterisk = Asterisk(folder / "asterisk", self.ports, safety_net, agent_ring)
        self.product = Product(folder, self.ports, routing, safety_net, self.asterisk.sounds)
        self.phones: dict[str, Sipp] = {}
        self.callers: list[Sipp] = []
        self.agents: dict[str, Agent] = {}
        self._phone_ports: dict[str, int] = {}
        self.claimed_channels: set[str] = set()

    @property
    def ami(self) -> LabAmi:
        return self.asterisk.ami

    async def phone(
        self, extension: str, answer_after_ms: int | None = 1000, busy: bool = False
    ) -> None:
        """The agent's phone registers and rings/answers as told (restarted if it existed)."""
        old = self.phones.pop(extension, None)
        if old is not None:
            await old.stop()
        known = extension in self._phone_ports
        port = self._phone_ports.setdefault(extension, free_udp_port())
        folder = self.folder / "sip"
        self.phones[extension] = await start_sipp(
            f"phone-{extension}",
            folder,
            phone_scenario(answer_after_ms, busy),
            "",
            "-p",
            str(port),
            "-i",
            "127.0.0.1",
            "-mp",
            str(free_udp_port()),
        )
        if known:
            return  # same contact as before: Asterisk keeps it, nothing to register again
        mark = self.ami.mark()
        register = await start_sipp(
            f"register-{extension}",
            folder,
            register_scenario(port),
            f"127.0.0.1:{self.ports.sip}",
            "-s",
            extension,
            "-au",
            extension,
            "-ap",
            f"change-me-{extension}",  # asterisk-conf/pjsip.conf as shipped
            "-i",
            "127.0.0.1",
            "-p",
            str(free_udp_port()),
            "-m",
            "1",
        )
        if await register.wait() != 0:
            raise LabError(f"phone {extension} could not register: {register.errors()}")
        await self.ami.until(
            lambda e: (
                e.get("Event") == "ContactStatus"
                and e.get("AOR") == extension
                and e.get("ContactStatus") == "Reachable"
            ),
            f"phone {extension} reachable",
            since=mark,
        )

    async def citizen_phone(self, answer_after_ms: int | None = 500) -> Sipp:
        """The citizen's phone behind the operator's trunk, which the product calls back."""
        phone = await start_sipp(
            "citizen",
            self.folder / "sip",
            phone_scenario(answer_after_ms),
            "",
            "-p",
            str(self.ports.citizen),
            "-i",
            TRUNK_IP,
            "-mp",
            str(free_udp_port(TRUNK_IP)),
        )
        self.callers.append(phone)
        return phone

    async def phone_reachable(self, extension: str) -> None:
        """After a restart of Asterisk: the phone's registration, kept in its astdb, is
        qualified again."""
        for _ in range(int(WAIT * 10)):
            if "Avail" in await self.asterisk.command(f"pjsip show aor {extension}"):
                return
            await asyncio.sleep(0.1)
        raise LabError(f"phone {extension} never reachable again")

    async def call(
        self,
        number: str,
        *,
        did: str = "0140000000",
        withheld: bool = False,
        keys: str = "",
        patience_ms: int = 600_000,
    ) -> Caller:
        name = f"caller-{len(self.callers) + 1}"
        since = self.ami.mark()
        caller = await start_sipp(
            name,
            self.folder / "sip",
            caller_scenario(
                number,
                withheld=withheld,
                keys=key_pcaps(keys, self.folder / "sip" / name) if keys else None,
                patience_ms=patience_ms,
            ),
            f"127.0.0.1:{self.ports.sip}",
            "-s",
            did,
            "-i",
            TRUNK_IP,
            "-p",
            str(free_udp_port(TRUNK_IP)),
            "-mp",
            str(free_udp_port(TRUNK_IP)),
            "-m",
            "1",
        )
        self.callers.append(caller)
        return Caller(self, caller, number, since)

    async def agent(self, username: str, extension: str) -> Agent:
        agent = Agent(self.product, username, extension)
        await agent.login()
        self.agents[username] = agent
        return agent

    async def close(self) -> None:
        for agent in self.agents.values():
            await agent.close()
        for sipp in [*self.callers, *self.phones.values()]:
            await sipp.stop()
        await self.product.stop()
        await self.asterisk.stop()
