"""Database writes made only under the router's lease: the check each fenced write runs.

Unlike Asterisk, the database can check a fencing token itself, inside the write's own
transaction (``LeaseStore.fenced``): the write commits only if the lease's token is still the
one this node was granted, so a deposed router (paused, cut off, on its way out) cannot
overwrite what its successor wrote since, whatever its clock says.

A write may also have been made by this node's previous process and kept in its spool (the
database was away, then the process stopped). It carries the token it was made under. It may
still land only if nobody else held the lease since: tokens go up by one each time the lease
changes hands, and every process is a new holder, so a write made under ``t`` replayed by the
holder of ``t + 1`` saw the lease pass straight from its maker to its replayer. Older than
that, another node may have driven the PBX in between: the write is refused and set aside.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from cti.cluster.lease import NotLeader
from cti.cluster.lease_store import LeaseStore


class WriteFence:
    """The check for writes by the holder of ``token`` in ``store``."""

    def __init__(self, store: LeaseStore, token: int) -> None:
        self.store = store
        self.token = token
        self.refused = 0  # writes refused (``cti_db_writes_fenced``)

    def __call__(self, conn: Connection, made_under: int | None = None) -> None:
        """Raise ``NotLeader`` unless a write made under ``made_under`` (None: now, by this
        process) may land in ``conn``'s transaction."""
        made = self.token if made_under is None else made_under
        try:
            if made < self.token - 1:
                raise NotLeader(
                    f"écriture faite sous le jeton {made}, rejouée sous le jeton {self.token} : "
                    "un autre nœud a pu piloter l'autocommutateur entre les deux"
                )
            self.store.fenced(conn, self.token)
        except NotLeader:
            self.refused += 1
            raise
