"""Routing quality over many days: engine vs pooled vs each app_queue strategy (issue 19).

Not a speed bench: it prints ``python -m routing.compare --samples --days 1-16 --seeds 1-3``,
with the engine ringing one phone per call (as the shell does) then three at once
(service level / qualified share per day and seed, the means and the goal's verdict).
Figures are printed, never asserted.
"""

from __future__ import annotations

from collections.abc import Iterator

from routing.compare import main as compare

DAYS = "1-16"
SEEDS = "1-3"


def run() -> Iterator[str]:
    yield f"samples and generated days {DAYS}, seeds {SEEDS} (each cell: SL % / qualified %)"
    for ring in ("1", "3"):  # 1: as the shell does today; 3: the model of ringing together
        compare(["--samples", "--days", DAYS, "--seeds", SEEDS, "--ring-together", ring])
    yield "routing quality: done"
