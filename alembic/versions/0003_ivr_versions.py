"""voice menu: tree versions, one run per call through the menu, keyable case references

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op
from screenpop.case_keys import case_key

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_cases = sa.table(
    "cases",
    sa.column("id", sa.Integer()),
    sa.column("reference", sa.String()),
    sa.column("dtmf_key", sa.String()),
)


def upgrade() -> None:
    op.create_table(
        "ivr_tree_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("comment", sa.String(length=200), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ivr_tree_versions")),
    )
    with op.batch_alter_table("ivr_tree_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ivr_tree_versions_status"), ["status"], unique=False)
    op.create_table(
        "ivr_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uniqueid", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("path", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("last_node", sa.String(length=80), nullable=True),
        sa.Column("timed_out_nodes", sa.JSON(), nullable=False),
        sa.Column("self_served", sa.Boolean(), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ivr_runs")),
    )
    with op.batch_alter_table("ivr_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ivr_runs_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ivr_runs_call_id"), ["call_id"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dtmf_key", sa.String(length=40), nullable=True))
    # Existing cases get their key before the unique index is built.
    conn = op.get_bind()
    rows = conn.execute(sa.select(_cases.c.id, _cases.c.reference)).all()
    updates = [{"case_id": i, "key": case_key(ref)} for i, ref in rows if case_key(ref)]
    if updates:
        conn.execute(
            _cases.update()
            .where(_cases.c.id == sa.bindparam("case_id"))
            .values(dtmf_key=sa.bindparam("key")),
            updates,
        )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_dtmf_key"), ["dtmf_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_dtmf_key"))
        batch_op.drop_column("dtmf_key")
    with op.batch_alter_table("ivr_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ivr_runs_call_id"))
        batch_op.drop_index(batch_op.f("ix_ivr_runs_at"))
    op.drop_table("ivr_runs")
    with op.batch_alter_table("ivr_tree_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ivr_tree_versions_status"))
    op.drop_table("ivr_tree_versions")
