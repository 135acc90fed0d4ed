"""How often a login may be tried: a back-off per (account, address), a high ceiling per address.

Theory of operation
-------------------
Guessing a password means many tries of one account; a stranger who fails on purpose must
not lock the account's owner out. So failures count per *pair* (username, client address):

* the first ``free`` failures of a pair cost nothing (a typo, a caps lock);
* each one after that makes the pair wait ``first_delay`` seconds, doubled at every further
  failure, capped at ``max_delay`` (exponential back-off: a guesser from one address gets a
  handful of tries an hour, the owner who mistyped waits seconds);
* a success forgets the pair's failures; a pair left alone for ``forget_after`` is forgotten.

The owner trying from her own desk is never refused because of failures from elsewhere.
A second, much higher limit counts every failure of one address (any account) over a
sliding ``address_window``: past ``address_attempts`` the address waits until the window
has room again. It slows password spraying (one password against every account) without
locking a whole town hall behind one NAT after a few typos. Successes do not reset it.

Pure: the clock is given; nothing here knows HTTP. Memory is bounded: at most
``max_tracked`` pairs and addresses are remembered, the oldest dropped first.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class _Pair:
    failures: int = 0
    last: float = 0.0
    blocked_until: float = 0.0


@dataclass(slots=True)
class LoginLimits:
    free: int = 5
    first_delay: float = 30.0
    max_delay: float = 900.0
    forget_after: float = 24 * 3600.0
    address_attempts: int = 100
    address_window: float = 600.0
    max_tracked: int = 100_000
    clock: Callable[[], float] = time.monotonic
    _pairs: OrderedDict[tuple[str, str], _Pair] = field(default_factory=OrderedDict)
    _addresses: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)

    def retry_after(self, username: str, address: str) -> float:
        """Seconds ``address`` must wait before trying ``username`` again; 0: try now."""
        now = self.clock()
        wait = 0.0
        pair = self._pairs.get(_pair_key(username, address))
        if pair is not None:
            wait = max(wait, pair.blocked_until - now)
        recent = self._recent(address, now)
        if recent is not None and len(recent) >= self.address_attempts:
            wait = max(wait, recent[0] + self.address_window - now)
        return max(wait, 0.0)

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        key = _pair_key(username, address)
        pair = self._pairs.pop(key, None) or _Pair()
        if now - pair.last >= self.forget_after:
            pair = _Pair()
        pair.failures += 1
        pair.last = now
        beyond = pair.failures - self.free
        if beyond >= 0:
            delay = self.first_delay * 2 ** min(beyond, 32)  # min: no float overflow
            pair.blocked_until = now + min(delay, self.max_delay)
        self._pairs[key] = pair  # re-inserted last: the oldest pair is first to go
        recent = self._addresses.pop(address, None) or deque()
        recent.append(now)
        self._addresses[address] = recent
        self._trim(now)

    def succeeded(self, username: str, address: str) -> None:
        self._pairs.pop(_pair_key(username, address), None)

    def _recent(self, address: str, now: float) -> deque[float] | None:
        recent = self._addresses.get(address)
        while recent and recent[0] <= now - self.address_window:
            recent.popleft()
        return recent

    def _trim(self, now: float) -> None:
        while self._pairs and (
            len(self._pairs) > self.max_tracked
            or now - next(iter(self._pairs.values())).last >= self.forget_after
        ):
            self._pairs.popitem(last=False)
        while self._addresses and (
            len(self._addresses) > self.max_tracked
            or next(iter(self._addresses.values()))[-1] <= now - self.address_window
        ):
            self._addresses.popitem(last=False)


def _pair_key(username: str, address: str) -> tuple[str, str]:
    return (username.strip().lower(), address)
