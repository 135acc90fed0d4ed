"""The times at which the mere passing of time changes something.

Theory of operation: a binary heap of ``(time, kind, subject, generation)`` entries. Entries
are never removed when they become moot (a call answered before its max wait, an agent whose
wrap-up was cut short): the engine checks each popped entry against its current state and
drops stale ones, and prunes stale entries off the top after every event so that ``peek``
gives the true next deadline. ``kind`` orders entries due at the same time.
"""

from __future__ import annotations

import enum
import heapq
from collections.abc import Callable


class DeadlineKind(enum.IntEnum):
    MAX_WAIT = 0
    WRAP_UP_END = 1
    RESERVATION_END = 2
    RELAXATION = 3
    FLOORS_DUE = 4


Deadline = tuple[float, DeadlineKind, str, int]


class Deadlines:
    __slots__ = ("_heap",)

    def __init__(self) -> None:
        self._heap: list[Deadline] = []

    def push(self, at: float, kind: DeadlineKind, subject: str, generation: int) -> None:
        heapq.heappush(self._heap, (at, kind, subject, generation))

    def pop_due(self, now: float) -> Deadline | None:
        if self._heap and self._heap[0][0] <= now:
            return heapq.heappop(self._heap)
        return None

    def prune(self, is_live: Callable[[Deadline], bool]) -> None:
        heap = self._heap
        while heap and not is_live(heap[0]):
            heapq.heappop(heap)

    def peek(self) -> float | None:
        return self._heap[0][0] if self._heap else None
