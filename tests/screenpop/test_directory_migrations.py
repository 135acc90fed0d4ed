"""Alembic migrations go up and down and agree with the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import screenpop.models  # noqa: F401  (the tables the migrations must create)
from cti.db import Base, Database


def test_migrations_go_up_and_down_and_match_the_models(database_url: str) -> None:
    db = Database(database_url)
    try:
        db.migrate()
        tables = set(inspect(db.engine).get_table_names())
        assert {
            "citizens",
            "phone_numbers",
            "cases",
            "interactions",
            "users",
            "audit_log",
        } <= tables
        db.downgrade_base()
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.migrate()
        db.migrate()  # idempotent
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
    finally:
        db.close()
