"""Grouped bars as a standalone SVG document: the reports' chart for services, agents, or a
period of a single day or hour, where a line through one point draws nothing.

Theory of operation: one group per label (a service, an agent, a day), one bar per figure
(offered, answered, abandoned) side by side, heights on the same round-number scale as the
line chart (``routing.svg_chart``), each bar's value written above it so the chart reads
without the table. Labels are XML-escaped; deterministic output.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

from routing.svg_chart import COLOURS, HEIGHT, LEFT, RIGHT, TOP, WIDTH

BOTTOM = 70  # room for labels on two lines
MAX_LABEL = 22


def _nice_top(value: float) -> tuple[float, float]:
    """A round top for the y axis and its step."""
    raw = max(value, 1.0) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return step * max(1, math.ceil(value / step)), step


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def bar_chart(
    title: str, y_label: str, groups: Sequence[str], series: Mapping[str, Sequence[float]]
) -> str:
    """``series``: per figure's name, one value per group, in the order of ``groups``."""
    top, step = _nice_top(max((v for values in series.values() for v in values), default=1.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(groups), 1)
    bar = slot * 0.8 / max(len(series), 1)

    def py(value: float) -> float:
        return TOP + plot_h - value / top * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12" role="img">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2:.0f}" y="22" text-anchor="middle" font-size="15">'
        f"{escape(title)}</text>",
    ]
    y = 0.0
    while y <= top + 1e-9:
        out.append(
            f'<line x1="{LEFT}" y1="{py(y):.1f}" x2="{LEFT + plot_w}" y2="{py(y):.1f}" '
            'stroke="#ddd"/>'
        )
        out.append(f'<text x="{LEFT - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:g}</text>')
        y += step
    for g, label in enumerate(groups):
        x0 = LEFT + g * slot + slot * 0.1
        for i, values in enumerate(series.values()):
            value = values[g]
            x = x0 + i * bar
            out.append(
                f'<rect x="{x:.1f}" y="{py(value):.1f}" width="{bar * 0.9:.1f}" '
                f'height="{TOP + plot_h - py(value):.1f}" fill="{COLOURS[i % len(COLOURS)]}"/>'
            )
            out.append(
                f'<text x="{x + bar * 0.45:.1f}" y="{py(value) - 4:.1f}" text-anchor="middle">'
                f"{value:g}</text>"
            )
        out.append(
            f'<text x="{LEFT + g * slot + slot / 2:.1f}" y="{TOP + plot_h + 18}" '
            f'text-anchor="middle">{escape(_short(label))}</text>'
        )
    out.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>'
    )
    out.append(
        f'<text transform="translate(18 {TOP + plot_h / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle">{escape(y_label)}</text>'
    )
    for i, name in enumerate(series):
        ly, lx = TOP + 10 + 20 * i, LEFT + plot_w + 15
        out.append(
            f'<rect x="{lx}" y="{ly - 6}" width="24" height="12" '
            f'fill="{COLOURS[i % len(COLOURS)]}"/>'
        )
        out.append(f'<text x="{lx + 30}" y="{ly + 4}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
