"""The « Et si… » shell: recorded calls read back from a real database by Paris day, and the
replay in a process of its own giving what the pure comparison gives, stopped past its time.

SQLite, and PostgreSQL when CTI_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from cti.db import Database
from cti.what_if import Limits, PeriodRefused, ReplayTooLong, check_period, read_recorded
from cti.what_if import replay_in_process as in_process
from routing.config import load_config
from routing.day_records import Outcome
from routing.recorded_days import RecordedCall
from routing.what_if import compare
from tests.routing.recorded_traffic import recorded_calls, store

DEMO = load_config("routing/demo.yaml").to_engine()


def test_calls_are_read_back_by_paris_day_where_they_reached_the_queue(
    database: Database,
) -> None:
    calls = recorded_calls()
    late = RecordedCall(
        "late", date(2025, 3, 4), 23 * 3600 + 1800, "accueil", Outcome.ABANDONED, 40
    )
    next_day = replace(late, call_id="next", day=date(2025, 3, 5), queued_at=600.0)
    store(database, [*calls, late, next_day])
    read = read_recorded(database, date(2025, 3, 3), date(2025, 3, 4), 1000)
    assert [(c.day, c.queued_at) for c in read] == sorted((c.day, c.queued_at) for c in read)
    by_id = {c.call_id: c for c in read}
    assert "next" not in by_id and "late" in by_id
    for call in [*calls, late]:
        back = by_id[call.call_id]
        assert back.day == call.day and back.service == call.service
        assert back.outcome is call.outcome and back.agent == call.agent
        assert back.queued_at == pytest.approx(call.queued_at, abs=1e-3)
        assert back.wait_s == pytest.approx(call.wait_s)


def test_the_replay_in_its_own_process_gives_the_pure_result() -> None:
    calls = recorded_calls()
    draft = replace(DEMO, max_missed_offers=2)
    assert in_process(calls, DEMO, draft, 120.0) == compare(calls, DEMO, draft)


def test_a_replay_past_its_time_is_stopped_with_a_french_message() -> None:
    # No time at all: the answer cannot be there before the process has even started.
    with pytest.raises(ReplayTooLong, match="La simulation a dépassé 0 s et a été arrêtée"):
        in_process(recorded_calls(), DEMO, DEMO, 0.0)


def test_periods_are_bounded() -> None:
    limits = Limits(max_days=7)
    check_period(date(2025, 3, 3), date(2025, 3, 9), limits)
    with pytest.raises(PeriodRefused, match="La période dépasse 7 jours."):
        check_period(date(2025, 3, 3), date(2025, 3, 10), limits)
