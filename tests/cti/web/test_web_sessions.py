"""Sessions expire when unused and the login limiter blocks guessing, on a clock we drive."""

from __future__ import annotations

from cti.web.auth import LoginLimiter, Sessions
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


def test_five_failures_block_the_user_and_the_address_until_the_window_passes() -> None:
    clock = Clock()
    limiter = LoginLimiter(attempts=5, window=300, clock=clock)
    keys = ("user:marie", "ip:10.0.0.1")
    for _ in range(4):
        limiter.failed(*keys)
        clock.now += 1
    assert limiter.retry_after(*keys) == 0
    limiter.failed(*keys)
    assert 290 < limiter.retry_after(*keys) <= 300
    # Another address guessing the same user is blocked too, and so is the same address.
    assert limiter.retry_after("user:marie", "ip:10.0.0.2") > 0
    assert limiter.retry_after("user:paul", "ip:10.0.0.1") > 0
    clock.now += 300
    assert limiter.retry_after(*keys) == 0


def test_a_success_forgets_earlier_failures() -> None:
    limiter = LoginLimiter(attempts=2, window=300, clock=Clock())
    limiter.failed("user:marie")
    limiter.succeeded("user:marie")
    limiter.failed("user:marie")
    assert limiter.retry_after("user:marie") == 0
