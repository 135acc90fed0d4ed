"""cti-connect's one Dial of several phones (``AGENTS=201&202``), as Asterisk 22 does it.

The order is the one tests/asterisk/test_ring_together.py records on the real Asterisk:
each phone's ``Local/<poste>@agents`` pair is created and dialled (``DialBegin`` from the
caller's leg, one after the other); a busy phone ends at once (``DialEnd BUSY``), the others
ring. The first to answer takes the call: every other ring is cancelled first (``DialEnd
CANCEL``, its pair hung up with cause 26, "answered elsewhere"), then the winner's ``DialEnd
ANSWER`` and the bridge. Nobody answering within the ring timeout ends every ring with
``DialEnd NOANSWER``; the caller hanging up cancels them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cti.pbxsim.agent_calls import RING_TIMEOUT, agent_pair, bridged
from cti.pbxsim.channels import Channel, dial_event, event, local_bridge

if TYPE_CHECKING:
    from cti.pbxsim.pbx import SimCall, Telephony

ANSWERED_ELSEWHERE = 26  # Hangup cause of the rings a colleague's answer cancelled


def agents_of(variables: dict[str, str]) -> list[str]:
    """The phones the router asked for: ``AGENTS`` (``201&202``), else ``AGENT`` alone, as
    cti-connect's first step reads them."""
    listed = variables.get("AGENTS") or variables.get("AGENT", "")
    return [agent for agent in listed.split("&") if agent]


async def dial_together(tel: Telephony, call: SimCall, agents: list[str]) -> tuple[str, str]:
    """Ring ``agents`` from the caller's leg at once: (DIALSTATUS, the agent who answered,
    else the first one asked for)."""
    from cti.pbxsim.pbx import AgentPhone

    leg = call.leg
    pairs: dict[str, tuple[Channel, Channel]] = {}
    for agent in agents:  # every pair first, then their LocalBridge and DialBegin
        pairs[agent] = agent_pair(tel, call, agent, "s")
    for agent, (a1, a2) in pairs.items():
        tel.emit(local_bridge(a1, a2, "agents", agent))
        tel.emit(dial_event("DialBegin", leg, a1, ("DialString", f"{agent}@agents")))
    call.stage, call.agent = "ringing", agents[0]
    ringing: dict[str, float | None] = {}  # agent -> when she answers (None: never)
    for agent, (a1, a2) in pairs.items():
        phone = tel.agents.get(agent, AgentPhone(answers=False))
        if phone.busy:
            tel._state(a2, 7)
            tel.emit(dial_event("DialEnd", leg, a1, ("DialStatus", "BUSY")))
            tel.emit(event("HangupRequest", a2, ("Cause", "0")))
            tel._hangup(a1, 0)
            tel._hangup(a2, 17)
            continue
        tel._state(a1, 5)
        tel.emit(dial_event("DialState", leg, a1, ("DialStatus", "RINGING")))
        missed = phone.miss_ratio and tel.rng.random() < phone.miss_ratio
        ringing[agent] = phone.ring if phone.answers and not missed else None
    if not ringing:
        call.agent_legs = None
        return "BUSY", agents[0]
    answers = {agent: ring for agent, ring in ringing.items() if ring is not None}
    winner = min(answers, key=lambda a: (answers[a], agents.index(a))) if answers else None
    wait = RING_TIMEOUT if winner is None else min(answers[winner], RING_TIMEOUT)
    outcome = await tel._wait_any(call, wait)
    if outcome == "gone":
        tel._hangup_requests(call.citizen, leg)
        tel._hangup(call.citizen, 16)
        for agent in ringing:
            _end_ring(tel, leg, *pairs[agent], "CANCEL", 16)
        tel.emit(event("SoftHangupRequest", leg, ("Cause", "16")))
        tel._hangup(leg, 16)
        call.agent_legs = None
        return "GONE", agents[0]
    if winner is None or answers[winner] >= RING_TIMEOUT:
        for agent in ringing:
            _end_ring(tel, leg, *pairs[agent], "NOANSWER", 0)
        call.agent_legs = None
        return "NOANSWER", agents[0]
    a1, a2 = pairs[winner]
    tel._state(a2, 6)
    tel._state(a1, 6)
    for agent in ringing:
        if agent != winner:
            _end_ring(tel, leg, *pairs[agent], "CANCEL", ANSWERED_ELSEWHERE)
    tel.emit(dial_event("DialEnd", leg, a1, ("DialStatus", "ANSWER")))
    call.agent_legs, call.agent = (a1, a2), winner
    bridged(tel, call, a1)
    return "ANSWER", winner


def _end_ring(
    tel: Telephony, leg: Channel, a1: Channel, a2: Channel, status: str, cause: int
) -> None:
    """One ring of the Dial ends without being answered: its DialEnd, then its pair goes."""
    tel.emit(dial_event("DialEnd", leg, a1, ("DialStatus", status)))
    tel.emit(event("HangupRequest", a2, ("Cause", str(cause))))
    tel._hangup(a1, cause)
    tel.emit(event("SoftHangupRequest", a2, ("Cause", "16")))
    tel._hangup(a2, cause)
