"""What Asterisk's ``Response: Error`` becomes: a channel that is gone is told apart (issue 23).

The words are recording 18's (actions on a channel that just hung up) and manager.c's
``action_redirect`` for a channel already hanging up.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cti.ami.errors import AmiActionError, AmiNoSuchChannel, action_error
from cti.ami.frames import FrameSplitter

CAPTURES = Path(__file__).resolve().parents[4] / "shared" / "ami-captures"


def refusals_of_recording_18() -> list[tuple[str, str]]:
    """(action, Asterisk's message) for each action refused on the dead channel."""
    actions: dict[str, str] = {}
    refused: list[tuple[str, str]] = []
    client, server = FrameSplitter(), FrameSplitter()
    path = CAPTURES / "18-actions-on-dead-channel.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        splitter = client if record["dir"] == "client" else server
        for frame in splitter.feed(record["data"]):
            aid = frame.get("ActionID") or ""
            if record["dir"] == "client":
                actions[aid] = frame.get("Action") or ""
            elif frame.get("Response") == "Error":
                refused.append((actions[aid], frame.get("Message") or ""))
    return refused


def test_recording_18_refuses_each_kind_of_action_on_the_dead_channel() -> None:
    assert [action for action, _ in refusals_of_recording_18()] == [
        "Redirect",
        "Setvar",
        "Hangup",
        "BlindTransfer",
        "Atxfer",
    ]


@pytest.mark.parametrize(("action", "message"), refusals_of_recording_18())
def test_every_refusal_on_a_dead_channel_says_the_channel_is_gone(
    action: str, message: str
) -> None:
    error = action_error(action, message, "Local/0140000000@from-pstn-00000002;2")
    assert isinstance(error, AmiNoSuchChannel)
    assert message in str(error) and "Local/0140000000@from-pstn-00000002;2" in str(error)


def test_a_redirect_of_a_channel_already_hanging_up_is_gone_too() -> None:
    error = action_error("Redirect", "Redirect failed, channel not up.", "PJSIP/trunk-1")
    assert isinstance(error, AmiNoSuchChannel)


@pytest.mark.parametrize(
    "message", ["Permission denied", "Redirect failed", "Variable not set", "No variable specified"]
)
def test_other_refusals_are_not_a_gone_channel(message: str) -> None:
    error = action_error("Setvar", message, "PJSIP/201-1")
    assert isinstance(error, AmiActionError) and not isinstance(error, AmiNoSuchChannel)
