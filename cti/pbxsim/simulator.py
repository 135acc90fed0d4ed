"""``SimulatedPbx``: the telephony and its AMI server, started and stopped together or apart.

Stopping the AMI side while calls stay up is what a network cut or an AMI reload looks like to
the CTI; ``restart()`` is ``core restart now``: calls hung up, ``Shutdown``, sessions closed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cti.pbxsim.channels import Headers
from cti.pbxsim.pbx import LAB_AGENTS, AgentPhone, SimCall, Telephony
from cti.pbxsim.server import DEFAULT_READ, AmiServer
from cti.pbxsim.sounds import PbxSounds


class SimulatedPbx:
    def __init__(
        self,
        *,
        username: str = "cti",
        secret: str = "cti-secret",
        host: str = "127.0.0.1",
        port: int = 0,
        agents: dict[str, AgentPhone] | None = None,
        time_scale: float = 1.0,
        safety_net: float = 60.0,
        auth_delay: float = 1.0,
        read: frozenset[str] = DEFAULT_READ,
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
        agi_address: tuple[str, int] | None = None,
        sounds: PbxSounds | None = None,
    ) -> None:
        self.telephony = Telephony(
            self._emit,
            agents=dict(LAB_AGENTS if agents is None else agents),
            time_scale=time_scale,
            safety_net=safety_net,
            clock=clock,
            seed=seed,
            agi_address=agi_address,
            sounds=sounds,
        )
        self.ami = AmiServer(
            self.telephony,
            username=username,
            secret=secret,
            read=read,
            auth_delay=auth_delay,
            host=host,
            port=port,
        )
        self.emitted: list[Headers] = []
        self.keep_emitted = False

    @property
    def port(self) -> int:
        return self.ami.port

    @property
    def calls(self) -> list[SimCall]:
        return list(self.telephony.calls)

    @property
    def logins(self) -> int:
        return self.ami.logins

    async def start(self) -> None:
        await self.ami.start()

    async def stop_ami(self) -> None:
        """The AMI server goes away; the calls in progress stay up."""
        await self.ami.stop()

    async def start_ami(self) -> None:
        """The AMI server comes back on the same port."""
        await self.ami.start()

    async def restart(self) -> None:
        """``core restart now``: every call is hung up, ``Shutdown`` sent, sessions closed."""
        await self.telephony.shutdown()
        self.telephony.reset_counters()  # Uniqueids count from .0 again (recordings 17, 18)
        self._emit(
            [
                ("Event", "Shutdown"),
                ("Privilege", "system,all"),
                ("Shutdown", "Cleanly"),
                ("Restart", "True"),
            ]
        )
        await self.ami.stop()
        self.ami.started_at = time.time()
        await self.ami.start()

    async def close(self) -> None:
        await self.telephony.shutdown()
        await self.ami.stop()

    def place_call(
        self,
        caller_number: str,
        caller_name: str = "",
        *,
        did: str = "0140000000",
        service: str = "etat-civil",
        withheld: bool = False,
        talk: float | None = 60.0,
        keys: str | None = None,
        trunk: bool = False,
    ) -> SimCall:
        """A citizen calls; with ``keys`` (and a FastAGI server) through the voice menu;
        ``trunk``: from a SIP trunk, the number in ``Newchannel`` even when ``withheld``."""
        return self.telephony.place_call(
            caller_number,
            caller_name,
            did=did,
            service=service,
            withheld=withheld,
            talk=talk,
            keys=keys,
            trunk=trunk,
        )

    def hangup_call(self, call: SimCall) -> None:
        self.telephony.hangup_call(call)

    def hold_events(self) -> None:
        """Events wait, answers to actions do not: Asterisk's stasis behind under load."""
        self.ami.hold_events()

    def release_events(self) -> None:
        self.ami.release_events()

    def inject(self, data: bytes) -> None:
        self.ami.inject(data)

    def _emit(self, headers: Headers) -> None:
        if self.keep_emitted:
            self.emitted.append(headers)
        self.ami.emit(headers)
