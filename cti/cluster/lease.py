"""The router's lease as its holder sees it: may it still act, and until when (pure).

The lease is granted by the database for ``ttl`` seconds of the database's clock. The holder
cannot read that clock before every AMI action, so it keeps a local, more cautious deadline
on its own monotonic clock: the moment it *sent* the request that granted or renewed the lease,
plus ``ttl`` minus a safety margin for clock-rate drift. Counting from the send, not from the
answer, means the local deadline always falls before the database's one, however long the
round trip took. A process that was paused (SIGSTOP, a long GC, a frozen VM) finds its deadline
past when it wakes and steps down before acting; the fencing token settles the rest (see
``lease_store.fenced``).
"""

from __future__ import annotations

from dataclasses import dataclass


class NotLeader(Exception):
    """This node does not hold the router's lease (any more): it must not drive the PBX."""


@dataclass(frozen=True, slots=True)
class Lease:
    token: int
    #: Monotonic time at which the request that granted or last renewed the lease was sent.
    confirmed_at: float
    ttl: float
    #: Share of ``ttl`` given up to the clocks' drift between this node and the database.
    margin: float = 0.1

    @property
    def deadline(self) -> float:
        return self.confirmed_at + self.ttl * (1.0 - self.margin)

    def may_act(self, now: float) -> bool:
        return now < self.deadline

    def renewed(self, sent_at: float) -> Lease:
        return Lease(self.token, max(self.confirmed_at, sent_at), self.ttl, self.margin)

    def check(self, now: float) -> None:
        """Raise ``NotLeader`` when the lease may have passed to another node."""
        if not self.may_act(now):
            raise NotLeader(
                f"le bail du routeur (jeton {self.token}) a expiré depuis "
                f"{now - self.deadline:.1f} s : ce nœud n'agit plus sur l'autocommutateur"
            )
