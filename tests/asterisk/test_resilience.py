"""On a real Asterisk: restarts of either side, the dialplan's safety net, a burst of calls."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter

from tests.asterisk.conftest import MakeLab
from tests.asterisk.lab import Caller, Lab


async def _waiting(lab: Lab, caller: Caller) -> None:
    channel = await caller.channel()
    await lab.ami.until(
        lambda e: e.get("UserEvent") == "CtiWaiting" and e.get("Channel") == channel,
        f"{caller.number} waiting",
        since=caller.since,
    )


async def test_the_safety_net_waits_while_the_product_lives_and_takes_the_call_when_it_dies(
    make_lab: MakeLab,
) -> None:
    lab = await make_lab(agents=("201",), safety_net=9)
    marie = await lab.agent("marie", "201")
    await marie.post("/api/agent/state", {"state": "paused", "reason": "Pause"})
    caller = await lab.call("0698765432")
    await _waiting(lab, caller)
    channel = await caller.channel()

    # Alive: the product pushes CTI_SAFETY forward every third of the net; three pushes
    # cover a whole net, and the dialplan has not fallen back.
    def pushes() -> int:
        return sum(
            1
            for e in lab.ami.events[caller.since :]
            if e.get("Event") == "VarSet"
            and e.get("Channel") == channel
            and e.get("Variable") == "CTI_SAFETY"
        )

    for count in range(1, 4):
        await lab.ami.until(lambda e, n=count: pushes() >= n, f"push {count} of CTI_SAFETY")
    assert not any(e.get("UserEvent") == "CtiSafetyNet" for e in lab.ami.events)

    # Dead: the dialplan falls back on queue accueil, which rings the front desk's phone.
    await lab.product.stop(signal.SIGKILL)
    await lab.ami.until(
        lambda e: e.get("UserEvent") == "CtiSafetyNet" and e.get("Channel") == channel,
        "the safety net",
    )
    await lab.ami.until(
        lambda e: e.get("Event") == "QueueCallerJoin" and e.get("Queue") == "accueil",
        "the caller in queue accueil",
    )
    await lab.ami.until(
        lambda e: e.get("Event") == "BridgeEnter" and e.get("Channel", "").startswith("PJSIP/201-"),
        "the front desk's phone answering",
    )
    await caller.hang_up()


async def test_asterisk_restarting_mid_wait_leaves_no_ghost_and_no_second_card(
    make_lab: MakeLab,
) -> None:
    lab = await make_lab(agents=("201",))
    marie = await lab.agent("marie", "201")
    await marie.post("/api/agent/state", {"state": "paused", "reason": "Pause"})
    caller = await lab.call("0698765432")
    await _waiting(lab, caller)

    await lab.asterisk.restart_now()
    assert await caller.ended() == 0  # Asterisk hung up on her as it restarted
    await lab.product.until_health(
        lambda h: h["ami"] == "ready" and h["live_calls"] == 0, "link back, no call left"
    )
    await lab.phone_reachable("201")

    await marie.ready()
    mark = marie.mark()
    second = await lab.call("0612345678")
    offered = await marie.until(lambda m: m["type"] == "card.offered", "the new call", mark)
    assert offered["card"]["greeting"] == "Bonjour madame Dupont"
    await marie.until(lambda m: m["type"] == "card.answered", "the answer", mark)
    await second.hang_up()
    await marie.until(lambda m: m["type"] == "card.ended", "the end", mark)
    offers = [m for m in marie.messages if m["type"] == "card.offered"]
    assert len(offers) == 1


async def test_the_product_restarted_mid_call_finds_the_call_again_once(make_lab: MakeLab) -> None:
    lab = await make_lab(agents=("201", "202"))
    marie = await lab.agent("marie", "201")
    await marie.ready()
    caller = await lab.call("0612345678")
    answered = await marie.until(lambda m: m["type"] == "card.answered", "the answer")
    call_id = answered["card"]["call_id"]
    await lab.product.until_rows(
        "SELECT started_at FROM interactions WHERE call_id = ?", bool, "the call's record", call_id
    )
    started = lab.product.rows("SELECT started_at FROM interactions WHERE call_id = ?", call_id)

    await lab.product.stop()
    await lab.product.start()
    await marie.close()
    marie = await lab.agent("marie", "201")  # her page logs in again
    await lab.product.until_health(lambda h: h["live_calls"] == 1, "the call found again")
    # Her page gets her card back, once, with what the citizen chose in the menu.
    again = await marie.until(lambda m: m["type"].startswith("card."), "her card back")
    assert again["card"]["call_id"] == call_id
    assert again["card"]["greeting"] == "Bonjour madame Dupont"
    assert again["card"]["service"] == "accueil"
    assert again["card"]["ivr_path"] == answered["card"]["ivr_path"]
    # Her desk says she is on the call, not free: nothing is offered to her meanwhile.
    me = (await marie.client.get("/api/me")).json()
    assert me["state"] not in ("ready", "offline"), me
    paul = await lab.agent("paul", "202")
    await paul.ready()
    other = await lab.call("0698765432")
    await paul.until(lambda m: m["type"] == "card.offered", "the second call goes to Paul")
    await paul.until(lambda m: m["type"] == "card.answered", "Paul's answer")

    await caller.hang_up()
    await other.hang_up()
    rows = await lab.product.until_rows(
        "SELECT started_at, outcome FROM interactions WHERE call_id = ?",
        lambda r: bool(r) and r[0]["outcome"] == "answered",
        "the first call's record",
        call_id,
    )
    assert len(rows) == 1
    assert rows[0]["started_at"] == started[0]["started_at"]  # not the restart's time
    assert not any(m["type"] == "card.offered" for m in marie.messages)


async def test_the_product_restarted_while_an_agent_calls_a_colleague_offers_neither(
    make_lab: MakeLab,
) -> None:
    """Issue 18: Marie calls Paul on his extension (the phones' own context, nothing of the
    town hall's dialplan) and the product restarts. Both are on the phone: the citizen who
    calls then goes to Claire, though Marie is the best at the reception desk."""
    lab = await make_lab(agents=("201", "202", "205"))
    marie = await lab.agent("marie", "201")
    paul = await lab.agent("paul", "202")
    for agent in (marie, paul):
        await agent.ready()
    since = lab.ami.mark()
    # Click-to-dial: her phone rings and answers, then [agents] dials PJSIP/202.
    await lab.ami.action(
        "Originate",
        Channel="PJSIP/201",
        Context="agents",
        Exten="202",
        Priority="1",
        CallerID='"Marie Lambert" <201>',
        Async="true",
    )
    entered = await lab.ami.until(
        lambda e: e.get("Event") == "BridgeEnter" and e.get("Channel", "").startswith("PJSIP/202-"),
        "Paul answering Marie",
        since=since,
    )

    await lab.product.stop()
    await lab.product.start()
    for agent in (marie, paul):
        await agent.close()
    marie = await lab.agent("marie", "201")
    paul = await lab.agent("paul", "202")
    claire = await lab.agent("claire", "205")
    await claire.ready()
    for agent in (marie, paul):
        me = (await agent.client.get("/api/me")).json()
        assert me["state"] == "on_call", me  # her choice (ready) kept, her phone in use

    caller = await lab.call("0612345678")
    offered = await claire.until(lambda m: m["type"] == "card.offered", "the call for Claire")
    assert offered["card"]["service"] == "accueil"
    await claire.until(lambda m: m["type"] == "card.answered", "Claire's answer")
    assert marie.cards() == [] and paul.cards() == []
    await caller.hang_up()
    await lab.ami.action("Hangup", Channel=entered["Channel"])


async def test_twenty_calls_in_ten_seconds_with_six_agents(make_lab: MakeLab) -> None:
    extensions = ("201", "202", "203", "204", "205", "206")
    lab = await make_lab(agents=extensions)
    names = ("marie", "paul", "sophie", "luc", "claire", "hugo")
    agents = [await lab.agent(name, ext) for name, ext in zip(names, extensions, strict=True)]
    for agent in agents:
        await agent.ready()

    callers: dict[str, Caller] = {}
    presses = []
    for n in range(20):
        number = f"06000000{n:02d}"
        key = ("", "1", "2")[n % 3]  # accueil, état civil, urbanisme
        caller = await lab.call(number, keys=key)
        callers[number] = caller
        if key:
            presses.append(asyncio.create_task(_choose(caller, key)))
        await asyncio.sleep(0.5)  # the load's pace, not a measure
    await asyncio.gather(*presses)

    async def served(number: str) -> dict[str, object]:
        waits = [
            agent.until(
                lambda m, num=number: (
                    m["type"] == "card.answered" and m["card"]["caller"].get("raw") == num
                ),
                f"{number} answered",
            )
            for agent in agents
        ]
        tasks = [asyncio.create_task(w) for w in waits]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return done.pop().result()

    async def serve(number: str) -> str:
        answered = await served(number)
        await callers[number].hang_up()
        return str(answered["card"]["call_id"])  # type: ignore[index]

    call_ids = await asyncio.gather(*(serve(number) for number in callers))
    assert len(set(call_ids)) == 20
    offers = Counter(
        m["card"]["call_id"]
        for agent in agents
        for m in agent.messages
        if m["type"] == "card.offered"
    )
    assert set(offers) == set(call_ids)
    assert max(offers.values()) == 1  # no card popped twice
    rows = await lab.product.until_rows(
        "SELECT call_id, outcome FROM interactions",
        lambda r: sum(1 for row in r if row["outcome"] == "answered") == 20,
        "twenty answered calls",
    )
    assert len(rows) == 20


async def _choose(caller: Caller, key: str) -> None:
    await caller.menu_listens()
    await caller.press(key)
