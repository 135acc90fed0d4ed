"""Position and expected wait told to the callers waiting in ``cti-wait``.

What is said and when is ``routing.wait_announce``'s decision over ``routing.caller_forecast``'s
numbers (the engine's own view) and the service's ``announce`` rules; this shell looks at the
callers waiting about once a second, renders the sentence by speech synthesis (the voice
menu's ``cti.prompts``, cached per text) and ``Setvar``s on the caller's dialplan leg:

* ``CTI_ANNOUNCE_AT``: when the next announcement is due (epoch seconds), so that
  ``cti-wait`` ends its slice of music then instead of up to 15 s later;
* ``CTI_ANNOUNCE``: the sound. ``cti-wait`` plays it at the end of its current slice of music
  (the first slice after an entry lasts two seconds: the entry announcement is heard at
  once), clears it and says ``CtiAnnounced``.

A caller ringing an agent is not in ``cti-wait``: her moment passes unsaid. A Setvar that
fails (she left, the link is down) is not tried again: the next moment will say it. The
forecaster learns handle times from every decision the router carries out
(``RouterShell.decision_listeners``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from cti.ami.errors import AmiError
from cti.periodic import Periodic
from cti.router import RouterShell
from routing.caller_forecast import WaitForecaster
from routing.decisions import Decision
from routing.engine import RoutingEngine
from routing.records import CallStatus
from routing.wait_announce import Announcement, Announcer

log = logging.getLogger(__name__)

# The dialplan re-reads CTI_ANNOUNCE this long after CTI_ANNOUNCE_AT: one round of ours.
ROUND_MARGIN_S = 1


class WaitAnnouncements(Periodic):
    def __init__(
        self,
        router: RouterShell,
        speech: Callable[[str], Awaitable[str | None]],
        clock: Callable[[], float],
        tick_s: float = 1.0,
    ) -> None:
        self.router = router
        self.speech = speech
        self.clock = clock
        self.forecaster = WaitForecaster()
        self.announcer = Announcer()
        self.said: list[Announcement] = []  # the last ones, for the log and the tests
        self._engine: RoutingEngine | None = None
        self._waiting: set[str] = set()
        super().__init__(tick_s, self.round, "wait announcements")
        router.decision_listeners.append(self._observe)
        contract = router.service.tracker.contract
        router.service.add_user_event_listener(contract.announced_event, self._played)

    def _observe(self, decisions: list[Decision]) -> None:
        self.forecaster.observe(decisions)

    def _played(self, headers: Mapping[str, Any]) -> None:
        log.info("announcement played on %s: %s", headers.get("Channel"), headers.get("Sound"))

    async def round(self) -> None:
        """Tell every waiting caller whose moment has come."""
        engine = self.router.engine
        if engine is not self._engine:  # first round, or a new configuration
            self._engine = engine
            self.forecaster.observed.seed(engine.agents())
        waiting = self.router.dispatcher.waiting()
        held = self.router.dispatcher.holding()
        for gone in self._waiting - held:  # left without an offer: hung up (or overflowed)
            self.forecaster.left(gone)
        self._waiting = waiting
        self.announcer.keep_only(held)
        now = self.clock()
        snapshot = self.forecaster.snapshot(engine, now)
        tracker = self.router.service.tracker
        for call_id in sorted(held):
            record = engine.call(call_id)
            call = tracker.call(call_id)
            if record is None or call is None or call.first_wait_at is None:
                continue
            rules = engine.config.services[record.service].announce
            if not self.announcer.due(call_id, rules, call.first_wait_at, now):
                continue
            waits = call_id in waiting and record.status is not CallStatus.RINGING
            forecast = snapshot.forecast(call_id) if waits else None
            if forecast is None or call.dialplan_channel is None:
                self.announcer.skip(call_id, rules, call.first_wait_at, now)
                continue
            said = self.announcer.say(forecast, rules, call.first_wait_at)
            if said is not None:
                await self._tell(call.dialplan_channel, said)

    async def _tell(self, channel: str, said: Announcement) -> None:
        sound = await self.speech(said.text)
        if sound is None:
            log.warning("call %s: announcement not rendered (%s)", said.call_id, said.text)
            return
        contract = self.router.service.tracker.contract
        next_at = self.announcer.next_at(said.call_id)
        values = {
            contract.announce_at_variable: (
                "" if next_at is None else str(math.ceil(next_at) + ROUND_MARGIN_S)
            ),
            contract.announce_variable: sound,  # last: the dialplan plays once it is there
        }
        try:
            for variable, value in values.items():
                await self.router.send(
                    {"Action": "Setvar", "Channel": channel, "Variable": variable, "Value": value}
                )
        except AmiError as exc:
            log.debug("announcement to %s not set: %s", said.call_id, exc)
            return
        self.said.append(said)
        del self.said[:-200]
        log.info("call %s told: %s", said.call_id, said.text, extra={"call_id": said.call_id})
