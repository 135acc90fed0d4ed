"""How late the event loop runs: the product's one measure of "too much to do".

Everything (AMI reading, routing, cards, pages) shares one event loop. A task asks to wake
every ``interval`` seconds and notes how much later than asked it woke: near zero when the
loop keeps up, seconds when work piles up, the whole stall when something blocks the loop.
The figures go to ``/metrics`` (``cti_event_loop_lag_seconds``, up to 10 minutes) and, with
the lag of the AMI events themselves, to the supervisors' wallboard, which raises an alert
past ``cti.supervision.conditions.OVERLOAD_S``: cards are then late, and someone must know.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from cti.metrics import Histogram


class LoopWatch:
    def __init__(self, interval: float = 0.5, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self.lag = Histogram()
        self.last = 0.0  # the lag measured last (seconds)
        self._task: asyncio.Task[None] | None = None

    def observe(self, asked: float, woke: float) -> None:
        """A wake-up asked for ``asked`` came at ``woke`` (same clock)."""
        self.last = max(0.0, woke - asked)
        self.lag.observe(self.last)

    async def run(self) -> None:
        while True:
            asked = self.clock() + self.interval
            await asyncio.sleep(self.interval)
            self.observe(asked, self.clock())

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="loop-watch")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
