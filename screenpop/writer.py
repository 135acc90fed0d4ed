"""One writer for the screen pop's database work: in order, off the event loop, in batches.

The pop must never wait for the database: cards are built from memory the moment the phone
rings. What the database must learn (a call's record, who was offered it, the audit trail,
notes) is queued here and written by one task, in the order it was queued, so that a call's
record is created before it is updated and a note lands after the offer that allows it.
Each wake-up runs everything queued so far in one worker thread: under load the cost of
handing work to a thread is paid per batch, not per write.

``submit`` queues a write and forgets it (a failure is logged and counted); ``call`` queues
one and waits for its result (the agent's requests, which must see every earlier write).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

_Job = tuple[Callable[[], Any], "asyncio.Future[Any] | None"]


class OrderedWriter:
    def __init__(self, name: str = "screen pop", max_batch: int = 200) -> None:
        self.name = name  # for the log
        self.max_batch = max_batch
        self._jobs: list[_Job] = []
        self._wake = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()
        self.errors = 0
        self.batches = 0

    def submit(self, write: Callable[[], Any]) -> None:
        self._queue((write, None))

    async def call(self, work: Callable[[], T]) -> T:
        """Run ``work`` after every write queued before it; its exception is raised here."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue((work, future))
        return await future

    def _queue(self, job: _Job) -> None:
        self._jobs.append(job)
        self.idle.clear()
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._jobs:
                batch = self._jobs[: self.max_batch]
                del self._jobs[: self.max_batch]
                outcomes = await asyncio.to_thread(self._run_batch, batch)
                self.batches += 1
                for (_work, future), (ok, value) in zip(batch, outcomes, strict=True):
                    if future is None or future.done():
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
            self.idle.set()

    def _run_batch(self, batch: list[_Job]) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        for work, future in batch:
            try:
                outcomes.append((True, work()))
            except Exception as exc:  # one failed write must not stop the ones behind it
                if future is None:
                    self.errors += 1
                    log.exception("%s: database write failed", self.name)
                outcomes.append((False, exc))
        return outcomes
