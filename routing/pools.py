"""Indexes of ready agents and waiting calls, so a routing decision touches few entries.

Theory of operation:

* ``ReadyAgents`` holds, for every service, every relaxation level and every language, the
  agents that are READY and not phone-busy, whose *first* qualifying level for the service is
  that level, sorted by ``(*rank, idle_since, agent)`` (the rank is fixed per agent and
  service: ``routing.agent_rank``). A
  call at level L reads the heads of buckets 0..L (for its language, then for all languages):
  a handful of reads however many agents there are. An agent entering or leaving READY costs
  one insertion/removal per (service she can ever serve, language she speaks).
* ``WaitingCalls`` holds, for every service and level, the queued calls sorted by
  ``(-call priority, arrival, call_id)``. A freed agent of level q for a service reads the
  heads of levels q..max, walking services by decreasing priority and stopping at the first
  priority tier that has a candidate.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping

from routing.ordered import SortedKeys

AgentKey = tuple[float | str, ...]  # (*rank, idle_since, agent)
Rank = tuple[float, ...]
CallKey = tuple[int, float, str]  # (-priority, since, call_id)


class ReadyAgents:
    """Ready agents per (service, level, language), with lazy removal.

    Leaving READY is O(1): the agent is dropped from ``_live`` and her entries become stale;
    a stale entry is deleted when a lookup meets it, and all of them when they outnumber
    live entries two to one (amortised O(1) per removal). An entry is live iff its agent is
    in ``_live`` with the entry's ``idle_since``.
    """

    __slots__ = (
        "_buckets",
        "_upto",
        "_upto_language",
        "_slots",
        "_live",
        "_live_entries",
        "_stale",
    )

    def __init__(
        self,
        levels: Mapping[str, int],
        entries: Mapping[str, list[tuple[str, int, Rank]]],
        languages: Mapping[str, Iterable[str]],
    ) -> None:
        """``levels``: number of levels per service; ``entries``: per agent, the
        (service, first level, rank) of every service she can ever serve;
        ``languages``: per agent, the languages she speaks."""
        self._buckets: dict[str, list[dict[str, list[AgentKey]]]] = {
            service: [{} for _ in range(n)] for service, n in levels.items()
        }
        # Per agent, every sorted list she belongs to, with her fixed key prefix there.
        self._slots: dict[str, list[tuple[list[AgentKey], Rank]]] = {}
        for agent, rows in entries.items():
            slots = self._slots[agent] = []
            for service, level, rank in rows:
                by_language = self._buckets[service][level]
                for language in sorted(languages[agent]):
                    bucket = by_language.setdefault(language, [])
                    slots.append((bucket, rank))
        # A call at level L reads the buckets of levels 0..L: listed once here (the lists are
        # never replaced, only changed in place), so a lookup builds nothing.
        self._upto: dict[str, list[list[list[AgentKey]]]] = {}
        self._upto_language: dict[str, list[dict[str, list[list[AgentKey]]]]] = {}
        for service, levels_of in self._buckets.items():
            every: list[list[list[AgentKey]]] = []
            spoken: list[dict[str, list[list[AgentKey]]]] = []
            for top in range(len(levels_of)):
                below = levels_of[: top + 1]
                every.append([bucket for b in below for bucket in b.values()])
                languages_here = sorted({lang for b in below for lang in b})
                spoken.append(
                    {lang: [b[lang] for b in below if lang in b] for lang in languages_here}
                )
            self._upto[service] = every
            self._upto_language[service] = spoken
        self._live: dict[str, float] = {}  # ready agent -> idle_since
        self._live_entries = 0
        self._stale = 0

    def add(self, agent: str, idle_since: float) -> None:
        self._live[agent] = idle_since
        slots = self._slots[agent]
        self._live_entries += len(slots)
        for bucket, rank in slots:
            key: AgentKey = (*rank, idle_since, agent)
            i = bisect_left(bucket, key)
            if i < len(bucket) and bucket[i] == key:
                self._stale -= 1  # a stale entry comes back to life
            else:
                bucket.insert(i, key)

    def remove(self, agent: str) -> None:
        del self._live[agent]
        count = len(self._slots[agent])
        self._live_entries -= count
        self._stale += count
        if self._stale > 2 * self._live_entries + 1024:
            self._compact()

    def _compact(self) -> None:
        live = self._live
        for levels in self._buckets.values():
            for by_language in levels:
                for bucket in by_language.values():
                    bucket[:] = [k for k in bucket if live.get(str(k[-1])) == k[-2]]
        self._stale = 0

    def best(self, service: str, level: int, language: str | None, avoid: str | None) -> str | None:
        """The best ready agent other than ``avoid`` for a call of ``service`` at ``level``.

        Speakers of ``language`` first; if none of them qualifies, anyone.
        """
        if language is not None:
            spoken = self._upto_language[service][level].get(language)
            if spoken is not None:
                found = self._best_of(spoken, avoid)
                if found is not None:
                    return found
        return self._best_of(self._upto[service][level], avoid)

    def _best_of(self, buckets: list[list[AgentKey]], skip: str | None) -> str | None:
        live = self._live
        best: AgentKey | None = None
        for bucket in buckets:
            i = 0
            while i < len(bucket):
                key = bucket[i]
                if live.get(str(key[-1])) != key[-2]:
                    del bucket[i]
                    self._stale -= 1
                elif key[-1] == skip:
                    i += 1
                else:
                    if best is None or key < best:
                        best = key
                    break
        return None if best is None else str(best[-1])


class WaitingCalls:
    __slots__ = ("_buckets", "_counts")

    def __init__(self, levels: Mapping[str, int]) -> None:
        self._buckets: dict[str, list[SortedKeys[CallKey]]] = {
            service: [SortedKeys() for _ in range(n)] for service, n in levels.items()
        }
        self._counts = dict.fromkeys(levels, 0)

    def add(self, service: str, level: int, key: CallKey) -> None:
        self._buckets[service][level].add(key)
        self._counts[service] += 1

    def remove(self, service: str, level: int, key: CallKey) -> None:
        bucket = self._buckets[service][level]
        before = len(bucket)
        bucket.discard(key)
        self._counts[service] -= before - len(bucket)

    def count(self, service: str) -> int:
        """How many calls of ``service`` wait in the queue."""
        return self._counts[service]

    def best(self, service: str, from_level: int) -> CallKey | None:
        """The first call of ``service`` among those at ``from_level`` or beyond."""
        best: CallKey | None = None
        for bucket in self._buckets[service][from_level:]:
            head = bucket.first()
            if head is not None and (best is None or head < best):
                best = head
        return best

    def count_before(self, service: str, before: CallKey) -> int:
        """Calls of ``service`` queued before ``before``."""
        return sum(bucket.count_below(before) for bucket in self._buckets[service])

    def keys(self, service: str) -> Iterator[CallKey]:
        for bucket in self._buckets[service]:
            yield from bucket
