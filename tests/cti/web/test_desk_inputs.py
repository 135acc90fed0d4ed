"""What the agent's desk accepts: only her own call closed, only a listed disposition, texts
bounded and free of invisible control or bidi characters; and names stored with such
characters before the rule are shown without them.

Real server and HTTP client, SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest

from cti.db import Database
from cti.web.agent_api import DISPOSITIONS
from screenpop.card import CallFacts, CitizenRecord, build_card, citizen_item
from screenpop.directory import CitizenView
from screenpop.messages import CardOffered
from screenpop.phones import normalise
from tests.cti.web.secure_site import Site, running_site

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "Dupont\u202etnelav" reads "Dupontvalent"


def _offer(site: Site, agent: str, call_id: str) -> None:
    """A card on ``agent``'s screen, as the screen pop puts it there."""
    facts = CallFacts(call_id=call_id, caller_raw=None, caller_withheld=True, arrived_at=0.0)
    facts.agent = agent
    card = build_card(facts, normalise(None, withheld=True), [], [])
    site.hub.send(agent, CardOffered(card=card))


async def test_done_answers_404_for_a_call_that_is_not_on_the_agents_screen(
    database: Database,
) -> None:
    async with running_site(database) as site:
        _offer(site, "201", "1700000000.1")
        marie, paul = await site.login("marie"), await site.login("paul")
        other = await paul.post("/api/calls/1700000000.1/done")
        assert other.status_code == 404
        assert other.json()["detail"] == (
            "L'appel 1700000000.1 n'est pas (ou plus) sur l'écran du poste 202."
        )
        assert (await marie.post("/api/calls/nimporte-quoi/done")).status_code == 404
        assert site.desk.done == []  # nobody's wrap-up was ended by those
        assert (await marie.post("/api/calls/1700000000.1/done")).status_code == 200
        assert site.desk.done == ["201"]
        assert (await marie.post("/api/calls/1700000000.1/done")).status_code == 404
        await marie.aclose()
        await paul.aclose()


async def test_a_disposition_must_be_one_of_the_listed_reasons(database: Database) -> None:
    async with running_site(database) as site:
        marie = await site.login("marie")
        listed = (await marie.get("/api/agent/dispositions")).json()
        assert listed == DISPOSITIONS
        free = await marie.post(
            "/api/calls/1700000000.1/disposition", json={"disposition": "n'importe quoi"}
        )
        assert free.status_code == 422
        assert free.json()["detail"].startswith("Motif « n'importe quoi » inconnu")
        # A listed one goes on to the usual check (the call was never hers).
        listed_one = await marie.post(
            "/api/calls/1700000000.1/disposition", json={"disposition": listed[0]}
        )
        assert listed_one.status_code == 403
        await marie.aclose()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/citizens", {"last_name": f"Dupont{RLO}tnelav"}, "nom"),
        ("/api/citizens", {"last_name": "Dupont", "first_name": "Anne\x00"}, "prénom"),
        ("/api/citizens", {"last_name": "Dupont", "city": "Paris\u2066"}, "ville"),
        ("/api/calls/1700000000.1/note", {"text": f"rappeler{RLO}"}, "note"),
        ("/api/agent/state", {"state": "paused", "reason": f"café{RLO}"}, "motif"),
    ],
)
async def test_invisible_control_and_bidi_characters_are_refused(
    database: Database, path: str, body: dict[str, str], field: str
) -> None:
    async with running_site(database) as site:
        marie = await site.login("marie")
        refused = await marie.post(path, json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"].startswith(
            f"Champ « {field} » refusé : caractère invisible"
        )
        search = await marie.get("/api/citizens", params={"q": f"dup{RLO}ont"})
        assert search.status_code == 422
        await marie.aclose()


async def test_notes_keep_their_lines_and_long_texts_are_refused(database: Database) -> None:
    async with running_site(database) as site:
        marie = await site.login("marie")
        _offer(site, "201", "1700000000.1")
        assert (
            await marie.post("/api/calls/1700000000.1/note", json={"text": "a\nb"})
        ).status_code != 422
        long_note = await marie.post("/api/calls/1700000000.1/note", json={"text": "x" * 4001})
        assert long_note.status_code == 422 and "4000" in str(long_note.json()["detail"])
        huge = await marie.post("/api/citizens", json={"last_name": "x" * 10_000})
        assert huge.status_code == 422
        search = await marie.get("/api/citizens", params={"q": "x" * 101})
        assert search.status_code == 422 and "100 au plus" in search.json()["detail"]
        await marie.aclose()


async def test_names_stored_before_the_rule_are_shown_without_those_characters(
    database: Database,
) -> None:
    async with running_site(database) as site:
        site.directory.create_citizen("madame", f"Dupont{RLO}tnelav", f"An{RLO}ne", None)
        marie = await site.login("marie")
        (found,) = (await marie.get("/api/citizens", params={"q": "dupont"})).json()
        assert (found["last_name"], found["first_name"]) == ("Duponttnelav", "Anne")
        await marie.aclose()


def test_the_card_shows_names_and_addresses_without_those_characters() -> None:
    stored = CitizenView(
        7, "madame", f"Dupont{RLO}tnelav", None, f"1 rue{RLO}", None, "Paris", None, "fr", ()
    )
    item = citizen_item(CitizenRecord(stored))
    assert (item.greeting, item.last_name, item.address) == (
        "Bonjour madame Duponttnelav",
        "Duponttnelav",
        "1 rue, Paris",
    )
