"""On a real Asterisk: a callback accepted by an agent rings her phone, then the citizen's.

Marie, on a call with monsieur Martin, notes « à rappeler » for another number; once the call
is over and she is ready, the request is offered to her page; she accepts: the product
Originates into ``cti-callback``, her phone (sipp) answers, the citizen's phone behind the
operator's trunk (sipp on 127.0.0.2) rings and answers; when the call ends the dialplan's
``CtiCallbackResult`` says ANSWER and the request is reached, audited as who called back whom.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.asterisk.conftest import DATA, MakeLab


async def test_an_accepted_callback_rings_the_agent_then_the_citizen(make_lab: MakeLab) -> None:
    lab = await make_lab(agents=("201",))
    await lab.citizen_phone(answer_after_ms=500)
    marie = await lab.agent("marie", "201")
    await marie.ready()
    caller = await lab.call("0698765432")
    answered = await marie.until(lambda m: m["type"] == "card.answered", "Marie's answer")
    call_id = answered["card"]["call_id"]
    asked = await marie.post(
        f"/api/calls/{call_id}/callback",
        {"note": "rappeler la fille", "window": "a_la_reouverture", "number": "0612345678"},
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    await caller.hang_up()
    await marie.until(lambda m: m["type"] == "card.ended", "the end of the call")
    offered = await marie.until(lambda m: m["type"] == "callback.offered", "the callback's card")
    assert offered["callback"]["id"] == request_id
    assert offered["callback"]["headline"].startswith("Rappel demandé à ")
    mark = lab.ami.mark()
    accepted = await marie.post(f"/api/callbacks/{request_id}/accept", {})
    assert accepted.status_code == 200, accepted.text
    # Her phone first (the Originate answered), then the citizen's through the trunk.
    await lab.ami.until(
        lambda e: e.get("Event") == "OriginateResponse" and e.get("Response") == "Success",
        "Marie's phone answered the callback",
        since=mark,
    )
    dialled = await lab.ami.until(
        lambda e: (
            e.get("Event") == "DialEnd"
            and e.get("DestChannel", "").startswith("PJSIP/operateur-lab")
            and e.get("DialStatus") == "ANSWER"
        ),
        "the citizen's phone answered",
        since=mark,
    )
    await lab.asterisk.command(f"channel request hangup {dialled['DestChannel']}")
    result = await lab.ami.until(
        lambda e: e.get("Event") == "UserEvent" and e.get("UserEvent") == "CtiCallbackResult",
        "the callback's result",
        since=mark,
    )
    assert (result["CallbackId"], result["DialStatus"]) == (request_id, "ANSWER")
    rows = await lab.product.until_rows(
        "SELECT state, attempts, agent, action_id FROM callback_requests WHERE id = ?",
        lambda r: bool(r) and r[0]["state"] == "reached",
        "the callback reached",
        request_id,
    )
    assert (rows[0]["attempts"], rows[0]["agent"]) == (1, "201")
    assert result["CallbackAction"] == rows[0]["action_id"]
    audit = lab.product.rows(
        "SELECT username, detail FROM audit_log WHERE action = 'callback.call'"
    )
    assert [a["username"] for a in audit] == ["marie"]
    assert audit[0]["detail"].startswith("le poste 201 rappelle le 06 12 34 56 78 (Accueil)")


async def test_key_1_in_the_wait_then_the_callback_pops_her_card(
    make_lab: MakeLab, tmp_path: Path
) -> None:
    """She waits for « Accueil », hears « tapez 1 pour être rappelé », keys 1 then confirms
    her number: the request is stored with it, she hears it recorded and Asterisk hangs up.
    Marie, ready, is offered the callback, accepts: her phone rings and answers, then the
    citizen's; Marie's page shows the citizen's card with the request, the call is recorded
    once, answered by her."""
    routing = yaml.safe_load((DATA / "routing.yaml").read_text(encoding="utf-8"))
    routing["services"]["accueil"]["callback"] = {"offer_in_wait": True, "offer_after_s": 1}
    config = tmp_path / "routing-rappel.yaml"
    config.write_text(yaml.safe_dump(routing, allow_unicode=True), encoding="utf-8")
    lab = await make_lab(agents=("201",), routing=config)
    await lab.citizen_phone(answer_after_ms=500)
    marie = await lab.agent("marie", "201")
    # At her desk but paused: the caller waits (with nobody logged in she would overflow).
    paused = await marie.post("/api/agent/state", {"state": "paused", "reason": "Pause"})
    assert paused.status_code == 200, paused.text
    caller = await lab.call("0698765432", keys="11")
    channel = await caller.channel()
    # The music goes on with the key listened for, once the offer was played.
    await lab.ami.until(
        lambda e: (
            e.get("Event") == "Newexten"
            and e.get("Channel") == channel
            and e.get("Application") == "WaitExten"
        ),
        "the offer made to her in the wait",
        since=caller.since,
    )
    mark = lab.ami.mark()
    await caller.press("1")
    await caller.menu_listens(since=mark)  # « Tapez 1 pour confirmer ce numéro... »
    await caller.press("1")
    assert await caller.ended() == 0  # the town hall hung up after confirming
    said = [
        e.get("Command", "")
        for e in lab.ami.events[mark:]
        if e.get("Event") == "AGIExecStart" and e.get("Channel") == channel
    ]
    assert said[-1] == "HANGUP" and said[-2].startswith("STREAM FILE")  # « ... Au revoir. »
    assert any("SayDigits" in c and "0698765432" in c for c in said), said  # her number
    rows = await lab.product.until_rows(
        "SELECT id, number, service, source, state FROM callback_requests",
        lambda r: bool(r),
        "her request",
    )
    assert [tuple(r)[1:] for r in rows] == [("+33698765432", "accueil", "wait", "pending")]
    request_id = rows[0]["id"]
    await marie.ready()
    offered = await marie.until(lambda m: m["type"] == "callback.offered", "the callback's card")
    assert offered["callback"]["id"] == request_id
    accepted = await marie.post(f"/api/callbacks/{request_id}/accept", {})
    assert accepted.status_code == 200, accepted.text
    popped = await marie.until(lambda m: m["type"] == "card.offered", "the citizen's card")
    card = popped["card"]
    assert card["caller"]["display"] == "06 98 76 54 32"
    assert card["greeting"] == "Bonjour monsieur Martin"
    assert card["callback"].startswith("Rappel demandé à ")
    assert "attente initiale" in card["callback"]
    await marie.until(lambda m: m["type"] == "card.answered", "the citizen answering")
    dialled = await lab.ami.until(
        lambda e: (
            e.get("Event") == "DialEnd"
            and e.get("DestChannel", "").startswith("PJSIP/operateur-lab")
            and e.get("DialStatus") == "ANSWER"
        ),
        "the citizen's phone answered",
        since=mark,
    )
    await lab.asterisk.command(f"channel request hangup {dialled['DestChannel']}")
    ended = await marie.until(lambda m: m["type"] == "card.ended", "the end of the callback")
    assert ended["card"]["call_id"] == card["call_id"]
    await lab.product.until_rows(
        "SELECT state FROM callback_requests WHERE id = ?",
        lambda r: bool(r) and r[0]["state"] == "reached",
        "the callback reached",
        request_id,
    )
    calls = await lab.product.until_rows(
        "SELECT outcome, agents, service FROM interactions WHERE call_id = ?",
        lambda r: bool(r) and r[0]["outcome"] == "answered",
        "the callback's record",
        card["call_id"],
    )
    assert len(calls) == 1
    assert (json.loads(calls[0]["agents"]), calls[0]["service"]) == (["201"], "accueil")
