"""Step-by-step scenarios the lab could not record: real SIP channels (one channel per leg).

The recordings only have Local channel pairs; a town hall's trunk and phones are PJSIP
channels whose ``Newchannel`` already carries the caller ID. Events here are written the way
Asterisk 22 writes them for PJSIP (same headers as the recordings, other channel names).
"""

from __future__ import annotations

from typing import Any

from cti.ami.events import parse_event
from cti.tracker import CallTracker, Stage

TRUNK = "PJSIP/trunk-00000001"
LINKED = "1700000000.1"


def snapshot(
    channel: str, uniqueid: str, context: str, exten: str, num: str, state: int = 6
) -> dict[str, str]:
    return {
        "Channel": channel,
        "ChannelState": str(state),
        "CallerIDNum": num,
        "CallerIDName": "Dupont" if num else "<unknown>",
        "ConnectedLineNum": "<unknown>",
        "Context": context,
        "Exten": exten,
        "Uniqueid": uniqueid,
        "Linkedid": LINKED,
    }


def dest(channel: str, uniqueid: str) -> dict[str, str]:
    return {
        "DestChannel": channel,
        "DestChannelState": "5",
        "DestCallerIDNum": "201",
        "DestContext": "agents",
        "DestExten": "s",
        "DestUniqueid": uniqueid,
        "DestLinkedid": LINKED,
    }


class Feed:
    def __init__(self) -> None:
        self.tracker = CallTracker()
        self.events: list[dict[str, Any]] = []

    def __call__(self, at: float, name: str, **headers: str) -> list[str]:
        event = parse_event({"Event": name, **headers})
        assert event is not None, name
        produced = [e.to_dict() for e in self.tracker.handle(event, at)]
        self.events.extend(produced)
        return [e["type"] for e in produced]


def caller(context: str = "from-pstn", exten: str = "0140000000", num: str = "0612345678"):
    return snapshot(TRUNK, LINKED, context, exten, num)


def test_sip_call_answered_then_agent_hangs_up() -> None:
    feed = Feed()
    assert feed(
        0.0,
        "Newchannel",
        **snapshot(TRUNK, LINKED, "from-pstn", "0140000000", "0612345678", state=4),
    ) == ["CallArrived"]
    assert feed(0.1, "Newstate", **caller()) == []
    assert feed(
        2.0,
        "UserEvent",
        **caller("cti-wait", "s"),
        UserEvent="CtiWaiting",
        DID="0140000000",
        Service="urbanisme",
        Pres="allowed_not_screened",
        Since="1700000002",
    ) == ["CallerIdSettled", "CallWaiting"]
    call = feed.tracker.call(LINKED)
    assert call is not None and call.stage is Stage.WAITING and call.service == "urbanisme"

    assert (
        feed(
            3.0,
            "Newchannel",
            **snapshot("PJSIP/201-00000002", "1700000003.2", "agents", "s", "201", state=0),
        )
        == []
    )
    assert feed(
        3.0, "DialBegin", **caller("cti-connect", "s"), **dest("PJSIP/201-00000002", "1700000003.2")
    ) == ["CallOffered"]
    assert feed.events[-1]["agent"] == "201"
    assert feed(
        5.0,
        "DialEnd",
        **caller("cti-connect", "s"),
        **dest("PJSIP/201-00000002", "1700000003.2"),
        DialStatus="ANSWER",
    ) == ["CallAnswered"]
    assert call.stage is Stage.CONNECTED and call.agent == "201"

    agent_leg = snapshot("PJSIP/201-00000002", "1700000003.2", "agents", "", "201")
    assert feed(20.0, "Hangup", **agent_leg, Cause="16") == []
    assert feed(20.0, "Hangup", **caller("cti-connect", "s"), Cause="16") == ["CallEnded"]
    ended = feed.events[-1]
    assert ended["reason"] == "agent_hangup"
    assert ended["agent"] == "201"
    assert ended["wait"] == 3.0 and ended["talk"] == 15.0 and ended["duration"] == 20.0
    assert feed.tracker.active_calls == [] and feed.tracker.tracked_channel_count == 0


def test_sip_caller_hangs_up_while_waiting_is_an_abandon() -> None:
    feed = Feed()
    feed(0.0, "Newchannel", **snapshot(TRUNK, LINKED, "from-pstn", "0140000000", "0612345678", 4))
    feed(
        1.0,
        "UserEvent",
        **caller("cti-wait", "s"),
        UserEvent="CtiWaiting",
        Service="ccas",
        Pres="allowed",
    )
    assert feed(9.0, "Hangup", **caller("cti-wait", "s"), Cause="16") == [
        "CallAbandoned",
        "CallEnded",
    ]
    assert feed.events[-2]["reason"] == "waiting" and feed.events[-2]["waited"] == 8.0


def test_withheld_sip_caller_is_flagged_from_the_start() -> None:
    feed = Feed()
    feed(0.0, "Newchannel", **snapshot(TRUNK, LINKED, "from-pstn", "0140000000", "anonymous", 4))
    assert [e["type"] for e in feed.events] == ["CallArrived", "CallerIdSettled"]
    assert all(e["caller_withheld"] is True and "caller_number" not in e for e in feed.events)


def test_presentation_prohibited_in_waiting_event_marks_the_call_withheld() -> None:
    feed = Feed()
    feed(0.0, "Newchannel", **snapshot(TRUNK, LINKED, "from-pstn", "0140000000", "0612345678", 4))
    assert feed.events[0]["caller_withheld"] is False
    feed(
        1.0,
        "UserEvent",
        **caller("cti-wait", "s"),
        UserEvent="CtiWaiting",
        Service="ccas",
        Pres="prohib",
    )
    assert [e["type"] for e in feed.events[-2:]] == ["CallerIdSettled", "CallWaiting"]
    assert feed.events[-1]["caller_withheld"] is True
    assert all("caller_number" not in e and "caller_name" not in e for e in feed.events)


def test_renamed_caller_channel_is_still_the_same_call() -> None:
    feed = Feed()
    feed(0.0, "Newchannel", **snapshot(TRUNK, LINKED, "from-pstn", "0140000000", "0612345678", 4))
    assert (
        feed(0.5, "Rename", Channel=TRUNK, Newname="PJSIP/trunk-00000001<ZOMBIE>", Uniqueid=LINKED)
        == []
    )
    renamed = snapshot("PJSIP/trunk-00000001<ZOMBIE>", LINKED, "cti-wait", "s", "0612345678")
    assert feed(1.0, "UserEvent", **renamed, UserEvent="CtiWaiting", Service="ecoles") == [
        "CallWaiting"
    ]
    assert feed(3.0, "Hangup", **renamed, Cause="16") == ["CallAbandoned", "CallEnded"]


def test_events_after_the_end_are_ignored() -> None:
    feed = Feed()
    feed(0.0, "Newchannel", **snapshot(TRUNK, LINKED, "from-pstn", "0140000000", "0612345678", 4))
    feed(1.0, "Hangup", **caller(), Cause="16")
    assert [e["type"] for e in feed.events] == ["CallArrived", "CallEnded"]
    assert feed(1.1, "NewCallerid", **caller(), **{"CID-CallingPres": "67 (Unavailable)"}) == []
    assert feed(1.2, "Newstate", **caller()) == []


def test_channels_outside_any_call_are_not_calls() -> None:
    feed = Feed()
    # An agent's phone called by an Originate (no citizen, no inbound context).
    assert (
        feed(
            0.0,
            "Newchannel",
            **snapshot("PJSIP/203-00000009", "1700000009.9", "agents", "203", "", 0),
        )
        == []
    )
    assert (
        feed(
            0.1,
            "Hangup",
            **snapshot("PJSIP/203-00000009", "1700000009.9", "agents", "203", ""),
            Cause="17",
        )
        == []
    )
    assert feed.tracker.active_calls == []


def test_shutdown_ends_every_live_call() -> None:
    feed = Feed()
    feed(0.0, "Newchannel", **snapshot(TRUNK, LINKED, "from-pstn", "0140000000", "0612345678", 4))
    assert feed(2.0, "Shutdown", Shutdown="Cleanly", Restart="True") == ["CallEnded"]
    assert feed.events[-1]["reason"] == "shutdown"
    assert feed.tracker.tracked_channel_count == 0


def test_the_dialplan_says_withheld_as_the_call_enters_and_it_stays_withheld() -> None:
    """A trunk with ``Privacy: id``: the number is in ``Newchannel``, no AMI event says it is
    withheld; ``CtiCallerId`` does, and a later "allowed" does not undo it."""
    feed = Feed()
    assert feed(
        0.0, "Newchannel", **snapshot(TRUNK, LINKED, "from-pstn", "0140000000", "0612345678", 4)
    ) == ["CallArrived"]
    assert "caller_number" not in feed.events[0]  # not known yet: not given
    assert feed(
        0.01, "UserEvent", **caller(), UserEvent="CtiCallerId", Pres="prohib_not_screened"
    ) == ["CallerIdSettled"]
    assert feed.events[-1]["caller_withheld"] is True
    feed(
        5.0,
        "UserEvent",
        **caller("cti-wait", "s"),
        UserEvent="CtiWaiting",
        Service="ccas",
        Pres="allowed_not_screened",
    )
    assert [e["type"] for e in feed.events] == ["CallArrived", "CallerIdSettled", "CallWaiting"]
    assert feed.events[-1]["caller_withheld"] is True
    assert all("caller_number" not in e and "caller_name" not in e for e in feed.events)


def test_an_allowed_caller_is_given_once_then_withheld_by_a_later_restriction() -> None:
    feed = Feed()
    feed(0.0, "Newchannel", **snapshot(TRUNK, LINKED, "from-pstn", "0140000000", "0612345678", 4))
    assert feed(
        0.01, "UserEvent", **caller(), UserEvent="CtiCallerId", Pres="allowed_not_screened"
    ) == ["CallerIdSettled"]
    assert feed.events[-1]["caller_number"] == "0612345678"
    assert feed.events[-1]["caller_name"] == "Dupont"
    restricted = {"CID-CallingPres": "35 (Presentation Prohibited, Network Number)"}
    assert feed(1.0, "NewCallerid", **caller(), **restricted) == ["CallerIdSettled"]
    assert feed.events[-1]["caller_withheld"] is True
    assert "caller_number" not in feed.events[-1]
    # Said again, or "unavailable" (Asterisk's own bookkeeping, recording 08): nothing new.
    assert feed(1.5, "NewCallerid", **caller(), **restricted) == []
    assert feed(2.0, "NewCallerid", **caller(), **{"CID-CallingPres": "67 (Unavailable)"}) == []


def prefixed(prefix: str, headers: dict[str, str]) -> dict[str, str]:
    return {prefix + key: value for key, value in headers.items()}


def test_blind_transfer_to_a_service_waits_for_it_keeping_the_first_wait_as_her_place() -> None:
    feed = Feed()
    feed(0.0, "Newchannel", **snapshot(TRUNK, LINKED, "from-pstn", "0140000000", "0612345678", 4))
    feed(
        2.0,
        "UserEvent",
        **caller("cti-wait", "s"),
        UserEvent="CtiWaiting",
        Service="etat-civil",
        Pres="allowed",
    )
    marie = snapshot("PJSIP/201-00000002", "1700000003.2", "agents", "s", "201", state=0)
    feed(3.0, "Newchannel", **marie)
    feed(
        3.0, "DialBegin", **caller("cti-connect", "s"), **dest(marie["Channel"], marie["Uniqueid"])
    )
    feed(
        5.0,
        "DialEnd",
        **caller("cti-connect", "s"),
        **dest(marie["Channel"], marie["Uniqueid"]),
        DialStatus="ANSWER",
    )
    # Marie passes her to the front desk, where nobody is free: [transfer]'s service extension.
    assert feed(
        50.0,
        "BlindTransfer",
        Result="Success",
        **prefixed("Transferer", {**marie, "ChannelState": "6"}),
        **prefixed("Transferee", caller("cti-connect", "s")),
        Context="transfer",
        Extension="accueil",
    ) == ["CallTransferred"]
    transferred = feed.events[-1]
    assert transferred["agent"] == "201" and transferred["service"] == "accueil"
    assert transferred.get("to_agent") is None
    call = feed.tracker.call(LINKED)
    assert call is not None and call.stage is Stage.TRANSFERRING and call.agent is None
    assert feed(
        50.1,
        "UserEvent",
        **caller("cti-wait", "s"),
        UserEvent="CtiWaiting",
        Service="accueil",
        Pres="allowed",
    ) == ["CallWaiting"]
    assert feed.events[-1]["service"] == "accueil"
    assert call.first_wait_at == 2.0  # her place in line
    assert call.service_wait_at == call.waiting_since == 50.1  # her wait for the front desk
    claire = snapshot("PJSIP/205-00000003", "1700000060.3", "agents", "s", "205", state=0)
    feed(60.1, "Newchannel", **claire)
    assert feed(
        60.1,
        "DialBegin",
        **caller("cti-connect", "s"),
        **dest(claire["Channel"], claire["Uniqueid"]),
    ) == ["CallOffered"]
    assert feed.events[-1]["agent"] == "205" and feed.events[-1]["waited"] == 10.0


def test_blind_transfer_to_an_agent_is_still_an_agent() -> None:
    feed = Feed()
    feed(0.0, "Newchannel", **snapshot(TRUNK, LINKED, "from-pstn", "0140000000", "0612345678", 4))
    feed(1.0, "UserEvent", **caller("cti-wait", "s"), UserEvent="CtiWaiting", Service="ccas")
    marie = snapshot("PJSIP/201-00000002", "1700000003.2", "agents", "s", "201", state=0)
    feed(3.0, "Newchannel", **marie)
    feed(
        3.0, "DialBegin", **caller("cti-connect", "s"), **dest(marie["Channel"], marie["Uniqueid"])
    )
    feed(
        4.0,
        "DialEnd",
        **caller("cti-connect", "s"),
        **dest(marie["Channel"], marie["Uniqueid"]),
        DialStatus="ANSWER",
    )
    feed(
        9.0,
        "BlindTransfer",
        Result="Success",
        **prefixed("Transferer", marie),
        **prefixed("Transferee", caller("cti-connect", "s")),
        Context="transfer",
        Extension="205",
    )
    assert feed.events[-1]["to_agent"] == "205" and feed.events[-1].get("service") is None
