"""On a real Asterisk: one call rings two phones at once (``ring_together: 2``), one Dial."""

from __future__ import annotations

import json
from pathlib import Path

from tests.asterisk.conftest import DATA, MakeLab


def _routing(folder: Path) -> Path:
    """The lab's routing with two phones rung per call, and one miss enough to pause an
    agent: Marie's cancelled ring must not count as one."""
    text = (DATA / "routing.yaml").read_text(encoding="utf-8")
    assert "max_missed_offers: 3\n" in text
    path = folder / "routing-ring-together.yaml"
    path.write_text(
        text.replace("max_missed_offers: 3\n", "max_missed_offers: 1\nring_together: 2\n"),
        encoding="utf-8",
    )
    return path


async def test_two_phones_ring_and_the_second_to_answer_takes_the_call(
    make_lab: MakeLab, tmp_path: Path
) -> None:
    lab = await make_lab(agents=("201", "202"), routing=_routing(tmp_path))
    await lab.phone("201", answer_after_ms=None)  # Marie is away from her desk
    marie = await lab.agent("marie", "201")
    paul = await lab.agent("paul", "202")
    await marie.ready()
    await paul.ready()
    mark = lab.ami.mark()
    caller = await lab.call("0698765432")
    channel = await caller.channel()

    hers = await marie.until(lambda m: m["type"] == "card.offered", "Marie's card")
    his = await paul.until(lambda m: m["type"] == "card.offered", "Paul's card")
    call_id = hers["card"]["call_id"]
    assert his["card"]["call_id"] == call_id
    assert his["card"]["greeting"] == hers["card"]["greeting"] == "Bonjour monsieur Martin"
    since = marie.mark()
    await paul.until(lambda m: m["type"] == "card.answered", "Paul's answer")
    ended = await marie.until(lambda m: m["type"] == "card.ended", "Marie's card withdrawn")
    assert ended["reason"] == "taken"
    await marie.until(
        lambda m: m["type"] == "agent.state" and m["state"] == "ready", "Marie free again", since
    )

    # Asterisk's own account: one Dial of both phones from her leg, Paul's answer, Marie's
    # ring cancelled (no CtiNoAnswer: the Dial was answered).
    connecting = await lab.ami.until(
        lambda e: e.get("UserEvent") == "CtiConnecting" and e.get("Channel") == channel,
        "the offer to both phones",
        since=mark,
    )
    assert connecting.get("Agents") == "201&202", connecting
    await lab.ami.until(
        lambda e: (
            e.get("Event") == "DialEnd"
            and e.get("Channel") == channel
            and e.get("DialStatus") == "CANCEL"
        ),
        "Marie's ring cancelled",
        since=mark,
    )
    dials = [
        (e["Event"], e.get("DestChannel", "").split("@")[0], e.get("DialStatus", ""))
        for e in lab.ami.events[mark:]
        if e.get("Event") in ("DialBegin", "DialEnd") and e.get("Channel") == channel
    ]
    # In this order on Asterisk 22: the cancel is told before the answer (cti/pbxsim does so).
    assert dials == [
        ("DialBegin", "Local/201", ""),
        ("DialBegin", "Local/202", ""),
        ("DialEnd", "Local/201", "CANCEL"),
        ("DialEnd", "Local/202", "ANSWER"),
    ], dials

    await caller.hang_up()
    await paul.until(lambda m: m["type"] == "card.ended", "the end of the call")
    rows = await lab.product.until_rows(
        "SELECT outcome, agents, answered_by FROM interactions WHERE call_id = ?",
        lambda r: bool(r) and r[0]["outcome"] == "answered",
        "the answered call",
        call_id,
    )
    assert json.loads(rows[0]["answered_by"]) == ["202"]
    assert sorted(json.loads(rows[0]["agents"])) == ["201", "202"]
    states = [m["state"] for m in marie.messages if m["type"] == "agent.state"]
    assert "paused" not in states, states  # a cancelled ring is no miss


async def test_neither_phone_answers_each_is_a_miss_and_the_call_waits_again(
    make_lab: MakeLab, tmp_path: Path
) -> None:
    lab = await make_lab(agents=("201", "202"), routing=_routing(tmp_path), agent_ring=4)
    await lab.phone("201", answer_after_ms=None)
    await lab.phone("202", answer_after_ms=None)
    marie = await lab.agent("marie", "201")
    paul = await lab.agent("paul", "202")
    await marie.ready()
    await paul.ready()
    mark = lab.ami.mark()
    caller = await lab.call("0698765432")
    channel = await caller.channel()
    for agent in (marie, paul):
        ended = await agent.until(lambda m: m["type"] == "card.ended", "the ring's end")
        assert ended["reason"] == "no_answer"
        await agent.until(
            lambda m: m["type"] == "agent.state" and m["state"] == "paused",
            "paused after one miss (max_missed_offers 1)",
        )
    said = await lab.ami.until(
        lambda e: e.get("UserEvent") == "CtiNoAnswer" and e.get("Channel") == channel,
        "the dialplan's no-answer",
        since=mark,
    )
    assert (said.get("Agents"), said.get("DialStatus")) == ("201&202", "NOANSWER"), said
    await lab.ami.until(
        lambda e: e.get("UserEvent") == "CtiWaiting" and e.get("Channel") == channel,
        "the caller waiting again",
        since=lab.ami.events.index(said),
    )
    ends = [
        (e.get("DestChannel", "").split("@")[0], e.get("DialStatus"))
        for e in lab.ami.events[mark:]
        if e.get("Event") == "DialEnd" and e.get("Channel") == channel
    ]
    assert sorted(ends) == [("Local/201", "NOANSWER"), ("Local/202", "NOANSWER")], ends
    await caller.hang_up()
