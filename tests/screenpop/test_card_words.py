"""The card in the agents' words: labels, names, numbers as people write them."""

from __future__ import annotations

from datetime import UTC, datetime

from screenpop.card import CallFacts, CitizenRecord, Names, build_card, citizen_item
from screenpop.directory import CaseView, CitizenView, InteractionView, NoteView
from screenpop.phones import normalise

NAMES = Names(
    {"etat-civil": "État civil", "urbanisme": "Urbanisme"},
    {"201": "Marie Lambert", "205": "Claire Morin"}.get,
)
AT = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def test_every_identifier_comes_with_its_words() -> None:
    citizen = CitizenView(
        1, "madame", "Dupont", "Jeanne", "3 rue des Lilas", "75011", "Paris", None, "fr",
        ("+33612345678", "+3225551212"),
    )  # fmt: skip
    case = CaseView(
        "URB-2026-00042", "urbanisme", "Permis de construire", "en_cours", "205", AT, AT
    )
    past = InteractionView(
        "old", AT, "+33612345678", "etat-civil", ("201", "299"), "answered",
        "Rendez-vous pris", 12.0, 60.0, ("bienvenue",),
        (NoteView("201", "Rappeler lundi", AT),),
    )  # fmt: skip
    item = citizen_item(CitizenRecord(citizen, [case], [past]), NAMES)
    facts = CallFacts(
        "c1", "0612345678", False, 0.0, did="+33140000000", service="etat-civil",
        ivr_path=["bienvenue", "menu_principal", "vers_etat_civil"], menu_choices=["État civil"],
        agent="205", previous_agents=["201"],
    )  # fmt: skip
    card = build_card(facts, normalise("0612345678"), [item], [NoteView("201", "Vu", AT)], NAMES)

    assert card.caller.display == "06 12 34 56 78"
    assert card.did_display == "01 40 00 00 00"
    assert card.service_label == "État civil"
    assert card.menu_choices == ["État civil"]
    assert (card.agent_name, card.previous_agent_names) == ("Claire Morin", ["Marie Lambert"])
    assert card.notes[0].agent_name == "Marie Lambert"
    shown = card.citizens[0]
    assert shown.phones_display == ["06 12 34 56 78", "+32 2 555 12 12"]
    assert (shown.open_cases[0].service_label, shown.open_cases[0].owner_name) == (
        "Urbanisme",
        "Claire Morin",
    )
    call = shown.recent_calls[0]
    assert call.service_label == "État civil"
    # An agent no longer configured is still named by what is known of her: her phone.
    assert call.agent_names == ["Marie Lambert", "poste 299"]
    assert call.notes[0].agent_name == "Marie Lambert"
