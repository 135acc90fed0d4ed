"""Rebuilding the view of live calls from CoreShowChannels after a (re)connect."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from panoramisk.message import Message

from cti.ami.events import ListedChannel, parse_event, parse_listed_channel
from cti.replay import read_server_chunks, recorded_messages
from cti.tracker import CallTracker, Contract

CAPTURE = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "ami-captures"
    / "10-coreshowchannels-and-status-midcall.jsonl"
)


def _until_first_listing() -> tuple[list[tuple[float, Message]], list[ListedChannel]]:
    """Events before the first CoreShowChannels answer, and that answer's channels."""
    before: list[tuple[float, Message]] = []
    listed: list[ListedChannel] = []
    for t, headers in recorded_messages(read_server_chunks(CAPTURE)):
        if headers.get("Event") == "CoreShowChannel":
            item = parse_listed_channel(headers)
            assert item is not None
            listed.append(item)
        elif headers.get("Event") == "CoreShowChannelsComplete":
            return before, listed
        elif not listed:
            before.append((t, headers))
    raise AssertionError("no CoreShowChannels answer in the recording")


def _with_presentation(
    listed: list[ListedChannel], pres: str, **variables: str
) -> list[ListedChannel]:
    """The listing as the connection hands it over: the citizen's channels with the
    ``Getvar CALLERID(pres)`` (and other ``variables``) it read for them."""
    return [
        replace(lc, variables={**lc.variables, "CALLERID(pres)": pres, **variables})
        if lc.chan.context in Contract().caller_contexts
        else lc
        for lc in listed
    ]


def test_a_call_in_progress_is_restored_once_with_its_agent() -> None:
    _, listed = _until_first_listing()
    listed = _with_presentation(listed, "allowed_not_screened")
    tracker = CallTracker()
    produced = [e.to_dict() for e in tracker.resync(listed, at=100.0)]
    assert [e["type"] for e in produced] == ["CallArrived", "CallerIdSettled", "CallAnswered"]
    assert produced[0]["restored"] is True
    assert produced[1]["caller_number"] == "0655667788"
    assert produced[2]["agent"] == "206"
    # A second resync with the same channels says nothing new.
    assert tracker.resync(listed, at=101.0) == []


def test_a_call_already_known_is_not_announced_again() -> None:
    before, listed = _until_first_listing()
    tracker = CallTracker()
    for t, headers in before:
        event = parse_event(headers)
        if event is not None:
            tracker.handle(event, t)
    assert len(tracker.active_calls) == 1
    assert tracker.resync(listed, at=50.0) == []


def test_a_call_that_vanished_while_disconnected_ends_as_lost() -> None:
    before, _ = _until_first_listing()
    tracker = CallTracker()
    for t, headers in before:
        event = parse_event(headers)
        if event is not None:
            tracker.handle(event, t)
    produced = [e.to_dict() for e in tracker.resync([], at=60.0)]
    assert [e["type"] for e in produced] == ["CallEnded"]
    assert produced[0]["reason"] == "lost"
    assert tracker.active_calls == [] and tracker.tracked_channel_count == 0


def test_a_call_restored_without_its_presentation_shows_no_number() -> None:
    _, listed = _until_first_listing()
    produced = [e.to_dict() for e in CallTracker().resync(listed, at=100.0)]
    assert [e["type"] for e in produced] == ["CallArrived", "CallAnswered"]
    assert all("caller_number" not in e and "caller_name" not in e for e in produced)


def test_a_call_restored_withheld_is_withheld_from_its_first_event() -> None:
    _, listed = _until_first_listing()
    listed = _with_presentation(listed, "prohib_not_screened")
    produced = [e.to_dict() for e in CallTracker().resync(listed, at=100.0)]
    assert [e["type"] for e in produced] == ["CallArrived", "CallerIdSettled", "CallAnswered"]
    assert all(e["caller_withheld"] is True and "caller_number" not in e for e in produced)


def test_a_restriction_learnt_at_resync_withholds_a_call_already_known() -> None:
    """The link was down when the dialplan said it (or it never did): the resync's Getvar
    is how the service learns it, and the number is gone from then on."""
    before, listed = _until_first_listing()
    tracker = CallTracker()
    for t, headers in before:
        event = parse_event(headers)
        if event is not None:
            tracker.handle(event, t)
    produced = [
        e.to_dict()
        for e in tracker.resync(_with_presentation(listed, "prohib_not_screened"), at=50.0)
    ]
    assert produced == [
        {
            "type": "CallerIdSettled",
            "call_id": produced[0]["call_id"],
            "at": 50.0,
            "caller_withheld": True,
        }
    ]
    # Told "allowed" afterwards, it stays withheld.
    assert tracker.resync(_with_presentation(listed, "allowed_not_screened"), at=51.0) == []
    call = tracker.call(produced[0]["call_id"])
    assert call is not None and call.withheld


def test_a_call_restored_keeps_its_service_and_the_menus_path() -> None:
    """After a restart the card must still say why she called: the resync reads the menu's
    CTI_IVR_PATH (and CTI_IVR_CHOICE) back from her channel."""
    _, listed = _until_first_listing()
    listed = _with_presentation(
        listed,
        "allowed_not_screened",
        CTI_IVR_CHOICE="etat-civil",
        CTI_IVR_PATH="bienvenue/menu_principal/vers_etat_civil",
    )
    produced = [e.to_dict() for e in CallTracker().resync(listed, at=100.0)]
    assert produced[0]["ivr_path"] == "bienvenue/menu_principal/vers_etat_civil"
    assert produced[-1]["type"] == "CallAnswered"
    assert produced[-1]["service"] == "etat-civil"
