"""The router's shell: domain events in, offers carried out on Asterisk.

An offer is the contract of asterisk-conf/extensions.conf: ``Setvar AGENT`` on the waiting
caller's dialplan leg, then ``Redirect`` it from ``cti-wait`` into ``cti-connect``, which dials
the agent. No answer or busy comes back as ``CtiNoAnswer`` then ``CtiWaiting``, i.e. as domain
events, so the shell holds no timers of its own.

Choosing the agent is the policy's job. ``LongestIdlePolicy`` (the oldest waiting call goes to
the ready agent free for the longest time) keeps calls flowing until the skill-based engine of
``routing/`` takes its place. The shell is also the agents' desk (``cti.desk.AgentDesk``):
their states, the end of wrap-up and transfers from the page.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from cti.ami.errors import AmiError
from cti.desk import DeskError
from cti.service import CallService
from cti.tracker import events as ev

log = logging.getLogger(__name__)

Send = Callable[[Mapping[str, Any]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Offer:
    call_id: str
    agent: str


AGENT_STATES = frozenset({"ready", "paused", "front_desk", "offline"})


class Policy(Protocol):
    def on_event(self, event: ev.DomainEvent, now: float) -> list[Offer]: ...

    def state(self, agent: str) -> tuple[str, str | None]: ...

    def set_state(self, agent: str, state: str, reason: str | None, now: float) -> list[Offer]: ...


@dataclass
class LongestIdlePolicy:
    """Oldest waiting call to the agent idle the longest; no skills yet."""

    agents: list[str]
    ready: set[str] | None = None  # who is ready at start (default: everyone)
    idle_since: dict[str, float] = field(default_factory=dict)
    busy: set[str] = field(default_factory=set)
    waiting: dict[str, float] = field(default_factory=dict)  # call id -> waiting since
    states: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for agent in self.agents:
            self.idle_since.setdefault(agent, 0.0)
            ready = self.ready is None or agent in self.ready
            self.states.setdefault(agent, ("ready", None) if ready else ("offline", None))

    def state(self, agent: str) -> tuple[str, str | None]:
        if agent not in self.states:
            raise DeskError(f"le poste {agent} n'est pas déclaré au routeur (CTI_AGENTS)")
        state = self.states[agent]
        if agent in self.busy:
            return ("on_call", None)
        return state

    def set_state(self, agent: str, state: str, reason: str | None, now: float) -> list[Offer]:
        self.state(agent)
        if state not in AGENT_STATES:
            raise DeskError(f"état inconnu : {state}")
        self.states[agent] = (state, reason)
        return self._match()

    def on_event(self, event: ev.DomainEvent, now: float) -> list[Offer]:
        if isinstance(event, ev.CallWaiting):
            self.waiting.setdefault(event.call_id, event.at)
        elif isinstance(event, ev.CallOffered | ev.CallAnswered) and event.agent:
            self.waiting.pop(event.call_id, None)
            self._take(event.agent)
        elif isinstance(event, ev.CallNoAnswer) and event.agent:
            self._free(event.agent, now)
        elif isinstance(event, ev.CallSafetyNet):
            self.waiting.pop(event.call_id, None)  # Asterisk's own queue has it now
        elif isinstance(event, ev.CallTransferred) and event.agent:
            self._free(event.agent, now)
        elif isinstance(event, ev.CallAbandoned | ev.CallEnded):
            self.waiting.pop(event.call_id, None)
            agent = getattr(event, "agent", None)
            if agent:
                self._free(agent, now)
        return self._match()

    def _take(self, agent: str) -> None:
        self.busy.add(agent)

    def _free(self, agent: str, now: float) -> None:
        if agent in self.busy:
            self.busy.discard(agent)
            self.idle_since[agent] = now

    def _match(self) -> list[Offer]:
        offers = []
        free = sorted(
            (t, a)
            for a, t in self.idle_since.items()
            if a not in self.busy and self.states[a][0] == "ready"
        )
        calls = sorted(self.waiting.items(), key=lambda item: (item[1], item[0]))
        for (call_id, _), (_, agent) in zip(calls, free, strict=False):
            offers.append(Offer(call_id, agent))
            del self.waiting[call_id]
            self.busy.add(agent)
        return offers


class RouterShell:
    def __init__(
        self, service: CallService, send: Send, policy: Policy, clock: Callable[[], float]
    ) -> None:
        self.service = service
        self.send = send
        self.policy = policy
        self.clock = clock
        self.offers_sent = 0
        self.offers_failed = 0
        self._tasks: set[asyncio.Task[None]] = set()
        service.add_listener(self.on_event)

    def on_event(self, event: ev.DomainEvent) -> None:
        for offer in self.policy.on_event(event, self.clock()):
            self._spawn(self._offer(offer))

    def _spawn(self, action: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(action)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _offer(self, offer: Offer) -> None:
        call = self.service.tracker.call(offer.call_id)
        channel = call.dialplan_channel if call is not None else None
        if channel is None:
            log.warning("call %s has no dialplan leg to redirect: offer dropped", offer.call_id)
            return
        try:
            await self.send(
                {"Action": "Setvar", "Channel": channel, "Variable": "AGENT", "Value": offer.agent}
            )
            await self.send(
                {
                    "Action": "Redirect",
                    "Channel": channel,
                    "Context": "cti-connect",
                    "Exten": "s",
                    "Priority": "1",
                }
            )
            self.offers_sent += 1
        except AmiError as exc:
            # The caller hung up in between, or the link dropped: the tracker will tell.
            self.offers_failed += 1
            log.warning("offer of %s to agent %s failed: %s", offer.call_id, offer.agent, exc)

    # -- the agents' desk -----------------------------------------------------------------

    def agent_state(self, agent: str) -> tuple[str, str | None]:
        return self.policy.state(agent)

    def set_agent_state(self, agent: str, state: str, reason: str | None) -> None:
        for offer in self.policy.set_state(agent, state, reason, self.clock()):
            self._spawn(self._offer(offer))

    def wrap_up_done(self, agent: str) -> None:
        """No wrap-up time in this policy: the agent is free as soon as the call ends."""

    async def transfer(self, call_id: str, from_agent: str, to_agent: str) -> None:
        call = self.service.tracker.call(call_id)
        if call is None or call.agent != from_agent or call.agent_channel is None:
            raise DeskError(
                f"l'appel {call_id} n'est pas en communication avec le poste {from_agent}"
            )
        if to_agent == from_agent:
            raise DeskError("impossible de se transférer l'appel à soi-même")
        try:
            await self.send(
                {
                    "Action": "BlindTransfer",
                    "Channel": call.agent_channel,
                    "Context": self.service.tracker.contract.transfer_context,
                    "Exten": to_agent,
                }
            )
        except AmiError as exc:
            raise DeskError(f"le transfert vers le poste {to_agent} a échoué : {exc}") from exc

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
