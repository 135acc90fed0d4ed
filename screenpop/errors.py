"""Errors of the directory and the screen pop, in words a technician or an agent understands.

ScreenPopError
├── CitizenNotFound        an id or reference that is not in the directory
├── CsvRowError            one refused row of an import (line, column, reason)
├── CsvFileError           a whole import file refused (missing, wrong columns)
├── UserExists             an account name already taken
├── DatabaseUnavailable    the database is away: a read cannot be answered now
└── agent_actions.NotYourCall  an agent acting on a call never offered to them
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


class CsvFileError(ScreenPopError):
    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"{path} : {reason}")
        self.path = path
        self.reason = reason


class UserExists(ScreenPopError):
    def __init__(self, username: str, extension: str | None = None) -> None:
        taken = f" ou le poste {extension} est déjà attribué" if extension else " existe déjà"
        super().__init__(f"le compte « {username} »{taken}")
        self.username = username


class DatabaseUnavailable(ScreenPopError):
    """The database cannot be reached (stopped, link lost, file locked): what it should
    record is kept and written later, but a read cannot be answered now."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"base de données injoignable ({reason}) : réessayez dans un moment, "
            "les enregistrements en attente seront écrits à son retour"
        )
        self.reason = reason
