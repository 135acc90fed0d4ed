"""The call service: where AMI events become domain events and reach the pages.

The AMI connection calls ``on_ami_event``/``on_resync``/``on_link_state``; the tracker
(pure) turns events into domain events; the live view and the bus carry them to the web.
Listeners (the router, the screen pop, the history writer) subscribe with ``add_listener``.

A listener that has just queued something a person is waiting for (the card of the agent
whose phone rings) calls ``send_first``: the rest of the work (the other listeners, the other
events of the frame, the frames after it) waits one turn of the event loop, so that the card
leaves before the wallboard's fold and the rest of the AMI chunk are done. The order of
events is kept: frames that come meanwhile queue behind the deferred work. Under overload
that queue is bounded (``MAX_BACKLOG``): past it, everything waiting is done at once and cards
no longer jump the queue, so memory stays flat and the lag shows in the metrics.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from cti.ami.events import DeviceStateChanged, ListedChannel, parse_device_state, parse_event
from cti.bus import Bus
from cti.live_view import LiveView
from cti.tracker import CallTracker
from cti.tracker.events import DomainEvent

log = logging.getLogger(__name__)

Listener = Callable[[DomainEvent], None]
# Work put off by ``send_first`` at most: past it, the backlog is caught up at once (memory
# stays bounded when more events arrive than the loop can handle).
MAX_BACKLOG = 2000
DeviceListener = Callable[[DeviceStateChanged, float], None]


class CallService:
    def __init__(self, tracker: CallTracker | None = None, bus: Bus | None = None) -> None:
        self.tracker = tracker or CallTracker()
        self.bus = bus or Bus()
        self.view = LiveView()
        self.link_state = "disconnected"
        self.events_seen = 0
        self._listeners: list[Listener] = []
        self._device_listeners: list[DeviceListener] = []
        self._link_listeners: list[Callable[[str], None]] = []
        self._user_listeners: dict[str, list[Callable[[Mapping[str, Any]], None]]] = {}
        # Told each AMI event's arrival time once it is handled (the metrics' event lag).
        self.on_handled: Callable[[float], None] | None = None
        # Work put off by ``send_first``, in order; run at the loop's next turn.
        self._later: deque[Callable[[], None]] = deque()
        self._dispatching = False
        self._yield = False
        self._resume: asyncio.Handle | None = None
        self._overloaded = False  # the backlog went past MAX_BACKLOG (logged once)

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def add_device_listener(self, listener: DeviceListener) -> None:
        """Phones' states (``DeviceStateChange``): not calls, so not the tracker's."""
        self._device_listeners.append(listener)

    def add_user_event_listener(
        self, name: str, listener: Callable[[Mapping[str, Any]], None]
    ) -> None:
        """``listener`` hears the raw headers of every ``UserEvent`` called ``name`` (the
        callbacks' dialplan results, which are no part of a call's life)."""
        self._user_listeners.setdefault(name.lower(), []).append(listener)

    def add_link_listener(self, listener: Callable[[str], None]) -> None:
        """The AMI link's state ("ready" once logged in and resynchronised)."""
        self._link_listeners.append(listener)

    @property
    def backlog(self) -> int:
        """AMI events and work waiting for their turn (``send_first``'s)."""
        return len(self._later)

    def on_ami_event(self, headers: Mapping[str, Any], received_at: float) -> None:
        if self._later:  # earlier work is waiting for its turn: keep the order
            self._later.append(functools.partial(self._handle, headers, received_at))
            if len(self._later) > MAX_BACKLOG:
                # More comes in than the loop gets through: letting cards leave first would
                # pile events up without bound. Catch up now, in order; cards wait their turn.
                if not self._overloaded:
                    log.warning(
                        "surcharge : %d événements AMI en attente, traités d'un bloc "
                        "(les fiches ne passent plus devant)",
                        len(self._later),
                    )
                self._overloaded = True
                self.settle()
            return
        self._overloaded = False
        self._dispatch(functools.partial(self._handle, headers, received_at))

    def on_resync(self, channels: Iterable[ListedChannel], at: float) -> None:
        self.settle()
        self._dispatch(lambda: self._emit(self.tracker.resync(channels, at)))

    def on_link_state(self, state: str) -> None:
        self.settle()
        self.link_state = state
        self.bus.publish({"kind": "link", "state": state})
        for listener in self._link_listeners:
            listener(state)

    def send_first(self) -> None:
        """Let the event loop send what was just queued before the service goes on (see the
        module's docstring). Outside the service's own dispatch it does nothing."""
        if self._dispatching:
            try:
                asyncio.get_running_loop()
            except RuntimeError:  # no loop (a replay, a test): nothing to let through
                return
            self._yield = True

    def settle(self) -> None:
        """Do now any work put off by ``send_first``."""
        if self._resume is not None:
            self._resume.cancel()
            self._resume = None
        while self._later:
            self._later.popleft()()

    def _dispatch(self, work: Callable[[], None]) -> None:
        self._dispatching = True
        try:
            work()
        finally:
            self._dispatching = self._yield = False

    def _run_later(self) -> None:
        self._resume = None
        while self._later:
            self._dispatch(self._later.popleft())
            if self._resume is not None:  # put off again: the rest at the next turn
                return

    def _put_off(self, work: Callable[[], None]) -> None:
        """``work`` (what remained of the current dispatch) runs before anything queued."""
        self._later.appendleft(work)
        if self._resume is None:
            self._resume = asyncio.get_running_loop().call_soon(self._run_later)

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
        for i, event in enumerate(events):
            self.view.apply(event)
            if self.bus.wanted:  # no live page open: no need to serialise it
                self.bus.publish({"kind": "event", "event": event.to_dict()})
            if not self._notify(event, events[i + 1 :]):
                return

    def _notify(self, event: DomainEvent, after: list[DomainEvent], first: int = 0) -> bool:
        """Tell the listeners from ``first`` on; False if one asked to send first, the rest
        (the other listeners, then the events ``after``) being put off to the next turn."""
        for n in range(first, len(self._listeners)):
            listener = self._listeners[n]
            try:
                listener(event)
            except Exception:  # one broken listener must not stop the others
                log.exception(
                    "listener %r failed on %s",
                    listener,
                    event.type,
                    extra={"call_id": event.call_id},
                )
            if self._yield:
                self._yield = False
                self._put_off(functools.partial(self._go_on, event, after, n + 1))
                return False
        return True

    def _go_on(self, event: DomainEvent, after: list[DomainEvent], first: int) -> None:
        if self._notify(event, after, first):
            self._emit(after)

    def snapshot(self) -> dict[str, Any]:
        return {"kind": "snapshot", "link": self.link_state, **self.view.snapshot()}
