"""Alembic environment: the engine is the application's, or built from CTI_DATABASE_URL."""

from __future__ import annotations

import os

from sqlalchemy import create_engine

import screenpop.models  # noqa: F401  (registers the tables)
from alembic import context
from cti.db import Base, engine_url

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    engine = create_engine(engine_url(os.environ.get("CTI_DATABASE_URL", "sqlite:///cti.db")))

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
