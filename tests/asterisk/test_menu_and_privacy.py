"""On a real Asterisk: keys pressed in the voice menu, and callers who withhold their number."""

from __future__ import annotations

import json

from tests.asterisk.conftest import MakeLab


async def test_a_key_in_the_menu_chooses_the_service(make_lab: MakeLab) -> None:
    lab = await make_lab(agents=("202",))
    paul = await lab.agent("paul", "202")
    await paul.ready()
    caller = await lab.call("0698765432", keys="1")
    await caller.menu_listens()
    await caller.press("1")
    offered = await paul.until(lambda m: m["type"] == "card.offered", "the card")
    card = offered["card"]
    assert card["service"] == "etat-civil"
    assert card["ivr_path"][-1] == "vers_etat_civil"
    await paul.until(lambda m: m["type"] == "card.answered", "the answer")
    await caller.hang_up()


async def test_the_menu_tells_a_case_status_and_the_call_ends_self_served(
    make_lab: MakeLab,
) -> None:
    lab = await make_lab(agents=())
    caller = await lab.call("0698765432", keys="61202600042#")
    await caller.menu_listens()
    await caller.press("6")
    mark = lab.ami.mark()
    await caller.menu_listens(since=mark)  # "Numéro de dossier, puis dièse."
    await caller.press("1202600042#")
    assert await caller.ended() == 0  # the town hall hung up after answering her
    channel = await caller.channel()
    said = [
        e.get("Command", "")
        for e in lab.ami.events
        if e.get("Event") == "AGIExecStart" and e.get("Channel") == channel
    ]
    assert any("1202600042" in command for command in said), said
    runs = await lab.product.until_rows(
        "SELECT path, outcome, self_served FROM ivr_runs",
        lambda r: len(r) == 1,
        "the menu's run",
    )
    assert json.loads(runs[0]["path"]) == ["menu", "suivi_dossier", "merci"]
    assert runs[0]["self_served"]
    # Every prompt was a voice Asterisk found: the product's speech in the sounds directory
    # they share, never a missing file, never spelled.
    assert not any(command.startswith("EXEC SayAlpha") for command in said), said
    log = (lab.asterisk.run / "log" / "messages.log").read_text(errors="replace")
    assert "does not exist" not in log
    await lab.product.until_health(
        lambda h: h.get("voice_menu_missing_sounds") == [], "no missing sound"
    )


async def test_a_withheld_caller_stays_anonymous_to_the_agent(make_lab: MakeLab) -> None:
    """Madame Bernard calls with Privacy: id: the operator asserts her number (PAI), the
    presentation is restricted; nothing of hers may reach the agent or the audit."""
    lab = await make_lab(agents=("201",))
    marie = await lab.agent("marie", "201")
    await marie.ready()
    caller = await lab.call("0611223344", withheld=True)
    offered = await marie.until(lambda m: m["type"] == "card.offered", "the card")
    card = offered["card"]
    assert card["caller"]["status"] == "withheld"
    assert card["citizens"] == []
    await marie.until(lambda m: m["type"] == "card.answered", "the answer")
    await caller.hang_up()
    await marie.until(lambda m: m["type"] == "card.ended", "the end")
    everything = json.dumps(marie.messages, ensure_ascii=False)
    assert "Bernard" not in everything
    assert "11 22 33 44" not in everything and "611223344" not in everything
    rows = await lab.product.until_rows(
        "SELECT caller_raw, caller_e164, caller_withheld, citizen_id, outcome FROM interactions",
        lambda r: bool(r) and r[0]["outcome"] == "answered",
        "the call's record",
    )
    assert [dict(r) for r in rows] == [
        {
            "caller_raw": None,
            "caller_e164": None,
            "caller_withheld": 1,
            "citizen_id": None,
            "outcome": "answered",
        }
    ]
    opened = lab.product.rows("SELECT * FROM audit_log WHERE action = 'card.open'")
    assert opened == []
