"""Counters and gauges for Prometheus, exposed through ``prometheus_client``.

Counters are bumped where things happen: ``on_event`` listens to the call service's domain
events (offers, answers), ``observe_received`` is called by the service once an AMI event is
handled (lag from its arrival on the socket). Gauges (calls waiting per service, WebSocket
clients, AMI reconnects, records waiting for the database) are read at scrape time from the
objects that already know them, so nothing has to keep them in step. ``render`` is pure:
values in, exposition text out (``prometheus_client``'s own, from metric families built at
scrape time). The lag histograms reach 10 minutes: under overload the figure that matters is
how late, not "more than 5 s".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from cti.live_view import LiveView
from cti.tracker.events import CallAnswered, CallOffered, DomainEvent

# Event lag is normally well under a millisecond; the top buckets say how late an overloaded
# or stalled loop runs (cards minutes late must show as minutes, not as "over 5 s").
LAG_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
)  # fmt: skip
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
    db_fenced_writes: int = 0  # writes refused by the router's lease: another node took over
    loop_lag: Histogram | None = None  # ``cti.loop_lag.LoopWatch``'s
    role: str = "all"  # CTI_ROLE: each process is scraped on its own port, labelled by role
    broker: BrokerGauges | None = None  # the router role's link to the broker


@dataclass(frozen=True, slots=True)
class BrokerGauges:
    up: bool
    reconnects: int
    backlog: int  # messages waiting to leave for the broker
    dropped: int  # messages that did not fit in the queue while it was away
    replayed: int = 0  # kept answers given back instead of running a request again


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
        self.last_lag = 0.0  # the lag of the last AMI event handled: how late cards are now
        self._handled_at = float("-inf")

    def on_event(self, event: DomainEvent) -> None:
        if isinstance(event, CallOffered):
            self.offers += 1
        elif isinstance(event, CallAnswered):
            self.answers += 1

    def observe_received(self, received_at: float) -> None:
        """An AMI event received at ``received_at`` (same clock) has just been handled."""
        self._handled_at = self.clock()
        self.last_lag = max(0.0, self._handled_at - received_at)
        self.lag.observe(self.last_lag)

    def recent_lag(self, within: float = 10.0) -> float:
        """The last event's lag if it was handled in the last ``within`` seconds, else 0 (a
        quiet link says nothing of being late)."""
        return self.last_lag if self.clock() - self._handled_at <= within else 0.0


def waiting_by_service(view: LiveView, services: Iterable[str] = ()) -> dict[str, int]:
    """Calls waiting for an agent, per service (known services shown even at zero)."""
    counts = dict.fromkeys(services, 0)
    for call in view.calls.values():
        if call.stage in WAITING_STAGES:
            name = call.service or "inconnu"
            counts[name] = counts.get(name, 0) + 1
    return counts


def _histogram(name: str, help_text: str, histogram: Histogram) -> HistogramMetricFamily:
    cumulative, buckets = 0, []
    for bound, count in zip(histogram.buckets, histogram.counts, strict=True):
        cumulative += count
        buckets.append((repr(float(bound)), cumulative))
    buckets.append(("+Inf", histogram.count))
    family = HistogramMetricFamily(name, help_text)
    family.add_metric([], buckets, sum_value=histogram.total)
    return family


class _Scrape(Collector):
    """The families of one scrape, from the values read for it."""

    def __init__(self, metrics: Metrics, gauges: Gauges) -> None:
        self.metrics, self.gauges = metrics, gauges

    def collect(self) -> Iterator[Metric]:
        metrics, gauges = self.metrics, self.gauges
        info = GaugeMetricFamily("cti_node_info", "This process's role.", labels=["role"])
        info.add_metric([gauges.role], 1)
        yield info
        if gauges.broker is not None:
            broker = gauges.broker
            yield GaugeMetricFamily(
                "cti_broker_up", "1 while the broker link is up.", value=broker.up
            )
            yield CounterMetricFamily(
                "cti_broker_reconnects", "Broker links lost then back.", value=broker.reconnects
            )
            yield GaugeMetricFamily(
                "cti_broker_backlog",
                "Messages waiting to leave for the broker.",
                value=broker.backlog,
            )
            yield CounterMetricFamily(
                "cti_broker_dropped",
                "Messages for the broker dropped (queue full while it was away).",
                value=broker.dropped,
            )
            yield CounterMetricFamily(
                "cti_forward_replayed",
                "Web nodes' requests answered from a kept answer, not run again.",
                value=broker.replayed,
            )
        waiting = GaugeMetricFamily(
            "cti_calls_waiting", "Calls waiting for an agent, per service.", labels=["service"]
        )
        for service, count in sorted(gauges.calls_waiting.items()):
            waiting.add_metric([service], count)
        yield waiting
        yield CounterMetricFamily(
            "cti_offers", "Calls offered to an agent's phone.", value=metrics.offers
        )
        yield CounterMetricFamily(
            "cti_answers", "Calls answered by an agent.", value=metrics.answers
        )
        yield CounterMetricFamily(
            "cti_db_writes_fenced",
            "Writes a deposed router tried after another node took the lease: refused (calls' "
            "records and agents' states set aside in the spool directory's "
            "ecritures-refusees.jsonl).",
            value=gauges.db_fenced_writes,
        )
        yield CounterMetricFamily(
            "cti_ami_reconnects",
            "AMI logins after the first one (link lost then back).",
            value=gauges.ami_reconnects,
        )
        simple = (
            ("cti_websocket_clients", "Open WebSockets (agents' desks and live boards).",
             gauges.websocket_clients),
            ("cti_db_pending_writes",
             "Records the database has not taken yet (kept in memory and spool while it is away).",
             gauges.db_pending_writes),
            ("cti_db_up", "1 when the database takes the product's writes, 0 while it is away.",
             0 if gauges.db_down else 1),
            ("cti_event_lag_last_seconds",
             "Lag of the last AMI event handled: how late cards and boards are now.",
             metrics.last_lag),
        )  # fmt: skip
        for name, help_text, value in simple:
            yield GaugeMetricFamily(name, help_text, value=value)
        yield _histogram(
            "cti_event_lag_seconds",
            "From an AMI event's arrival to the end of its handling.",
            metrics.lag,
        )
        if gauges.loop_lag is not None:
            yield _histogram(
                "cti_event_loop_lag_seconds",
                "How much later than asked the event loop woke a task (checked twice a second).",
                gauges.loop_lag,
            )


def render(metrics: Metrics, gauges: Gauges) -> str:
    """The Prometheus text exposition format (version 0.0.4)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Scrape(metrics, gauges))
    return generate_latest(registry).decode()
