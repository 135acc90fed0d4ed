"""Which waiting callers hear « tapez 1 pour être rappelé »: the service's rule, once each."""

from __future__ import annotations

from datetime import timedelta

from routing.callbacks.rules import RetryRules
from routing.callbacks.wait_offer import Waiting, due

RULES = {
    "accueil": RetryRules(offer_in_wait_after=timedelta(seconds=120)),
    "urbanisme": RetryRules(),  # no offer in the wait
}


def test_offered_after_the_services_wait_once_and_only_where_allowed() -> None:
    waiting = [
        Waiting("a", "accueil", since=1000.0),  # 120 s exactly: due
        Waiting("b", "accueil", since=1001.0),  # 119 s: not yet
        Waiting("c", "urbanisme", since=0.0),  # long, but its service does not offer
        Waiting("d", None, since=0.0),  # no service known
        Waiting("e", "accueil", since=0.0),  # already offered
    ]
    assert due(waiting, RULES, 1120.0, {"e"}) == ["a"]
    assert due(waiting, RULES, 1121.0, {"a", "e"}) == ["b"]
