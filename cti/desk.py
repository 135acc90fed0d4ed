"""What the agents' page asks of the router: states, end of wrap-up, transfers.

The web layer knows only this protocol; ``cti.router.RouterShell`` implements it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from cti.transfer_targets import TransferTargets


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

    async def transfer(
        self, call_id: str, from_agent: str, to_agent: str, *, attended: bool = False
    ) -> None:
        """Transfer of the agent's call to another agent, blind or attended (she talks to
        the colleague first and hangs up to hand the citizen over); raises ``DeskError``."""
        ...

    async def transfer_to_service(self, call_id: str, from_agent: str, service: str) -> None:
        """Blind transfer of the agent's call into ``service``'s wait (nobody free there);
        raises ``DeskError``."""
        ...

    def transfer_targets(self, agent: str) -> TransferTargets:
        """Her colleagues and the services, with who is free to take a call now."""
        ...
