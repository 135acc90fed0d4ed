"""What the router's one Redirect of an offer carries: every phone a call rings at once."""

from __future__ import annotations

from cti.router import together
from routing.decisions import Offer


def test_a_calls_offers_of_one_batch_are_one_dial_in_the_engines_order() -> None:
    decisions = [
        Offer("c1", "202", "etat-civil", 1.0),
        Offer("c2", "203", "urbanisme", 1.0),
        Offer("c1", "201", "etat-civil", 1.0),
        Offer("rappel:7", "204", "accueil", 1.0),  # a callback: its desk shows it, no Dial
    ]
    assert together(decisions) == {"c1": ("202", "201"), "c2": ("203",)}
