"""The router's shell: domain events in, the routing engine's decisions carried out on Asterisk.

The choice is the skill-based engine's (``routing.engine``), fed by ``cti.dispatch``; this
module only does what it decides, following asterisk-conf/extensions.conf:

* ``Offer``: ``Setvar AGENT`` and ``AGENTS`` on the waiting caller's dialplan leg, then
  ``Redirect`` it from ``cti-wait`` into ``cti-connect``, which dials the agent. The offers of
  one call taken together (``ring_together`` > 1) are one Redirect: ``AGENTS`` lists them
  (``201&202``), AGENT is the engine's first choice, and the dialplan rings them all in one
  Dial; the first to answer takes the call and Asterisk cancels the others. No answer or
  busy comes back as ``CtiNoAnswer`` then ``CtiWaiting``, i.e. as domain events.
* ``Overflow`` to voicemail or a callback request: ``Setvar CTI_OVERFLOW`` and
  ``CTI_OVERFLOW_TARGET``, then ``Redirect`` into ``cti-overflow``. To another service: the
  call stays in ``cti-wait`` and ``CTI_IVR_CHOICE`` follows, so a restart finds it there.
* Agents' state changes go to their pages; pauses for missed offers and alerts to the log and
  to the supervisors' feed.

One timer is the engine's next deadline (end of wrap-up, max wait, relaxation step). The
other is the safety net's heartbeat: every third of ``safety_net`` seconds the ``CTI_SAFETY``
of every caller the router holds (waiting, being offered, ringing an agent, on her way back
from a no-answer) is pushed forward, so the dialplan falls back to its own queue only when
the service has been silent for ``safety_net`` seconds, never because a wait is long or
because the call happened to be ringing at every beat. ``CTI_SAFETY`` counts from the
dialplan's ``WAIT_START`` (the first entry in ``cti-wait``, kept across no-answers): the
router counts from the same instant (``first_wait_at``).

While the AMI link is down nothing is offered (``Dispatcher.link_changed``); an offer that
could not be sent is no miss, and the call is offered again once the link is back. An offer
Asterisk refuses because the caller's channel no longer exists (« No such channel ») is no
miss either, and the call is not offered again: she hung up, though her ``Hangup`` may reach
us after that answer (``Dispatcher.caller_gone``; issue 23).
The shell is also the agents' desk (``cti.desk.AgentDesk``): their states, the end of wrap-up
and transfers from the page.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any

from cti.ami.errors import AmiDisconnected, AmiError, AmiNoSuchChannel
from cti.ami.events import DeviceStateChanged
from cti.desk import DeskError
from cti.dispatch import Dispatcher
from cti.service import CallService
from cti.tracker import events as ev
from cti.transfer_targets import TransferTargets, can_wait_for, transfer_targets
from routing.callbacks.queueing import request_id_of
from routing.decisions import (
    AgentStateChanged,
    Decision,
    Offer,
    Overflow,
    PauseAgent,
    SupervisorAlert,
)
from routing.engine import RoutingEngine
from routing.errors import RoutingError, UnknownAgent
from routing.events import Event as RoutingEvent
from routing.explain import CallExplanation, CallStage, as_offered, explain_call
from routing.model import OverflowKind
from routing.states import AgentState

log = logging.getLogger(__name__)

Send = Callable[[Mapping[str, Any]], Awaitable[Any]]


OFFERS_EXPLAINED = 500  # recent offers whose explanation outlives the call in the engine

StateListener = Callable[[str, str, str | None], None]  # agent, state, reason


def heartbeat_period(safety_net: float) -> float:
    """Seconds between two pushes of ``CTI_SAFETY``: a third of the net, so that two lost
    rounds still leave the dialplan waiting."""
    return safety_net / 3


def safety_deadline(now: float, wait_start: float, safety_net: float) -> int:
    """``CTI_SAFETY`` to push now: the dialplan falls back when ``EPOCH - WAIT_START`` reaches
    it, i.e. ``safety_net`` seconds from now (rounded up: the dialplan counts whole seconds)."""
    return math.ceil(now - wait_start + safety_net)


def together(decisions: list[Decision]) -> dict[str, tuple[str, ...]]:
    """The agents each call's offers ring in this batch, in the engine's order (its first
    choice first): the engine rings ``ring_together`` phones for a call in one decision."""
    rung: dict[str, tuple[str, ...]] = {}
    for decision in decisions:
        if isinstance(decision, Offer) and request_id_of(decision.call_id) is None:
            rung[decision.call_id] = (*rung.get(decision.call_id, ()), decision.agent)
    return rung


class RouterShell:
    def __init__(
        self,
        service: CallService,
        send: Send,
        dispatcher: Dispatcher,
        clock: Callable[[], float],
        *,
        on_agent_state: StateListener | None = None,
        safety_net: float = 60.0,
    ) -> None:
        self.service = service
        self.send = send
        self.dispatcher = dispatcher
        self.clock = clock
        self.on_agent_state = on_agent_state
        self._shown: dict[str, tuple[str, str | None]] = {}  # last state told per agent
        self.safety_net = safety_net
        self.heartbeats = 0
        self.offers_sent = 0
        self.offers_failed = 0
        self.overflows = 0
        self.alerts: collections.deque[SupervisorAlert] = collections.deque(maxlen=100)
        # Why each recent call was offered, for after the engine forgets it (answered).
        self._offered: collections.OrderedDict[str, CallExplanation] = collections.OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        # Offers of callback requests (virtual callers) are the callbacks desk's to show.
        self.on_callback_offer: Callable[[Offer], None] | None = None
        self.on_reload: Callable[[], None] | None = None
        # A caller overflowing to a callback: the callbacks desk records her request and says
        # what the dialplan plays (variables added to, or replacing, CTI_OVERFLOW's).
        self.on_callback_overflow: Callable[[Overflow], Mapping[str, str]] | None = None
        # Every decision carried out, in order (the wait forecast learns handle times).
        self.decision_listeners: list[Callable[[list[Decision]], None]] = []
        service.add_listener(self.on_event)
        service.add_device_listener(self.on_device)
        service.add_device_list_listener(self.on_devices_listed)
        service.add_link_listener(self.on_link_state)

    def start(self) -> None:
        """Start the safety net's heartbeat (needs the running loop)."""
        self._spawn(self._heartbeat())

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(heartbeat_period(self.safety_net))
            await self.beat()

    async def beat(self) -> None:
        """One round of the safety net's heartbeat: every call the router holds."""
        contract = self.service.tracker.contract
        now = self.clock()
        for call_id in sorted(self.dispatcher.holding()):
            call = self.service.tracker.call(call_id)
            if call is None or call.dialplan_channel is None or call.first_wait_at is None:
                continue
            try:
                await self.send(
                    {
                        "Action": "Setvar",
                        "Channel": call.dialplan_channel,
                        "Variable": contract.safety_variable,
                        "Value": str(safety_deadline(now, call.first_wait_at, self.safety_net)),
                    }
                )
                self.heartbeats += 1
            except AmiError as exc:  # gone meanwhile, or the link is down: next round
                log.debug("safety-net heartbeat for %s: %s", call_id, exc)

    @property
    def engine(self) -> RoutingEngine:
        return self.dispatcher.engine

    def on_event(self, event: ev.DomainEvent) -> None:
        call = self.service.tracker.call(event.call_id)
        since = call.waiting_since if call is not None else None
        place = call.first_wait_at if call is not None else None
        self._carry_out(self.dispatcher.on_event(event, self.clock(), since, place))

    def on_link_state(self, state: str) -> None:
        self._carry_out(self.dispatcher.link_changed(state == "ready", self.clock()))

    def on_device(self, device: DeviceStateChanged, received_at: float) -> None:
        self._carry_out(self.dispatcher.on_device(device.device, device.state, self.clock()))

    def on_devices_listed(self, devices: Sequence[DeviceStateChanged], received_at: float) -> None:
        states = {d.device: d.state for d in devices}
        self._carry_out(self.dispatcher.devices_listed(states, self.clock()))

    def reload(self, engine: RoutingEngine) -> None:
        """A new routing configuration takes effect now, calls and agents carried over."""
        self._carry_out(self.dispatcher.reload(engine, self.clock()))
        if self.on_reload is not None:
            self.on_reload()

    def feed(self, events: list[RoutingEvent]) -> None:
        """Events of the callbacks' virtual callers, decided and carried out like the rest."""
        if events:
            self._carry_out(self.dispatcher.feed(events, self.clock()))

    # -- carrying out decisions -----------------------------------------------------------

    def why(self, call_id: str) -> CallExplanation | None:
        """Why the call is where it is (waiting, held, ringing), or why it was last offered."""
        return explain_call(self.engine, call_id) or self._offered.get(call_id)

    def _remember_offers(self, decisions: list[Decision]) -> None:
        for call_id in dict.fromkeys(d.call_id for d in decisions if isinstance(d, Offer)):
            why = explain_call(self.engine, call_id)
            if why is not None and why.stage is CallStage.RINGING:
                self._offered[call_id] = as_offered(why)
                self._offered.move_to_end(call_id)
                while len(self._offered) > OFFERS_EXPLAINED:
                    self._offered.popitem(last=False)

    def _carry_out(self, decisions: list[Decision]) -> None:
        for listener in self.decision_listeners:
            listener(decisions)
        self._remember_offers(decisions)
        rung = together(decisions)
        for decision in decisions:
            if isinstance(decision, Offer) and request_id_of(decision.call_id) is not None:
                if self.on_callback_offer is not None:
                    self.on_callback_offer(decision)
            elif isinstance(decision, Offer):
                agents = rung.pop(decision.call_id, None)
                if agents is not None:  # the call's first offer of the batch: all of them
                    self._spawn(self._offer(decision, agents))
            elif isinstance(decision, Overflow):
                self.overflows += 1
                log.info(
                    "call %s overflows from %s (%s) to %s %s",
                    decision.call_id,
                    decision.service,
                    decision.reason.value,
                    decision.target_kind.value,
                    decision.target or "",
                    extra={"call_id": decision.call_id},
                )
                self._spawn(self._overflow(decision))
            elif isinstance(decision, AgentStateChanged):
                shown = self._shown_state(decision.agent, decision.state, decision.reason)
                self._shown[decision.agent] = shown
                if self.on_agent_state is not None:
                    self.on_agent_state(decision.agent, *shown)
            elif isinstance(decision, PauseAgent):
                log.warning("agent %s paused: %s", decision.agent, decision.reason)
            elif isinstance(decision, SupervisorAlert):
                self.alerts.append(decision)
                log.warning("supervisor alert: %s", decision.message)
                self.service.bus.publish(
                    {
                        "kind": "alert",
                        "alert": decision.kind.value,
                        "agent": decision.agent,
                        "service": decision.service,
                        "message": decision.message,
                    }
                )
        changed, self.dispatcher.phones_changed = self.dispatcher.phones_changed, []
        for agent in dict.fromkeys(changed):  # agents of the configuration only (_phone)
            self._tell_state(agent, self.agent_state(agent))
        self._arm_timer()

    def _arm_timer(self) -> None:
        deadline = self.dispatcher.next_deadline()
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = deadline
        if deadline is not None:
            loop = asyncio.get_running_loop()
            delay = max(0.0, deadline - self.clock())
            self._timer = loop.call_at(loop.time() + delay, self._tick)

    def _tick(self) -> None:
        self._timer = self._timer_at = None
        self._carry_out(self.dispatcher.tick(self.clock()))

    def _spawn(self, action: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(action)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _channel(self, call_id: str) -> str | None:
        call = self.service.tracker.call(call_id)
        return call.dialplan_channel if call is not None else None

    async def _setvars_and_redirect(
        self, channel: str, variables: Mapping[str, str], context: str
    ) -> None:
        for name, value in variables.items():
            await self.send(
                {"Action": "Setvar", "Channel": channel, "Variable": name, "Value": value}
            )
        await self.send(
            {
                "Action": "Redirect",
                "Channel": channel,
                "Context": context,
                "Exten": "s",
                "Priority": "1",
            }
        )

    async def _offer(self, offer: Offer, agents: tuple[str, ...]) -> None:
        contract = self.service.tracker.contract
        channel = self._channel(offer.call_id)
        try:
            if channel is None:
                raise AmiError(f"l'appel {offer.call_id} n'a plus de canal en attente")
            variables = {
                contract.agent_variable: offer.agent,
                contract.agents_variable: contract.agents_separator.join(agents),
            }
            await self._setvars_and_redirect(channel, variables, contract.connect_context)
            self.offers_sent += 1
        except AmiError as exc:
            # The caller hung up in between (the tracker will tell), or the link dropped:
            # no offers until it is back (its state change may come a moment later).
            self.offers_failed += 1
            if isinstance(exc, AmiDisconnected):
                self._carry_out(self.dispatcher.link_changed(False, self.clock()))
            log.warning(
                "offer of %s to agent(s) %s failed: %s",
                offer.call_id,
                ", ".join(agents),
                exc,
                extra={"call_id": offer.call_id},
            )
            if isinstance(exc, AmiNoSuchChannel):
                self._carry_out(self.dispatcher.caller_gone(offer.call_id, self.clock()))
                return
            for agent in agents:
                self._carry_out(
                    self.dispatcher.offer_not_placed(offer.call_id, agent, self.clock())
                )

    async def _overflow(self, overflow: Overflow) -> None:
        contract = self.service.tracker.contract
        channel = self._channel(overflow.call_id)
        if channel is None:
            return
        try:
            if overflow.target_kind is OverflowKind.SERVICE:
                await self.send(
                    {
                        "Action": "Setvar",
                        "Channel": channel,
                        "Variable": contract.service_variable,
                        "Value": overflow.target or "",
                    }
                )
                return
            variables = {
                contract.overflow_kind_variable: overflow.target_kind.value,
                contract.overflow_target_variable: overflow.target or "",
            }
            hook = self.on_callback_overflow
            if overflow.target_kind is OverflowKind.CALLBACK and hook is not None:
                variables.update(hook(overflow))
            await self._setvars_and_redirect(channel, variables, contract.overflow_context)
        except AmiError as exc:
            # The dialplan's safety net still has the call: the citizen is not left alone.
            log.warning(
                "overflow of %s failed: %s",
                overflow.call_id,
                exc,
                extra={"call_id": overflow.call_id},
            )

    # -- the agents' desk -----------------------------------------------------------------

    def agent_state(self, agent: str) -> tuple[str, str | None]:
        try:
            view = self.engine.agent(agent)
        except UnknownAgent:
            raise DeskError(
                f"le poste {agent} n'est pas déclaré dans la configuration du routage"
            ) from None
        return self._shown_state(agent, view.state, view.reason)

    def _shown_state(
        self, agent: str, state: AgentState, reason: str | None
    ) -> tuple[str, str | None]:
        """What her page and the wallboard show: a READY agent whose phone is on a call the
        engine did not route is on the phone, not free (after a restart mid-call, above all)."""
        if state is AgentState.READY and self.dispatcher.on_foreign_call(agent):
            return AgentState.ON_CALL.value, None
        return state.value, reason

    def _tell_state(self, agent: str, shown: tuple[str, str | None]) -> None:
        if self._shown.get(agent) == shown:
            return
        self._shown[agent] = shown
        if self.on_agent_state is not None:
            self.on_agent_state(agent, *shown)

    def set_agent_state(self, agent: str, state: str, reason: str | None) -> None:
        self.agent_state(agent)
        try:
            wanted = AgentState(state)
            decisions = self.dispatcher.set_state(agent, wanted, reason, self.clock())
        except (ValueError, RoutingError) as exc:
            raise DeskError(f"état refusé pour le poste {agent} : {state}") from exc
        self._carry_out(decisions)

    def wrap_up_done(self, agent: str) -> None:
        """« Terminer »: the wrap-up ends now rather than at the service's wrap-up time."""
        if self.agent_state(agent)[0] == AgentState.WRAP_UP.value:
            self.set_agent_state(agent, AgentState.READY.value, None)

    def transfer_targets(self, agent: str) -> TransferTargets:
        self.agent_state(agent)
        engine = self.engine
        services = engine.config.services
        return transfer_targets(
            engine.agents(),
            services,
            agent,
            self.dispatcher.on_foreign_call,
            {name: len(engine.waiting(name)) for name in services},
        )

    def _talking_channel(self, call_id: str, from_agent: str) -> str:
        """The agent's leg of her call in conversation: what a transfer moves."""
        call = self.service.tracker.call(call_id)
        if call is None or call.agent != from_agent or call.agent_channel is None:
            raise DeskError(
                f"l'appel {call_id} n'est pas en communication avec le poste {from_agent}"
            )
        return call.agent_channel

    async def transfer_to_service(self, call_id: str, from_agent: str, service: str) -> None:
        """Blind transfer into ``[transfer]``'s service extension: the caller waits for
        ``service`` in ``cti-wait`` (her place in line is her first wait's, see
        ``cti.dispatch``); the next agent of that service gets her with the notes."""
        channel = self._talking_channel(call_id, from_agent)
        if service not in self.engine.config.services:
            raise DeskError(f"le service « {service} » n'est pas dans la configuration du routage")
        if not can_wait_for(service):
            raise DeskError(
                f"le service « {service} » ne peut pas recevoir d'appel transféré : son nom "
                "doit commencer par une lettre minuscule (plan de numérotation, [transfer])"
            )
        contract = self.service.tracker.contract
        try:
            await self.send(
                {
                    "Action": "BlindTransfer",
                    "Channel": channel,
                    "Context": contract.transfer_context,
                    "Exten": service,
                }
            )
        except AmiError as exc:
            raise DeskError(f"le transfert vers le service {service} a échoué : {exc}") from exc

    async def transfer(
        self, call_id: str, from_agent: str, to_agent: str, *, attended: bool = False
    ) -> None:
        agent_channel = self._talking_channel(call_id, from_agent)
        if to_agent == from_agent:
            raise DeskError("impossible de se transférer l'appel à soi-même")
        contract = self.service.tracker.contract
        # Attended: Asterisk's Atxfer into the agents' context (recording 08); the agent
        # talks to her colleague on her phone and hangs up to hand the citizen over.
        action, context = (
            ("Atxfer", contract.agents_context)
            if attended
            else ("BlindTransfer", contract.transfer_context)
        )
        try:
            await self.send(
                {
                    "Action": action,
                    "Channel": agent_channel,
                    "Context": context,
                    "Exten": to_agent,
                }
            )
        except AmiError as exc:
            raise DeskError(f"le transfert vers le poste {to_agent} a échoué : {exc}") from exc

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
