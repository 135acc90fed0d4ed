"""A line chart as a standalone SVG document, written by hand (no plotting dependency).

Theory of operation: ``line_chart`` maps x (seconds since midnight, or any numbers with
``x_ticks`` naming their ticks, e.g. weeks) and y linearly onto a fixed plot area, draws a
light grid with round-number ticks, one ``<polyline>`` per series (broken where a value is
missing: a slot without calls) with a dot on each point (a lone point shows) and a legend.
All text is XML-escaped; the document carries ``role="img"`` and its title for screen
readers. The output is deterministic: same data,
same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 900, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 170, 40, 50
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")

Series = Sequence[tuple[float, float | None]]


def _nice_step(span: float, ticks: int = 6) -> float:
    raw = span / ticks if span > 0 else 1.0
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return float(factor * magnitude)
    return float(10 * magnitude)


def _hhmm(seconds: float) -> str:
    minutes = int(round(seconds / 60))
    return f"{minutes // 60:02}:{minutes % 60:02}"


def line_chart(
    title: str,
    y_label: str,
    series: Mapping[str, Series],
    x_range: tuple[float, float] | None = None,
    x_ticks: Sequence[tuple[float, str]] | None = None,
    y_max: float | None = None,
) -> str:
    """An SVG document plotting each named series of (time of day, value) points.

    The x axis spans ``x_range`` if given, else the points' times; its ticks are the hours,
    or ``x_ticks`` (position, label) when given. The y axis goes up to ``y_max`` if given
    (e.g. 100 for percentages), else to a round number above the highest value.
    """
    xs = [x for points in series.values() for x, _ in points]
    ys = [y for points in series.values() for _, y in points if y is not None]
    x0, x1 = x_range or ((min(xs), max(xs)) if xs else (0.0, 1.0))
    if x1 <= x0:
        x1 = x0 + 1.0
    top = y_max if y_max is not None else max(ys, default=1.0)
    y_step = _nice_step(top)
    y1 = y_step * max(1, math.ceil(top / y_step))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return TOP + plot_h - y / y1 * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12" '
        'role="img">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2:.0f}" y="22" text-anchor="middle" font-size="15">'
        f"{escape(title)}</text>",
    ]
    y = 0.0
    while y <= y1 + 1e-9:
        out.append(
            f'<line x1="{LEFT}" y1="{py(y):.1f}" x2="{LEFT + plot_w}" y2="{py(y):.1f}" '
            'stroke="#ddd"/>'
        )
        out.append(f'<text x="{LEFT - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:g}</text>')
        y += y_step
    for x, label in x_ticks if x_ticks is not None else _hour_ticks(x0, x1):
        out.append(
            f'<line x1="{px(x):.1f}" y1="{TOP}" x2="{px(x):.1f}" y2="{TOP + plot_h}" '
            'stroke="#eee"/>'
        )
        out.append(
            f'<text x="{px(x):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    out.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>'
    )
    out.append(
        f'<text transform="translate(18 {TOP + plot_h / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle">{escape(y_label)}</text>'
    )
    for i, (name, points) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        for run in _runs(points):
            coords = " ".join(f"{px(x):.1f},{py(v):.1f}" for x, v in run)
            out.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}">'
                f"<title>{escape(name)}</title></polyline>"
            )
            # A dot on each point: a run of one point (this week, so far) is seen too.
            out.extend(
                f'<circle cx="{px(x):.1f}" cy="{py(v):.1f}" r="3.5" fill="{colour}"/>'
                for x, v in run
            )
        ly = TOP + 10 + 20 * i
        lx = LEFT + plot_w + 15
        out.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" stroke="{colour}" '
            'stroke-width="3"/>'
        )
        out.append(f'<text x="{lx + 30}" y="{ly + 4}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _hour_ticks(x0: float, x1: float) -> list[tuple[float, str]]:
    first = math.ceil(x0 / 3600) * 3600
    return [(float(h), _hhmm(h)) for h in range(first, int(x1) + 1, 3600)]


def _runs(points: Series) -> list[list[tuple[float, float]]]:
    """Consecutive points with a value; a missing value breaks the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if y is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((x, y))
    return [run for run in runs if run]
