"""Which waiting callers are offered « tapez 1 pour être rappelé, vous gardez votre place ».

Theory of operation: a service whose ``callback`` rules say ``offer_in_wait_after`` offers
the key to each of its callers once she has waited that long (counted from her first entry
in the wait, the dialplan's ``WAIT_START``: a no-answer does not restart it). The offer is
made once per call: the dialplan keeps it until she leaves. Pure: callers, rules and the
time in, the calls to offer out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from routing.callbacks.rules import RetryRules


@dataclass(frozen=True, slots=True)
class Waiting:
    call_id: str
    service: str | None
    since: float  # first entry in the wait (epoch seconds)


def due(
    waiting: Iterable[Waiting],
    rules: Mapping[str, RetryRules],
    now: float,
    offered: frozenset[str] | set[str],
) -> list[str]:
    """Calls to offer the key to now (not yet offered, waited long enough), in call order."""
    out: list[str] = []
    for caller in waiting:
        service_rules = rules.get(caller.service or "")
        after = service_rules.offer_in_wait_after if service_rules is not None else None
        if after is None or caller.call_id in offered:
            continue
        if now - caller.since >= after.total_seconds():
            out.append(caller.call_id)
    return out
