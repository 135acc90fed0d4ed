"""A citizen's file opened outside any call (from the desk's search): the card's citizen part.

Same builder as the card (``screenpop.card.citizen_item``): the agent reads one layout, in
the same words, whether the citizen is calling or not.
"""

from __future__ import annotations

from screenpop.card import CitizenRecord, Names, citizen_item
from screenpop.directory import Directory
from screenpop.messages import CitizenItem
from screenpop.pop_state import RECENT_CALLS


def citizen_file(directory: Directory, names: Names, citizen_id: int) -> CitizenItem | None:
    """Her open cases and last calls with their notes; None for an unknown citizen.
    Blocking (database): run it in a thread."""
    citizen = directory.citizen(citizen_id)
    if citizen is None:
        return None
    cases, calls = directory.history(citizen.id, recent=RECENT_CALLS)
    return citizen_item(CitizenRecord(citizen, cases, calls), names)
