"""Asterisk's side of FastAGI for the simulated PBX: the ``AGI()`` step of ``from-pstn``.

Theory of operation (as recorded on Asterisk 22.10.1, ``ami-captures/agi-0*.jsonl``): the
channel opens a TCP connection to the menu server, sends the environment block (``agi_x: y``
lines ending with ``\\n``, an empty line; two TCP writes), then answers one command line at a
time with one reply line. Commands that play or listen take time on the channel (a sound file,
the caller typing); if the caller hangs up meanwhile the command ends with ``result=-1``, the
unsolicited ``HANGUP`` line comes before the next reply, and from then on only the commands
Asterisk allows on a dead channel (variables, VERBOSE, NOOP, EXEC) are served; the others get
``511``. The script's own ``HANGUP`` ends the call. An unreachable server fails the AGI
(``AGISTATUS=FAILURE``) and the dialplan goes on with its defaults.

The pure part (``env_block``, ``respond``, ``dead_reply``, ``take_keys``: ``agi_commands``)
turns a command line, what the channel knows and the keys the simulated caller still has to
press into a ``Step``: the reply, how long the command lasts (simulated seconds) and its
effect. ``run_agi`` (here) is the socket shell around it; it knows the call only through an
``AgiLeg``. What the caller heard (``heard``: sound files actually played, text said by an
application) is appended to ``AgiLeg.heard``, the call's ``SimCall.heard``, so a test can
check the menu's words; Asterisk keeps no such record and the replies do not change.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from cti.pbxsim.agi_commands import (
    AgiEnv,
    Lookup,
    dead_reply,
    env_block,
    exec_end,
    exec_start,
    heard,
    interrupted,
    respond,
)
from cti.pbxsim.channels import Channel, Headers
from cti.pbxsim.sounds import PbxSounds, is_url

CONNECT_TIMEOUT = 2.0  # real seconds, as res_agi's MAX_AGI_CONNECT
DEAD_GRACE = 5.0  # real seconds a script may go on after the hangup before we close
CALLING_PRES = {"allowed_not_screened": "0", "prohib": "35", "unavailable": "67"}


class AgiStatus(Enum):
    """``AGISTATUS`` after the AGI: how it ended."""

    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    HANGUP = "HANGUP"


@dataclass(eq=False)
class AgiLeg:
    """What the AGI needs of the call: the channel, its variables and the caller's state."""

    chan: Channel
    env: AgiEnv
    keys: str  # what the simulated caller will press, in order
    gone: asyncio.Event  # the caller hung up
    lookup: Lookup  # a variable or function of the channel
    set_var: Callable[[str, str], None]  # SET VARIABLE on the channel (VarSet and all)
    emit: Callable[[Headers], None]
    on_caller_gone: Callable[[], None]  # the caller's half hangs up (noticed by the AGI)
    time_scale: float = 1.0
    heard: list[str] = field(default_factory=list)  # what the caller heard, in order
    sounds: PbxSounds = field(default_factory=PbxSounds)  # the PBX's sound files


@dataclass(frozen=True, slots=True)
class AgiResult:
    status: AgiStatus
    caller_hung_up: bool = False
    script_hung_up: bool = False


class _Session:
    """One AGI run over one connection."""

    def __init__(
        self, leg: AgiLeg, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.leg, self.reader, self.writer = leg, reader, writer
        self.keys = leg.keys
        self.dead = False
        self.caller_hung_up = self.script_hung_up = False
        self.hangup_line_due = False

    def _caller_left(self) -> None:
        if not self.caller_hung_up:
            self.caller_hung_up = self.dead = True
            self.leg.on_caller_gone()

    async def _write(self, text: str) -> None:
        self.writer.write(text.encode())
        await self.writer.drain()

    async def _next_line(self) -> bytes:
        """The script's next command; a caller hanging up meanwhile is told at once."""
        read = asyncio.ensure_future(self.reader.readline())
        if not self.dead:
            gone = asyncio.ensure_future(self.leg.gone.wait())
            done, _ = await asyncio.wait({read, gone}, return_when=asyncio.FIRST_COMPLETED)
            gone.cancel()
            if read in done:
                return read.result()
            self._caller_left()
            await self._write("HANGUP\n")
        try:
            return await asyncio.wait_for(read, DEAD_GRACE)
        except TimeoutError:
            return b""

    async def _play(self, seconds: float) -> float | None:
        """Let a command take its time; the simulated seconds elapsed if the caller left."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        scale = max(self.leg.time_scale, 1e-9)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.leg.gone.wait(), seconds * scale)
            return (loop.time() - began) / scale
        return None

    async def run(self) -> None:
        for chunk in env_block(self.leg.env):
            await self._write(chunk)
        while True:
            raw = await self._next_line()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            await self._command(line)

    async def _command(self, line: str) -> None:
        leg = self.leg
        command_id = str(random.randrange(1, 2**31))  # as Asterisk's ast_random()
        if self.dead:
            if self.hangup_line_due:
                self.hangup_line_due = False
                await self._write("HANGUP\n")
            reply, set_var = dead_reply(line, leg.lookup)
            leg.emit(exec_start(leg.chan, command_id, line))
            if set_var is not None:
                leg.set_var(*set_var)
            await self._write(reply + "\n")
            leg.emit(exec_end(leg.chan, command_id, line, reply))
            return
        said = heard(line)
        language = leg.chan.language
        if said is not None and is_url(said):
            await leg.sounds.fetch(said)
        step, self.keys = respond(
            line, leg.lookup, self.keys, leg.chan.state, lambda n: leg.sounds.seconds(n, language)
        )
        leg.emit(exec_start(leg.chan, command_id, line))
        played = not line.upper().startswith(("STREAM FILE", "GET DATA"))
        if said is not None and (played or leg.sounds.seconds(said, language) is not None):
            leg.heard.append(said)
        reply = step.reply
        if step.seconds > 0:
            elapsed = await self._play(step.seconds)
            if elapsed is not None:
                self._caller_left()
                self.hangup_line_due = True  # Asterisk says so with the next reply
                reply = interrupted(step, elapsed)
        if step.set_var is not None:
            leg.set_var(*step.set_var)
        await self._write(reply + "\n")
        leg.emit(exec_end(leg.chan, command_id, line, reply))
        if step.hangup:
            self.script_hung_up = self.dead = True
            await self._write("HANGUP\n")


async def run_agi(address: tuple[str, int], leg: AgiLeg) -> AgiResult:
    """Run the AGI step against the FastAGI server at ``address``; never raises for I/O."""
    host, port = address
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port), CONNECT_TIMEOUT
        )
    except (OSError, TimeoutError):
        return AgiResult(AgiStatus.FAILURE, caller_hung_up=leg.gone.is_set())
    session = _Session(leg, reader, writer)
    try:
        await session.run()
    except (ConnectionError, OSError):
        pass  # the script went away mid-write: the AGI ends there, as in Asterisk
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
    if session.script_hung_up or session.caller_hung_up or leg.gone.is_set():
        return AgiResult(AgiStatus.HANGUP, leg.gone.is_set(), session.script_hung_up)
    return AgiResult(AgiStatus.SUCCESS)


def new_env(chan: Channel, address: tuple[str, int], pres: str, args: tuple[str, ...]) -> AgiEnv:
    """The environment of ``chan`` running ``AGI(agi://host:port/ivr,args...)`` now."""
    host, port = address
    return AgiEnv(
        request=f"agi://{host}:{port}/ivr",
        channel=chan.name,
        uniqueid=chan.uniqueid,
        callerid=chan.cid_num,
        calleridname=chan.cid_name,
        callingpres=CALLING_PRES.get(pres, "0"),
        context=chan.context,
        extension=chan.exten,
        priority=chan.priority,
        args=args,
        language=chan.language,
        threadid=threading.get_ident(),
    )


def channel_value(chan: Channel, pres: str, name: str) -> str | None:
    """``GET VARIABLE name`` on ``chan``: the functions the menu reads, else a variable."""
    functions = {
        "CALLERID(num)": chan.cid_num,
        "CALLERID(name)": chan.cid_name,
        "CALLERID(pres)": pres,
        "CHANNEL(linkedid)": chan.linkedid,
        "CHANNEL(uniqueid)": chan.uniqueid,
        "CHANNEL(name)": chan.name,
        "CHANNEL(language)": chan.language,
        "EXTEN": chan.exten,
        "CONTEXT": chan.context,
        "UNIQUEID": chan.uniqueid,
    }
    if name in functions:
        return functions[name]
    if name.endswith(")"):
        return None
    return chan.variables.get(name)
