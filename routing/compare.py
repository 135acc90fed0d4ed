"""``python -m routing.compare``: engine vs pooled vs app_queue over many days and seeds.

Theory of operation: for each day (the shipped samples and/or days drawn by
``routing.day_generator``) and each seed, the callers are drawn once and replayed through
every router (``routing.simulate.simulate_day``). Each day prints one line per seed with
each router's service level and qualified share, then their means over the seeds and the
verdict of issue 19's goal: the engine's mean service level at least ``--margin`` points
above the best app_queue strategy's, and its mean qualified share at least the highest
qualified share of any app_queue strategy. A summary line per day closes the report.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from routing.day_generator import generate_day
from routing.day_model import DaySpec, Strategy
from routing.day_report import build_report
from routing.scenario import load_scenario
from routing.simulate import ENGINE, POOLED, ROUTERS, simulate_day
from routing.traffic import generate_calls

SAMPLES = Path(__file__).resolve().parent / "scenarios"
SAMPLE_DAYS = ("mairie.yaml", "lundi-apres-ferie.yaml")
APP_QUEUE = tuple(s.value for s in Strategy)


@dataclass(frozen=True, slots=True)
class Cell:
    sl_pct: float
    qualified_pct: float


@dataclass(frozen=True, slots=True)
class DayResult:
    name: str
    seeds: tuple[int, ...]
    calls: tuple[int, ...]  # legs per seed
    cells: dict[str, tuple[Cell, ...]]  # router -> one cell per seed

    def mean(self, router: str) -> Cell:
        cells = self.cells[router]
        return Cell(
            sum(c.sl_pct for c in cells) / len(cells),
            sum(c.qualified_pct for c in cells) / len(cells),
        )

    def verdict(self, margin: float) -> tuple[float, float, bool] | None:
        """(SL points above the best app_queue, qualified points above, goal met), if known."""
        strategies = [r for r in APP_QUEUE if r in self.cells]
        if ENGINE not in self.cells or not strategies:
            return None
        engine = self.mean(ENGINE)
        sl_gain = engine.sl_pct - max(self.mean(r).sl_pct for r in strategies)
        qual_gain = engine.qualified_pct - max(self.mean(r).qualified_pct for r in strategies)
        return sl_gain, qual_gain, sl_gain >= margin and qual_gain >= 0


def run_day(
    spec: DaySpec, name: str, seeds: Sequence[int], routers: Sequence[str], ring_together: int = 1
) -> DayResult:
    cells: dict[str, list[Cell]] = {r: [] for r in routers}
    legs: list[int] = []
    for seed in seeds:
        calls = generate_calls(spec, seed)
        for router in routers:
            overall = build_report(spec, simulate_day(spec, calls, router, ring_together)).overall
            cells[router].append(Cell(overall.sl_pct or 0.0, overall.qualified_pct or 0.0))
            legs_seen = overall.calls
        legs.append(legs_seen)
    return DayResult(name, tuple(seeds), tuple(legs), {r: tuple(c) for r, c in cells.items()})


def day_lines(result: DayResult, margin: float) -> Iterator[str]:
    routers = list(result.cells)
    yield result.name
    yield f"  {'seed':>6} {'legs':>6} " + " ".join(f"{r:>13}" for r in routers)
    for i, seed in enumerate(result.seeds):
        row = (result.cells[r][i] for r in routers)
        cells = " ".join(f"{c.sl_pct:>6.1f}/{c.qualified_pct:>5.1f}" for c in row)
        yield f"  {seed:>6} {result.calls[i]:>6} {cells}"
    means = " ".join(f"{c.sl_pct:>6.1f}/{c.qualified_pct:>5.1f}" for c in map(result.mean, routers))
    yield f"  {'mean':>6} {'':>6} {means}"
    verdict = result.verdict(margin)
    if verdict is not None:
        sl_gain, qual_gain, met = verdict
        yield (
            f"  engine vs best app_queue: SL {sl_gain:+.1f} points, qualified {qual_gain:+.1f}"
            f" points: goal {'met' if met else 'NOT met'}"
        )


def summary_lines(results: Sequence[DayResult], margin: float) -> Iterator[str]:
    head = f"{'day':<70} {'SL vs best aq':>13} {'qualif. vs':>10} {'pooled-SL':>9}  goal"
    yield head
    yield "-" * len(head)
    met = 0
    for r in results:
        verdict = r.verdict(margin)
        if verdict is None:
            continue
        sl_gain, qual_gain, ok = verdict
        met += ok
        gap = r.mean(POOLED).sl_pct - r.mean(ENGINE).sl_pct if POOLED in r.cells else float("nan")
        yield (
            f"{r.name[:70]:<70} {sl_gain:>+13.1f} {qual_gain:>+10.1f} {gap:>9.1f}"
            f"  {'met' if ok else 'NOT met'}"
        )
    yield f"goal met on {met} of {len(results)} days (margin {margin:g} points, seeds averaged)"


def _days(args: argparse.Namespace) -> Iterator[tuple[DaySpec, str]]:
    if args.samples:
        for sample in SAMPLE_DAYS:
            spec = load_scenario(SAMPLES / sample)
            yield spec, f"{sample}: {spec.name}"
    for seed in _ints(args.days):
        spec, shape = generate_day(seed)
        yield spec, shape.label


def _ints(text: str) -> list[int]:
    """'1-4,9' -> [1, 2, 3, 4, 9]."""
    out: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        low, _, high = part.partition("-")
        out.extend(range(int(low), int(high or low) + 1))
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m routing.compare",
        description="Engine vs pooled vs app_queue on the samples and on generated days.",
    )
    parser.add_argument("--samples", action="store_true", help="include the shipped samples")
    parser.add_argument("--days", default="", help="generated days, e.g. 1-12 (default none)")
    parser.add_argument("--seeds", default="1-3", help="traffic seeds (default 1-3)")
    parser.add_argument("--margin", type=float, default=2.0, help="SL points to beat app_queue by")
    parser.add_argument("--routers", default=",".join(ROUTERS), help="routers to run")
    parser.add_argument(
        "--ring-together", type=int, default=1, help="phones the engine rings at once (default 1)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    routers = [n.strip() for n in args.routers.split(",") if n.strip()]
    if not routers or any(r not in ROUTERS for r in routers) or args.ring_together < 1:
        print(
            f"choose routers among {', '.join(ROUTERS)}; --ring-together 1 or more",
            file=sys.stderr,
        )
        return 2
    try:
        seeds = _ints(args.seeds)
        days = list(_days(args))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not days or not seeds:
        print("nothing to compare: give --samples and/or --days, and --seeds", file=sys.stderr)
        return 2
    print(
        f"each cell: service level % / qualified share %; engine and pooled ring"
        f" {args.ring_together} phone(s) at once per call"
    )
    results = []
    for spec, name in days:
        result = run_day(spec, name, seeds, routers, args.ring_together)
        results.append(result)
        print("\n".join(day_lines(result, args.margin)), flush=True)
    print()
    print("\n".join(summary_lines(results, args.margin)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
