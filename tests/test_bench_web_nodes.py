"""The web-nodes bench's accounting (``python -m bench webnodes``; issue 23).

A citizen who hangs up before any phone rang is an abandoned call, not a call the router
failed to ring: counting her « never rung » sent us looking for a routing fault.
"""

from __future__ import annotations

from bench.web_nodes_bench import tally
from cti.pbxsim import SimulatedPbx


async def test_a_citizen_who_hangs_up_while_waiting_is_abandoned_not_never_rung() -> None:
    pbx = SimulatedPbx(safety_net=600.0)
    await pbx.start()
    try:
        left = pbx.place_call("0612000001", "Banc", service="accueil", talk=None)
        stays = pbx.place_call("0612000002", "Banc", service="accueil", talk=None)
        pbx.hangup_call(left)
        await left.ended.wait()
        assert tally([left, stays]) == (0, 1)  # rung, abandoned; the other still waits
    finally:
        await pbx.close()
