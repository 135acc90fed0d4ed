"""``python -m routing.simulate SCENARIO.yaml``: a town hall's day, our engine vs app_queue.

Theory of operation: the scenario's traffic is drawn once from ``--seed``
(``routing.traffic``), then replayed (``routing.day_replay``) through our ``RoutingEngine``
and through an ``AppQueueModel`` per strategy, on the very same callers, patience, talk
times and ring draws, with the same staff. Each day is reported per service and overall
(``routing.day_report``); ``--chart`` writes the average wait per half-hour, one line per
router, as SVG. Wall times are measured here, at the edge, never inside the simulation.

``--calls N`` rescales the traffic to about N first-leg calls (staff unchanged). ``pooled``
is the limit (every agent takes every call); ``--ring-together N`` lets our engine ring up
to N phones at once for one call (the model only: the shell carries out one for now).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from routing.announce_report import announce_lines
from routing.app_queue_model import AppQueueModel
from routing.day_announcements import DEFAULT_RULES, DayAnnouncer
from routing.day_model import SLOT_S, DaySpec, Strategy
from routing.day_records import DayRecord
from routing.day_replay import Router, replay
from routing.day_report import (
    DayReport,
    build_report,
    callbacks_table,
    comparison_table,
    figures,
    gap_to,
    service_table,
    sl_matrix,
)
from routing.engine import RoutingEngine
from routing.errors import ConfigError
from routing.pooled import pooled_config
from routing.scenario import load_scenario
from routing.svg_chart import line_chart
from routing.traffic import CallPlan, generate_calls

ENGINE = "engine"
POOLED = "pooled"
ROUTERS: tuple[str, ...] = (ENGINE, POOLED, *(s.value for s in Strategy))


def make_router(spec: DaySpec, name: str, ring_together: int = 1) -> tuple[Router, bool]:
    """The router called ``name`` and whether it rings several phones for one call.

    ``ring_together`` is how many phones our engine (and the pooled bound, for a fair
    limit) rings at once for one call; the shell carries out only 1 for now.
    """
    if name in (ENGINE, POOLED):
        config = replace(spec.routing, ring_together=ring_together)
        if name == POOLED:
            config = pooled_config(config)
        return RoutingEngine(config), ring_together > 1
    strategy = Strategy(name)
    return AppQueueModel(spec.routing, strategy, spec.app_queue), strategy is Strategy.RINGALL


def simulate_day(
    spec: DaySpec,
    calls: tuple[CallPlan, ...],
    name: str,
    ring_together: int = 1,
    announce_every: float = DEFAULT_RULES.every_s,
) -> DayRecord:
    """Replay the drawn day through the router called ``name`` (see ``ROUTERS``).

    Callbacks (``spec.callbacks``) are modelled for our engine only: app_queue has none, and
    the pooled bound stays the bound of live routing. So are the announcements of position
    and wait (``routing.day_announcements``): services without ``announce`` rules are told
    on entry and every ``announce_every`` seconds (0: not measured for them)."""
    router, parallel = make_router(spec, name, ring_together)
    announcer = None
    if name == ENGINE and isinstance(router, RoutingEngine):
        default = replace(DEFAULT_RULES, on_entry=announce_every > 0, every_s=announce_every)
        announcer = DayAnnouncer(spec, router, default)
    return replay(
        spec,
        calls,
        router,
        name,
        parallel_offers=parallel,
        callbacks=name == ENGINE,
        announcer=announcer,
    )


def with_callbacks(spec: DaySpec, share_pct: float) -> DaySpec:
    """``spec`` with ``share_pct`` % of the callers who give up asking to be called back."""
    return replace(spec, callbacks=replace(spec.callbacks, share=share_pct / 100))


def wait_chart(spec: DaySpec, reports: Sequence[DayReport]) -> str:
    series = {
        r.router: [(slot + SLOT_S / 2, wait) for slot, wait in r.wait_by_slot] for r in reports
    }
    slots = [slot for r in reports for slot, _ in r.wait_by_slot]
    x_range = (min(slots), max(slots) + SLOT_S) if slots else None
    title = f"{spec.name}: average wait per half-hour"
    return line_chart(title, "average wait (s)", series, x_range)


def day_json(
    spec: DaySpec, seed: int, calls: int, reports: Sequence[DayReport]
) -> dict[str, object]:
    """The ``--json`` document: the day, then each router's figures and distance to pooled."""
    gaps = gap_to(reports, POOLED)
    return {
        "scenario": spec.name,
        "seed": seed,
        "calls": calls,
        "routers": {r.router: {**figures(r), "sl_below_pooled": gaps[r.router]} for r in reports},
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m routing.simulate",
        description="Simulate a town hall's day through our routing engine and app_queue.",
    )
    parser.add_argument("scenario", type=Path, help="scenario YAML (see routing/scenarios)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--calls", type=int, help="rescale traffic to about N calls")
    parser.add_argument("--chart", type=Path, help="write the wait-per-half-hour SVG here")
    parser.add_argument(
        "--ring-together",
        type=int,
        default=1,
        help="phones the engine rings at once for one call (default 1, as in production)",
    )
    parser.add_argument(
        "--callbacks",
        type=float,
        metavar="PCT",
        help="share (%%) of the callers who give up that ask to be called back instead, on"
        " services with a callback: block (our engine only; default: the scenario's)",
    )
    parser.add_argument(
        "--announce-every",
        type=float,
        default=DEFAULT_RULES.every_s,
        metavar="S",
        help="our engine: callers of services without announce rules are told their position"
        " and wait on entry and every S seconds, to measure the forecast (default 60; 0: no)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print only the whole-day figures per router, as JSON",
    )
    parser.add_argument(
        "--routers",
        default=",".join(ROUTERS),
        help=f"comma-separated routers to run (default: {','.join(ROUTERS)})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    names = [n.strip() for n in args.routers.split(",") if n.strip()]
    unknown = [n for n in names if n not in ROUTERS]
    if unknown or not names:
        print(f"unknown routers {unknown}; choose among {', '.join(ROUTERS)}", file=sys.stderr)
        return 2
    if args.ring_together < 1:
        print("--ring-together must be at least 1", file=sys.stderr)
        return 2
    if args.calls is not None and args.calls <= 0:
        print("--calls must be positive", file=sys.stderr)
        return 2
    if args.announce_every < 0:
        print("--announce-every must be 0 or more seconds", file=sys.stderr)
        return 2
    if args.callbacks is not None and not 0 <= args.callbacks <= 100:
        print("--callbacks must be a share between 0 and 100", file=sys.stderr)
        return 2
    try:
        spec = load_scenario(args.scenario)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.callbacks is not None:
        spec = with_callbacks(spec, args.callbacks)
    started = time.perf_counter()
    calls = generate_calls(spec, args.seed, args.calls)
    drawn = time.perf_counter() - started
    reports: list[DayReport] = []
    walls: list[float] = []
    for name in names:
        start = time.perf_counter()
        record = simulate_day(spec, calls, name, args.ring_together, args.announce_every)
        walls.append(time.perf_counter() - start)
        reports.append(build_report(spec, record))
    if args.json:
        print(json.dumps(day_json(spec, args.seed, len(calls), reports), indent=2))
        return 0
    print(f"{spec.name}: seed {args.seed}, {len(calls)} calls drawn in {drawn:.2f} s")
    for report in reports:
        print(f"\n[{report.router}] per service (queue visits: transfers and overflows count)")
        print("\n".join(service_table(report)))
    print("\nComparison, whole day")
    print("\n".join(comparison_table(reports, walls)))
    print()
    print("\n".join(sl_matrix(reports)))
    if any(r.callbacks.requested for r in reports):
        print(
            "\nCallbacks (our engine only; SL% counts live calls alone: a caller who asked to"
            " be called back\nis an abandoned leg; 'served cb': abandonment once the callers"
            " reached are counted as served)"
        )
        print("\n".join(callbacks_table(reports)))
    for report in reports:
        if report.announcements is not None:
            print(f"\nPosition and wait told to waiting callers [{report.router}]")
            print("\n".join(announce_lines(report.announcements)))
    if args.chart is not None:
        args.chart.write_text(wait_chart(spec, reports), encoding="utf-8")
        print(f"\nchart written to {args.chart}")
    total = time.perf_counter() - started
    print(f"\nwall time: {total:.2f} s for {len(names)} simulated days of {len(calls)} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
