"""Offers of a callback to an agent, and the call the product places when she accepts.

The routing engine's offer of a request (``RouterShell.on_callback_offer``) puts its card on
that agent's page (Accepter / Reporter). « Accepter »: ``dialling`` (with the attempt's
ActionID) is committed first, by compare-and-set; only the writer who won sends the AMI
``Originate``: the agent's phone (``Local/<poste>@agents``) first, then, once she answers,
the dialplan's ``cti-callback`` dials the citizen through the trunk and says how it went
(``UserEvent CtiCallbackResult`` with ``CallbackId``, ``ActionID`` and ``DialStatus``). The
agent's phone not answering is no attempt of the citizen's. A result whose ActionID is not
the attempt in course is ignored (a late or repeated event never moves a request twice).
« Reporter »: same place, a little later, no attempt used.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from cti.ami.errors import AmiError
from cti.callback_store import Audit
from cti.callbacks.state import DeskState, S, national, utc
from cti.desk import DeskError
from routing.callbacks import rules
from routing.callbacks.queueing import engine_call_id, request_id_of
from routing.callbacks.request import CallbackRequest
from routing.decisions import Offer
from routing.events import AgentFinished, OfferAnswered
from screenpop.messages import CallbackOffered, CallbackUpdated

log = logging.getLogger("cti.callback_desk")  # the desk's log, as before the split


def dial_string(number: str) -> str:
    """The number as the trunk dials it: national form for France, ``00``... abroad."""
    if number.startswith("+33"):
        return "0" + number[3:]
    return "00" + number[1:] if number.startswith("+") else number


class Placing(DeskState):
    """Offers on the agents' pages, accepted or postponed, and the calls placed."""

    def _on_offer(self, offer: Offer) -> None:
        request_id = request_id_of(offer.call_id)
        request = self.requests.get(request_id or "")
        if request is None or request.state is not S.PENDING:
            # Gone meanwhile (cancelled, taken): out of the engine, the agent free again.
            self.router.feed(self.queue.withdraw(request_id or "", self.clock()))
            return
        offered = rules.offered(request, offer.agent, utc(self.clock()))
        self.requests[request.id] = offered
        self._spawn(self._store_locked(request, offered))
        self.hub.send(offer.agent, CallbackOffered(callback=self.card(offered)))

    async def accept(self, agent: str, username: str, request_id: str) -> CallbackRequest:
        """« Accepter »: the attempt is committed, then the product calls (agent first)."""
        async with self._lock:
            request = self._offered_to(agent, request_id)
            action_id = f"cti-rappel-{request.id}-{request.attempts + 1}"
            dialling = rules.dialling(request, agent, action_id, utc(self.clock()))
            audit = Audit(
                username,
                "callback.call",
                request.citizen_id,
                f"le poste {agent} rappelle le {national(request.number)} "
                f"({self.service_label(request.service)}), essai {dialling.attempts}, "
                f"demande {request.id}",
            )
            won = await self._move(request, dialling, audit)
            if not won:
                raise DeskError("ce rappel vient d'être pris ou a changé : il n'est pas passé")
            self.requests[request.id] = dialling
            self.queue.taken(request.id)
            self.router.feed([OfferAnswered(engine_call_id(request.id), agent, self.clock())])
        self.hub.send(agent, CallbackUpdated(callback=self.card(dialling)))
        self._spawn(self._place(dialling))
        return dialling

    async def postpone(self, agent: str, request_id: str) -> CallbackRequest:
        """« Reporter »: same place, a little later, no attempt used; the agent is free."""
        async with self._lock:
            request = self._offered_to(agent, request_id)
            later = rules.postponed(request, self._rules(request), utc(self.clock()))
            await self._store(request, later)
            self.router.feed(self.queue.withdraw(request.id, self.clock()))
        self.hub.send(agent, CallbackUpdated(callback=self.card(later)))
        return later

    def _offered_to(self, agent: str, request_id: str) -> CallbackRequest:
        request = self.requests.get(request_id)
        if request is None or request.state is not S.OFFERED or request.agent != agent:
            raise DeskError("ce rappel ne vous est pas proposé (déjà pris, reporté ou annulé)")
        return request

    async def _place(self, request: CallbackRequest) -> None:
        assert request.agent is not None and request.number is not None
        ring = self.settings.agent_ring_s
        contract = self.router.service.tracker.contract
        # Her wait before she asked, on the channel: a restart during the call reads it back.
        initial = self._initial_waits.get(request.id)
        waited = "" if initial is None else f",{contract.callback_waited_variable}={round(initial)}"
        action = {
            "Action": "Originate",
            "Channel": f"Local/{request.agent}@agents",
            "Context": contract.callback_context,
            "Exten": dial_string(request.number),
            "Priority": "1",
            "Timeout": str(int(ring * 1000)),
            "CallerID": f'"Rappel" <{dial_string(request.number)}>',
            "Variable": f"{contract.callback_variable}={request.id},"
            f"{contract.callback_action_variable}={request.action_id},"
            f"__{contract.service_variable}={request.service}{waited}",
            "ActionID": request.action_id,
            "Async": "true",
        }
        try:
            self.originates_sent += 1
            replies = await self.send_list(action, ring + 15)
            answered = any(
                r.get("Event") == "OriginateResponse" and r.get("Response") == "Success"
                for r in replies
            )
        except AmiError as exc:
            log.warning("callback %s: the Originate failed: %s", request.id, exc)
            answered = False
        if not answered:  # the agent's phone did not take it: no attempt of the citizen's
            await self._ended(request.id, request.action_id, rules.AGENT_MISSED)

    def _on_result(self, headers: Mapping[str, Any]) -> None:
        request_id = str(headers.get("CallbackId", ""))
        action_id = str(headers.get("CallbackAction", ""))
        status = str(headers.get("DialStatus", "")).upper() or "CHANUNAVAIL"
        self._spawn(self._ended(request_id, action_id, status))

    async def _ended(self, request_id: str, action_id: str | None, status: str) -> None:
        async with self._lock:
            request = self.requests.get(request_id)
            if request is None or request.state is not S.DIALLING or request.action_id != action_id:
                log.info("callback %s: result %s for an attempt not in course", request_id, status)
                return
            spec = self._rules(request)
            after = rules.attempt_ended(
                request, status, spec, self.calendar(request.service), utc(self.clock())
            )
            await self._store(request, after)
            agent = request.agent
        if agent is not None:
            with contextlib.suppress(Exception):  # not ON_CALL (a restart): nothing to end
                self.router.feed([AgentFinished(agent, self.clock())])
            self.hub.send(agent, CallbackUpdated(callback=self.card(after)))
        log.info(
            "callback %s: attempt %d ended %s -> %s",
            request_id,
            request.attempts,
            status,
            after.state.value,
        )
