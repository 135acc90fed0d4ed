"""Fan-out of messages to subscribers (web pages), one bounded queue each.

A slow page must not slow the call tracker: when a subscriber's queue is full it is dropped
and told so (its page reconnects and gets a fresh snapshot), instead of buffering forever.

One interface for one node and for several: producers ``publish`` on a ``Bus`` and pages
``subscribe`` to one. On a single node the bus is all there is (in process). With web nodes
apart from the router (``CTI_ROLE``), the router's buses are ``cti.broker.bus.BrokerBus``es,
which also hand every message to the broker, and each web node feeds local ``Bus``es from
the broker (``cti.broker.feeds``): the pages' side reads a ``Subscription`` either way.
"""

from __future__ import annotations

import asyncio
from typing import Any

#: A message: a dict (sent as JSON), or JSON text already serialised once for every page.
Message = dict[str, Any] | str


#: How a page's socket is closed when its bus drops it: too slow (the default), or told to
#: reconnect elsewhere (``Bus.close``).
TOO_SLOW = (1013, "trop lent : reconnectez-vous")


class Subscription:
    def __init__(self, bus: Bus, maxsize: int) -> None:
        self._bus = bus
        self.queue: asyncio.Queue[Message | None] = asyncio.Queue(maxsize)
        self.overflowed = False
        #: The close code and reason its page's socket gets when the bus ends it.
        self.ending = TOO_SLOW

    async def get(self) -> Message | None:
        """Next message, or None when the bus dropped this subscriber (too slow) or closed."""
        return await self.queue.get()

    def close(self) -> None:
        self._bus.unsubscribe(self)


class Bus:
    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: set[Subscription] = set()
        self._queue_size = queue_size

    def subscribe(self) -> Subscription:
        sub = Subscription(self, self._queue_size)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def wanted(self) -> bool:
        """Whether a message published now reaches anyone (producers skip the serialising
        otherwise); a bus that also feeds the broker is always wanted."""
        return bool(self._subscribers)

    def publish(self, message: Message) -> None:
        for sub in list(self._subscribers):
            try:
                sub.queue.put_nowait(message)
            except asyncio.QueueFull:
                sub.overflowed = True
                self._subscribers.discard(sub)
                # Make room for the end marker so the reader wakes up and reconnects.
                sub.queue.get_nowait()
                sub.queue.put_nowait(None)

    def close(self, ending: tuple[int, str] = TOO_SLOW) -> None:
        """End every subscription; their pages' sockets close with ``ending`` (code,
        reason) and the pages reconnect."""
        for sub in list(self._subscribers):
            self._subscribers.discard(sub)
            sub.ending = ending
            if sub.queue.full():
                sub.queue.get_nowait()
            sub.queue.put_nowait(None)
