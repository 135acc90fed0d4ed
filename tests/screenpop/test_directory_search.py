"""Finding a citizen as an agent types her: a name in either order, a number, a case."""

from __future__ import annotations

from datetime import UTC, datetime

from cti.db import Database
from screenpop.directory import Directory
from screenpop.models import Case

WHEN = datetime(2026, 11, 2, 9, tzinfo=UTC)


def test_first_name_first_finds_the_last_name_first(database: Database) -> None:
    directory = Directory(database)
    michel = directory.create_citizen("monsieur", "Leroy", "Michel", "+33611111111")
    directory.create_citizen("madame", "Leroy", "Anne", None)
    directory.create_citizen("monsieur", "Michel", "Paul", None)
    pierre = directory.create_citizen("monsieur", "De La Fontaine", "Jean-Pierre", None)

    assert directory.search("Michel Leroy") == [michel]
    assert directory.search("michel ler") == [michel]  # the last name typed in part
    assert directory.search("Leroy Michel") == [michel]
    assert [c.first_name for c in directory.search("Leroy")] == ["Anne", "Michel"]
    assert directory.search("Jean-Pierre de la Fontaine") == [pierre]
    assert directory.search("Éloïse Lefèvre") == []
    assert directory.search("50%_ Leroy") == []


def test_a_case_reference_as_printed_or_keyed_finds_its_citizen(database: Database) -> None:
    directory = Directory(database)
    jeanne = directory.create_citizen("madame", "Dupont", "Jeanne", "+33612345678")
    directory.create_citizen("madame", "Durand", "Alice", None)
    with database.session() as session, session.begin():
        session.add(
            Case(
                reference="EC-2026-00042",
                citizen_id=jeanne.id,
                service="etat-civil",
                subject="Mariage",
                status="ouvert",
                opened_at=WHEN,
                updated_at=WHEN,
            )
        )
    assert directory.search("EC-2026-00042") == [jeanne]
    assert directory.search("ec 2026 00042") == [jeanne]
    assert directory.search("1202600042") == [jeanne]  # what a caller keys in the menu
    assert directory.search("EC-2026-00043") == []
