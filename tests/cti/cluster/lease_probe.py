"""A node that drives the PBX under the router's lease, for the failover tests (a real process).

``python lease_probe.py DATABASE_URL AMI_PORT TTL``: connects to the AMI, tries for the lease,
and while it holds it sends a ``UserEvent CtiProbe`` carrying its token every 20 ms through
``FencedSend``. Says on stdout "ready", "elected N", "deposed N" and "refused N" (an action the
fence stopped), one line each.
"""

from __future__ import annotations

import asyncio
import sys

from cti.ami.connection import AmiConnection, AmiParams
from cti.ami.errors import AmiError
from cti.cluster.elector import Elector
from cti.cluster.fenced import FencedSend
from cti.cluster.lease import NotLeader
from cti.cluster.lease_store import LeaseStore
from cti.db import Database


def say(line: str) -> None:
    print(line, flush=True)


async def main(url: str, ami_port: int, ttl: float) -> None:
    elector = Elector(
        LeaseStore(Database(url)),
        ttl=ttl,
        on_elected=lambda token: say(f"elected {token}"),
        on_deposed=lambda token: say(f"deposed {token}"),
    )
    conn = AmiConnection(AmiParams(port=ami_port, secret="cti-secret"), lambda _e, _t: None)
    send = FencedSend(conn.send, elector)
    conn.start()
    await conn.wait_ready(10)
    elector.start()
    say("ready")
    seq = 0
    # The token this node last held: a stale router acts on what it believes, and only the
    # fence stands between that belief and the PBX.
    held = 0
    refused = 0
    while True:
        await asyncio.sleep(0.02)
        held = elector.token or held
        if not held:
            continue
        try:
            action = {"Action": "UserEvent", "UserEvent": "CtiProbe", "Seq": str(seq)}
            await send({**action, "Token": str(held), "Node": elector.holder})
            seq += 1
        except NotLeader:
            if refused != held:
                say(f"refused {held}")
                refused = held
        except AmiError:
            pass


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
