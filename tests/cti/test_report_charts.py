"""The reports' charts draw what a single day, a grouping or this week holds (issue 22: the
chart was empty for a one-day period and missing for groupings; the weekly quality chart did
not draw the current week)."""

from __future__ import annotations

import re

from cti.reports.bar_chart import bar_chart
from routing.svg_chart import line_chart


def test_bars_for_services_with_their_values_and_names_as_text() -> None:
    svg = bar_chart(
        "Appels par service",
        "appels",
        ["État civil", "<b>x</b>"],
        {"Présentés": [4, 1], "Répondus": [3, 1], "Abandons": [1, 0]},
    )
    heights = [
        float(h)
        for h in re.findall(r'<rect x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"', svg)
    ]
    bars = heights[:6]  # then the frame and the legend's keys
    assert bars[0] > bars[1] > bars[2] > 0 and bars[3] == bars[4] > bars[5] == 0
    assert ">État civil<" in svg and "&lt;b&gt;x&lt;/b&gt;" in svg and "<b>" not in svg
    assert 'role="img"' in svg


def test_a_single_point_is_drawn() -> None:
    svg = line_chart("Niveau de service", "%", {"Accueil": [(0.0, None), (1.0, 75.0)]})
    assert svg.count("<circle") == 1
