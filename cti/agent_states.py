"""Agents' states survive a restart of the service.

The routing engine keeps states in memory. Were the service restarted with every agent
logged out, each waiting caller would overflow at once ("nobody can serve"), so the state an
agent chose (ready, paused with its reason, at the front desk, logged out) is written down at
every change and given back to the new engine before the AMI link is trusted again. Ringing,
on a call and wrap-up are moments of a call, not choices, and are not kept.

Writes go to one worker thread, in order, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import select

from cti.db import Database
from cti.desk import AgentDesk, DeskError
from routing.states import REQUESTABLE
from screenpop.models import AgentStateRow

log = logging.getLogger(__name__)

KEPT = frozenset(state.value for state in REQUESTABLE)


class AgentStateStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agent-states")
        self._last: Future[None] | None = None

    def load(self) -> dict[str, tuple[str, str | None]]:
        with self.db.session() as session:
            rows = session.scalars(select(AgentStateRow)).all()
            return {row.agent: (row.state, row.reason) for row in rows if row.state in KEPT}

    def remember(self, agent: str, state: str, reason: str | None) -> None:
        if state in KEPT:
            self._last = self._writer.submit(self._write, agent, state, reason)

    def _write(self, agent: str, state: str, reason: str | None) -> None:
        try:
            with self.db.session() as session, session.begin():
                row = session.get(AgentStateRow, agent)
                if row is None:
                    session.add(AgentStateRow(agent=agent, state=state, reason=reason))
                else:
                    row.state, row.reason = state, reason
        except Exception:  # the call goes on; only the memory of the state is lost
            log.exception("could not save the state of agent %s", agent)

    async def flush(self) -> None:
        """Wait until every state remembered so far is written."""
        if self._last is not None:
            await asyncio.wrap_future(self._last)

    def close(self) -> None:
        self._writer.shutdown(wait=True)


def restore(desk: AgentDesk, states: Mapping[str, tuple[str, str | None]]) -> None:
    """Give the router back the states saved before the restart."""
    for agent, (state, reason) in states.items():
        try:
            desk.set_agent_state(agent, state, reason)
        except DeskError as exc:  # an agent no longer in the routing configuration
            log.info("state of agent %s not restored: %s", agent, exc)
