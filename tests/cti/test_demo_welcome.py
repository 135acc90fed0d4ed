"""The demo keeps the README's promise: the newcomer (Marie, the first agent) says « Prêt »
and her first card comes within seconds, madame Dupont's, whatever her colleagues are
doing: a few calls at once, one per colleague free for État civil, then Dupont's (it took
91 s with the random traffic alone, issue 22). Waits on the card itself, no timing asserted.
"""

from __future__ import annotations

import json
from pathlib import Path

from cti.assembly import running
from cti.settings import Settings


async def test_the_newcomers_first_card_is_madame_duponts(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cti.db'}",
        http_port=0,
        demo_citizens=200,
        sim_rate=0,  # no random traffic: only the welcome calls
    )
    async with running(settings, simulated=True, traffic=True) as product:
        assert product.pbx is not None
        first = next(iter(product.router.engine.config.agents))
        # As in the demo, where she clicks long after the start: the AMI link is up.
        await product.connection.wait_ready(30)
        cards = product.hub.subscribe(first)
        product.router.set_agent_state(first, "ready", None)
        while True:
            message = await cards.get()
            assert message is not None
            body = json.loads(message) if isinstance(message, str) else message
            if body.get("type") == "card.offered":
                break
        assert body["card"]["greeting"] == "Bonjour madame Dupont"
        assert body["card"]["menu_choices"], "she came through the voice menu"
        # Her colleagues free for État civil were offered the calls before hers.
        placed = [c.citizen.cid_num for c in product.pbx.telephony.calls]
        assert placed[-1].endswith("612345678") and len(placed) >= 2
