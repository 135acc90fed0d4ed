"""On a real Asterisk: a callback accepted by an agent rings her phone, then the citizen's.

Marie, on a call with monsieur Martin, notes « à rappeler » for another number; once the call
is over and she is ready, the request is offered to her page; she accepts: the product
Originates into ``cti-callback``, her phone (sipp) answers, the citizen's phone behind the
operator's trunk (sipp on 127.0.0.2) rings and answers; when the call ends the dialplan's
``CtiCallbackResult`` says ANSWER and the request is reached, audited as who called back whom.
"""

from __future__ import annotations

from tests.asterisk.conftest import MakeLab


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
