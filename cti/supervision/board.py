"""The supervisors' wallboard: a pure fold of calls, agents' states and the clock.

Theory of operation: ``SupervisionBoard`` is fed the tracker's domain events (``apply``), the
agents' state changes (``agent_state``), the routing configuration (``configure``) and the
time (``tick``); it never reads a clock and does no I/O. Its time is the latest instant it
was fed (inputs arriving late never move it back).

Per service and per local day (Europe/Paris; counters restart at midnight):

* *offered*: calls that waited for the service (a call counts once per service it waited for);
* each offered call has at most one *outcome* per service: answered (within the service's
  threshold or not), abandoned, or overflowed (the router's overflow or the dialplan's
  safety net), so ``answered + abandoned + overflowed <= offered``;
* the service level is ``answered within threshold / outcomes`` in percent, for the day and
  over the last 30 minutes (``None`` before any outcome);
* *waiting* calls are those queued for the service and not ringing, answered or gone (after
  a missed offer the call waits again); the longest wait counts from its entry in the queue.

Alerts are conditions with a key (kind, service or agent): an alert is raised when its
condition becomes true, stays one alert while it holds (``cleared_at`` is set when it stops
holding) and a new one is raised if it becomes true again. Supervisors acknowledge them.
The conditions: a service level under target over the last 30 minutes, a call waiting longer
than the service's maximum, a service open (``is_open``) with no logged-in agent able to
take it, an agent paused by the router for missed offers, records waiting for a database
that does not take them (``database``; its message follows the count), the product
running late (``overload``: AMI events or the event loop more than
``conditions.OVERLOAD_S`` behind, so cards are late; its message follows the lag), and
callbacks whose promised window ends within 30 minutes or has ended (``callbacks``).

The board is put together from ``state`` (its state and bookkeeping), ``view`` (``board()``,
``waiting()``) and ``conditions`` (the alerts' conditions); the inputs are here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from cti.supervision import callbacks
from cti.supervision.alerts import Alert, AlertBook, AlertEvent
from cti.supervision.callbacks import PromisedWindow
from cti.supervision.conditions import AlertConditions
from cti.supervision.opening_hours import IsOpen, always_open
from cti.supervision.state import BoardAgent, BoardCall, Counters, Stage
from cti.supervision.view import BoardView
from cti.tracker import events as ev
from routing.model import EngineConfig


@dataclass(frozen=True, slots=True)
class PastCall:
    """A call of today read back from the interactions table after a restart."""

    call_id: str
    service: str
    arrived_at: float
    outcome: str  # the interaction's outcome: answered, abandoned, overflow, safety_net...
    wait: float | None


class SupervisionBoard(AlertConditions, BoardView):
    """The wallboard's fold; see the module docstring. Its inputs return the alerts' changes."""

    def __init__(
        self,
        config: EngineConfig,
        *,
        states: Mapping[str, tuple[str, str | None]] | None = None,
        default_service: str | None = None,
        is_open: IsOpen | None = None,
        now: float = 0.0,
        timezone: str = "Europe/Paris",
        sl_min_outcomes: int = 1,
        sl_clear_margin_pct: float = 0.0,
    ) -> None:
        self.tz = ZoneInfo(timezone)
        self.is_open = is_open or always_open
        self.default_service = default_service
        # Hysteresis of the service-level alert: raised on at least this many outcomes in
        # the window, cleared only once the level is this many points above its target.
        self.sl_min_outcomes = sl_min_outcomes
        self.sl_clear_margin_pct = sl_clear_margin_pct
        self.now = now
        self.day = self._day(now)
        self.config = config
        self.agents = {}
        self.calls = {}
        self.counters = {}
        self._counted = set()  # (call, service) offered today
        self._settled = set()  # (call, service) with an outcome
        self._window = deque()  # outcomes: at, service, ok
        # Per service, in the window: [outcomes in time, outcomes] (kept as the window slides).
        self._window_counts = {}
        # Per service, agents logged in who can take its calls, and the agents paused for
        # unanswered offers; None: to work out again (an agent's state or the setup changed).
        self._staffed = None
        self._missed_offers = []
        self._pending_writes = 0
        self.book = AlertBook()
        self._lag = 0.0
        self._windows = []
        self.configure(config, states or {}, now)

    # -- inputs -------------------------------------------------------------------------------

    def configure(
        self,
        config: EngineConfig,
        states: Mapping[str, tuple[str, str | None]],
        at: float,
    ) -> list[AlertEvent]:
        """A (new) routing configuration; ``states`` are agents' states known elsewhere."""
        self._advance(at)
        self.config = config
        for name in config.services:
            self.counters.setdefault(name, Counters())
        agents: dict[str, BoardAgent] = {}
        for agent_id, spec in config.agents.items():
            row = self.agents.get(agent_id) or BoardAgent(spec.name, since=self.now)
            row.name = spec.name
            if agent_id in states:
                self._set_state(row, *states[agent_id])
            agents[agent_id] = row
        self.agents = agents
        self._staffed = None
        return self._evaluate()

    def restore_today(self, past: Iterable[PastCall]) -> None:
        """Refill today's counters after a restart (calls of other days are ignored)."""
        for call in past:
            if call.service not in self.counters or self._day(call.arrived_at) != self.day:
                continue
            key = (call.call_id, call.service)
            if key in self._counted:
                continue
            self._counted.add(key)
            self.counters[call.service].offered += 1
            end = call.arrived_at + (call.wait or 0.0)
            if call.outcome == "answered":
                self._settle(
                    key, end, in_time=self._in_time(call.service, call.wait), answered=True
                )
            elif call.outcome == "abandoned":
                self._settle(key, end, in_time=False, answered=False)
                self.counters[call.service].abandoned += 1
            elif call.outcome in ("overflow", "safety_net"):
                self._settle(key, end, in_time=False, answered=False)
                self.counters[call.service].overflowed += 1

    def apply(self, event: ev.DomainEvent) -> list[AlertEvent]:
        """One domain event of the call tracker."""
        self._advance(event.at)
        at = event.at
        call = self.calls.get(event.call_id)
        if isinstance(event, ev.CallEnded):
            if call is not None:
                del self.calls[event.call_id]
            return self._evaluate()
        if call is None:
            call = BoardCall(event.call_id, event.caller_number, event.caller_withheld, since=at)
            self.calls[event.call_id] = call
        call.caller_withheld = event.caller_withheld
        if event.caller_withheld:  # for good: the number it may have shown goes
            call.caller_number = None
        elif event.caller_number is not None:
            call.caller_number = event.caller_number
        if isinstance(event, ev.CallWaiting):
            service = self._service(event.service, call.service)
            if call.queued_at is None or service != call.service:
                call.queued_at = at
            call.service = service
            self._offered(call)
            self._move(call, Stage.WAITING, at, None)
        elif isinstance(event, ev.CallOffered):
            self._known_service(call, event.service)
            if call.stage is not Stage.RINGING:
                call.ringing.clear()
            call.ringing.append(event.agent)
            self._move(call, Stage.RINGING, at, call.ringing[0])
        elif isinstance(event, ev.CallNoAnswer):
            self._known_service(call, event.service)
            if event.agent in call.ringing:
                call.ringing.remove(event.agent)
            if call.ringing and call.stage is Stage.RINGING:
                call.agent = call.ringing[0]  # a colleague's phone still rings for it
            elif call.service is not None and call.queued_at is not None:
                self._move(call, Stage.WAITING, at, None)
            else:
                self._move(call, Stage.ARRIVED, at, None)
        elif isinstance(event, ev.CallAnswered):
            self._known_service(call, event.service)
            waited = at - call.queued_at if call.queued_at is not None else event.waited
            self._outcome(call, at, answered=True, in_time=self._in_time(call.service, waited))
            call.queued_at = None
            self._move(call, Stage.CONNECTED, at, event.agent)
        elif isinstance(event, ev.CallTransferred):
            call.queued_at = None
            stage = Stage.CONNECTED if event.to_agent else Stage.ELSEWHERE
            self._move(call, stage, at, event.to_agent)
        elif isinstance(event, ev.CallAbandoned):
            if self._outcome(call, at, answered=False, in_time=False):
                self.counters[call.service or ""].abandoned += 1
            call.queued_at = None
            self._move(call, Stage.ELSEWHERE, at, None)
        elif isinstance(event, ev.CallOverflowed | ev.CallSafetyNet):
            if self._outcome(call, at, answered=False, in_time=False):
                self.counters[call.service or ""].overflowed += 1
            call.queued_at = None
            self._move(call, Stage.ELSEWHERE, at, None)
        return self._evaluate()

    def agent_state(
        self, agent: str, state: str, reason: str | None, at: float
    ) -> list[AlertEvent]:
        """The router says ``agent`` is now in ``state`` (agents not configured are ignored)."""
        self._advance(at)
        row = self.agents.get(agent)
        if row is not None:
            self._set_state(row, state, reason)
        return self._evaluate()

    def database(self, pending_writes: int, at: float) -> list[AlertEvent]:
        """Records the database has not taken (0: it takes everything)."""
        self._advance(at)
        self._pending_writes = pending_writes
        return self._evaluate()

    def overload(self, lag_s: float, at: float) -> list[AlertEvent]:
        """How far behind the product runs (seconds; below ``OVERLOAD_S``: it keeps up)."""
        self._advance(at)
        self._lag = lag_s
        return self._evaluate()

    def callbacks(self, windows: Iterable[PromisedWindow], at: float) -> list[AlertEvent]:
        """The promised windows of the callbacks not done yet (all of them, each time)."""
        self._advance(at)
        self._windows = callbacks.ordered(windows)
        return self._evaluate()

    def tick(self, now: float) -> list[AlertEvent]:
        """Time passes: waits grow, the 30-minute window slides, services open and close."""
        self._advance(now)
        return self._evaluate()

    def acknowledge(self, alert_id: int, user: str, at: float) -> list[AlertEvent]:
        """``user`` saw the alert (``AlertBook.acknowledge``: while it holds, once)."""
        self._advance(at)
        return self.book.acknowledge(alert_id, user, self.now)

    @property
    def alerts(self) -> dict[int, Alert]:
        return self.book.alerts
