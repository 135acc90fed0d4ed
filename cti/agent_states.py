"""Agents' states survive a restart of the service.

The routing engine keeps states in memory. Were the service restarted with every agent
logged out, each waiting caller would overflow at once ("nobody can serve"), so the state an
agent chose (ready, paused with its reason, at the front desk, logged out) is written down at
every change and given back to the new engine before the AMI link is trusted again. Ringing,
on a call and wrap-up are moments of a call, not choices, and are not kept.

Writes go through the product's ``OrderedWriter`` (the screen pop's): in order, off the
event loop, and held (memory and spool file) while the database is away, then written when
it is back: a state chosen during an outage is not forgotten.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import select

from cti.db import Database
from cti.desk import AgentDesk, DeskError
from routing.states import REQUESTABLE
from screenpop.directory_writes import agent_state_write
from screenpop.models import AgentStateRow
from screenpop.writer import OrderedWriter

log = logging.getLogger(__name__)

KEPT = frozenset(state.value for state in REQUESTABLE)


class AgentStateStore:
    """``writer`` (running): where states are written; without it, ``load`` only."""

    def __init__(self, db: Database, writer: OrderedWriter | None = None) -> None:
        self.db = db
        self._writer = writer

    def load(self) -> dict[str, tuple[str, str | None]]:
        with self.db.session() as session:
            rows = session.scalars(select(AgentStateRow)).all()
            return {row.agent: (row.state, row.reason) for row in rows if row.state in KEPT}

    def remember(self, agent: str, state: str, reason: str | None) -> None:
        if state not in KEPT:
            return
        if self._writer is None:
            raise RuntimeError("AgentStateStore built without a writer: it cannot save states")
        self._writer.submit(agent_state_write(agent, state, reason))

    async def flush(self) -> None:
        """Wait until every state remembered so far is written."""
        if self._writer is not None:
            await self._writer.idle.wait()

    def close(self) -> None:
        """Nothing of its own to close: the writer belongs to the screen pop."""


def restore(desk: AgentDesk, states: Mapping[str, tuple[str, str | None]]) -> None:
    """Give the router back the states saved before the restart."""
    for agent, (state, reason) in states.items():
        try:
            desk.set_agent_state(agent, state, reason)
        except DeskError as exc:  # an agent no longer in the routing configuration
            log.info("state of agent %s not restored: %s", agent, exc)
