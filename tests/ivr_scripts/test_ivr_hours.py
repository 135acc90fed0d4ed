"""Opening hours: weekly ranges, public holidays, Alsace-Moselle, closures, election Sundays."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from ivr_scripts.errors import IvrError
from ivr_scripts.hours import (
    Calendar,
    Closure,
    SpecialOpening,
    WeeklyHours,
    is_open,
    parse_range,
)
from ivr_scripts.prompt import Prompt

PARIS = ZoneInfo("Europe/Paris")
WEEK = ["08:30-12:00", "13:30-17:00"]
ETAT_CIVIL = Calendar(
    weekly=WeeklyHours(mon=WEEK, tue=WEEK, wed=WEEK, thu=WEEK, fri=WEEK, sat=["09:00-12:00"]),
    closures=[
        Closure(
            start=date(2026, 8, 10),
            end=date(2026, 8, 14),
            announcement=Prompt(text="Fermeture estivale."),
        )
    ],
    special_openings=[
        SpecialOpening(date=date(2026, 3, 15), hours=["08:00-18:00"], label="Élections")
    ],
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


@pytest.mark.parametrize(
    ("when", "expected", "reason"),
    [
        ("2026-03-10 10:00", True, "open"),  # Tuesday morning
        ("2026-03-10 12:00", False, "closed_hours"),  # end is exclusive
        ("2026-03-10 12:30", False, "closed_hours"),  # lunch break
        ("2026-03-10 08:30", True, "open"),  # start inclusive
        ("2026-03-14 11:59", True, "open"),  # Saturday
        ("2026-03-14 14:00", False, "closed_hours"),
        ("2026-03-08 10:00", False, "closed_hours"),  # ordinary Sunday
        ("2026-03-15 10:00", True, "special_opening"),  # election Sunday
        ("2026-03-15 19:00", False, "closed_hours"),
        ("2026-12-25 10:00", False, "holiday"),
        ("2026-07-14 10:00", False, "holiday"),
        ("2026-08-12 10:00", False, "closure"),
        ("2026-04-03 10:00", True, "open"),  # Good Friday: not a holiday outside Alsace-Moselle
    ],
)
def test_is_open(when: str, expected: bool, reason: str) -> None:
    state = is_open(ETAT_CIVIL, at(when))
    assert (state.open, state.reason) == (expected, reason)
    if not state.open:
        assert state.announcement is not None and state.announcement.text


def test_holiday_announcement_names_the_day_in_french() -> None:
    state = is_open(ETAT_CIVIL, at("2026-12-25 10:00"))
    assert state.announcement is not None
    assert "Noël" in state.announcement.text


def test_closure_uses_its_own_announcement() -> None:
    state = is_open(ETAT_CIVIL, at("2026-08-10 09:00"))
    assert state.announcement == Prompt(text="Fermeture estivale.")


@pytest.mark.parametrize("subdiv", ["57", "6AE", "67", "68", "Alsace-Moselle"])
def test_alsace_moselle_good_friday_and_st_stephen(subdiv: str) -> None:
    cal = ETAT_CIVIL.model_copy(update={"holiday_subdivision": subdiv})
    assert is_open(cal, at("2026-04-03 10:00")).reason == "holiday"
    assert is_open(cal, at("2026-12-26 10:00")).reason == "holiday"


def test_utc_instant_is_converted_to_paris_time() -> None:
    # 08:45 UTC in March = 09:45 in Paris (open); 07:45 UTC = 08:45 Paris (open); 07:00 = 08:00
    utc = ZoneInfo("UTC")
    assert is_open(ETAT_CIVIL, datetime(2026, 3, 10, 8, 45, tzinfo=utc)).open
    assert not is_open(ETAT_CIVIL, datetime(2026, 3, 10, 7, 0, tzinfo=utc)).open
    # summer time: 15:30 UTC = 17:30 Paris, closed
    assert not is_open(ETAT_CIVIL, datetime(2026, 7, 7, 15, 30, tzinfo=utc)).open


def test_naive_datetime_is_local_time() -> None:
    assert is_open(ETAT_CIVIL, datetime(2026, 3, 10, 9, 0)).open


@pytest.mark.parametrize("bad", ["8h30-12h", "12:00-08:00", "25:00-26:00", "10:00-10:00"])
def test_parse_range_rejects(bad: str) -> None:
    with pytest.raises(IvrError):
        parse_range(bad)


def test_closed_announcement_describes_hours_by_default() -> None:
    state = is_open(ETAT_CIVIL, at("2026-03-10 20:00"))
    assert state.announcement is not None
    assert "le samedi de 9 heures à 12 heures" in state.announcement.text
