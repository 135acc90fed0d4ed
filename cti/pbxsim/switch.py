"""The simulated PBX's switching fabric: channels, Local pairs, states, bridges and hangups.

What every call flow (``pbx``, ``transfers``) does to channels, each step with the AMI event
Asterisk 22 sends for it. No call logic here: who dials whom and when is the flows' business.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable

from cti.pbxsim.channels import Channel, Headers, bridge_fields, event

PRES_TEXT = {
    "allowed_not_screened": "0 (Presentation Allowed, Not Screened)",
    "prohib": "35 (Presentation Prohibited, Network Number)",
    "prohib_not_screened": "32 (Presentation Prohibited, Not Screened)",
    "unavailable": "67 (Number Unavailable)",
}
HANGUP_CAUSES = {
    0: "Unknown",
    16: "Normal Clearing",
    17: "User busy",
    19: "User alerting, no answer",
}


class Switch:
    def __init__(
        self,
        emit: Callable[[Headers], None],
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.emit = emit
        self.time_scale = time_scale
        self.clock = clock
        self.channels: dict[str, Channel] = {}
        self.changed = asyncio.Event()
        self.reset_counters()

    def reset_counters(self) -> None:
        """Uniqueid and Local channel counters; a restarted Asterisk starts them again at 0."""
        self._counter = itertools.count()
        self._local_seq = itertools.count()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds * self.time_scale)

    def deadline(self, seconds: float) -> float:
        """When, on the event loop's clock, ``seconds`` simulated seconds from now are over."""
        return asyncio.get_running_loop().time() + seconds * self.time_scale

    def remaining(self, deadline: float) -> float:
        """Simulated seconds left until ``deadline``."""
        left = deadline - asyncio.get_running_loop().time()
        return max(0.0, left) / max(self.time_scale, 1e-9)

    def _uniqueid(self) -> str:
        return f"{int(self.clock())}.{next(self._counter)}"

    def _local_pair(self, target: str, linkedid: str | None) -> tuple[Channel, Channel]:
        exten, context = target.split("@", 1)
        base = f"Local/{target}-{next(self._local_seq):08x}"
        one = Channel(f"{base};1", self._uniqueid(), "", 0, context=context, exten=exten)
        one.linkedid = linkedid or one.uniqueid
        two = Channel(f"{base};2", self._uniqueid(), one.linkedid, 4, context=context, exten=exten)
        for chan in (one, two):
            chan.created_at = self.clock()
            self.channels[chan.name] = chan
        self.emit(event("Newchannel", one))
        self.emit(event("Newchannel", two))
        return one, two

    def _trunk_channel(self, did: str, num: str, name: str) -> Channel:
        """A call from the town hall's SIP trunk: one channel, whose ``Newchannel`` already
        carries the caller ID (../shared/asterisk/README.md); no event says its presentation."""
        chan = Channel(
            f"PJSIP/trunk-{next(self._local_seq):08x}",
            self._uniqueid(),
            "",
            4,
            cid_num=num,
            cid_name=name,
            context="from-pstn",
            exten=did,
        )
        chan.linkedid = chan.uniqueid
        chan.created_at = self.clock()
        self.channels[chan.name] = chan
        self.emit(event("Newchannel", chan))
        return chan

    def _set_caller_id(self, chan: Channel, num: str, name: str, pres: str) -> None:
        chan.cid_num, chan.cid_name = num, name
        self.emit(
            event(
                "NewCallerid",
                chan,
                ("CID-CallingPres", PRES_TEXT.get(pres, PRES_TEXT["allowed_not_screened"])),
            )
        )

    def _set_connected(self, chan: Channel, num: str, name: str) -> None:
        chan.cl_num, chan.cl_name = num, name
        self.emit(event("NewConnectedLine", chan))

    def _state(self, chan: Channel, state: int) -> None:
        chan.state = state
        self.emit(event("Newstate", chan))

    def _goto(self, chan: Channel, context: str, exten: str, priority: int = 1) -> None:
        chan.context, chan.exten, chan.priority = context, exten, priority

    def _var(self, chan: Channel, name: str, value: str) -> None:
        chan.variables[name.lstrip("_")] = value
        self.emit(event("VarSet", chan, ("Variable", name), ("Value", value)))

    def _exten(self, chan: Channel, app: str, data: str) -> None:
        chan.application, chan.app_data = app, data
        self.emit(
            event(
                "Newexten", chan, ("Extension", chan.exten), ("Application", app), ("AppData", data)
            )
        )

    def _user_event(self, chan: Channel, name: str, *body: tuple[str, str]) -> None:
        self.emit(event("UserEvent", chan, ("UserEvent", name), *body))

    def _hangup(self, chan: Channel, cause: int) -> None:
        if not chan.alive:
            return
        hook, chan.on_hangup = chan.on_hangup, None
        if hook is not None:
            hook()
        chan.alive = False
        self.channels.pop(chan.name, None)
        text = HANGUP_CAUSES.get(cause, "")
        self.emit(event("Hangup", chan, ("Cause", str(cause)), ("Cause-txt", text)))
        self.changed.set()

    def _hangup_requests(self, first: Channel, other: Channel, cause: int = 16) -> None:
        self.emit(event("SoftHangupRequest", first, ("Cause", str(cause))))
        self.emit(event("HangupRequest", other, ("Cause", str(cause))))

    def _bridge_enter(self, chan: Channel, bridge: str, count: int) -> None:
        chan.bridge = bridge
        self.emit(
            [("Event", "BridgeEnter"), ("Privilege", "call,all")]
            + bridge_fields(bridge, count)
            + chan.snapshot()
        )

    def _bridge_leave(self, chan: Channel, bridge: str, count: int) -> None:
        chan.bridge = ""
        self.emit(
            [("Event", "BridgeLeave"), ("Privilege", "call,all")]
            + bridge_fields(bridge, count)
            + chan.snapshot()
        )
