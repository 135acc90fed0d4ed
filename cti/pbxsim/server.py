"""The simulated PBX's AMI server: a real TCP server speaking AMI like Asterisk 22.

Sessions follow the recordings byte for byte where it matters to a client: the banner,
Challenge/Login (MD5 and plain), the one-second delay and the closed socket after a bad secret,
``Permission denied`` before login, ``Events`` masks, EventList responses, and the texts of every
error. Actions act on :class:`~cti.pbxsim.pbx.Telephony`, whose events are fanned out here to
every logged-in session whose read rights and event mask accept their class. What the EventList
actions list is ``listings``'s; how an Originate goes is ``originate``'s. A session that stops
reading is closed as Asterisk closes it (``writetimeout``: ``session_output``), instead of its
events piling up in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import time
from dataclasses import dataclass, field

from cti.ami.frames import Frame, FrameSplitter, encode_frame
from cti.pbxsim import listings, originate
from cti.pbxsim.channels import Channel, Headers, event
from cti.pbxsim.originate import Destination
from cti.pbxsim.pbx import Telephony
from cti.pbxsim.session_output import WRITE_TIMEOUT, SessionOutput

log = logging.getLogger(__name__)

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
VERSION = "Asterisk 22.10.1 built by cti @ pbxsim on a x86_64 running Linux"
# asterisk-conf/manager.conf gives the CTI user these read classes; dialplan events stay out.
DEFAULT_READ = frozenset({"system", "call", "user", "agent"})
_QUEUED = "Originate successfully queued"


@dataclass(eq=False)
class Session:
    writer: asyncio.StreamWriter
    output: SessionOutput  # every byte to the client goes through it
    logged_in: bool = False
    challenge: str | None = None
    mask: frozenset[str] | None = None  # None: every class the user may read
    login: int = 0  # this session's rank among the logins (1: the first), 0 before its login

    def wants(self, privilege: str, read: frozenset[str]) -> bool:
        classes = {c for c in privilege.split(",") if c != "all"}
        allowed = classes & read
        if self.mask is not None:
            allowed &= self.mask
        return bool(allowed)


@dataclass(eq=False)
class AmiServer:
    """AMI over TCP in front of a :class:`Telephony`; listener and sessions only."""

    telephony: Telephony
    username: str = "cti"
    secret: str = "cti-secret"
    read: frozenset[str] = DEFAULT_READ
    auth_delay: float = 1.0  # Asterisk's delay before answering a bad login
    write_timeout: float = WRITE_TIMEOUT  # manager.conf's writetimeout, in seconds
    host: str = "127.0.0.1"
    port: int = 0
    sessions: list[Session] = field(default_factory=list)
    logins: int = 0
    dropped: int = 0  # sessions closed because their client stopped reading
    #: Every action a logged-in session sent, as (its login rank, action name in lower case):
    #: what tests read to tell which client drove the PBX, and when.
    actions: list[tuple[int, str]] = field(default_factory=list)
    globals: dict[str, str] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)
    #: Events held back (``hold_events``), each with its privilege, in order; None: none held.
    held: list[tuple[str, bytes]] | None = None
    _server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """The AMI side goes away (listener and sessions closed); calls stay up."""
        if self._server is not None:
            self._server.close()
        for session in list(self.sessions):
            session.writer.close()
        self.sessions.clear()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def emit(self, headers: Headers) -> None:
        privilege = headers[1][1] if len(headers) > 1 and headers[1][0] == "Privilege" else ""
        data = encode_frame(headers)
        if self.held is not None:
            self.held.append((privilege, data))
            return
        self._fan_out(privilege, data)

    def hold_events(self) -> None:
        """Events wait from now on; answers to actions do not. Asterisk sends events through
        stasis, whose queues fall behind under load, while a session answers its action at
        once: ``ast_hangup`` takes the channel out of the container long before its final
        snapshot becomes the ``Hangup`` event, so a Setvar can get « No such channel » before
        the client has heard the channel hang up."""
        if self.held is None:
            self.held = []

    def release_events(self) -> None:
        """Send the held events, in order, and stop holding them."""
        held, self.held = self.held or [], None
        for privilege, data in held:
            self._fan_out(privilege, data)

    def _fan_out(self, privilege: str, data: bytes) -> None:
        for session in self.sessions:
            if session.logged_in and session.wants(privilege, self.read):
                session.output.write(data)

    def inject(self, data: bytes) -> None:
        """Raw bytes to every logged-in session: malformed-frame tests."""
        for session in self.sessions:
            if session.logged_in:
                session.output.write(data)

    # ------------------------------------------------------------------ sessions

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        output = SessionOutput(
            writer, lambda waiting: self._drop(session, waiting), self.write_timeout
        )
        session = Session(writer, output)
        self.sessions.append(session)
        session.output.write(BANNER)
        splitter = FrameSplitter()
        try:
            while data := await reader.read(65536):
                for frame in splitter.feed(data.decode("utf-8", "replace")):
                    if not await self._action(session, frame):
                        return
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            session.output.cancel()
            with contextlib.suppress(ValueError):
                self.sessions.remove(session)
            writer.close()

    def _drop(self, session: Session, waiting: int) -> None:
        """What Asterisk does when a write times out: the session ends, its socket closes."""
        with contextlib.suppress(ValueError):
            self.sessions.remove(session)
        self.dropped += 1
        host, port = session.writer.get_extra_info("peername") or ("?", 0)
        log.warning(
            "Simulated PBX: the AMI client %s:%s (user %s) stopped reading: %d bytes of events "
            "wait for it and none was taken in %g ms (manager.conf writetimeout), so the session "
            "is closed as Asterisk closes it (\"Manager '%s' logged off from %s\"); "
            "the client must reconnect and resynchronise",
            host,
            port,
            self.username,
            waiting,
            self.write_timeout * 1000,
            self.username,
            host,
        )
        session.writer.transport.abort()

    def _reply(self, s: Session, aid: str | None, *headers: tuple[str, str]) -> None:
        out = [headers[0]] + ([("ActionID", aid)] if aid else []) + list(headers[1:])
        s.output.write(encode_frame(out))

    def _error(self, s: Session, aid: str | None, message: str) -> None:
        self._reply(s, aid, ("Response", "Error"), ("Message", message))

    async def _action(self, s: Session, frame: Frame) -> bool:
        h = frame.as_dict()
        name, aid = h.get("Action", "").lower(), h.get("ActionID")
        if name == "challenge":
            s.challenge = str(random.randint(100000000, 999999999))
            self._reply(s, aid, ("Response", "Success"), ("Challenge", s.challenge))
        elif name == "login":
            return await self._login(s, h, aid)
        elif name == "logoff":
            self._reply(s, aid, ("Response", "Goodbye"), ("Message", "Thanks for all the fish."))
            await s.writer.drain()
            return False
        elif not s.logged_in:
            self._error(s, aid, "Permission denied")
        else:
            self.actions.append((s.login, name))
            handler = _ACTIONS.get(name)
            if handler is None:
                self._error(
                    s,
                    aid,
                    f"Invalid/unknown command: {h.get('Action', '')}. "
                    "Use Action: ListCommands to show available commands.",
                )
            else:
                handler(self, s, frame, aid)
        return True

    async def _login(self, s: Session, h: dict[str, str], aid: str | None) -> bool:
        if h.get("AuthType", "").lower() == "md5" and s.challenge:
            expected = hashlib.md5((s.challenge + self.secret).encode()).hexdigest()
            good = h.get("Key", "") == expected
        else:
            good = h.get("Secret") == self.secret
        if not (good and h.get("Username") == self.username):
            await asyncio.sleep(self.auth_delay)
            self._error(s, aid, "Authentication failed")
            await s.writer.drain()
            return False
        s.logged_in = True
        s.mask = _mask(h.get("Events", "on"))
        self.logins += 1
        s.login = self.logins
        self._reply(s, aid, ("Response", "Success"), ("Message", "Authentication accepted"))
        uptime = str(int(time.time() - self.started_at))
        if s.wants("system,all", self.read):
            s.output.write(
                encode_frame(
                    [
                        ("Event", "FullyBooted"),
                        ("Privilege", "system,all"),
                        ("Uptime", uptime),
                        ("LastReload", uptime),
                        ("Status", "Fully Booted"),
                    ]
                )
            )
        return True

    # ------------------------------------------------------------------ actions

    def _ping(self, s: Session, f: Frame, aid: str | None) -> None:
        self._reply(s, aid, ("Response", "Success"), ("Ping", "Pong"), ("Timestamp", _now()))

    def _events(self, s: Session, f: Frame, aid: str | None) -> None:
        s.mask = _mask(f.get("EventMask", "on") or "on")
        self._reply(
            s, aid, ("Response", "Success"), ("Events", "Off" if s.mask == frozenset() else "On")
        )

    def _channel(self, s: Session, f: Frame, aid: str | None, missing: str) -> Channel | None:
        chan = self.telephony.find_channel(f.get("Channel", "") or "")
        if chan is None:
            self._error(s, aid, missing)
        return chan

    def _setvar(self, s: Session, f: Frame, aid: str | None) -> None:
        variable, value = f.get("Variable", "") or "", f.get("Value", "") or ""
        if not f.get("Channel"):
            self.globals[variable] = value
            self.emit(
                [
                    ("Event", "VarSet"),
                    ("Privilege", "dialplan,all"),
                    ("Channel", "none"),
                    ("Uniqueid", "none"),
                    ("Variable", variable),
                    ("Value", value),
                ]
            )
            self._reply(s, aid, ("Response", "Success"), ("Message", "Variable Set"))
            return
        chan = self._channel(s, f, aid, "No such channel")
        if chan is not None:
            chan.variables[variable.lstrip("_")] = value
            self.emit(event("VarSet", chan, ("Variable", variable), ("Value", value)))
            self._reply(s, aid, ("Response", "Success"), ("Message", "Variable Set"))

    def _getvar(self, s: Session, f: Frame, aid: str | None) -> None:
        variable = f.get("Variable", "") or ""
        if not f.get("Channel"):
            key = variable[7:-1] if variable.startswith("GLOBAL(") else variable
            value = self.globals.get(key, "")
        else:
            chan = self._channel(s, f, aid, "No such channel")
            if chan is None:
                return
            value = _channel_value(chan, variable, self.telephony)
        self._reply(s, aid, ("Response", "Success"), ("Variable", variable), ("Value", value))

    def _redirect(self, s: Session, f: Frame, aid: str | None) -> None:
        name = f.get("Channel", "") or ""
        chan = self.telephony.find_channel(name)
        if chan is None:
            self._error(s, aid, f"Channel does not exist: {name}")
            return
        self._reply(s, aid, ("Response", "Success"), ("Message", "Redirect successful"))
        self.telephony.redirect(chan, f.get("Context", "") or "", f.get("Exten", "") or "")

    def _transfer_channel(self, s: Session, f: Frame, aid: str | None) -> Channel | None:
        """The channel of a BlindTransfer/Atxfer, checked in Asterisk's order and words."""
        name, exten = f.get("Channel", "") or "", f.get("Exten", "") or ""
        chan = self.telephony.find_channel(name)
        if not name:
            self._error(s, aid, "No channel specified")
        elif not exten:
            self._error(s, aid, "No extension specified")
        elif chan is None:
            self._error(s, aid, "Channel specified does not exist")
        return chan if name and exten else None

    def _atxfer(self, s: Session, f: Frame, aid: str | None) -> None:
        chan = self._transfer_channel(s, f, aid)
        if chan is not None:
            self._reply(s, aid, ("Response", "Success"), ("Message", "Atxfer successfully queued"))
            self.telephony.atxfer(chan, f.get("Context", "") or "", f.get("Exten", "") or "")

    def _blind_transfer(self, s: Session, f: Frame, aid: str | None) -> None:
        chan = self._transfer_channel(s, f, aid)
        context, exten = f.get("Context", "") or "", f.get("Exten", "") or ""
        if chan is None:
            return
        if not self.telephony.can_blind_transfer(chan, context):
            self._error(s, aid, "Transfer failed")
        else:
            self._reply(s, aid, ("Response", "Success"), ("Message", "Transfer succeeded"))
            self.telephony.blind_transfer(chan, context, exten)

    def _hangup(self, s: Session, f: Frame, aid: str | None) -> None:
        chan = self._channel(s, f, aid, "No such channel")
        if chan is not None:
            self._reply(s, aid, ("Response", "Success"), ("Message", "Channel Hungup"))
            self.telephony.hangup_channel(chan)

    def _event_list(self, s: Session, f: Frame, aid: str | None) -> None:
        """The EventList actions (``listings``): start, the items, ``<X>Complete``."""
        name = (f.get("Action", "") or "").lower()
        tel, list_id = self.telephony, aid or ""
        try:
            if name == "coreshowchannels":
                listing = listings.core_show_channels(tel, list_id)
            elif name == "status":
                channel, variables = f.get("Channel", "") or "", f.get("Variables", "") or ""
                listing = listings.status(tel, channel, variables, list_id)
            elif name == "bridgelist":
                listing = listings.bridge_list(tel, list_id)
            elif name == "bridgeinfo":
                listing = listings.bridge_info(tel, f.get("BridgeUniqueid", "") or "", list_id)
            elif name == "devicestatelist":
                listing = listings.device_state_list(tel, list_id)
            elif name == "queuestatus":
                listing = listings.queue_status(tel, f.get("Queue", "") or "", list_id)
            else:
                listing = listings.queue_summary(tel, f.get("Queue", "") or "", list_id)
        except listings.NotListed as refused:
            self._error(s, aid, str(refused))
            return
        self._reply(
            s, aid, ("Response", "Success"), ("EventList", "start"), ("Message", listing.message)
        )
        for item in listing.items:
            s.output.write(encode_frame(item))
        s.output.write(encode_frame(listings.complete_event(listing, list_id)))

    def _command(self, s: Session, f: Frame, aid: str | None) -> None:
        command = (f.get("Command", "") or "").strip()
        if command == "core show version":
            lines = [VERSION]
        elif command == "core show channels":
            count = len(self.telephony.channels)
            lines = [
                f"{'Channel':<65}{'Location':<33}{'State':<8}{'Application(Data)':<30}",
                f"{count} active channels",
                f"{len(self.telephony.calls)} active calls",
                f"{self.telephony.calls_processed} calls processed",
            ]
        else:
            words = " ".join(command.split()[:2])
            self._reply(
                s,
                aid,
                ("Response", "Error"),
                ("Message", "Command output follows"),
                (
                    "Output",
                    f"No such command '{command}' "
                    f"(type 'core show help {words}' for other possible commands)",
                ),
            )
            return
        self._reply(
            s,
            aid,
            ("Response", "Success"),
            ("Message", "Command output follows"),
            *[("Output", line) for line in lines],
        )

    def _user_event(self, s: Session, f: Frame, aid: str | None) -> None:
        self._reply(s, aid, ("Response", "Success"), ("Message", "Event Sent"))
        body = [(k, v) for k, v in f.headers if k not in ("Action", "UserEvent", "ActionID")]
        self.emit(
            [
                ("Event", "UserEvent"),
                ("Privilege", "user,all"),
                ("UserEvent", f.get("UserEvent", "") or ""),
            ]
            + ([("ActionID", aid)] if aid else [])
            + body
        )

    def _originate(self, s: Session, f: Frame, aid: str | None) -> None:
        try:
            request = originate.parse(f)
        except originate.Refused as refused:
            self._error(s, aid, str(refused))
            return
        if originate.destination(self.telephony, request) is not Destination.CITIZEN:

            def outcome(success: bool, reason: int, chan: Channel | None) -> None:
                if request.asynchronous:
                    self.emit(originate.response_event(request, success, reason, chan))
                elif success:
                    self._reply(s, aid, ("Response", "Success"), ("Message", _QUEUED))
                else:
                    self._error(s, aid, "Originate failed")

            if request.asynchronous:
                self._reply(s, aid, ("Response", "Success"), ("Message", _QUEUED))
            originate.run(self.telephony, request, outcome)
            return
        variables = request.variables
        self._reply(s, aid, ("Response", "Success"), ("Message", _QUEUED))
        call = self.telephony.place_call(
            request.caller_num,
            request.caller_name,
            did=request.target.removeprefix("Local/").split("@", 1)[0],
            service=variables.get("SERVICE", "etat-civil"),
            withheld=variables.get("PRES", "") == "prohib",
            talk=float(variables["TALK"]) if "TALK" in variables else 60.0,
            # the lab's per-call knob: through the voice menu (FastAGI), pressing nothing
            keys="" if variables.get("USE_AGI") == "1" else None,
            announce=False,  # the lab's dialplan did not say the presentation as it entered
        )
        self.emit(originate.response_event(request, True, originate.REASON_ANSWERED, call.citizen))


def _channel_value(chan: Channel, variable: str, telephony: Telephony) -> str:
    functions = {
        "CALLERID(num)": chan.cid_num,
        "CALLERID(name)": chan.cid_name,
        "CALLERID(pres)": "",
    }
    if variable == "CALLERID(pres)":
        call = telephony.call_of(chan)
        return call.pres if call is not None else "allowed_not_screened"
    if variable in functions:
        return functions[variable]
    return chan.variables.get(variable.lstrip("_"), "")


def _mask(value: str) -> frozenset[str] | None:
    value = value.strip().lower()
    if value in ("on", "yes", "true", ""):
        return None
    if value in ("off", "no", "false"):
        return frozenset()
    return frozenset(part.strip() for part in value.split(",") if part.strip())


def _now() -> str:
    return f"{time.time():.6f}"


_ACTIONS = {
    "ping": AmiServer._ping,
    "events": AmiServer._events,
    "setvar": AmiServer._setvar,
    "getvar": AmiServer._getvar,
    "redirect": AmiServer._redirect,
    "hangup": AmiServer._hangup,
    "blindtransfer": AmiServer._blind_transfer,
    "atxfer": AmiServer._atxfer,
    "coreshowchannels": AmiServer._event_list,
    "status": AmiServer._event_list,
    "bridgelist": AmiServer._event_list,
    "bridgeinfo": AmiServer._event_list,
    "queuestatus": AmiServer._event_list,
    "devicestatelist": AmiServer._event_list,
    "queuesummary": AmiServer._event_list,
    "command": AmiServer._command,
    "userevent": AmiServer._user_event,
    "originate": AmiServer._originate,
}
