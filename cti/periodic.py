"""Work done every few seconds beside the events: the wallboard's tick, the rounds of wait
announcements and callback offers, the callbacks' sweep, the sessions' sweeps.

One loop for all of them: sleep, do the round, and if the round fails, log it and go on (one
bad round must not stop the board or the offers for the rest of the day). ``Periodic`` is
that loop as a task of its own, from ``start`` to ``close``, for whoever owns the rounds.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Work = Callable[[], Awaitable[None] | None]


async def every(period: float, work: Work, what: str, *, at_once: bool = False) -> None:
    """Run ``work`` every ``period`` seconds until cancelled; ``what`` names it in the log.
    ``at_once``: the first round before the first wait rather than after it."""
    if not at_once:
        await asyncio.sleep(period)
    while True:
        try:
            done = work()
            if inspect.isawaitable(done):
                await done
        except Exception:
            log.exception("%s: round failed, the next one will try again", what)
        await asyncio.sleep(period)


class Periodic:
    """``every`` run as a task (named ``what``) from ``start`` (on the running loop) until
    ``close``."""

    def __init__(self, period: float, work: Work, what: str, *, at_once: bool = False) -> None:
        self.period = period
        self.work = work
        self.what = what
        self.at_once = at_once
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            every(self.period, self.work, self.what, at_once=self.at_once), name=self.what
        )

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
