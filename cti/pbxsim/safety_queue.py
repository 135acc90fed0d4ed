"""The dialplan's safety net, simulated: ``CtiSafetyNet`` then ``Queue(accueil)`` (app_queue).

When no service has redirected a waiting caller in time, ``cti-wait`` says ``CtiSafetyNet`` and
puts her in the ``accueil`` queue, which rings its static members in turn (rrmemory, ring
timeout 8 s, retry 2 s, as the lab's queues.conf) until one answers: recording 11's
QueueCallerJoin, AgentCalled, AgentRingNoAnswer (two DialEnd: NOANSWER then CANCEL),
AgentConnect, QueueCallerLeave and AgentComplete. The ring itself is ``agent_calls.dial`` with
``queue=True``; this module says the queue's part of it.

``safety_remaining`` is ``cti-wait``'s count (extensions.conf): ``CTI_SAFETY`` is
``SAFETY_NET`` until the service pushes it, and counts from ``WAIT_START``, the first entry in
``cti-wait``, kept across no-answers; the dialplan reads it on entering ``cti-wait`` and after
each slice of music, never while an agent's phone rings (``cti-connect``).

``AccueilQueue`` keeps what app_queue counts (callers waiting, calls completed or abandoned,
each member's calls), read by the ``QueueStatus``/``QueueSummary`` actions (``listings``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cti.pbxsim import agent_calls
from cti.pbxsim.channels import Channel, Headers, dial_event, event

if TYPE_CHECKING:
    from cti.pbxsim.pbx import SimCall, Telephony

QUEUE = "accueil"
QUEUE_RING_TIMEOUT = 8.0  # the lab's queues.conf; asterisk-conf/ uses 15
QUEUE_RETRY = 2.0
QUEUE_MEMBER_NAMES = {"201": "Agent Marie", "202": "Agent Paul (no answer)"}
STATUS_NOT_IN_USE = 1
STATUS_IN_USE = 2


@dataclass(eq=False, slots=True)
class QueueEntry:
    call: SimCall
    joined: float  # clock() when she entered the queue


@dataclass(slots=True)
class AccueilQueue:
    """The ``accueil`` queue's state, as app_queue reports it."""

    members: tuple[str, ...]
    login_time: int  # static members are logged in since Asterisk started
    entries: list[QueueEntry] = field(default_factory=list)
    completed: int = 0
    abandoned: int = 0
    hold_total: int = 0  # seconds, over the calls answered
    talk_total: int = 0  # seconds, over the calls completed
    calls_taken: dict[str, int] = field(default_factory=dict)
    last_call: dict[str, int] = field(default_factory=dict)
    in_call: set[str] = field(default_factory=set)

    def member_fields(self, agent: str, *extra: tuple[str, str]) -> tuple[tuple[str, str], ...]:
        """The member part of the Agent* events."""
        return (
            ("Queue", QUEUE),
            ("Interface", f"Local/{agent}@agents/n"),
            ("MemberName", member_name(agent)),
            *extra,
        )

    def position(self, call: SimCall) -> int:
        return next((i for i, e in enumerate(self.entries, 1) if e.call is call), 0)

    def holdtime(self) -> int:
        answered = self.completed + len(self.in_call)
        return self.hold_total // answered if answered else 0

    def talktime(self) -> int:
        return self.talk_total // self.completed if self.completed else 0


def safety_remaining(pushed: str, wait_start: float, now: float, safety_net: float) -> float:
    """Seconds left before ``cti-wait`` falls back: ``REMAIN = CTI_SAFETY - (EPOCH -
    WAIT_START)``, with ``CTI_SAFETY`` the service's last push, else ``safety_net``."""
    limit = float(pushed) if pushed.isdigit() else safety_net
    return limit - (now - wait_start)


def member_name(agent: str) -> str:
    return QUEUE_MEMBER_NAMES.get(agent, f"Agent {agent}")


def member_status(tel: Telephony, agent: str) -> int:
    """No device state in the lab: a member is in use while a Local channel of its extension
    lives (ringing or talking), as app_queue saw it in 11 and 15."""
    prefix = f"Local/{agent}@agents-"
    in_use = any(name.startswith(prefix) for name in tel.channels)
    return STATUS_IN_USE if in_use else STATUS_NOT_IN_USE


async def run(tel: Telephony, call: SimCall) -> None:
    """``CtiSafetyNet`` and the queue, until a member answers or the caller hangs up."""
    queue, leg = tel.queue, call.leg
    waited = int(tel.clock()) - (call.wait_start or int(tel.clock()))
    tel._user_event(leg, "CtiSafetyNet", ("Waited", str(waited)))
    queue.entries.append(QueueEntry(call, tel.clock()))
    count = str(len(queue.entries))
    tel.emit(event("QueueCallerJoin", leg, ("Queue", QUEUE), ("Position", count), ("Count", count)))
    tel.emit(event("MusicOnHoldStart", leg, ("Class", "default")))
    try:
        for member in itertools.cycle(queue.members):
            status = await agent_calls.dial(tel, call, member, leg.cid_num, queue=True)
            if status == "ANSWER":
                target = await agent_calls.connected(tel, call)
                while target is not None:  # a transfer by the queue's agent
                    if await agent_calls.dial(tel, call, target, target) != "ANSWER":
                        return  # the lab's queue calls are not transferred further
                    target = await agent_calls.connected(tel, call)
                return
            if status == "GONE":
                return
            if await tel._wait_any(call, QUEUE_RETRY) == "gone":
                return tel._citizen_hangs_up(call)
    finally:
        if _leave(queue, call):
            queue.abandoned += 1


def _leave(queue: AccueilQueue, call: SimCall) -> bool:
    """Take her out of the queue; whether she was still in it."""
    before = len(queue.entries)
    queue.entries[:] = [e for e in queue.entries if e.call is not call]
    return len(queue.entries) < before


def agent_called(tel: Telephony, call: SimCall, dest: Channel, agent: str) -> None:
    tel.emit(dial_event("AgentCalled", call.leg, dest, *tel.queue.member_fields(agent)))


def ring_no_answer(tel: Telephony, call: SimCall, dest: Channel, agent: str) -> None:
    """The member did not answer within the ring timeout: two DialEnd, as recorded."""
    ring_ms = str(int(QUEUE_RING_TIMEOUT * 1000))
    fields = tel.queue.member_fields(agent, ("RingTime", ring_ms))
    tel.emit(dial_event("AgentRingNoAnswer", call.leg, dest, *fields))
    tel.emit(dial_event("DialEnd", call.leg, dest, ("DialStatus", "NOANSWER")))
    tel.emit(dial_event("DialEnd", call.leg, dest, ("DialStatus", "CANCEL")))


def connect(tel: Telephony, call: SimCall, dest: Channel, agent: str, ring: float) -> None:
    """The member answered: the caller leaves the queue and is put through."""
    queue, leg = tel.queue, call.leg
    hold = int(tel.clock()) - (call.wait_start or int(tel.clock()))
    position = queue.position(call) or 1
    _leave(queue, call)
    queue.hold_total += hold
    queue.in_call.add(agent)
    tel.emit(event("MusicOnHoldStop", leg))
    tel.emit(
        event(
            "QueueCallerLeave",
            leg,
            ("Queue", QUEUE),
            ("Position", str(position)),
            ("Count", str(len(queue.entries))),
        )
    )
    fields = queue.member_fields(agent, ("HoldTime", str(hold)), ("RingTime", str(int(ring))))
    tel.emit(dial_event("AgentConnect", leg, dest, *fields))
    call.queued_agent = agent


def complete(tel: Telephony, call: SimCall, dest: Channel) -> None:
    """The member's call is over (the agent hung up): ``AgentComplete``."""
    queue, agent = tel.queue, call.queued_agent
    if agent is None:
        return
    talk = int(tel.clock() - (call.answered_at or tel.clock()))
    hold = int(call.answered_at or tel.clock()) - (call.wait_start or 0)
    queue.in_call.discard(agent)
    queue.completed += 1
    queue.talk_total += talk
    queue.calls_taken[agent] = queue.calls_taken.get(agent, 0) + 1
    queue.last_call[agent] = int(tel.clock())
    fields = queue.member_fields(
        agent, ("HoldTime", str(hold)), ("TalkTime", str(talk)), ("Reason", "agent")
    )
    tel.emit(dial_event("AgentComplete", call.leg, dest, *fields))


def status_items(tel: Telephony, wanted: str, action_id: str) -> list[Headers]:
    """``QueueStatus``: QueueParams, one QueueMember each, one QueueEntry per caller (11)."""
    queue = tel.queue
    if wanted and wanted != QUEUE:
        return []
    aid = [("ActionID", action_id)]
    items: list[Headers] = [
        [
            ("Event", "QueueParams"),
            ("Queue", QUEUE),
            ("Max", "0"),
            ("Strategy", "rrmemory"),
            ("Calls", str(len(queue.entries))),
            ("Holdtime", str(queue.holdtime())),
            ("TalkTime", str(queue.talktime())),
            ("Completed", str(queue.completed)),
            ("Abandoned", str(queue.abandoned)),
            ("ServiceLevel", "0"),
            ("ServicelevelPerf", "0.0"),
            ("ServicelevelPerf2", "0.0"),
            ("Weight", "0"),
            *aid,
        ]
    ]
    for agent in queue.members:
        interface = f"Local/{agent}@agents/n"
        items.append(
            [
                ("Event", "QueueMember"),
                ("Queue", QUEUE),
                ("Name", member_name(agent)),
                ("Location", interface),
                ("StateInterface", interface),
                ("Membership", "static"),
                ("Penalty", "0"),
                ("CallsTaken", str(queue.calls_taken.get(agent, 0))),
                ("LastCall", str(queue.last_call.get(agent, 0))),
                ("LastPause", "0"),
                ("LoginTime", str(queue.login_time)),
                ("InCall", "1" if agent in queue.in_call else "0"),
                ("Status", str(member_status(tel, agent))),
                ("Paused", "0"),
                ("PausedReason", ""),
                ("Wrapuptime", "0"),
                *aid,
            ]
        )
    now = tel.clock()
    for position, entry in enumerate(queue.entries, 1):
        leg = entry.call.leg
        items.append(
            [
                ("Event", "QueueEntry"),
                ("Queue", QUEUE),
                ("Position", str(position)),
                ("Channel", leg.name),
                ("Uniqueid", leg.uniqueid),
                ("CallerIDNum", leg.cid_num or "<unknown>"),
                ("CallerIDName", leg.cid_name or "<unknown>"),
                ("ConnectedLineNum", leg.cl_num or "<unknown>"),
                ("ConnectedLineName", leg.cl_name or "<unknown>"),
                ("Wait", str(int(now - entry.joined))),
                ("Priority", "0"),
                *aid,
            ]
        )
    return items


def summary_items(tel: Telephony, wanted: str, action_id: str) -> list[Headers]:
    """``QueueSummary``: one line for the queue (11)."""
    queue = tel.queue
    if wanted and wanted != QUEUE:
        return []
    now = tel.clock()
    available = sum(member_status(tel, m) == STATUS_NOT_IN_USE for m in queue.members)
    longest = max((int(now - e.joined) for e in queue.entries), default=0)
    return [
        [
            ("Event", "QueueSummary"),
            ("Queue", QUEUE),
            ("LoggedIn", str(len(queue.members))),
            ("Available", str(available)),
            ("Callers", str(len(queue.entries))),
            ("HoldTime", str(queue.holdtime())),
            ("TalkTime", str(queue.talktime())),
            ("LongestHoldTime", str(longest)),
            ("ActionID", action_id),
        ]
    ]
