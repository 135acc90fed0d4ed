"""Events poured on the simulated PBX's AMI sessions until it drops one that reads nothing."""

from __future__ import annotations

import asyncio

from cti.pbxsim import SimulatedPbx

PAD = "x" * 1000  # the kernel's socket buffers (megabytes) fill in some thousands


async def pour_until_dropped(pbx: SimulatedPbx, most: int = 100_000) -> int:
    """UserEvents ``Backlog`` (numbered ``Seq``) until the PBX drops a session; how many went out.

    The loop turns between batches: a client that reads (in this loop) keeps up, and the PBX's
    write timeout gets its turn."""
    dropped = pbx.ami.dropped
    sent = 0
    while pbx.ami.dropped == dropped:
        assert sent < most, "no session dropped: the stalled client's backlog grows without bound"
        for _ in range(50):
            sent += 1
            pbx.ami.emit(
                [
                    ("Event", "UserEvent"),
                    ("Privilege", "user,all"),
                    ("UserEvent", "Backlog"),
                    ("Seq", str(sent)),
                    ("Pad", PAD),
                ]
            )
        await asyncio.sleep(0)
    return sent
