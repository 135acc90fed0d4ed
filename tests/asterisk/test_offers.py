"""On a real Asterisk: offers that fail, transfers, callers who leave."""

from __future__ import annotations

import asyncio
import json

from tests.asterisk.conftest import MakeLab


def _types(messages: list[dict[str, object]]) -> list[object]:
    return [m["type"] for m in messages if str(m["type"]).startswith("card.")]


async def test_no_answer_goes_to_the_next_agent_who_gets_the_card(make_lab: MakeLab) -> None:
    lab = await make_lab(agents=("201", "202"))
    await lab.phone("201", answer_after_ms=None)  # Marie is away from her desk
    marie = await lab.agent("marie", "201")
    paul = await lab.agent("paul", "202")
    await marie.ready()  # longest idle: she is offered the call first
    await paul.ready()
    caller = await lab.call("0698765432")

    first = await marie.until(lambda m: m["type"] == "card.offered", "the first offer")
    call_id = first["card"]["call_id"]
    ended = await marie.until(lambda m: m["type"] == "card.ended", "the end of her offer")
    assert ended["reason"] == "no_answer"
    offered = await paul.until(lambda m: m["type"] == "card.offered", "the second offer")
    assert offered["card"]["call_id"] == call_id
    assert offered["card"]["greeting"] == "Bonjour monsieur Martin"
    await paul.until(lambda m: m["type"] == "card.answered", "Paul's answer")
    await caller.hang_up()
    await paul.until(lambda m: m["type"] == "card.ended", "the end of the call")
    rows = await lab.product.until_rows(
        "SELECT outcome, agents, service FROM interactions WHERE call_id = ?",
        lambda r: bool(r) and r[0]["outcome"] == "answered",
        "the answered call",
        call_id,
    )
    assert json.loads(rows[0]["agents"])[-1] == "202"
    assert rows[0]["service"] == "accueil"


async def test_a_transferred_call_carries_the_first_agents_note(make_lab: MakeLab) -> None:
    lab = await make_lab(agents=("201", "202"))
    marie = await lab.agent("marie", "201")
    paul = await lab.agent("paul", "202")
    await marie.ready()
    caller = await lab.call("0612345678")
    answered = await marie.until(lambda m: m["type"] == "card.answered", "Marie's answer")
    call_id = answered["card"]["call_id"]
    note = await marie.post(f"/api/calls/{call_id}/note", {"text": "Demande d'acte de naissance"})
    assert note.status_code == 201, note.text

    transfer = await marie.post(f"/api/calls/{call_id}/transfer", {"to_agent": "202"})
    assert transfer.status_code == 200, transfer.text
    offered = await paul.until(lambda m: m["type"] == "card.offered", "Paul's card")
    assert offered["card"]["call_id"] == call_id
    assert [n["text"] for n in offered["card"]["notes"]] == ["Demande d'acte de naissance"]
    assert offered["card"]["greeting"] == "Bonjour madame Dupont"
    await paul.until(lambda m: m["type"] == "card.answered", "Paul's answer")
    await marie.until(lambda m: m["type"] == "card.transferred", "Marie's card handed on")
    await caller.hang_up()
    await paul.until(lambda m: m["type"] == "card.ended", "the end of the call")


async def test_a_blind_transfer_to_a_service_with_nobody_free_waits_for_it(
    make_lab: MakeLab,
) -> None:
    """Claire (front desk) passes madame Dupont to État civil, where Hugo is on a break: she
    waits for État civil (``[transfer]``'s service extension, « etat-civil »: a dash in an
    extension), the safety net does not take her although her talk outlasted it, and when
    Hugo is back he gets her with Claire's note and « transféré par Claire Morin »."""
    lab = await make_lab(agents=("205", "206"), safety_net=6)
    claire = await lab.agent("claire", "205")
    hugo = await lab.agent("hugo", "206")
    paused = await hugo.post("/api/agent/state", {"state": "paused", "reason": "Pause"})
    assert paused.status_code == 200, paused.text
    await claire.ready()
    caller = await lab.call("0612345678")
    answered = await claire.until(lambda m: m["type"] == "card.answered", "Claire's answer")
    call_id = answered["card"]["call_id"]
    note = await claire.post(f"/api/calls/{call_id}/note", {"text": "Acte de mariage à refaire"})
    assert note.status_code == 201, note.text
    # The talk outlasts the safety net (6 s): the net must get its whole delay again.
    await asyncio.sleep(8)
    targets = (await claire.client.get("/api/agent/transfer-targets")).json()
    civil = next(s for s in targets["services"] if s["service"] == "etat-civil")
    assert (civil["free"], civil["when_busy"]) == (0, "wait"), civil

    mark = lab.ami.mark()
    transfer = await claire.post(f"/api/calls/{call_id}/transfer", {"to_service": "etat-civil"})
    assert transfer.status_code == 200, transfer.text
    assert transfer.json()["queued"] is True
    waiting = await lab.ami.until(
        lambda e: e.get("Event") == "UserEvent" and e.get("UserEvent") == "CtiWaiting",
        "the citizen waiting for État civil",
        since=mark,
    )
    assert waiting.get("Service") == "etat-civil", waiting
    handed = await claire.until(lambda m: m["type"] == "card.transferred", "Claire's card")
    assert handed["to_service"] == "etat-civil"

    await hugo.ready()
    offered = await hugo.until(lambda m: m["type"] == "card.offered", "Hugo's card")
    card = offered["card"]
    assert card["call_id"] == call_id and card["service"] == "etat-civil"
    assert [n["text"] for n in card["notes"]] == ["Acte de mariage à refaire"]
    assert card["transferred_by_name"] == "Claire Morin"
    assert card["greeting"] == "Bonjour madame Dupont"
    await hugo.until(lambda m: m["type"] == "card.answered", "Hugo's answer")
    safety = [
        e
        for e in lab.ami.events[mark:]
        if e.get("Event") == "UserEvent" and e.get("UserEvent") == "CtiSafetyNet"
    ]
    assert safety == []
    await caller.hang_up()
    await hugo.until(lambda m: m["type"] == "card.ended", "the end of the call")
    rows = await lab.product.until_rows(
        "SELECT outcome, agents, service FROM interactions WHERE call_id = ?",
        lambda r: bool(r) and r[0]["outcome"] == "answered" and "206" in r[0]["agents"],
        "the answered call",
        call_id,
    )
    assert json.loads(rows[0]["agents"]) == ["205", "206"]


async def test_a_caller_who_leaves_while_waiting_is_recorded_abandoned(make_lab: MakeLab) -> None:
    lab = await make_lab(agents=("201",))
    marie = await lab.agent("marie", "201")
    # On a break: the call waits for her (nobody logged in at all would overflow at once).
    paused = await marie.post("/api/agent/state", {"state": "paused", "reason": "Pause"})
    assert paused.status_code == 200, paused.text
    caller = await lab.call("0698765432")
    channel = await caller.channel()
    await lab.ami.until(
        lambda e: (
            e.get("Event") == "UserEvent"
            and e.get("UserEvent") == "CtiWaiting"
            and e.get("Channel") == channel
        ),
        "the caller waiting",
    )
    await caller.hang_up()
    rows = await lab.product.until_rows(
        "SELECT outcome FROM interactions WHERE caller_e164 = ?",
        lambda r: bool(r) and r[0]["outcome"] == "abandoned",
        "the abandoned call",
        "+33698765432",
    )
    assert len(rows) == 1
    assert _types(marie.messages) == []


async def test_a_caller_who_leaves_while_the_phone_rings(make_lab: MakeLab) -> None:
    lab = await make_lab(agents=("201",), agent_ring=30)
    await lab.phone("201", answer_after_ms=None)
    marie = await lab.agent("marie", "201")
    await marie.ready()
    caller = await lab.call("0698765432")
    offered = await marie.until(lambda m: m["type"] == "card.offered", "the card")
    await caller.hang_up()
    ended = await marie.until(lambda m: m["type"] == "card.ended", "the end")
    assert ended["reason"] == "abandoned"
    assert ended["card"]["call_id"] == offered["card"]["call_id"]
    # Not her fault: no missed offer, she is still ready for the next caller.
    me = (await marie.client.get("/api/me")).json()
    assert me["state"] in ("ready", "wrap_up"), me


async def test_a_busy_phone_sends_the_call_to_the_next_agent(make_lab: MakeLab) -> None:
    lab = await make_lab(agents=("201", "202"))
    await lab.phone("201", busy=True)  # Marie's phone answers 486 Busy Here
    marie = await lab.agent("marie", "201")
    paul = await lab.agent("paul", "202")
    await marie.ready()
    await paul.ready()
    caller = await lab.call("0698765432")
    await marie.until(lambda m: m["type"] == "card.offered", "the first offer")
    ended = await marie.until(lambda m: m["type"] == "card.ended", "the end of her offer")
    assert ended["reason"] == "no_answer"
    offered = await paul.until(lambda m: m["type"] == "card.offered", "the second offer")
    assert offered["card"]["greeting"] == "Bonjour monsieur Martin"
    await paul.until(lambda m: m["type"] == "card.answered", "Paul's answer")
    await caller.hang_up()


async def test_an_agent_on_a_call_of_her_own_is_shown_busy_and_not_offered(
    make_lab: MakeLab,
) -> None:
    """Her phone is taken by a call that never passed through the town hall's dialplan (she
    called someone): Asterisk's DeviceStateChange says so, and the router believes it."""
    lab = await make_lab(agents=("201", "202"))
    marie = await lab.agent("marie", "201")
    paul = await lab.agent("paul", "202")
    await marie.ready()
    await paul.ready()
    mark = marie.mark()
    own = await lab.ami.action(
        "Originate", Channel="PJSIP/201", Application="Echo", Async="true", CallerID="Perso"
    )
    assert own.get("Response") == "Success", own
    await lab.ami.until(
        lambda e: (
            e.get("Event") == "DeviceStateChange"
            and e.get("Device") == "PJSIP/201"
            # BUSY, not INUSE: pjsip.conf sets device_state_busy_at = 1
            and e.get("State") in ("INUSE", "BUSY")
        ),
        "Marie's phone in use",
    )
    shown = await marie.until(
        lambda m: m["type"] == "agent.state" and m["state"] == "on_call", "Marie on the phone", mark
    )
    assert shown["agent"] == "201"
    caller = await lab.call("0698765432")
    await paul.until(lambda m: m["type"] == "card.offered", "the call goes to Paul")
    await paul.until(lambda m: m["type"] == "card.answered", "Paul's answer")
    await caller.hang_up()
    assert not any(m["type"] == "card.offered" for m in marie.messages)
    await lab.asterisk.command("channel request hangup all")
    await marie.until(
        lambda m: m["type"] == "agent.state" and m["state"] == "ready", "Marie free again", mark
    )
