"""Errors of the directory and the screen pop, in words a technician or an agent understands.

ScreenPopError
├── CitizenNotFound        an id or reference that is not in the directory
├── CsvRowError            one refused row of an import (line, column, reason)
└── pop.NotYourCall        an agent acting on a call never offered to them
"""

from __future__ import annotations


class ScreenPopError(Exception):
    """Base of the package's errors."""


class CitizenNotFound(ScreenPopError):
    def __init__(self, citizen_id: int) -> None:
        super().__init__(f"aucun administré n'a l'identifiant {citizen_id}")
        self.citizen_id = citizen_id


class CsvRowError(ScreenPopError):
    def __init__(self, line: int, column: str, reason: str) -> None:
        super().__init__(f"ligne {line}, colonne « {column} » : {reason}")
        self.line = line
        self.column = column
        self.reason = reason
