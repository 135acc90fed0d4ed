"""The simulated PBX's telephony: calls, agents' phones and the town hall's dialplan.

It plays the contract of asterisk-conf/extensions.conf the way the recordings show Asterisk
22 doing it with Local channels: the citizen's call is a ``Local/<DID>@from-pstn`` pair (``;1``
is the citizen's handset, ``;2`` runs the dialplan), or with ``trunk`` one
``PJSIP/trunk-...`` channel whose ``Newchannel`` carries the caller ID while its presentation
may be restricted (a trunk's ``Privacy: id``, which raises no event: ``citizen`` and ``leg``
are then the same channel). The project's ``from-pstn`` first says the presentation
(``CtiCallerId``); the lab's dialplan, which Originates play (``announce=False``), did not.
It waits in ``cti-wait`` announcing
``CtiWaiting``, the router's ``Setvar AGENT`` + ``Redirect`` to ``cti-connect`` dials
``Local/<AGENT>@agents`` (every phone of ``AGENTS`` at once: ``ring_together``); no answer
or busy says ``CtiNoAnswer`` and goes back to waiting;
after the safety-net delay without a Redirect, ``CtiSafetyNet`` and the ``accueil`` queue
(``safety_queue``). A Redirect to ``cti-overflow`` says ``CtiOverflow``, plays the voicemail
or callback message and hangs up (``overflow``). Originates other than a citizen's call are
``originate``'s. The agent's phone, rung and then talking, is ``agent_calls``'s.

With a FastAGI server configured (``agi_address``) and keys planned for the caller, the call
first runs the project's ``from-pstn`` (asterisk-conf/extensions.conf) through the real voice
menu (``agi_client``): the menu sets ``CTI_IVR_CHOICE``/``CTI_PRIORITY``, the dialplan's
defaults fill what it did not, ``IVR_RESULT=done`` hangs up, anything else waits in
``cti-wait``. Without them the service is set directly, as in the lab's recordings.

Every event goes to ``emit`` (the AMI server fans it out to sessions). Durations are in
simulated seconds, multiplied by ``time_scale`` for the real ``asyncio.sleep``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cti.pbxsim import (
    agent_calls,
    callback_call,
    from_pstn,
    overflow,
    own_calls,
    ring_together,
    safety_queue,
    transfers,
    wait_announce,
    wait_callback,
)
from cti.pbxsim.channels import Channel, Headers, dial_event, event, local_bridge
from cti.pbxsim.phones import PhoneStates
from cti.pbxsim.sounds import PbxSounds
from cti.pbxsim.switch import Switch


@dataclass(slots=True)
class AgentPhone:
    """How an agent's phone behaves when rung (simulated seconds)."""

    ring: float = 2.0
    talk: float = 6.0
    answers: bool = True
    busy: bool = False
    miss_ratio: float = 0.0  # share of rings left unanswered (away from the desk)
    transfer_ratio: float = 0.0  # share of calls blind-transferred to a colleague (demo)


# The lab's agents (see the captures' README): Marie, Paul, Sophie, Luc, Claire, Hugo.
LAB_AGENTS = {
    "201": AgentPhone(ring=2, talk=6),
    "202": AgentPhone(answers=False),
    "203": AgentPhone(busy=True),
    "204": AgentPhone(ring=1, talk=30),
    "205": AgentPhone(ring=2, talk=5),
    "206": AgentPhone(ring=1, talk=20),
}


@dataclass(eq=False)
class SimCall:
    linkedid: str
    citizen: Channel  # ;1, the citizen's handset
    leg: Channel  # ;2, runs the town hall's dialplan
    service: str
    did: str
    pres: str
    talk: float | None  # the citizen hangs up this long after the call is answered by the PBX
    keys: str | None = None  # DTMF the citizen will type in the voice menu (None: no menu)
    announces: bool = True  # from-pstn said the presentation first (CtiCallerId)
    # Keys she types if offered a callback while waiting: "1" then the dialogue's ("1": confirm)
    wait_keys: str | None = None
    heard: list[str] = field(default_factory=list)  # the voice menu's words and sound files
    priority: str | None = None  # CTI_PRIORITY, once the voice menu's dialplan has set it
    redirected: asyncio.Event = field(default_factory=asyncio.Event)
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    agent_hung_up: asyncio.Event = field(default_factory=asyncio.Event)
    transferred: asyncio.Event = field(default_factory=asyncio.Event)
    transfer_to: str | None = None  # extension in [transfer] of a pending blind transfer
    transferer: tuple[Channel, Channel, str] | None = None  # blind: agent's pair, old bridge
    attended_to: tuple[str, str] | None = None  # context, exten of a pending Atxfer
    consult_legs: tuple[Channel, Channel] | None = None  # the colleague's pair during an Atxfer
    target_hung_up: asyncio.Event = field(default_factory=asyncio.Event)
    talk_deadline: float | None = None  # loop time when the talking agent's phone hangs up
    merged: bool = False  # the agent is there by an attended transfer (caller-ID quirks)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    agent_legs: tuple[Channel, Channel] | None = None
    stage: str = "ivr"
    overflow: bool = False  # redirected to cti-overflow rather than cti-connect
    agent: str | None = None
    queued_agent: str | None = None  # answered through the safety-net queue
    answered_at: float | None = None
    wait_start: int | None = None  # WAIT_START: whole seconds, as the dialplan's ${EPOCH}
    waiting_from: float | None = None  # the same instant, exact: the safety net's count
    first_slice_until: float | None = None  # clock time the short first slice of music ends
    task: asyncio.Task[None] | None = None

    @property
    def channel(self) -> str:
        return self.leg.name


class Telephony(Switch):
    def __init__(
        self,
        emit: Callable[[Headers], None],
        agents: dict[str, AgentPhone] | None = None,
        time_scale: float = 1.0,
        safety_net: float = 60.0,
        queue_members: tuple[str, ...] = ("202", "201"),
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
        agi_address: tuple[str, int] | None = None,
        sounds: PbxSounds | None = None,
    ) -> None:
        super().__init__(self._emit_and_watch, time_scale, clock)
        self._send = emit
        # The phones' device states follow their channels' events (``phones``).
        self.phones = PhoneStates(lambda: self.channels.values(), lambda: self.agents, emit)
        self.agi_address = agi_address  # the voice menu's FastAGI server, if any
        self.sounds = sounds or PbxSounds()  # the sound files the menu can play
        self.rng = random.Random(seed)
        self.agents = dict(LAB_AGENTS if agents is None else agents)
        self.safety_net = safety_net
        self.queue = safety_queue.AccueilQueue(queue_members, int(clock()))
        self.calls: list[SimCall] = []
        self.originations: set[asyncio.Task[None]] = set()  # Originates to agents' phones
        # Callbacks (extensions.conf's cti-callback): how each number answers, who was dialled.
        self.called_back: dict[str, callback_call.CalledBack] = {}
        self.dialled_back: list[str] = []
        self.calls_processed = 0

    def _emit_and_watch(self, headers: Headers) -> None:
        self._send(headers)
        self.phones.after(headers)

    # ------------------------------------------------------------------ calls

    def own_call(self, extension: str, number: str) -> own_calls.OwnCall:
        """Agent ``extension`` calls ``number`` herself, outside the town hall's dialplan
        (a colleague's extension or an outside number); answered at once."""
        return own_calls.place(self, extension, number)

    def end_own_call(self, call: own_calls.OwnCall) -> None:
        own_calls.hang_up(self, call)

    def place_call(
        self,
        caller_number: str,
        caller_name: str = "",
        did: str = "0140000000",
        service: str = "etat-civil",
        withheld: bool = False,
        talk: float | None = 60.0,
        keys: str | None = None,
        trunk: bool = False,
        announce: bool = True,
        wait_keys: str | None = None,
    ) -> SimCall:
        """A citizen calls the town hall (what the lab's Originate did).

        With ``keys`` and a FastAGI server, she goes through the voice menu typing them
        (``agi_commands.take_keys``) and ``service`` is what the menu chooses; otherwise she
        is put straight into ``service``. ``trunk``: she comes from a SIP trunk (one channel,
        the number in its ``Newchannel`` even when ``withheld``); ``announce``: the dialplan
        says the presentation as the call enters (``CtiCallerId``, the project's from-pstn).
        """
        if withheld:
            pres = "prohib_not_screened" if trunk else "prohib"
        else:
            pres = "allowed_not_screened" if caller_number else "unavailable"
        if trunk:
            one = two = self._trunk_channel(did, caller_number, caller_name)
        else:
            one, two = self._local_pair(f"{did}@from-pstn", None)
        call = SimCall(one.linkedid, one, two, service, did, pres, talk, keys, announces=announce)
        call.wait_keys = wait_keys
        self.calls.append(call)
        self.calls_processed += 1
        if not trunk:
            if caller_number or caller_name:
                self._set_caller_id(one, caller_number, caller_name, "allowed_not_screened")
                self._set_connected(one, caller_number, caller_name)
                self._set_caller_id(two, caller_number, caller_name, "allowed_not_screened")
                self._set_connected(two, caller_number, caller_name)
            self.emit(local_bridge(one, two, "from-pstn", did))
            self.emit(dial_event("DialBegin", None, one, ("DialString", f"{did}@from-pstn")))
        if announce:  # from-pstn's first step, before the menu
            self._user_event(two, "CtiCallerId", ("DID", did), ("Pres", pres))
        self._state(two, 6)
        if not trunk:
            self._state(one, 6)
            self.emit(dial_event("DialEnd", None, one, ("DialStatus", "ANSWER")))
            self._goto(one, "citizen", "talk", 1)
        call.task = asyncio.create_task(self._run(call), name=f"call-{call.linkedid}")
        return call

    def hangup_call(self, call: SimCall) -> None:
        call.gone.set()

    def find_channel(self, name: str) -> Channel | None:
        return self.channels.get(name)

    def call_of(self, chan: Channel) -> SimCall | None:
        return next((c for c in self.calls if c.linkedid == chan.linkedid), None)

    async def _wait_any(self, call: SimCall, seconds: float | None, *events: asyncio.Event) -> str:
        """Wait for the citizen to hang up, one of ``events``, or the delay: which one came."""
        waiters = {asyncio.create_task(call.gone.wait()): "gone"}
        for i, ev in enumerate(events):
            waiters[asyncio.create_task(ev.wait())] = f"event{i}"
        timeout = None if seconds is None else seconds * self.time_scale
        done, pending = await asyncio.wait(
            waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        if not done:
            return "timeout"
        results = {waiters[t] for t in done}
        return "gone" if "gone" in results else sorted(results)[0]

    async def _run(self, call: SimCall) -> None:
        try:
            await self._dialplan(call)
        finally:
            call.ended.set()
            self.changed.set()
            with contextlib.suppress(ValueError):
                self.calls.remove(call)

    async def _citizen_timer(self, call: SimCall) -> None:
        if call.talk is not None:
            await self.sleep(call.talk)
            call.gone.set()

    async def _dialplan(self, call: SimCall) -> None:
        leg = call.leg
        timer = asyncio.create_task(self._citizen_timer(call))
        try:
            if self.agi_address is not None and call.keys is not None:
                if not await from_pstn.voice_menu(self, call, self.agi_address, call.keys):
                    return
            else:
                self._exten(leg, "Answer", "")
                self._var(leg, "__CTI_DID", call.did)
                self._var(leg, "__CTI_IVR_CHOICE", call.service)
                self._var(leg, "__CTI_LANG", "fr")
                if await self._wait_any(call, 0.5) == "gone":
                    return self._citizen_hangs_up(call)
            await self._route(call)
        finally:
            timer.cancel()

    async def answered_elsewhere(self, call: SimCall) -> None:
        """A call whose citizen is already talking to ``call.agent`` (a callback placed by
        the product): from there on it lives as any call (transfers, back to waiting)."""
        self.calls.append(call)
        timer = asyncio.create_task(self._citizen_timer(call))
        try:
            await self._route(call, "ANSWER", call.agent or "")
        finally:
            timer.cancel()
            call.ended.set()
            self.changed.set()
            with contextlib.suppress(ValueError):
                self.calls.remove(call)

    async def _route(self, call: SimCall, status: str | None = None, agent: str = "") -> None:
        """cti-wait, cti-connect and transfers until the call ends; with ``status`` ANSWER
        it enters already connected to ``agent``."""
        leg = call.leg
        agents = agent  # the phones cti-connect's Dial rings (AGENTS), for CtiNoAnswer
        while True:
            if status is None:
                outcome = await self._wait(call)
                if outcome == "gone":
                    return self._citizen_hangs_up(call)
                if outcome == "safety":
                    return await safety_queue.run(self, call)
                if outcome == "callback":
                    if await wait_callback.run(self, call):
                        return
                    continue
                if call.overflow:
                    return await overflow.run(self, call)
                rung = ring_together.agents_of(leg.variables)
                agent = leg.variables.get("AGENT") or (rung[0] if rung else "")
                self._goto(leg, "cti-connect", "s", 2)
                # The project's router sets AGENTS and its dialplan says it; the lab's
                # recordings (AGENT only) did not.
                agents = "&".join(rung) if "AGENTS" in leg.variables else ""
                said = (("Agents", agents),) if agents else ()
                self._user_event(leg, "CtiConnecting", ("Agent", agent), *said)
                if len(rung) > 1:  # one Dial of several phones: the first to answer
                    status, agent = await ring_together.dial_together(self, call, rung)
                else:
                    status = await agent_calls.dial(self, call, agent, "s")
            while status == "ANSWER":
                target = await agent_calls.connected(self, call)
                if target is None:
                    return
                if transfers.is_service(target):  # waits for that service now
                    transfers.to_service(self, call, target)
                    status = "WAIT"
                    break
                agent, status = target, await agent_calls.dial(self, call, target, target)
            if status == "WAIT":
                status = None
                continue
            if status == "GONE":
                return
            busy, dialled, status = status == "BUSY", status, None
            context = "transfer" if call.transfer_to else "cti-connect"
            self._goto(leg, context, call.transfer_to or "s", 6)
            call.transfer_to = None
            rang = (("Agents", agents),) if context == "cti-connect" and agents else ()
            self._user_event(leg, "CtiNoAnswer", ("Agent", agent), *rang, ("DialStatus", dialled))
            leg.variables.pop("AGENT", None)
            leg.variables.pop("AGENTS", None)
            if context == "transfer":  # her talk was no wait: the net's whole delay again
                transfers.rewait(self, call)
            if busy and call.agent_legs is not None:
                pending_busy = call.agent_legs[1]
                self._enter_wait(call)
                self.emit(event("SoftHangupRequest", pending_busy, ("Cause", "16")))
                self._hangup(pending_busy, 17)
                call.agent_legs = None

    def _enter_wait(self, call: SimCall) -> None:
        leg = call.leg
        self._goto(leg, "cti-wait", "s", 1)
        if call.wait_start is None:
            call.waiting_from = self.clock()
            call.wait_start = int(call.waiting_from)
            self._var(leg, "WAIT_START", str(call.wait_start))
        call.stage = "waiting"
        call.redirected.clear()
        self._goto(leg, "cti-wait", "s", 3)
        self._user_event(
            leg,
            "CtiWaiting",
            ("DID", call.did),
            ("Service", call.service),
            ("Pres", call.pres),
            ("Since", str(call.wait_start)),
            # the project's dialplan (after the voice menu) says more than the lab's did
            *(
                ()
                if call.priority is None
                else (("CtiPriority", call.priority), ("Lang", leg.variables.get("CTI_LANG", "")))
            ),
        )
        wait_announce.entered(self, call)
        leg.application, leg.app_data = "Wait", str(int(self.safety_net))
        self.changed.set()

    async def _wait(self, call: SimCall) -> str:
        """In cti-wait until redirected, the citizen leaves, or the safety net.

        As in the dialplan, the music plays in slices and the deadline is read again after
        each one: ``CTI_SAFETY`` (seconds since the wait began, pushed forward by a live
        service, in the service's real seconds) or else ``safety_net`` (simulated seconds).
        """
        if call.stage != "waiting":
            self._enter_wait(call)
        assert call.waiting_from is not None
        scale = max(self.time_scale, 1e-9)
        while True:
            pushed = call.leg.variables.get("CTI_SAFETY", "")
            # Exact real seconds: the truncated WAIT_START would cost up to a second, i.e.
            # far more than the whole net at a small time scale.
            remain = safety_queue.safety_remaining(
                pushed, call.waiting_from, self.clock(), self.safety_net * scale
            )
            if remain <= 0:
                return "safety"
            if call.leg.variables.get(wait_announce.SOUND_VARIABLE):
                outcome = await wait_announce.play(self, call)
            else:
                if wait_callback.takes_offer(call):  # cti-wait's key 1, at the end of a slice
                    return "callback"
                until = wait_announce.slice_end(call, self.clock())  # real seconds, or None
                real = min(remain, 15.0 * scale, until if until is not None else math.inf)
                outcome = await self._wait_any(call, real / scale, call.redirected)
            if outcome != "timeout":
                return "gone" if outcome == "gone" else "redirect"

    def _citizen_hangs_up(self, call: SimCall) -> None:
        self._hangup_requests(call.citizen, call.leg)
        self._hangup(call.citizen, 16)
        self.emit(event("SoftHangupRequest", call.leg, ("Cause", "16")))
        self._hangup(call.leg, 16)

    # ------------------------------------------------------------------ router actions

    def redirect(self, chan: Channel, context: str, exten: str) -> None:
        """The AMI Redirect: the waiting caller goes to ``context``."""
        call = self.call_of(chan)
        routed = context in ("cti-connect", "cti-overflow") and exten == "s"
        if call is not None and chan is call.leg and routed:
            if call.stage == "waiting":
                call.overflow = context == "cti-overflow"
                call.redirected.set()
            return
        # Anywhere else (an extension that does not exist): the channel just goes away, and
        # its Local half with it (recording 18).
        self.emit(event("SoftHangupRequest", chan, ("Cause", "16")))
        if call is not None and chan is call.leg:
            self.emit(event("HangupRequest", call.citizen, ("Cause", "0")))
        self._goto(chan, context, exten)
        self._hangup(chan, 0)
        if call is not None and chan is call.leg:
            self.emit(event("SoftHangupRequest", call.citizen, ("Cause", "16")))
            self._hangup(call.citizen, 0)
            if call.task is not None:
                call.task.cancel()

    def can_blind_transfer(self, chan: Channel, context: str) -> bool:
        """Whether ``chan`` is an agent's leg in conversation (else Asterisk answers an error)."""
        return transfers.can_blind_transfer(self, chan, context)

    def blind_transfer(self, chan: Channel, context: str, exten: str) -> None:
        """AMI BlindTransfer of the agent's leg: the citizen's leg goes to ``context,exten``."""
        transfers.blind_transfer(self, chan, context, exten)

    def atxfer(self, chan: Channel, context: str, exten: str) -> None:
        """AMI Atxfer of the agent's leg: a consultation with ``exten``, then the handover."""
        transfers.atxfer(self, chan, context, exten)

    def hangup_channel(self, chan: Channel) -> None:
        call = self.call_of(chan)
        if call is not None and chan in (call.citizen, call.leg):
            call.gone.set()
        elif call is not None and call.agent_legs and chan in call.agent_legs:
            call.agent_hung_up.set()
        elif call is not None and call.consult_legs and chan in call.consult_legs:
            call.target_hung_up.set()
        else:
            self._hangup(chan, 16)

    async def shutdown(self) -> None:
        """``core restart now``: every channel gets a soft hangup with the shutdown flag (cause
        4), then each Local pair is torn down as in recording 13 (cause 0)."""
        tasks = [c.task for c in self.calls if c.task is not None] + list(self.originations)
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        channels = list(self.channels.values())
        for chan in channels:
            self.emit(event("SoftHangupRequest", chan, ("Cause", "4")))
        for chan in channels:
            if not chan.alive:
                continue
            other = None
            if chan.name[-2:] in (";1", ";2"):  # a Local half: its partner goes with it
                other = self.channels.get(chan.name[:-1] + ("2" if chan.name[-1] == "1" else "1"))
            if other is None:
                self._hangup(chan, 0)
                continue
            self.emit(event("SoftHangupRequest", chan, ("Cause", "16")))
            self.emit(event("HangupRequest", other, ("Cause", "0")))
            self._hangup(chan, 0)
            self.emit(event("SoftHangupRequest", other, ("Cause", "16")))
            self._hangup(other, 0)
        self.calls.clear()
