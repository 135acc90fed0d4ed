"""The broker's subjects, one family per PBX (the router lease's name): pure.

``cti.<pbx>.agent.<extension>``   cards and states for one agent's pages (core NATS)
``cti.<pbx>.supervision``         the wallboard's messages (core NATS)
``cti.<pbx>.events``              the live board: domain events and the AMI link's state
                                  (JetStream stream ``CTI_EVENTS``: kept, deduplicated)
``cti.<pbx>.sessions``            sessions ended on the router's node (sockets close)
``cti.<pbx>.router``              the router's heartbeat: its lease token
``cti.<pbx>.rpc.<token>``         requests to the router holding that token (pages' HTTP,
                                  snapshots for a page that opens its socket)

A request names the token of the router it is for: a router deposed while paused still
listens on its old token's subject, where nobody sends any more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STREAM = "CTI_EVENTS"
_NAME = re.compile(r"[A-Za-z0-9_-]+")


class BadSubjectName(ValueError):
    """A PBX name or an extension that cannot stand in a subject."""


def _token(value: str, what: str) -> str:
    if not _NAME.fullmatch(value):
        raise BadSubjectName(
            f"{what} « {value} » : lettres, chiffres, « - » et « _ » seulement "
            "(il sert de nom de sujet sur le courtier)"
        )
    return value


@dataclass(frozen=True, slots=True)
class Subjects:
    pbx: str

    def __post_init__(self) -> None:
        _token(self.pbx, "CTI_ROUTER_LEASE_NAME")

    @property
    def root(self) -> str:
        return f"cti.{self.pbx}"

    def agent(self, extension: str) -> str:
        return f"{self.root}.agent.{_token(extension, 'poste')}"

    @property
    def agents(self) -> str:
        return f"{self.root}.agent.*"

    @property
    def supervision(self) -> str:
        return f"{self.root}.supervision"

    @property
    def events(self) -> str:
        return f"{self.root}.events"

    @property
    def sessions(self) -> str:
        return f"{self.root}.sessions"

    @property
    def router(self) -> str:
        return f"{self.root}.router"

    def rpc(self, token: int) -> str:
        return f"{self.root}.rpc.{token}"

    def extension_of(self, subject: str) -> str:
        """The extension an agent subject is for."""
        return subject.rsplit(".", 1)[-1]
