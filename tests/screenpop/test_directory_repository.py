"""The Directory service, accounts and demo data, on SQLite and (when configured) PostgreSQL.

Each test gets a freshly migrated database (``database`` fixture of tests/conftest.py): a
SQLite file in tmp_path, or a PostgreSQL schema of its own dropped afterwards.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, update

from cti.db import Database
from screenpop import accounts
from screenpop.accounts import Role, authenticate, create_user
from screenpop.directory import Directory, InteractionUpdate
from screenpop.directory_writes import SAVE_SLICE
from screenpop.errors import CitizenNotFound, UserExists
from screenpop.models import Case, Citizen, User
from screenpop.seed import seed_demo


def test_a_number_finds_everyone_of_the_household_with_all_their_numbers(
    database: Database,
) -> None:
    directory = Directory(database)
    claire = directory.create_citizen("madame", "Bernard", "Claire", "+33145678901", city="Blois")
    paul = directory.create_citizen("monsieur", "Bernard", "Paul", "+33145678901")
    with database.session() as session, session.begin():
        session.execute(
            Citizen.__table__.update().where(Citizen.id == paul.id).values(email="paul@example.fr")
        )
    directory.create_citizen("madame", "Durand", "Alice", "+33611223344")
    found = directory.citizens_by_number("+33145678901")
    assert [(c.first_name, c.phones) for c in found] == [
        ("Claire", ("+33145678901",)),
        ("Paul", ("+33145678901",)),
    ]
    assert found[0] == claire and found[0].city == "Blois" and found[0].language == "fr"
    assert found[1].email == "paul@example.fr"
    assert directory.citizens_by_number("+33600000000") == []
    assert directory.citizen(claire.id) == claire
    assert directory.citizen(999_999) is None


def test_search_by_name_without_accents_or_case_and_by_number_in_any_spelling(
    database: Database,
) -> None:
    directory = Directory(database)
    eloise = directory.create_citizen("madame", "Lefèvre", "Éloïse", "+33781223344")
    directory.create_citizen("monsieur", "Lefebvre", "Marc", None)
    directory.create_citizen("monsieur", "Martin", "Pierre", "+33698765432")
    assert [c.first_name for c in directory.search("lefe")] == ["Marc", "Éloïse"]
    assert directory.search("LEFÈVRE élo") == [eloise]
    assert directory.search("07 81 22 33 44") == [eloise]
    assert directory.search("0033781223344") == [eloise]
    assert directory.search("50%_") == [] and directory.search("  ") == []
    assert len(directory.search("le", limit=1)) == 1


def test_open_cases_and_the_voice_menus_case_status(database: Database) -> None:
    directory = Directory(database)
    jeanne = directory.create_citizen("madame", "Dupont", "Jeanne", "+33612345678")
    when = datetime(2026, 11, 2, 9, tzinfo=UTC)
    with database.session() as session, session.begin():
        for ref, status, days in (
            ("EC-2026-00042", "en_attente_piece", 3),
            ("URB-2026-1", "clos", 5),
        ):
            session.add(
                Case(
                    reference=ref,
                    citizen_id=jeanne.id,
                    service="etat-civil",
                    subject="Mariage",
                    status=status,
                    owner_agent="201",
                    opened_at=when,
                    updated_at=when.replace(day=days),
                )
            )
    (case,) = directory.open_cases(jeanne.id)
    assert (case.reference, case.status, case.owner_agent) == (
        "EC-2026-00042",
        "en_attente_piece",
        "201",
    )
    assert case.opened_at == when  # aware UTC on SQLite too
    status = directory.case_status(" ec-2026-00042 ")
    assert status is not None and status.status == "en_attente_piece"
    assert directory.case_status("EC-1999-00000") is None


def test_a_call_is_recorded_step_by_step_and_shown_with_its_notes(database: Database) -> None:
    directory = Directory(database)
    jeanne = directory.create_citizen("madame", "Dupont", "Jeanne", "+33612345678")
    directory.upsert_interaction(
        "1700000000.42",
        started_at=datetime(2026, 11, 23, 9, tzinfo=UTC),
        caller_raw="0612345678",
        caller_e164="+33612345678",
        ivr_path=["accueil", "etat-civil"],
    )
    directory.upsert_interaction("1700000000.42", add_agent="201", wait_seconds=12.5)
    directory.upsert_interaction("1700000000.42", add_agent="202")
    directory.upsert_interaction("1700000000.42", add_agent="201", outcome="answered")
    directory.attach_citizen("1700000000.42", jeanne.id)
    note = directory.add_note("1700000000.42", "201", "Pièce manquante expliquée.")
    directory.set_disposition("1700000000.42", "Renseignement donné")
    call = directory.interaction("1700000000.42")
    assert call is not None
    assert call.agents == ("201", "202") and call.outcome == "answered"
    assert call.ivr_path == ("accueil", "etat-civil") and call.wait_seconds == 12.5
    assert call.disposition == "Renseignement donné" and call.notes == (note,)
    assert note.at.tzinfo is not None
    assert directory.recent_interactions(jeanne.id) == [call]
    assert directory.interaction("nope") is None
    with pytest.raises(CitizenNotFound, match="999999"):
        directory.attach_citizen("1700000000.42", 999_999)
    with pytest.raises(TypeError, match="colour"):
        directory.upsert_interaction("1700000000.42", colour="blue")


def test_many_calls_saved_at_once_each_get_their_own_changes(database: Database) -> None:
    directory = Directory(database)
    directory.upsert_interaction("call-0", add_agent="201", outcome="in_progress")
    changes = []
    for n in range(3 * SAVE_SLICE + 1):  # several slices, the stored call in the first
        change = InteractionUpdate(f"call-{n}")
        change.add(add_agent=f"{300 + n}", wait_seconds=float(n), service="accueil")
        if n % 2:
            change.add(outcome="answered")
        changes.append(change)
    directory.save_interactions(changes)
    for n in range(3 * SAVE_SLICE + 1):
        call = directory.interaction(f"call-{n}")
        assert call is not None and call.wait_seconds == float(n) and call.service == "accueil"
        assert call.outcome == ("answered" if n % 2 else "in_progress")
        assert call.agents == ((("201",) if n == 0 else ()) + (f"{300 + n}",))


def test_recent_interactions_newest_first_limited(database: Database) -> None:
    directory = Directory(database)
    pierre = directory.create_citizen("monsieur", "Martin", "Pierre", "+33698765432")
    for day in range(1, 8):
        call_id = f"call-{day}"
        directory.upsert_interaction(
            call_id, started_at=datetime(2026, 11, day, tzinfo=UTC), citizen_id=pierre.id
        )
        directory.add_note(call_id, "203", f"jour {day}", at=datetime(2026, 11, day, 1, tzinfo=UTC))
    recent = directory.recent_interactions(pierre.id, limit=3)
    assert [c.call_id for c in recent] == ["call-7", "call-6", "call-5"]
    assert [n.text for n in recent[0].notes] == ["jour 7"]


def test_agents_reported_at_once_from_several_threads_are_all_kept(database: Database) -> None:
    directory = Directory(database)
    agents = [str(201 + n) for n in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda a: directory.upsert_interaction("race", add_agent=a), agents))
    call = directory.interaction("race")
    assert call is not None and sorted(call.agents) == agents


def test_audit_entries_are_kept(database: Database) -> None:
    directory = Directory(database)
    directory.audit("agent201", "card.open", 7, "appel 1700000000.42")
    directory.audit("agent201", "citizen.create")
    assert directory.audit_count() == 2 and directory.audit_count("card.open") == 1


def test_users_log_in_with_argon2_and_old_hashes_are_upgraded(database: Database) -> None:
    user = create_user(database, "agent201", "s3cret!", Role.AGENT, "Agent 201", "201")
    assert (user.role, user.agent_extension) == (Role.AGENT, "201")
    assert authenticate(database, "agent201", "s3cret!") == user
    assert authenticate(database, "agent201", "wrong") is None
    assert authenticate(database, "nobody", "s3cret!") is None
    weak = PasswordHasher(time_cost=1, memory_cost=8192).hash("s3cret!")
    with database.session() as session, session.begin():
        session.execute(update(User).values(password_hash=weak))
    assert authenticate(database, "agent201", "s3cret!") == user
    with database.session() as session:
        assert session.scalar(select(User.password_hash)) != weak
    with database.session() as session, session.begin():
        session.execute(update(User).values(active=False))
    assert authenticate(database, "agent201", "s3cret!") is None
    assert accounts.find_user(database, "agent201") == user
    with pytest.raises(UserExists, match="agent201"):
        create_user(database, "agent201", "x", Role.ADMIN, "Doublon")
    with pytest.raises(UserExists, match="poste 201"):
        create_user(database, "other", "x", Role.AGENT, "Autre", "201")


def test_demo_data_is_deterministic_idempotent_and_has_the_known_callers(
    database: Database,
) -> None:
    assert seed_demo(database, citizens=2_000, seed=3) is True
    assert seed_demo(database, citizens=2_000, seed=3) is False  # already seeded: nothing
    directory = Directory(database)
    (jeanne,) = directory.citizens_by_number("+33612345678")
    assert (jeanne.civility, jeanne.first_name, jeanne.last_name) == ("madame", "Jeanne", "Dupont")
    cases = directory.open_cases(jeanne.id)
    assert len(cases) == 2
    assert any(c.service == "etat-civil" and c.owner_agent == "201" for c in cases)
    assert [c.last_name for c in directory.citizens_by_number("+33698765432")] == ["Martin"]
    assert len(directory.citizens_by_number("+33145678901")) == 2
    assert directory.recent_interactions(jeanne.id)[0].notes
    with database.session() as session:
        assert session.scalar(select(func.count(Citizen.id))) == 2_000
        first = session.execute(select(Citizen.last_name, Citizen.address).limit(50)).all()
    other = Database(database.url.replace("cti.db", "other.db"))
    if other.dialect == "sqlite":  # same seed, same town (PostgreSQL: one schema per test)
        other.migrate()
        seed_demo(other, citizens=2_000, seed=3)
        with other.session() as session:
            assert (
                session.execute(select(Citizen.last_name, Citizen.address).limit(50)).all() == first
            )
    other.close()
