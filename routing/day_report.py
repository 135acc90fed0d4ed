"""Figures of a replayed day, per service and overall, and their terminal tables.

Theory of operation: everything is computed from a ``DayRecord`` alone, leg by leg (a
transferred or overflowed caller counts once in each service she waited for):

* service level: legs answered within the service's ``sl_threshold_s`` / all legs (answered,
  abandoned and overflowed: a caller who gave up was not served in time), against
  ``sl_target_pct``; overall, each leg against its own service's threshold;
* wait: queueing to the leg's end (answer, hang-up or overflow), average and 90th
  percentile (nearest rank);
* best proficiency: share of answered legs taken by an agent whose proficiency on the
  service (lowest over its required skills) is the best among the day's staff;
* qualified: share of answered legs taken by an agent meeting the service's unrelaxed
  requirement (every required skill at its minimum);
* occupancy: (talk + wrap-up) / logged-in time, over all agents, from the router's own
  agent states (logged-in time includes breaks).

Callbacks (our engine only, ``routing.day_callbacks``) leave every figure above as it is
for live calls: a caller who gave up and asked to be called back is an abandoned leg, not
in time, whatever happens to her request, and a callback's call is no answered leg (its
agent time counts in occupancy, as it takes the agents from live calls). Beside them:
requests asked, reached, failed and still pending at the day's end, the mean delay from
request to the call that reached her, and the abandonment once the callers reached are
counted as served (``abandon_served_pct``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from routing.announce_report import AnnounceStats, announce_figures, announce_stats
from routing.day_model import SLOT_S, DaySpec
from routing.day_records import CallbackRecord, DayRecord, LegRecord, Outcome
from routing.requirements import Requirement, requirements, score


@dataclass(frozen=True, slots=True)
class ServiceStats:
    service: str
    calls: int
    answered: int
    abandoned: int
    overflowed: int
    sl_pct: float | None
    sl_target_pct: float | None
    avg_wait_s: float
    p90_wait_s: float
    best_pct: float | None
    qualified_pct: float | None

    @property
    def abandon_pct(self) -> float:
        return 100 * self.abandoned / self.calls if self.calls else 0.0


@dataclass(frozen=True, slots=True)
class CallbackStats:
    """The day's callback requests (all zero for a router without callbacks)."""

    requested: int = 0
    reached: int = 0
    failed: int = 0
    pending: int = 0  # still open at the day's end
    mean_delay_s: float | None = None  # request to the call that reached her
    abandon_served_pct: float = 0.0  # abandoned legs, less those whose callback reached her


@dataclass(frozen=True, slots=True)
class DayReport:
    router: str
    services: tuple[ServiceStats, ...]
    overall: ServiceStats
    occupancy_pct: float
    wait_by_slot: tuple[tuple[float, float | None], ...]  # slot start, average wait
    callbacks: CallbackStats = CallbackStats()
    announcements: AnnounceStats | None = None  # our engine only


def callback_stats(overall: ServiceStats, callbacks: Sequence[CallbackRecord]) -> CallbackStats:
    reached = [c for c in callbacks if c.state == "reached"]
    failed = sum(1 for c in callbacks if c.state == "failed")
    delays = [d for c in reached if (d := c.delay) is not None]
    served = overall.abandoned - len(reached)
    return CallbackStats(
        requested=len(callbacks),
        reached=len(reached),
        failed=failed,
        pending=len(callbacks) - len(reached) - failed,
        mean_delay_s=sum(delays) / len(delays) if delays else None,
        abandon_served_pct=100 * served / overall.calls if overall.calls else 0.0,
    )


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of ``values`` (0.0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def best_proficiency(spec: DaySpec) -> dict[str, int]:
    """For each service, the best proficiency among the staff (0 if nobody has it)."""
    agents = [spec.routing.agents[a] for a in spec.staff]
    return {
        name: max((score(a.skills, service)[0] for a in agents), default=0)
        for name, service in spec.routing.services.items()
    }


def _stats(
    spec: DaySpec,
    service: str | None,
    legs: list[LegRecord],
    best: dict[str, int],
    base: dict[str, Requirement],
) -> ServiceStats:
    services = spec.routing.services
    answered = [leg for leg in legs if leg.outcome is Outcome.ANSWERED]
    in_time = sum(1 for leg in answered if leg.wait <= services[leg.service].sl_threshold_s)
    waits = [leg.wait for leg in legs]
    top = qualified = 0
    for leg in answered:
        assert leg.agent is not None
        skills = spec.routing.agents[leg.agent].skills
        service_spec = services[leg.service]
        if best[leg.service] and score(skills, service_spec)[0] >= best[leg.service]:
            top += 1
        if base[leg.service].accepts(skills):
            qualified += 1
    return ServiceStats(
        service=service or "overall",
        calls=len(legs),
        answered=len(answered),
        abandoned=sum(1 for leg in legs if leg.outcome is Outcome.ABANDONED),
        overflowed=sum(1 for leg in legs if leg.outcome is Outcome.OVERFLOWED),
        sl_pct=100 * in_time / len(legs) if legs else None,
        sl_target_pct=services[service].sl_target_pct if service is not None else None,
        avg_wait_s=sum(waits) / len(waits) if waits else 0.0,
        p90_wait_s=percentile(waits, 90),
        best_pct=100 * top / len(answered) if answered else None,
        qualified_pct=100 * qualified / len(answered) if answered else None,
    )


def build_report(spec: DaySpec, record: DayRecord) -> DayReport:
    best = best_proficiency(spec)
    base = {name: requirements(s)[0] for name, s in spec.routing.services.items()}
    by_service: dict[str, list[LegRecord]] = {name: [] for name in spec.routing.services}
    for leg in record.legs:
        by_service[leg.service].append(leg)
    services = tuple(
        _stats(spec, name, legs, best, base) for name, legs in by_service.items() if legs
    )
    overall = _stats(spec, None, list(record.legs), best, base)
    logged = sum(a.logged_in_s for a in record.agents.values())
    busy = sum(a.talk_s + a.wrap_up_s for a in record.agents.values())
    start, end = spec.opening
    slots: dict[float, list[float]] = {}
    for leg in record.legs:
        slot = start + SLOT_S * math.floor((leg.queued_at - start) / SLOT_S)
        slots.setdefault(slot, []).append(leg.wait)
    last = max([end, *(slot + SLOT_S for slot in slots)])
    series = tuple(
        (slot, sum(w) / len(w) if (w := slots.get(slot)) else None)
        for slot in _frange(min([start, *slots]), last)
    )
    return DayReport(
        record.router,
        services,
        overall,
        100 * busy / logged if logged else 0.0,
        series,
        callback_stats(overall, record.callbacks),
        announce_stats(record.announcements),
    )


def _frange(start: float, end: float) -> Iterable[float]:
    t = start
    while t < end:
        yield t
        t += SLOT_S


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def service_table(report: DayReport) -> list[str]:
    """Per-service lines for one router."""
    head = (
        f"{'service':<12} {'calls':>6} {'SL% / target':>13} {'avg wait':>9} {'p90 wait':>9}"
        f" {'aband.%':>8} {'overflow':>8} {'best prof.%':>11} {'qualif.%':>8}"
    )
    lines = [head, "-" * len(head)]
    for s in (*report.services, report.overall):
        target = "" if s.sl_target_pct is None else f" / {s.sl_target_pct:.0f}"
        lines.append(
            f"{s.service:<12} {s.calls:>6} {_pct(s.sl_pct) + target:>13} {s.avg_wait_s:>8.1f}s"
            f" {s.p90_wait_s:>8.1f}s {s.abandon_pct:>8.1f} {s.overflowed:>8}"
            f" {_pct(s.best_pct):>11} {_pct(s.qualified_pct):>8}"
        )
    return lines


def figures(report: DayReport) -> dict[str, object]:
    """The whole-day figures of one router, as plain numbers (for ``--json`` and scripts)."""
    o = report.overall
    return {
        "calls": o.calls,
        "service_level_pct": o.sl_pct,
        "avg_wait_s": o.avg_wait_s,
        "p90_wait_s": o.p90_wait_s,
        "abandoned_pct": o.abandon_pct,
        "overflowed": o.overflowed,
        "qualified_pct": o.qualified_pct,
        "best_proficiency_pct": o.best_pct,
        "occupancy_pct": report.occupancy_pct,
        # Callbacks (our engine only); the figures above are the live calls' alone.
        "abandoned_callbacks_served_pct": report.callbacks.abandon_served_pct,
        "callbacks_requested": report.callbacks.requested,
        "callbacks_reached": report.callbacks.reached,
        "callbacks_failed": report.callbacks.failed,
        "callbacks_pending": report.callbacks.pending,
        "callback_mean_delay_s": report.callbacks.mean_delay_s,
        # Position and wait told to waiting callers (our engine only; routing.announce_report).
        "announcements": announce_figures(report.announcements),
    }


def gap_to(reports: Sequence[DayReport], bound: str) -> dict[str, float | None]:
    """Service-level points each router lies below the router called ``bound`` (None if absent)."""
    limit = next((r.overall.sl_pct for r in reports if r.router == bound), None)
    return {
        r.router: None if limit is None or r.overall.sl_pct is None else limit - r.overall.sl_pct
        for r in reports
    }


def comparison_table(
    reports: Sequence[DayReport], wall_s: Sequence[float], bound: str = "pooled"
) -> list[str]:
    """One line per router, overall figures, its SL distance to ``bound`` and its wall time."""
    gaps = gap_to(reports, bound)
    head = (
        f"{'router':<12} {'SL%':>6} {'below ' + bound:>13} {'avg wait':>9} {'p90 wait':>9}"
        f" {'aband.%':>8} {'overflow':>8} {'best prof.%':>11} {'qualif.%':>8} {'occup.%':>8}"
        f" {'wall':>8}"
    )
    lines = [head, "-" * len(head)]
    for r, wall in zip(reports, wall_s, strict=True):
        o = r.overall
        gap = gaps[r.router]
        lines.append(
            f"{r.router:<12} {_pct(o.sl_pct):>6} {'-' if gap is None else f'{gap + 0.0:.1f}':>13}"
            f" {o.avg_wait_s:>8.1f}s {o.p90_wait_s:>8.1f}s"
            f" {o.abandon_pct:>8.1f} {o.overflowed:>8} {_pct(o.best_pct):>11}"
            f" {_pct(o.qualified_pct):>8} {r.occupancy_pct:>8.1f} {wall:>7.2f}s"
        )
    return lines


def callbacks_table(reports: Sequence[DayReport]) -> list[str]:
    """One line per router: abandonment without and with callbacks counted as served."""
    head = (
        f"{'router':<12} {'SL% live':>8} {'aband.%':>8} {'served cb':>9} {'asked':>6}"
        f" {'reached':>7} {'failed':>6} {'pending':>7} {'delay':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in reports:
        o, c = r.overall, r.callbacks
        delay = "-" if c.mean_delay_s is None else f"{c.mean_delay_s / 60:.1f}m"
        lines.append(
            f"{r.router:<12} {_pct(o.sl_pct):>8} {o.abandon_pct:>8.1f}"
            f" {c.abandon_served_pct:>9.1f} {c.requested:>6} {c.reached:>7} {c.failed:>6}"
            f" {c.pending:>7} {delay:>8}"
        )
    return lines


def sl_matrix(reports: Sequence[DayReport]) -> list[str]:
    """Service level per service (rows) and router (columns), with the target."""
    names = [r.router for r in reports]
    head = f"{'SL% by service':<14} {'target':>6} " + " ".join(f"{n:>11}" for n in names)
    lines = [head, "-" * len(head)]
    services = {s.service: s for s in reports[0].services} if reports else {}
    for name, first in services.items():
        cells = []
        for r in reports:
            found = next((s for s in r.services if s.service == name), None)
            cells.append(f"{_pct(found.sl_pct if found else None):>11}")
        target = _pct(first.sl_target_pct)
        lines.append(f"{name:<14} {target:>6} " + " ".join(cells))
    return lines
