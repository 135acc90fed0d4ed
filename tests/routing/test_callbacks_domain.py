"""The callbacks domain: windows, due-ness, attempts, cancellation and expiry (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr_scripts.hours import Calendar, Closure, WeeklyHours
from routing.callbacks import rules
from routing.callbacks.errors import IllegalCallbackMove
from routing.callbacks.request import (
    TRANSITIONS,
    CallbackRequest,
    CallbackState,
    Source,
    Window,
    move,
)

S = CallbackState
# 2026-12-01 is a Tuesday; Paris is UTC+1 in December.
CAL = Calendar(
    weekly=WeeklyHours(
        mon=["08:30-12:00", "13:30-17:00"],
        tue=["08:30-12:00", "13:30-17:00"],
        wed=["08:30-12:00"],
        fri=["08:30-12:00"],
    ),
    public_holidays=False,
    closures=[Closure(start=date(2026, 12, 4), end=date(2026, 12, 4), label="Fermeture")],
)
RULES = rules.RetryRules(attempts=3, spacing=timedelta(minutes=15), expiry=timedelta(days=2))


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, 0, minute, tzinfo=UTC) + timedelta(hours=hour - 1)


def request(at: datetime, window: Window = Window.REOPENING, **kw: object) -> CallbackRequest:
    chosen, start, end = rules.window_for(window, CAL, at)
    base = CallbackRequest(
        id="r1",
        number="+33612345678",
        service="etat-civil",
        asked_at=at,
        window=chosen,
        window_start=start,
        window_end=end,
        source=Source.MENU,
    )
    return _with(base, **kw) if kw else base


def _with(base: CallbackRequest, **kw: object) -> CallbackRequest:
    from dataclasses import replace

    return replace(base, **kw)  # type: ignore[arg-type]


def test_next_opening_skips_lunch_closed_days_and_closures() -> None:
    assert rules.next_opening(CAL, paris(1, 10)) == paris(1, 10)  # open now
    assert rules.next_opening(CAL, paris(1, 12, 30)) == paris(1, 13, 30)
    assert rules.next_opening(CAL, paris(1, 18)) == paris(2, 8, 30)
    # Thursday closed, Friday the 4th closed exceptionally, week-end closed: Monday the 7th.
    assert rules.next_opening(CAL, paris(3, 12)) == paris(7, 8, 30)
    assert rules.next_opening(None, paris(3, 12)) == paris(3, 12)


def test_windows_asked_and_windows_given() -> None:
    morning = rules.window_for(Window.MORNING, CAL, paris(1, 9))
    assert morning == (Window.MORNING, paris(1, 9), paris(1, 12))
    afternoon = rules.window_for(Window.AFTERNOON, CAL, paris(1, 9))
    assert afternoon == (Window.AFTERNOON, paris(1, 13, 30), paris(2, 0))
    # « ce matin » asked in the afternoon: the soonest opening (now, open), then at closing
    # time, tomorrow morning.
    assert rules.window_for(Window.MORNING, CAL, paris(1, 15)) == (
        Window.REOPENING,
        paris(1, 15),
        None,
    )
    assert rules.window_for(Window.MORNING, CAL, paris(1, 17)) == (
        Window.REOPENING,
        paris(2, 8, 30),
        None,
    )
    # Wednesday has no afternoon: « cet après-midi » becomes the reopening (Friday? closed: Monday).
    assert rules.window_for(Window.AFTERNOON, CAL, paris(2, 9))[0] is Window.REOPENING
    # A closed service: the next opening, whatever was asked.
    assert rules.window_for(Window.MORNING, CAL, paris(5, 10)) == (
        Window.REOPENING,
        paris(7, 8, 30),
        None,
    )


def test_due_only_in_window_when_open_and_after_not_before() -> None:
    r = request(paris(1, 18))  # asked in the evening: tomorrow 8:30
    assert not rules.is_due(r, CAL, paris(1, 19))
    assert not rules.is_due(r, CAL, paris(2, 8, 29))
    assert rules.is_due(r, CAL, paris(2, 8, 30))
    assert not rules.is_due(r, CAL, paris(2, 12, 30))  # lunch
    later = _with(r, not_before=paris(2, 9))
    assert not rules.is_due(later, CAL, paris(2, 8, 45))
    assert rules.is_due(later, CAL, paris(2, 9))
    assert not rules.is_due(_with(r, number=None), CAL, paris(2, 9))
    assert not rules.is_due(_with(r, state=S.OFFERED), CAL, paris(2, 9))


def test_attempts_retry_with_spacing_inside_opening_hours_then_fail() -> None:
    r = request(paris(1, 9))
    r = rules.offered(r, "201", paris(1, 10))
    r = rules.dialling(r, "201", "cb-r1-1", paris(1, 10))
    assert (r.state, r.attempts, r.action_id) == (S.DIALLING, 1, "cb-r1-1")
    r = rules.attempt_ended(r, "NOANSWER", RULES, CAL, paris(1, 10))
    assert (r.state, r.not_before, r.outcome) == (S.PENDING, paris(1, 10, 15), "NOANSWER")
    # Second attempt at 11:50: 15 minutes later is lunch, so the next try is at 13:30.
    at = paris(1, 11, 50)
    r = rules.dialling(rules.offered(r, "202", at), "202", "cb-r1-2", at)
    r = rules.attempt_ended(r, "BUSY", RULES, CAL, paris(1, 11, 50))
    assert (r.state, r.not_before) == (S.PENDING, paris(1, 13, 30))
    r = rules.dialling(rules.offered(r, "201", paris(1, 14)), "201", "cb-r1-3", paris(1, 14))
    r = rules.attempt_ended(r, "NOANSWER", RULES, CAL, paris(1, 14))
    assert (r.state, r.attempts) == (S.FAILED, 3)


def test_reached_and_delay() -> None:
    r = request(paris(1, 9))
    r = rules.dialling(rules.offered(r, "201", paris(1, 9, 5)), "201", "a", paris(1, 9, 5))
    r = rules.attempt_ended(r, "ANSWER", RULES, CAL, paris(1, 9, 6))
    assert r.state is S.REACHED
    assert rules.delay_seconds(r) == 360


def test_a_number_that_does_not_work_fails_at_once() -> None:
    r = request(paris(1, 9))
    r = rules.dialling(rules.offered(r, "201", paris(1, 9)), "201", "a", paris(1, 9))
    assert rules.attempt_ended(r, "INVALIDARGS", RULES, CAL, paris(1, 9)).state is S.FAILED


def test_postponed_keeps_place_and_is_no_attempt() -> None:
    r = rules.offered(request(paris(1, 9)), "201", paris(1, 9, 1))
    r = rules.postponed(r, RULES, paris(1, 9, 2))
    assert (r.state, r.attempts, r.asked_at, r.agent) == (S.PENDING, 0, paris(1, 9), None)
    assert r.not_before == paris(1, 9, 12)


def test_cancelled_when_the_citizen_called_again_and_was_served() -> None:
    r = request(paris(1, 9))
    assert rules.cancelled_if_served(r, "+33612345678", "etat-civil", paris(1, 8)) is None
    assert rules.cancelled_if_served(r, "+33699999999", "etat-civil", paris(1, 10)) is None
    assert rules.cancelled_if_served(r, "+33612345678", "urbanisme", paris(1, 10)) is None
    done = rules.cancelled_if_served(r, "+33612345678", "etat-civil", paris(1, 10))
    assert done is not None and done.state is S.CANCELLED
    dialling = rules.dialling(rules.offered(r, "201", paris(1, 9)), "201", "a", paris(1, 9))
    assert rules.cancelled_if_served(dialling, "+33612345678", None, paris(1, 10)) is None


def test_expiry() -> None:
    r = request(paris(1, 9))
    assert rules.expired(r, RULES, paris(3, 8, 59)) is None
    gone = rules.expired(r, RULES, paris(3, 9))
    assert gone is not None and gone.state is S.EXPIRED
    assert rules.window_missed(_with(r, window_end=paris(1, 12)), paris(1, 12))


def test_final_states_refuse_every_move() -> None:
    r = _with(request(paris(1, 9)), state=S.REACHED)
    with pytest.raises(IllegalCallbackMove, match="r1: illegal move reached -> dialling"):
        rules.dialling(r, "201", "a", paris(1, 10))


@given(st.sampled_from(list(S)), st.sampled_from(list(S)))
def test_move_follows_the_table_exactly(source: CallbackState, target: CallbackState) -> None:
    r = _with(request(paris(1, 9)), state=source)
    if target in TRANSITIONS[source]:
        assert move(r, target, paris(1, 10)).state is target
    else:
        with pytest.raises(IllegalCallbackMove):
            move(r, target, paris(1, 10))


def test_board_and_report_figures() -> None:
    from routing.callbacks import figures

    a = _with(request(paris(1, 9)), id="a", window_end=paris(1, 12))
    b = _with(request(paris(1, 10)), id="b", window_end=paris(1, 11, 45), service="etat-civil")
    c = _with(request(paris(1, 8)), id="c", state=S.REACHED, updated_at=paris(1, 8, 30))
    d = _with(request(paris(1, 8)), id="d", state=S.FAILED, service="urbanisme")
    [row] = figures.board([a, b, c, d], paris(1, 11, 50))
    assert row == figures.BoardRow("etat-civil", 2, paris(1, 9), 1, 1)
    rows = figures.report([a, b, c, d])
    assert rows == [
        figures.ReportRow("etat-civil", 3, 1, 0, 0, 0, 2, 1800.0),
        figures.ReportRow("urbanisme", 1, 0, 1, 0, 0, 0, None),
    ]
