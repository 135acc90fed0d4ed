"""The tracker when one Dial rings several phones (``ring_together``), step by step.

Events in the order Asterisk 22 sends them (tests/asterisk/test_ring_together.py): both
``DialBegin``, then the cancelled ring's ``DialEnd CANCEL`` before the winner's ``ANSWER``.
"""

from __future__ import annotations

from cti.tracker import Stage
from tests.cti.test_tracker_scenarios import LINKED, TRUNK, Feed, caller, dest, snapshot

PAUL = ("PJSIP/201-00000002", "1700000003.2")
LUC = ("PJSIP/202-00000003", "1700000003.3")


def waiting_call() -> Feed:
    feed = Feed()
    feed(0.0, "Newchannel", **snapshot(TRUNK, LINKED, "from-pstn", "0140000000", "0612345678", 4))
    feed(
        1.0,
        "UserEvent",
        **caller("cti-wait", "s"),
        UserEvent="CtiWaiting",
        Service="etat-civil",
        Pres="allowed",
    )
    feed(
        3.0,
        "UserEvent",
        **caller("cti-connect", "s"),
        UserEvent="CtiConnecting",
        Agent="201",
        Agents="201&202",
    )
    for phone in (PAUL, LUC):
        assert feed(3.0, "DialBegin", **caller("cti-connect", "s"), **dest(*phone)) == [
            "CallOffered"
        ]
    assert [e["agent"] for e in feed.events if e["type"] == "CallOffered"] == ["201", "202"]
    return feed


def end(feed: Feed, at: float, phone: tuple[str, str], status: str) -> list[str]:
    return feed(at, "DialEnd", **caller("cti-connect", "s"), **dest(*phone), DialStatus=status)


def test_the_second_phone_answers_the_first_ring_is_cancelled_not_missed() -> None:
    feed = waiting_call()
    assert end(feed, 6.0, PAUL, "CANCEL") == []
    assert end(feed, 6.0, LUC, "ANSWER") == ["CallAnswered"]
    assert feed.events[-1]["agent"] == "202"
    call = feed.tracker.call(LINKED)
    assert call is not None and call.stage is Stage.CONNECTED and call.agent == "202"
    assert call.offers == {}
    assert [e for e in feed.events if e["type"] == "CallNoAnswer"] == []


def test_nobody_answers_each_ring_is_a_no_answer_then_she_waits_again() -> None:
    feed = waiting_call()
    assert end(feed, 23.0, PAUL, "NOANSWER") == ["CallNoAnswer"]
    call = feed.tracker.call(LINKED)
    assert call is not None and call.stage is Stage.RINGING  # Luc's phone still rings
    assert end(feed, 23.0, LUC, "NOANSWER") == ["CallNoAnswer"]
    assert call.stage is Stage.WAITING
    said = feed(
        23.0,
        "UserEvent",
        **caller("cti-connect", "s"),
        UserEvent="CtiNoAnswer",
        Agent="201",
        Agents="201&202",
        DialStatus="NOANSWER",
    )
    assert said == []  # each ring already told
    assert [e["agent"] for e in feed.events if e["type"] == "CallNoAnswer"] == ["201", "202"]


def test_cti_no_answer_names_every_phone_whose_end_was_not_seen() -> None:
    feed = waiting_call()
    assert end(feed, 4.0, PAUL, "BUSY") == ["CallNoAnswer"]
    said = feed(
        23.0,
        "UserEvent",
        **caller("cti-connect", "s"),
        UserEvent="CtiNoAnswer",
        Agent="201",
        Agents="201&202",
        DialStatus="NOANSWER",
    )
    assert said == ["CallNoAnswer"]
    assert feed.events[-1]["agent"] == "202" and feed.events[-1]["reason"] == "noanswer"


def test_the_caller_leaves_while_both_ring_is_an_abandon() -> None:
    feed = waiting_call()
    assert end(feed, 8.0, PAUL, "CANCEL") == []
    assert end(feed, 8.0, LUC, "CANCEL") == []
    assert feed(8.0, "Hangup", **caller("cti-connect", "s"), Cause="16") == [
        "CallAbandoned",
        "CallEnded",
    ]
    assert feed.events[-2]["reason"] == "ringing"
