"""Per-agent delivery of screen-pop messages: only the agent a call is offered to receives it.

Each agent has a ``Bus`` of their own (several pages may be open: a desk and a laptop). The
hub also keeps the last card message per agent, so that a page that reconnects (network
blip, reload) is shown the call in progress at once instead of an empty screen.
"""

from __future__ import annotations

from typing import Any

from cti.bus import Bus, Subscription
from screenpop.messages import PROTOCOL_VERSION


class AgentHub:
    def __init__(self, queue_size: int = 100) -> None:
        self._buses: dict[str, Bus] = {}
        self._current: dict[str, dict[str, Any]] = {}
        self._queue_size = queue_size
        self.sent = 0

    def _bus(self, agent: str) -> Bus:
        bus = self._buses.get(agent)
        if bus is None:
            bus = self._buses[agent] = Bus(self._queue_size)
        return bus

    def subscribe(self, agent: str) -> Subscription:
        return self._bus(agent).subscribe()

    def connected(self, agent: str) -> bool:
        bus = self._buses.get(agent)
        return bus is not None and bus.subscriber_count > 0

    @property
    def page_count(self) -> int:
        return sum(bus.subscriber_count for bus in self._buses.values())

    def send(self, agent: str, message: Any, *, keep: bool = True) -> None:
        """Send a pydantic message to every page of ``agent``; ``keep`` it for reconnects."""
        data: dict[str, Any] = message.model_dump(mode="json")
        assert data["v"] == PROTOCOL_VERSION
        if keep:
            self._current[agent] = data
        self.sent += 1
        bus = self._buses.get(agent)
        if bus is not None:
            bus.publish(data)

    def current(self, agent: str) -> dict[str, Any] | None:
        """The last card message of ``agent``'s call, if a call is still on their screen."""
        return self._current.get(agent)

    def current_call(self, agent: str) -> str | None:
        message = self._current.get(agent)
        if message is None or message["type"] == "card.ended":
            return None
        call_id: str = message["card"]["call_id"]
        return call_id

    def dismiss(self, agent: str, call_id: str) -> None:
        """The agent closed the card of ``call_id`` (wrap-up done)."""
        message = self._current.get(agent)
        if message is not None and message["card"]["call_id"] == call_id:
            del self._current[agent]

    def close(self) -> None:
        for bus in self._buses.values():
            bus.close()
