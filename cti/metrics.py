"""Counters and gauges for Prometheus, rendered in its text format (no client library).

Counters are bumped where things happen: ``on_event`` listens to the call service's domain
events (offers, answers), ``observe_received`` is called by the service once an AMI event is
handled (lag from its arrival on the socket). Gauges (calls waiting per service, WebSocket
clients, AMI reconnects, records waiting for the database) are read at scrape time from the
objects that already know them, so nothing has to keep them in step. ``render`` is pure:
values in, exposition text out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from cti.live_view import LiveView
from cti.tracker.events import CallAnswered, CallOffered, DomainEvent

# Event lag is normally well under a millisecond; the top buckets catch a stalled loop.
LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
WAITING_STAGES = frozenset({"en attente"})


@dataclass(slots=True)
class Histogram:
    buckets: tuple[float, ...] = LAG_BUCKETS
    counts: list[int] = field(default_factory=lambda: [0] * len(LAG_BUCKETS))
    total: float = 0.0
    count: int = 0

    def observe(self, value: float) -> None:
        self.total += value
        self.count += 1
        for index, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[index] += 1  # cumulative at render time, not here
                break


@dataclass(frozen=True, slots=True)
class Gauges:
    """Values read at scrape time."""

    calls_waiting: Mapping[str, int]
    websocket_clients: int
    ami_reconnects: int
    db_pending_writes: int = 0  # held while the database is away (writer's health)
    db_down: bool = False


class Metrics:
    def __init__(
        self,
        ami_reconnects: Callable[[], int] = lambda: 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ami_reconnects = ami_reconnects
        self.clock = clock
        self.offers = 0
        self.answers = 0
        self.lag = Histogram()

    def on_event(self, event: DomainEvent) -> None:
        if isinstance(event, CallOffered):
            self.offers += 1
        elif isinstance(event, CallAnswered):
            self.answers += 1

    def observe_received(self, received_at: float) -> None:
        """An AMI event received at ``received_at`` (same clock) has just been handled."""
        self.lag.observe(max(0.0, self.clock() - received_at))


def waiting_by_service(view: LiveView, services: Iterable[str] = ()) -> dict[str, int]:
    """Calls waiting for an agent, per service (known services shown even at zero)."""
    counts = dict.fromkeys(services, 0)
    for call in view.calls.values():
        if call.stage in WAITING_STAGES:
            name = call.service or "inconnu"
            counts[name] = counts.get(name, 0) + 1
    return counts


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def render(metrics: Metrics, gauges: Gauges) -> str:
    """The Prometheus text exposition format (version 0.0.4)."""
    lines = [
        "# HELP cti_calls_waiting Calls waiting for an agent, per service.",
        "# TYPE cti_calls_waiting gauge",
    ]
    for service, count in sorted(gauges.calls_waiting.items()):
        lines.append(f'cti_calls_waiting{{service="{_label(service)}"}} {count}')
    simple = (
        ("cti_offers_total", "counter", "Calls offered to an agent's phone.", metrics.offers),
        ("cti_answers_total", "counter", "Calls answered by an agent.", metrics.answers),
        (
            "cti_ami_reconnects_total",
            "counter",
            "AMI logins after the first one (link lost then back).",
            gauges.ami_reconnects,
        ),
        (
            "cti_websocket_clients",
            "gauge",
            "Open WebSockets (agents' desks and live boards).",
            gauges.websocket_clients,
        ),
        (
            "cti_db_pending_writes",
            "gauge",
            "Records the database has not taken yet (kept in memory and spool while it is away).",
            gauges.db_pending_writes,
        ),
        (
            "cti_db_up",
            "gauge",
            "1 when the database takes the product's writes, 0 while it is away.",
            0 if gauges.db_down else 1,
        ),
    )
    for name, kind, help_text, value in simple:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {value}"]
    lag = metrics.lag
    lines += [
        "# HELP cti_event_lag_seconds From an AMI event's arrival to the end of its handling.",
        "# TYPE cti_event_lag_seconds histogram",
    ]
    cumulative = 0
    for bound, count in zip(lag.buckets, lag.counts, strict=True):
        cumulative += count
        lines.append(f'cti_event_lag_seconds_bucket{{le="{bound:g}"}} {cumulative}')
    lines += [
        f'cti_event_lag_seconds_bucket{{le="+Inf"}} {lag.count}',
        f"cti_event_lag_seconds_sum {_number(lag.total)}",
        f"cti_event_lag_seconds_count {lag.count}",
    ]
    return "\n".join(lines) + "\n"
