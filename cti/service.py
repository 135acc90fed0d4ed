"""The call service: where AMI events become domain events and reach the pages.

The AMI connection calls ``on_ami_event``/``on_resync``/``on_devices``/``on_link_state``; the
tracker (pure) turns events into domain events; the live view and the bus carry them to the web.
Listeners (the router, the screen pop, the history writer) subscribe with ``add_listener``.

Each AMI event is handled to the end (the tracker, then every listener, in order) before the
next one: the obvious loop. A card is queued to its agent's socket while the event is handled
and leaves as soon as the loop is free again, a fraction of a millisecond later; nobody
perceives more, and the order of everything is the order of the events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from cti.ami.events import DeviceStateChanged, ListedChannel, parse_device_state, parse_event
from cti.bus import Bus
from cti.live_view import LiveView
from cti.tracker import CallTracker
from cti.tracker.events import DomainEvent

log = logging.getLogger(__name__)

Listener = Callable[[DomainEvent], None]
DeviceListener = Callable[[DeviceStateChanged, float], None]
DeviceListListener = Callable[[Sequence[DeviceStateChanged], float], None]


class CallService:
    def __init__(self, tracker: CallTracker | None = None, bus: Bus | None = None) -> None:
        self.tracker = tracker or CallTracker()
        self.bus = bus or Bus()
        self.view = LiveView()
        self.link_state = "disconnected"
        self.events_seen = 0
        self._listeners: list[Listener] = []
        self._device_listeners: list[DeviceListener] = []
        self._device_list_listeners: list[DeviceListListener] = []
        self._link_listeners: list[Callable[[str], None]] = []
        self._user_listeners: dict[str, list[Callable[[Mapping[str, Any]], None]]] = {}
        # Told each AMI event's arrival time once it is handled (the metrics' event lag).
        self.on_handled: Callable[[float], None] | None = None

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def add_device_listener(self, listener: DeviceListener) -> None:
        """Phones' states (``DeviceStateChange``): not calls, so not the tracker's."""
        self._device_listeners.append(listener)

    def add_device_list_listener(self, listener: DeviceListListener) -> None:
        """Every phone's state as Asterisk lists them after a (re)connect (``DeviceStateList``):
        a whole picture, which replaces what was known before the link went down."""
        self._device_list_listeners.append(listener)

    def add_user_event_listener(
        self, name: str, listener: Callable[[Mapping[str, Any]], None]
    ) -> None:
        """``listener`` hears the raw headers of every ``UserEvent`` called ``name`` (the
        callbacks' dialplan results, which are no part of a call's life)."""
        self._user_listeners.setdefault(name.lower(), []).append(listener)

    def add_link_listener(self, listener: Callable[[str], None]) -> None:
        """The AMI link's state ("ready" once logged in and resynchronised)."""
        self._link_listeners.append(listener)

    def on_ami_event(self, headers: Mapping[str, Any], received_at: float) -> None:
        self._handle(headers, received_at)

    def on_resync(self, channels: Iterable[ListedChannel], at: float) -> None:
        self._emit(self.tracker.resync(channels, at))

    def on_devices(self, devices: Sequence[DeviceStateChanged], at: float) -> None:
        for listener in self._device_list_listeners:
            listener(devices, at)

    def on_link_state(self, state: str) -> None:
        self.link_state = state
        self.bus.publish({"kind": "link", "state": state})
        for listener in self._link_listeners:
            listener(state)

    def _handle(self, headers: Mapping[str, Any], received_at: float) -> None:
        self.events_seen += 1
        device = parse_device_state(headers)
        if device is not None:
            for on_device in self._device_listeners:
                on_device(device, received_at)
        else:
            if self._user_listeners and headers.get("Event") == "UserEvent":
                name = str(headers.get("UserEvent", "")).lower()
                for listener in self._user_listeners.get(name, ()):
                    listener(headers)
            event = parse_event(headers)
            if event is not None:
                self._emit(self.tracker.handle(event, received_at))
        if self.on_handled is not None:
            self.on_handled(received_at)

    def _emit(self, events: list[DomainEvent]) -> None:
        for event in events:
            self.view.apply(event)
            if self.bus.wanted:  # no live page open: no need to serialise it
                self.bus.publish({"kind": "event", "event": event.to_dict()})
            for listener in self._listeners:
                try:
                    listener(event)
                except Exception:  # one broken listener must not stop the others
                    log.exception(
                        "listener %r failed on %s",
                        listener,
                        event.type,
                        extra={"call_id": event.call_id},
                    )

    def snapshot(self) -> dict[str, Any]:
        return {"kind": "snapshot", "link": self.link_state, **self.view.snapshot()}
