"""A minimal sorted list of unique, totally ordered keys.

Theory of operation: a Python list kept sorted with ``bisect``. Insertion and removal are
O(log n) comparisons plus one memmove, which for the sizes of a town hall's (or even a large
city's) call centre is a few hundred nanoseconds; reading the smallest keys is O(1). Keys are
tuples ending with a unique id, so they never compare equal unless they are the same entry.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=tuple[Any, ...])


class SortedKeys(Generic[K]):
    __slots__ = ("_keys",)

    def __init__(self) -> None:
        self._keys: list[K] = []

    def add(self, key: K) -> None:
        insort(self._keys, key)

    def discard(self, key: K) -> None:
        keys = self._keys
        i = bisect_left(keys, key)
        if i < len(keys) and keys[i] == key:
            del keys[i]

    def count_below(self, key: K) -> int:
        """How many keys come before ``key``."""
        return bisect_left(self._keys, key)

    def first(self) -> K | None:
        return self._keys[0] if self._keys else None

    def __iter__(self) -> Iterator[K]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)
