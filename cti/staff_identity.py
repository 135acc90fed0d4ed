"""One identity per member of staff in the audit trail, whatever wrote the entry.

The trail's author is a login (« marie ») for what she did on a page, « poste 201 » for a
card her phone popped (the screen pop knows the phone, not the session), « console:… » for
a command: a reader must see one person, « Marie Lambert (marie, poste 201) », in each.
Pure: built from the accounts, read by ``label`` and ``authors``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

PHONE_PREFIX = "poste "


@dataclass(frozen=True, slots=True)
class Person:
    username: str
    name: str
    extension: str | None

    @property
    def label(self) -> str:
        phone = f", poste {self.extension}" if self.extension else ""
        return f"{self.name} ({self.username}{phone})"


class _Account(Protocol):
    @property
    def username(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def extension(self) -> str | None: ...


class Staff:
    @classmethod
    def of_accounts(cls, accounts: Iterable[_Account]) -> Staff:
        """From the accounts (``cti.accounts.admin.accounts``)."""
        return cls(Person(a.username, a.display_name, a.extension) for a in accounts)

    def __init__(self, people: Iterable[Person]) -> None:
        self._by_login = {p.username: p for p in people}
        self._by_phone = {p.extension: p for p in self._by_login.values() if p.extension}

    def of(self, author: str) -> Person | None:
        """The person behind an entry's author (a login or « poste 201 »), if known."""
        if author.startswith(PHONE_PREFIX):
            return self._by_phone.get(author[len(PHONE_PREFIX) :])
        return self._by_login.get(author)

    def label(self, author: str) -> str:
        person = self.of(author)
        return person.label if person is not None else author

    def authors(self, wanted: str) -> tuple[str, ...]:
        """Every author an entry may carry for the person ``wanted`` names (her login, her
        name or part of it, « poste 201 »): the logins and phones of everyone it matches."""
        text = wanted.strip().casefold()
        found = [
            p
            for p in self._by_login.values()
            if text in (p.username.casefold(), f"{PHONE_PREFIX}{p.extension}")
            or text == p.extension
            or text in p.name.casefold()
        ]
        if not found:
            return (wanted.strip(),)
        return tuple(
            a
            for p in found
            for a in (p.username, *([f"{PHONE_PREFIX}{p.extension}"] if p.extension else []))
        )
