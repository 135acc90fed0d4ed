"""Sessions expire when unused, on a clock we drive (login limits: test_login_limits.py)."""

from __future__ import annotations

from cti.web.auth import Sessions
from screenpop.accounts import Role, UserView


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


USER = UserView(
    id=1, username="marie", display_name="Marie", role=Role.AGENT, agent_extension="201"
)


def test_a_session_lives_while_used_and_dies_when_left_alone() -> None:
    clock = Clock()
    sessions = Sessions(ttl=600, clock=clock)
    session = sessions.open(USER)
    clock.now += 500
    assert sessions.get(session.token) is session  # used: its life starts again
    clock.now += 500
    assert sessions.get(session.token) is session
    clock.now += 601
    assert sessions.get(session.token) is None
    assert sessions.get(session.token) is None


def test_tokens_are_unguessable_and_closed_sessions_are_gone() -> None:
    sessions = Sessions()
    a, b = sessions.open(USER), sessions.open(USER)
    assert a.token != b.token and len(a.token) >= 40 and a.csrf != b.csrf
    sessions.close(a.token)
    assert sessions.get(a.token) is None
    assert sessions.get(b.token) is b
    assert sessions.get("") is None and sessions.get(None) is None
