"""A callback placed by the product, found again at a resync (pure tracker).

The channels are those a real Asterisk 22 lists during a callback (tests/asterisk's lab):
the Originate's Local pair (``;1`` in ``cti-callback``, its exten the number dialled, with the
Originate's variables read by Getvar; ``;2`` in ``agents``), the agent's phone, and the
trunk's channel (context ``from-pstn``, the same Linkedid).
"""

from __future__ import annotations

from cti.ami import events as ami
from cti.ami.events import ChannelInfo, ListedChannel
from cti.tracker import CallTracker
from cti.tracker import events as ev

LINKED = "1700000000.10"
ONE = ChannelInfo(
    "Local/202@agents-00000003;1", LINKED, LINKED, 6, "0612345678", "Rappel", "",
    "cti-callback", "0612345678",
)  # fmt: skip
TWO = ChannelInfo(
    "Local/202@agents-00000003;2", "1700000000.11", LINKED, 6, "0612345678", "Rappel", "",
    "agents", "202",
)  # fmt: skip
PHONE = ChannelInfo(
    "PJSIP/202-00000004", "1700000000.12", LINKED, 6, "202", "", "0612345678", "agents", "s",
)  # fmt: skip
TRUNK = ChannelInfo(
    "PJSIP/operateur-00000005", "1700000000.13", LINKED, 5, "0612345678", "", "", "from-pstn",
    "s",
)  # fmt: skip
VARIABLES = {"CTI_CALLBACK": "cb-1", "CTI_IVR_CHOICE": "etat-civil", "CTI_CALLBACK_WAITED": "95"}


def listing(*, answered: bool, trunk_seconds: int = 40) -> list[ListedChannel]:
    bridge = "b-citizen" if answered else ""
    return [
        ListedChannel(ONE, bridge, "Dial", dict(VARIABLES), 50),
        ListedChannel(TWO, "b-agent", "Dial", {}, 50),
        ListedChannel(PHONE, "b-agent", "AppDial", {}, 50),
        ListedChannel(TRUNK, bridge, "AppDial", {}, trunk_seconds),
    ]


def test_a_callback_in_conversation_is_restored_with_its_request_and_length() -> None:
    tracker = CallTracker()
    produced = tracker.resync(listing(answered=True), at=1000.0)
    assert [type(e).__name__ for e in produced] == [
        "CallArrived",
        "CallerIdSettled",
        "CallAnswered",
    ]
    arrived, settled, answered = produced
    assert isinstance(arrived, ev.CallArrived)
    assert (arrived.call_id, arrived.restored, arrived.callback_id, arrived.callback_waited) == (
        LINKED,
        True,
        "cb-1",
        95.0,
    )
    assert settled.caller_number == "0612345678" and not settled.caller_withheld
    assert isinstance(answered, ev.CallAnswered)
    assert (answered.agent, answered.service) == ("202", "etat-civil")
    # Said once: the next resync finds it known.
    assert tracker.resync(listing(answered=True), at=1001.0) == []
    # She hangs up: the call ends with its whole length (her channel's 40 s before the resync).
    ended = tracker.handle(ami.ChannelHungUp(TRUNK, 16), 1010.0)
    end = next(e for e in ended if isinstance(e, ev.CallEnded))
    assert end.duration == 50.0


def test_a_callback_still_ringing_the_citizen_is_offered_to_its_agent_then_answered() -> None:
    tracker = CallTracker()
    produced = tracker.resync(listing(answered=False, trunk_seconds=3), at=1000.0)
    assert [type(e).__name__ for e in produced] == ["CallArrived", "CallerIdSettled", "CallOffered"]
    offered = produced[2]
    assert isinstance(offered, ev.CallOffered) and offered.agent == "202"
    after = tracker.handle(ami.DialEnded(ONE, TRUNK, "ANSWER"), 1005.0)
    assert [type(e).__name__ for e in after] == ["CallAnswered"]


def test_the_trunks_leg_of_a_callback_is_no_citizen_calling_in() -> None:
    """Without ``;1``'s request (its variables not read: it went meanwhile), the trunk's leg
    under another channel's Linkedid is not announced as a call to the town hall."""
    channels = listing(answered=True)
    channels[0] = ListedChannel(ONE, "b-citizen", "Dial", {}, 50)
    assert CallTracker().resync(channels, at=1000.0) == []


def test_a_callback_known_before_its_citizen_is_dialled_is_not_lost_at_a_resync() -> None:
    tracker = CallTracker()
    started = tracker.handle(
        ami.UserEventRaised(
            ONE, "CtiCallback", {"CallbackId": "cb-1", "Number": "0612345678", "Service": "x"}
        ),
        990.0,
    )
    assert [type(e).__name__ for e in started][0] == "CallArrived"
    # The link blinks before the Dial: only the agent's legs are listed.
    assert tracker.resync(listing(answered=False)[:3], at=1000.0) == []
    assert [c.call_id for c in tracker.active_calls] == [LINKED]
