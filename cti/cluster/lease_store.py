"""The router's lease in the database: granted, renewed and released by single statements.

Every node runs the same statements against the same row, and the database's clock is the
only one that decides expiry, so nodes with skewed clocks still agree. The token goes up each
time the lease changes hands; ``fenced`` makes a write conditional on it, inside the write's own
transaction (on PostgreSQL the row is locked ``FOR SHARE``, so a takeover waits for the write
to commit and a write after a takeover sees the new token).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from cti.cluster.lease import NotLeader
from cti.db import Database

# The database's clock, in seconds since the epoch.
_NOW = {
    "postgresql": "extract(epoch from clock_timestamp())",
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
}

# Granted when free or expired (a new token), or kept by its holder (same token).
_ACQUIRE = """
INSERT INTO router_lease (name, holder, token, expires_at)
VALUES (:name, :holder, 1, {now} + :ttl)
ON CONFLICT (name) DO UPDATE SET
    token = CASE WHEN router_lease.holder = excluded.holder
                  AND router_lease.expires_at > {now}
                 THEN router_lease.token ELSE router_lease.token + 1 END,
    holder = excluded.holder,
    expires_at = excluded.expires_at
WHERE router_lease.holder = excluded.holder OR router_lease.expires_at <= {now}
RETURNING token
"""

_RENEW = """
UPDATE router_lease SET expires_at = {now} + :ttl
WHERE name = :name AND holder = :holder AND token = :token AND expires_at > {now}
RETURNING token
"""

_RELEASE = """
UPDATE router_lease SET expires_at = {now}
WHERE name = :name AND holder = :holder AND token = :token
"""

_CURRENT = "SELECT holder, token, expires_at - {now} FROM router_lease WHERE name = :name"


class LeaseStore:
    """The lease named ``name`` in ``database``."""

    def __init__(self, database: Database, name: str = "default") -> None:
        self.database = database
        self.name = name
        now = _NOW[database.dialect]
        self._acquire = text(_ACQUIRE.format(now=now))
        self._renew = text(_RENEW.format(now=now))
        self._release = text(_RELEASE.format(now=now))
        self._current = text(_CURRENT.format(now=now))

    def acquire(self, holder: str, ttl: float) -> int | None:
        """The token if ``holder`` now holds the lease, else None (another node holds it)."""
        with self.database.engine.begin() as conn:
            row = conn.execute(
                self._acquire, {"name": self.name, "holder": holder, "ttl": ttl}
            ).first()
        return None if row is None else int(row[0])

    def renew(self, holder: str, token: int, ttl: float) -> bool:
        """Extend the lease; False if it expired or passed to another node meanwhile."""
        with self.database.engine.begin() as conn:
            row = conn.execute(
                self._renew, {"name": self.name, "holder": holder, "token": token, "ttl": ttl}
            ).first()
        return row is not None

    def release(self, holder: str, token: int) -> None:
        """Give the lease up now (a clean stop): a standby takes over at its next try."""
        with self.database.engine.begin() as conn:
            conn.execute(self._release, {"name": self.name, "holder": holder, "token": token})

    def current(self) -> tuple[str, int, float] | None:
        """(holder, token, seconds left on the database's clock), or None if never granted."""
        with self.database.engine.connect() as conn:
            row = conn.execute(self._current, {"name": self.name}).first()
        return None if row is None else (str(row[0]), int(row[1]), float(row[2]))

    def fenced(self, conn: Connection, token: int) -> None:
        """Inside a write's transaction: raise ``NotLeader`` unless ``token`` is still current.

        The write is then committed only by the lease's holder of the moment; a deposed
        router's write fails whole.
        """
        lock = " FOR SHARE" if self.database.dialect == "postgresql" else ""
        current = conn.execute(
            text(f"SELECT token FROM router_lease WHERE name = :name{lock}"), {"name": self.name}
        ).scalar()
        if current != token:
            raise NotLeader(
                f"écriture refusée : le jeton {token} du routeur a été remplacé par {current} "
                "(un autre nœud a pris la main)"
            )
