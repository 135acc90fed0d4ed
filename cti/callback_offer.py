"""« Tapez 1 pour être rappelé, vous gardez votre place »: the offer made to long waiters.

Which callers are offered is ``routing.callbacks.wait_offer``'s decision (the service's
``callback: offer_in_wait`` and ``offer_after_s``); this shell looks at the callers the router
holds about once a second and ``Setvar``s ``CTI_CALLBACK_OFFER`` (the sound of the offer) on
each one's dialplan leg. ``cti-wait`` then plays it once and listens for 1 under its music;
the key leads to the FastAGI callback dialogue (``ivr_scripts.fastagi``), which records the
request with her ``WAIT_START`` as her place. A Setvar that fails (she left, the link is
down) is tried again on the next round.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from cti.ami.errors import AmiError
from cti.periodic import Periodic
from cti.router import RouterShell
from routing.callbacks import wait_offer

log = logging.getLogger(__name__)

SILENT_OFFER = "beep"  # when no sound could be rendered: the key still works


class WaitOffers(Periodic):
    def __init__(
        self,
        router: RouterShell,
        sound: Callable[[], str],
        clock: Callable[[], float],
        tick_s: float = 1.0,
    ) -> None:
        self.router = router
        self.sound = sound
        self.clock = clock
        self.offered: set[str] = set()
        super().__init__(tick_s, self.round, "callback offers in the wait")

    async def round(self) -> None:
        """Offer the key to every caller due now."""
        tracker = self.router.service.tracker
        held = self.router.dispatcher.holding()
        self.offered &= held  # gone callers are forgotten
        waiting: list[wait_offer.Waiting] = []
        channels: dict[str, str] = {}
        for call_id in sorted(held):
            call = tracker.call(call_id)
            if call is None or call.service_wait_at is None or call.dialplan_channel is None:
                continue
            # From her entry in this service's wait: after a transfer, her talk with the
            # first agent was no wait.
            waiting.append(wait_offer.Waiting(call_id, call.service, call.service_wait_at))
            channels[call_id] = call.dialplan_channel
        services = self.router.engine.config.services
        rules = {name: spec.callback for name, spec in services.items()}
        for call_id in wait_offer.due(waiting, rules, self.clock(), self.offered):
            try:
                await self.router.send(
                    {
                        "Action": "Setvar",
                        "Channel": channels[call_id],
                        "Variable": tracker.contract.callback_offer_variable,
                        "Value": self.sound() or SILENT_OFFER,
                    }
                )
            except AmiError as exc:
                log.debug("callback offer to %s not set: %s", call_id, exc)
                continue
            self.offered.add(call_id)
            log.info("call %s offered a callback in the wait", call_id, extra={"call_id": call_id})
