"""interactions: who handled the calls recorded before 0007, as far as the database tells

Before 0007 a call kept only the agents it was offered to (``agents``, in order, each once),
not which of them answered: the reports counted it for its last agent only. Nothing stored
tells a colleague who answered and passed the call on from one whose phone rang unanswered
(no call events were kept, and the audit trail's ``card.open`` is written when the phone
rings, not when it is answered). What does tell is the agents' notes: an agent who wrote a
note on a call had it on her desk and took it. So, for every call answered at least once
whose ``answered_by`` is unknown: the agents who wrote a note on it, and its last agent (the
one the reports already counted), in the order the call reached them. An agent who took a
call, wrote nothing and passed it on cannot be found: README's reports section says so.
Calls never answered are left as they were. The downgrade forgets nothing it did not set:
it cannot tell these rows from later ones, so it leaves them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BATCH = 1000

interactions = sa.table(
    "interactions",
    sa.column("id", sa.Integer),
    sa.column("agents", sa.JSON),
    sa.column("answered_by", sa.JSON),
    sa.column("outcome", sa.String),
)
notes = sa.table(
    "interaction_notes",
    sa.column("interaction_id", sa.Integer),
    sa.column("agent", sa.String),
)


def handled_by(offered: Sequence[str], wrote_notes: Iterable[str]) -> list[str]:
    """The agents who took an answered call: those who wrote a note on it and its last
    agent, in the order it was offered to them."""
    if not offered:
        return []
    took = set(wrote_notes) | {offered[-1]}
    return [agent for agent in dict.fromkeys(offered) if agent in took]


def upgrade() -> None:
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(interactions.c.id, interactions.c.agents, interactions.c.answered_by)
            .where(interactions.c.id > last, interactions.c.outcome == "answered")
            .order_by(interactions.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        unknown = {row.id: list(row.agents or []) for row in rows if row.answered_by is None}
        if not unknown:
            continue
        writers: dict[int, set[str]] = {}
        for interaction_id, agent in conn.execute(
            sa.select(notes.c.interaction_id, notes.c.agent).where(
                notes.c.interaction_id.in_(list(unknown))
            )
        ):
            writers.setdefault(interaction_id, set()).add(agent)
        for row_id, offered in unknown.items():
            took = handled_by(offered, writers.get(row_id, ()))
            if took:
                conn.execute(
                    interactions.update()
                    .where(interactions.c.id == row_id)
                    .values(answered_by=took)
                )


def downgrade() -> None:
    """Nothing: the rows it completed cannot be told from the ones written since 0007."""
