"""router_lease: which node drives the PBX, and its fencing token

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "router_lease",
        # One lease per PBX driven (a name, "default" for the usual single PBX).
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        # Raised each time the lease passes to a new holder: a write or action carrying an
        # older token comes from a node that was deposed.
        sa.Column("token", sa.BigInteger(), nullable=False),
        # Seconds since the epoch on the database's clock, the one clock all nodes share.
        sa.Column("expires_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("router_lease")
