"""Errors of the AMI edge, worded for the technician reading the log.

AmiError
├── AmiAuthError        Asterisk refused our user/secret (names host, port, user)
├── AmiActionError      Response: Error to an action (action, channel, Asterisk's words)
│   └── AmiNoSuchChannel    the channel is gone (hung up), whatever events are on their way
├── AmiTimeout          no response to an action in time
└── AmiDisconnected     the link went down before the response came
"""

from __future__ import annotations


class AmiError(Exception):
    """Base of every error raised by the AMI connection."""


class AmiAuthError(AmiError):
    def __init__(self, host: str, port: int, username: str, message: str) -> None:
        super().__init__(
            f"Asterisk at {host}:{port} refused AMI user {username!r}: {message} "
            "(check CTI_AMI_USERNAME / CTI_AMI_SECRET and manager.conf permit/deny)"
        )
        self.host, self.port, self.username, self.message = host, port, username, message


class AmiActionError(AmiError):
    def __init__(self, action: str, message: str, channel: str | None = None) -> None:
        where = f" on {channel}" if channel else ""
        super().__init__(f"AMI action {action}{where} failed: {message}")
        self.action, self.message, self.channel = action, message, channel


class AmiNoSuchChannel(AmiActionError):
    """Asterisk has no (live) channel of that name: it hung up. Its ``Hangup`` event may come
    after this answer: manager.c looks the channel up at once, the event goes through stasis."""


# manager.c's words for a channel that is gone, per action (recording 18): Setvar, Getvar and
# Hangup; Redirect; BlindTransfer and Atxfer; Redirect of a channel already hanging up.
_GONE = (
    "No such channel",
    "Channel does not exist:",
    "Channel specified does not exist",
    "Redirect failed, channel not up.",
)


def action_error(action: str, message: str, channel: str | None = None) -> AmiActionError:
    """Our error for Asterisk's ``Response: Error`` to ``action``."""
    if message.startswith(_GONE):
        return AmiNoSuchChannel(action, message, channel)
    return AmiActionError(action, message, channel)


class AmiTimeout(AmiError):
    def __init__(self, action: str, timeout: float) -> None:
        super().__init__(f"AMI action {action} got no response within {timeout:g} s")
        self.action, self.timeout = action, timeout


class AmiDisconnected(AmiError):
    def __init__(self, action: str | None = None) -> None:
        what = f"AMI action {action}" if action else "AMI link"
        super().__init__(f"{what}: the connection to Asterisk was lost")
        self.action = action
