"""callback requests: a citizen's request to be called back, in her place in line

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callback_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=True),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window", sa.String(length=20), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("menu_path", sa.JSON(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=80), nullable=True),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agent", sa.String(length=20), nullable=True),
        sa.Column("action_id", sa.String(length=80), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_callback_requests_citizen_id_citizens"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_requests")),
    )
    with op.batch_alter_table("callback_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_callback_requests_asked_at"), ["asked_at"])
        batch_op.create_index(batch_op.f("ix_callback_requests_citizen_id"), ["citizen_id"])
        batch_op.create_index(batch_op.f("ix_callback_requests_number"), ["number"])
        batch_op.create_index(batch_op.f("ix_callback_requests_state"), ["state"])


def downgrade() -> None:
    op.drop_table("callback_requests")
