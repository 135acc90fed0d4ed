"""Migration 0003 (voice-menu versions and runs, keyable case references) goes up and down,
and gives the cases already there the digits a caller keys (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.config import Config
from sqlalchemy import inspect, text

from alembic import command
from cti.db import ROOT, Database
from screenpop.case_keys import case_key
from screenpop.directory import Directory


def alembic_config(db: Database) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["engine"] = db.engine
    return config


def test_existing_cases_get_their_key_and_the_migration_goes_down(database_url: str) -> None:
    db = Database(database_url)
    config = alembic_config(db)
    try:
        command.upgrade(config, "0002")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO citizens (id, last_name, search_name, language, created_at,"
                    " updated_at) VALUES (1, 'Dupont', 'dupont', 'fr', :t, :t)"
                ),
                {"t": "2026-11-01 09:00:00"},
            )
            for i, ref in enumerate(("EC-2026-00012", "URB-2026-00003", "DOSSIER-X"), 1):
                conn.execute(
                    text(
                        "INSERT INTO cases (id, reference, citizen_id, service, subject, status,"
                        " opened_at, updated_at) VALUES (:i, :r, 1, 'etat-civil', 'Mariage',"
                        " 'en_cours', :t, :t)"
                    ),
                    {"i": i, "r": ref, "t": "2026-11-01 09:00:00"},
                )
        command.upgrade(config, "head")
        with db.engine.connect() as conn:
            keys = conn.execute(text("SELECT reference, dtmf_key FROM cases ORDER BY id")).all()
        assert [tuple(k) for k in keys] == [
            ("EC-2026-00012", "1202600012"),
            ("URB-2026-00003", "2202600003"),
            ("DOSSIER-X", None),
        ]
        directory = Directory(db)
        by_key = directory.case_status("1202600012")
        by_reference = directory.case_status("ec-2026-00012")
        assert by_key is not None and by_key == by_reference
        assert directory.case_status("1202600012#") == by_key  # as keyed, # included
        assert directory.case_status("999") is None
        assert {"ivr_tree_versions", "ivr_runs"} <= set(inspect(db.engine).get_table_names())

        command.downgrade(config, "0002")
        assert not {"ivr_tree_versions", "ivr_runs"} & set(inspect(db.engine).get_table_names())
        columns = {c["name"] for c in inspect(db.engine).get_columns("cases")}
        assert "dtmf_key" not in columns and "reference" in columns
    finally:
        db.close()


def test_keys_are_the_service_digit_year_and_counter() -> None:
    assert case_key("EC-2026-00012") == "1202600012"
    assert case_key(" acc-2026-7 ") == "920267"
    assert case_key("CCAS-2026-00001") == "4202600001"
    assert case_key("2026-123") == "2026123"  # digits already
    assert case_key("XYZ-2026-1") is None and case_key("") is None
