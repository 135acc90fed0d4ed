"""Errors of the reports: a period or a grouping that cannot be reported.

ReportError
└── PeriodError   (the end before the start, or a period too long)
"""

from __future__ import annotations

from datetime import datetime


class ReportError(Exception):
    """Base of the reports' errors; the message is French, for the supervisor."""


class PeriodError(ReportError):
    def __init__(self, start: datetime, end: datetime, reason: str) -> None:
        super().__init__(f"période du {start:%d/%m/%Y %H:%M} au {end:%d/%m/%Y %H:%M} : {reason}")
        self.start = start
        self.end = end
