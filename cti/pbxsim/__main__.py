"""``python -m cti.pbxsim``: a simulated Asterisk on its own, with traffic, for manual tests.

Point the CTI at it (``CTI_AMI_HOST``/``CTI_AMI_PORT``/``CTI_AMI_SECRET``) or at it with any AMI
client; kill and restart it to see the CTI reconnect.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from cti.pbxsim.simulator import SimulatedPbx
from cti.pbxsim.traffic import demo_agents, drive, traffic


async def main(args: argparse.Namespace) -> None:
    pbx = SimulatedPbx(
        host=args.host,
        port=args.port,
        username=args.username,
        secret=args.secret,
        agents=demo_agents([str(n) for n in range(201, 207)], seed=args.seed),
        seed=args.seed,
    )
    await pbx.start()
    print(f"Simulated Asterisk AMI on {args.host}:{pbx.port} (user {args.username})", flush=True)
    try:
        await drive(pbx, traffic(args.rate, seed=args.seed))  # drawn as it goes, no end
    finally:
        await pbx.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5038)
    parser.add_argument("--username", default="cti")
    parser.add_argument("--secret", default="cti-secret")
    parser.add_argument("--rate", type=float, default=4.0, help="calls per minute")
    parser.add_argument("--seed", type=int, default=1)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(parser.parse_args()))
