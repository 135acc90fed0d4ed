"""On a real Asterisk: the card of a known caller reaches only the agent whose phone rings."""

from __future__ import annotations

from tests.asterisk.conftest import MakeLab


def _agent_channel_up(events: list[dict[str, str]], extension: str) -> bool:
    return any(
        e.get("Event") == "Newstate"
        and e.get("Channel", "").startswith(f"PJSIP/{extension}-")
        and e.get("ChannelStateDesc") == "Up"
        for e in events
    )


async def test_a_known_callers_card_pops_on_the_rung_agents_page_only(make_lab: MakeLab) -> None:
    lab = await make_lab(agents=("201", "202"))
    marie = await lab.agent("marie", "201")
    paul = await lab.agent("paul", "202")
    await lab.phone("202", answer_after_ms=None)  # Paul's phone would ring forever
    await marie.ready()
    caller = await lab.call("0612345678")

    offered = await marie.until(lambda m: m.get("type") == "card.offered", "the card")
    # The card is on her screen while her phone still rings.
    assert not _agent_channel_up(lab.ami.events, "201")
    card = offered["card"]
    assert card["greeting"] == "Bonjour madame Dupont"
    assert card["caller"]["status"] == "ok"
    assert [c["last_name"] for c in card["citizens"]] == ["Dupont"]
    assert card["service"] == "accueil"
    assert card["ivr_path"]

    await marie.until(lambda m: m.get("type") == "card.answered", "the answer")
    await lab.ami.until(
        lambda e: e.get("Event") == "BridgeEnter" and e.get("Channel", "").startswith("PJSIP/201-"),
        "Marie's phone in the bridge",
    )
    await caller.hang_up()
    await marie.until(lambda m: m.get("type") == "card.ended", "the end of the call")
    assert [m["type"] for m in paul.messages if m["type"].startswith("card.")] == []
