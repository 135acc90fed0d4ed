"""Work done every few seconds beside the events: the wallboard's tick, the rounds of wait
announcements and callback offers, the sessions' sweep.

One loop for all of them: sleep, do the round, and if the round fails, log it and go on (one
bad round must not stop the board or the offers for the rest of the day).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def every(period: float, work: Callable[[], Awaitable[None] | None], what: str) -> None:
    """Run ``work`` every ``period`` seconds until cancelled; ``what`` names it in the log."""
    while True:
        await asyncio.sleep(period)
        try:
            done = work()
            if inspect.isawaitable(done):
                await done
        except Exception:
            log.exception("%s: round failed, the next one will try again", what)
