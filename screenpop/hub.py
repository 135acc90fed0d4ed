"""Per-agent delivery of screen-pop messages: only the agent a call is offered to receives it.

Each agent has a ``Bus`` of their own (several pages may be open: a desk and a laptop). The
hub also keeps the last card message per agent, so that a page that reconnects (network
blip, reload) is shown the call in progress at once instead of an empty screen.
"""

from __future__ import annotations

from collections.abc import Callable

from cti.bus import Bus, Subscription
from screenpop.messages import (
    AgentStateChanged,
    CallbackOffered,
    CallbackUpdated,
    Card,
    CardAnswered,
    CardEnded,
    CardOffered,
    CardTransferred,
    CardUpdated,
)

CardMessage = CardOffered | CardAnswered | CardUpdated | CardTransferred | CardEnded
CallbackMessage = CallbackOffered | CallbackUpdated  # never kept


class AgentHub:
    def __init__(
        self, queue_size: int = 100, bus_for: Callable[[str, int], Bus] | None = None
    ) -> None:
        # ``bus_for(agent, queue_size)``: each agent's bus (one that also feeds the broker when
        # web nodes serve the pages); default an in-process ``Bus``.
        self._bus_for = bus_for or (lambda _agent, size: Bus(size))
        self._buses: dict[str, Bus] = {}
        self._current: dict[str, tuple[CardMessage, str]] = {}  # agent -> (message, its JSON)
        self._queue_size = queue_size
        self.sent = 0

    def _bus(self, agent: str) -> Bus:
        bus = self._buses.get(agent)
        if bus is None:
            bus = self._buses[agent] = self._bus_for(agent, self._queue_size)
        return bus

    def subscribe(self, agent: str) -> Subscription:
        return self._bus(agent).subscribe()

    def connected(self, agent: str) -> bool:
        bus = self._buses.get(agent)
        return bus is not None and bus.subscriber_count > 0

    @property
    def page_count(self) -> int:
        return sum(bus.subscriber_count for bus in self._buses.values())

    def send(
        self,
        agent: str,
        message: CardMessage | AgentStateChanged | CallbackMessage,
        *,
        keep: bool = True,
    ) -> None:
        """Send a message to every page of ``agent``, serialised once (the same JSON text for
        all her pages and for a reconnect); ``keep`` a card message for reconnects."""
        text = message.model_dump_json()
        if keep and not isinstance(message, AgentStateChanged | CallbackMessage):
            self._current[agent] = (message, text)
        self.sent += 1
        bus = self._bus(agent)
        if bus.wanted:
            bus.publish(text)

    def current(self, agent: str) -> str | None:
        """The last card message of ``agent``'s call (JSON), if a call is still on her screen."""
        kept = self._current.get(agent)
        return kept[1] if kept is not None else None

    def current_call(self, agent: str) -> str | None:
        kept = self._current.get(agent)
        if kept is None or isinstance(kept[0], CardEnded):
            return None
        return kept[0].card.call_id

    def card_of(self, agent: str, call_id: str) -> Card | None:
        """The card of ``call_id`` if it is on ``agent``'s screen."""
        kept = self._current.get(agent)
        if kept is None or kept[0].card.call_id != call_id:
            return None
        return kept[0].card

    def holds(self, agent: str, call_id: str) -> bool:
        """Whether ``call_id``'s card is on ``agent``'s screen (ringing, in progress or in
        wrap-up, until she closes it)."""
        kept = self._current.get(agent)
        return kept is not None and kept[0].card.call_id == call_id

    def dismiss(self, agent: str, call_id: str) -> None:
        """The agent closed the card of ``call_id`` (wrap-up done)."""
        kept = self._current.get(agent)
        if kept is not None and kept[0].card.call_id == call_id:
            del self._current[agent]

    def close(self) -> None:
        for bus in self._buses.values():
            bus.close()
