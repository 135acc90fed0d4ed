"""Opening-hours calendars and the pure ``is_open`` decision.

Theory of operation: a calendar is data (weekly time ranges per weekday, French public
holidays from the ``holidays`` package with an optional Alsace-Moselle subdivision,
exceptional closures over date ranges, and dated special openings such as election
Sundays). ``is_open(calendar, at)`` never reads the clock: the instant is an input. It is
converted to the calendar's time zone (Europe/Paris by default; a naive datetime is taken
as local time there), then the rules apply in this order of precedence:

1. a special opening on that date replaces the whole day (open only inside its ranges);
2. an exceptional closure covering the date closes the day, with its own announcement;
3. a public holiday closes the day;
4. otherwise the weekly ranges of that weekday apply (start inclusive, end exclusive).

Time ranges are written ``"08:30-12:00"`` so that telecom staff can edit them; the
validator reports malformed ones, ``parse_range`` raises on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from holidays.countries.france import France as FranceHolidays
from pydantic import BaseModel, ConfigDict, Field

from ivr_scripts.errors import IvrError
from ivr_scripts.prompt import Prompt

DEFAULT_TIMEZONE = "Europe/Paris"
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES_FR: dict[str, str] = {
    "mon": "lundi",
    "tue": "mardi",
    "wed": "mercredi",
    "thu": "jeudi",
    "fri": "vendredi",
    "sat": "samedi",
    "sun": "dimanche",
}
# Friendly spellings accepted for the Alsace-Moselle local law holidays.
SUBDIV_ALIASES: dict[str, str] = {
    "alsace-moselle": "57",
    "moselle": "57",
    "alsace": "6AE",
    "67": "6AE",
    "68": "6AE",
}
_RANGE_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

TimeRange = str  # "HH:MM-HH:MM"


class WeeklyHours(BaseModel):
    """Opening ranges for each weekday; an empty list means closed all day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mon: list[TimeRange] = Field(default_factory=list)
    tue: list[TimeRange] = Field(default_factory=list)
    wed: list[TimeRange] = Field(default_factory=list)
    thu: list[TimeRange] = Field(default_factory=list)
    fri: list[TimeRange] = Field(default_factory=list)
    sat: list[TimeRange] = Field(default_factory=list)
    sun: list[TimeRange] = Field(default_factory=list)

    def for_weekday(self, weekday: int) -> list[TimeRange]:
        """Ranges for a ``date.weekday()`` value (0 = Monday)."""
        ranges: list[TimeRange] = getattr(self, WEEKDAYS[weekday])
        return ranges


class Closure(BaseModel):
    """Exceptional closure, both dates included (e.g. inventory, bridge day)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: date
    end: date
    label: str = ""
    announcement: Prompt | None = None


class SpecialOpening(BaseModel):
    """A dated day with its own hours (e.g. an election Sunday)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: date
    hours: list[TimeRange] = Field(default_factory=list)
    label: str = ""
    announcement: Prompt | None = None


class Calendar(BaseModel):
    """Opening hours of one service (or of the whole town hall)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = DEFAULT_TIMEZONE
    weekly: WeeklyHours = Field(default_factory=WeeklyHours)
    public_holidays: bool = Field(default=True, description="Fermé les jours fériés")
    holiday_subdivision: str | None = Field(
        default=None,
        description="Subdivision du paquet holidays : '57' (Moselle), '6AE' (Alsace), "
        "ou 'Alsace-Moselle', '67', '68'",
    )
    closures: list[Closure] = Field(default_factory=list)
    special_openings: list[SpecialOpening] = Field(default_factory=list)
    closed_announcement: Prompt | None = Field(
        default=None, description="Message hors horaires (rappel des horaires)"
    )
    holiday_announcement: Prompt | None = Field(
        default=None, description="Message des jours fériés ; {jour_ferie} est remplacé par le nom"
    )


Reason = Literal["open", "special_opening", "closed_hours", "holiday", "closure"]


@dataclass(frozen=True)
class OpenState:
    """Result of ``is_open``: open or not, why, and what to announce when closed."""

    open: bool
    reason: Reason
    announcement: Prompt | None = None


@lru_cache(maxsize=256)
def parse_range(text: str) -> tuple[time, time]:
    """Parse ``"08:30-12:00"``; raise ``IvrError`` (French message) when malformed."""
    m = _RANGE_RE.match(text)
    if m is None:
        raise IvrError(f"plage horaire mal écrite « {text} » (attendu HH:MM-HH:MM)")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    try:
        start = time(h1, m1)
        end = time(23, 59, 59, 999999) if (h2, m2) == (24, 0) else time(h2, m2)
    except ValueError:
        raise IvrError(f"heure impossible dans « {text} »") from None
    if end <= start:
        raise IvrError(f"la fin est avant le début dans « {text} »")
    return start, end


def normalise_subdivision(subdiv: str | None) -> str | None:
    """Map friendly spellings (``Alsace-Moselle``, ``67``) to a ``holidays`` subdivision."""
    if subdiv is None:
        return None
    return SUBDIV_ALIASES.get(subdiv.strip().lower(), subdiv.strip())


def supported_subdivisions() -> set[str]:
    """Every subdivision spelling the calendar accepts."""
    return (
        set(FranceHolidays.subdivisions)
        | set(SUBDIV_ALIASES)
        | set(FranceHolidays.subdivisions_aliases)
    )


@lru_cache(maxsize=64)
def _holidays_for(year: int, subdiv: str | None) -> dict[date, str]:
    cal = FranceHolidays(years=year, subdiv=subdiv, language="fr")  # type: ignore[no-untyped-call]
    return dict(cal.items())


def holiday_name(calendar: Calendar, day: date) -> str | None:
    """French name of the public holiday on ``day``, or None."""
    subdiv = normalise_subdivision(calendar.holiday_subdivision)
    return _holidays_for(day.year, subdiv).get(day)


def _inside(ranges: list[TimeRange], moment: time) -> bool:
    for text in ranges:
        start, end = parse_range(text)
        if start <= moment < end:
            return True
    return False


def local_time(calendar: Calendar, at: datetime) -> datetime:
    """``at`` expressed in the calendar's time zone (naive = already local)."""
    tz = ZoneInfo(calendar.timezone)
    if at.tzinfo is None:
        return at.replace(tzinfo=tz)
    return at.astimezone(tz)


def is_open(calendar: Calendar, at: datetime) -> OpenState:
    """Decide whether the service is open at ``at`` (pure: no clock read)."""
    local = local_time(calendar, at)
    day, moment = local.date(), local.time()
    for special in calendar.special_openings:
        if special.date == day:
            if _inside(special.hours, moment):
                return OpenState(True, "special_opening", special.announcement)
            return OpenState(False, "closed_hours", special.announcement or _closed(calendar))
    for closure in calendar.closures:
        if closure.start <= day <= closure.end:
            announcement = closure.announcement or Prompt(
                text="La mairie est exceptionnellement fermée aujourd'hui."
            )
            return OpenState(False, "closure", announcement)
    if calendar.public_holidays:
        name = holiday_name(calendar, day)
        if name is not None:
            return OpenState(False, "holiday", _holiday(calendar, name))
    if _inside(calendar.weekly.for_weekday(day.weekday()), moment):
        return OpenState(True, "open", None)
    return OpenState(False, "closed_hours", _closed(calendar))


def _closed(calendar: Calendar) -> Prompt:
    if calendar.closed_announcement is not None:
        return calendar.closed_announcement
    return Prompt(text="Nos services sont actuellement fermés. " + describe_weekly(calendar.weekly))


def _holiday(calendar: Calendar, name: str) -> Prompt:
    template = calendar.holiday_announcement
    if template is None:
        return Prompt(text=f"Aujourd'hui, {name}, jour férié, la mairie est fermée.")
    return Prompt(text=template.text.replace("{jour_ferie}", name), file=template.file)


def describe_weekly(weekly: WeeklyHours) -> str:
    """French sentence listing the weekly hours, e.g. for a TTS announcement."""
    parts: list[str] = []
    for key in WEEKDAYS:
        ranges = getattr(weekly, key)
        if not ranges:
            continue
        spoken = " et ".join(_spoken_range(r) for r in ranges)
        parts.append(f"le {WEEKDAY_NAMES_FR[key]} {spoken}")
    if not parts:
        return "Aucun horaire d'ouverture n'est défini."
    return "Nous sommes ouverts " + ", ".join(parts) + "."


def _spoken_range(text: str) -> str:
    try:
        start, end = parse_range(text)
    except IvrError:
        return text
    return f"de {_spoken_time(start)} à {_spoken_time(end)}"


def _spoken_time(t: time) -> str:
    if t.minute == 0:
        return f"{t.hour} heures"
    return f"{t.hour} heures {t.minute}"


def public_holidays(year: int, subdivision: str | None = None) -> list[tuple[date, str]]:
    """The public holidays of ``year`` (French names), in date order; with ``subdivision``
    (``Alsace-Moselle``, ``57``...) the local ones too (Vendredi saint, 26 décembre)."""
    return sorted(_holidays_for(year, normalise_subdivision(subdivision)).items())
