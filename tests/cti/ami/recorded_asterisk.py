"""A TCP server answering AMI the way the recordings show Asterisk 22 does.

Just the session layer the connection needs (banner, Challenge/Login, Ping, Getvar,
CoreShowChannels, DeviceStateList, Logoff, errors), with the exact texts of the recordings,
plus hooks for tests: push recorded event bytes, inject raw bytes, go silent, drop the link,
restart on the same port. The call flows themselves are the simulated PBX's job (cti/simulated_pbx).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
from dataclasses import dataclass, field

from cti.ami.frames import FrameSplitter, encode_frame

BANNER = b"Asterisk Call Manager/11.0.0\r\n"


@dataclass
class Session:
    writer: asyncio.StreamWriter
    logged_in: bool = False
    challenge: str | None = None


@dataclass
class RecordedAsterisk:
    username: str = "cti"
    secret: str = "cti-secret"
    auth_delay: float = 0.05  # Asterisk waits 1.0 s; tests need not
    channels: list[list[tuple[str, str]]] = field(default_factory=list)
    variables: dict[tuple[str, str], str] = field(default_factory=dict)
    answer_pings: bool = True
    offer_md5: bool = True
    after_login: bytes = b""  # sent right after FullyBooted, before any other answer
    # DeviceStateList's answer (device, state), as res_manager_devicestate.c writes it; None:
    # an Asterisk without that module (the action is unknown).
    devices: list[tuple[str, str]] | None = None
    # Getvar answers withheld until this many Getvars are waiting (then all answered, in
    # order): a client that waits for each answer before the next question never gets one.
    getvars_together: int = 0
    port: int = 0
    sessions: list[Session] = field(default_factory=list)
    logins: int = 0
    login_attempts: int = 0
    actions: list[str] = field(default_factory=list)
    logged_in: asyncio.Event = field(default_factory=asyncio.Event)
    _server: asyncio.Server | None = None
    _withheld: list[tuple[Session, str | None, dict[str, str]]] = field(default_factory=list)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """The AMI side goes away: listener and sessions closed, no Shutdown event."""
        if self._server is not None:
            self._server.close()
        for session in self.sessions:
            session.writer.close()
        self.sessions.clear()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def drop(self) -> None:
        """The link breaks (a cable, a firewall): sessions closed, the listener stays."""
        for session in self.sessions:
            session.writer.close()
        self.sessions.clear()

    async def push(self, data: bytes) -> None:
        for session in self.sessions:
            if session.logged_in:
                session.writer.write(data)
                await session.writer.drain()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(writer)
        self.sessions.append(session)
        writer.write(BANNER)
        splitter = FrameSplitter()
        try:
            while data := await reader.read(65536):
                for frame in splitter.feed(data.decode("utf-8", "replace")):
                    if not await self._action(session, dict(frame.headers)):
                        return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(ValueError):
                self.sessions.remove(session)
            writer.close()

    def _getvar(self, s: Session, aid: str | None, h: dict[str, str]) -> None:
        key = (h.get("Channel", ""), h.get("Variable", ""))
        known = {dict(c).get("Channel") for c in self.channels}
        if key[0] and key[0] not in known:
            self._reply(s, aid, ("Response", "Error"), ("Message", "No such channel"))
        else:
            self._reply(
                s,
                aid,
                ("Response", "Success"),
                ("Variable", key[1]),
                ("Value", self.variables.get(key, "")),
            )

    def _reply(self, session: Session, action_id: str | None, *headers: tuple[str, str]) -> None:
        first, rest = headers[0], list(headers[1:])
        out = [first] + ([("ActionID", action_id)] if action_id else []) + rest
        session.writer.write(encode_frame(out))

    async def _action(self, s: Session, h: dict[str, str]) -> bool:
        name, aid = h.get("Action", ""), h.get("ActionID")
        self.actions.append(name)
        if name == "Challenge" and not self.offer_md5:
            self._reply(s, aid, ("Response", "Error"), ("Message", "Must specify AuthType"))
        elif name == "Challenge":
            s.challenge = str(random.randint(100000000, 999999999))
            self._reply(s, aid, ("Response", "Success"), ("Challenge", s.challenge))
        elif name == "Login":
            self.login_attempts += 1
            if h.get("AuthType", "").lower() == "md5" and s.challenge:
                good = h.get("Key") == hashlib.md5((s.challenge + self.secret).encode()).hexdigest()
            else:
                good = h.get("Secret") == self.secret
            good = good and h.get("Username") == self.username
            if not good:
                await asyncio.sleep(self.auth_delay)
                self._reply(s, aid, ("Response", "Error"), ("Message", "Authentication failed"))
                await s.writer.drain()
                return False
            s.logged_in = True
            self.logins += 1
            self._reply(s, aid, ("Response", "Success"), ("Message", "Authentication accepted"))
            s.writer.write(
                encode_frame(
                    [
                        ("Event", "FullyBooted"),
                        ("Privilege", "system,all"),
                        ("Uptime", "128"),
                        ("LastReload", "128"),
                        ("Status", "Fully Booted"),
                    ]
                )
            )
            s.writer.write(self.after_login)
            self.logged_in.set()
        elif not s.logged_in:
            self._reply(s, aid, ("Response", "Error"), ("Message", "Permission denied"))
        elif name == "Ping":
            if self.answer_pings:
                self._reply(s, aid, ("Response", "Success"), ("Ping", "Pong"), ("Timestamp", "1.0"))
        elif name == "CoreShowChannels":
            self._reply(
                s,
                aid,
                ("Response", "Success"),
                ("EventList", "start"),
                ("Message", "Channels will follow"),
            )
            for item in self.channels:
                s.writer.write(
                    encode_frame([("Event", "CoreShowChannel"), ("ActionID", aid or "")] + item)
                )
            s.writer.write(
                encode_frame(
                    [
                        ("Event", "CoreShowChannelsComplete"),
                        ("ActionID", aid or ""),
                        ("EventList", "Complete"),
                        ("ListItems", str(len(self.channels))),
                    ]
                )
            )
        elif name == "DeviceStateList" and self.devices is not None:
            self._reply(
                s,
                aid,
                ("Response", "Success"),
                ("EventList", "start"),
                ("Message", "Device State Changes will follow"),
            )
            for device, state in self.devices:
                item = [("Event", "DeviceStateChange"), ("ActionID", aid or "")]
                s.writer.write(encode_frame([*item, ("Device", device), ("State", state)]))
            s.writer.write(
                encode_frame(
                    [
                        ("Event", "DeviceStateListComplete"),
                        ("ActionID", aid or ""),
                        ("EventList", "Complete"),
                        ("ListItems", str(len(self.devices))),
                    ]
                )
            )
        elif name == "Getvar":
            self._withheld.append((s, aid, h))
            if len(self._withheld) >= self.getvars_together:
                withheld, self._withheld = self._withheld, []
                for session, action_id, headers in withheld:
                    self._getvar(session, action_id, headers)
        elif name == "Redirect":
            channel = h.get("Channel", "")
            self._reply(
                s, aid, ("Response", "Error"), ("Message", f"Channel does not exist: {channel}")
            )
        elif name == "Logoff":
            self._reply(s, aid, ("Response", "Goodbye"), ("Message", "Thanks for all the fish."))
            await s.writer.drain()
            return False
        else:
            self._reply(
                s,
                aid,
                ("Response", "Error"),
                (
                    "Message",
                    f"Invalid/unknown command: {name}. Use Action: ListCommands to show "
                    "available commands.",
                ),
            )
        await s.writer.drain()
        return True
