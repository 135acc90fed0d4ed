"""answered_requests: state-changing requests the router answered, by idempotency key

A web node whose router dies while running a request resends it to the next router; this
table, kept a few minutes, lets the next router give back the answer the dead one stored
instead of running the request again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answered_requests",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("answered_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_answered_requests")),
    )
    op.create_index(op.f("ix_answered_requests_answered_at"), "answered_requests", ["answered_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_answered_requests_answered_at"), table_name="answered_requests")
    op.drop_table("answered_requests")
