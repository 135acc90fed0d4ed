"""What the agents' page asks of the router: states, end of wrap-up, transfers.

The web layer knows only this protocol; ``cti.router.RouterShell`` implements it.
"""

from __future__ import annotations

from typing import Protocol


class DeskError(Exception):
    """An agent's request the router cannot carry out; the message is for the agent."""


class AgentDesk(Protocol):
    def agent_state(self, agent: str) -> tuple[str, str | None]:
        """The agent's state (``ready``, ``paused``, ``on_call``...) and its reason."""
        ...

    def set_agent_state(self, agent: str, state: str, reason: str | None) -> None:
        """Raises ``DeskError`` when the agent is unknown or the change not allowed."""
        ...

    def wrap_up_done(self, agent: str) -> None: ...

    async def transfer(self, call_id: str, from_agent: str, to_agent: str) -> None:
        """Blind transfer of the agent's call to another agent; raises ``DeskError``."""
        ...
