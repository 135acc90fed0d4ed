"""Errors of account management, in the words a technician or an admin reads.

AccountError
├── UnknownUser          no account has that name
├── UsernameTaken        the name is already an account's
├── ExtensionTaken       the phone extension is already another account's
├── InvalidField         a name, extension or role that cannot be used (field, reason)
├── WeakPassword         a new password refused by the rules (length, same as before)
├── WrongPassword        the current password given to change it is not the right one
└── LastAdmin            the change would leave no active administrator
"""

from __future__ import annotations


class AccountError(Exception):
    """Base of the package's errors."""


class UnknownUser(AccountError):
    def __init__(self, username: str) -> None:
        super().__init__(f"aucun compte ne s'appelle « {username} »")
        self.username = username


class UsernameTaken(AccountError):
    def __init__(self, username: str) -> None:
        super().__init__(f"le compte « {username} » existe déjà")
        self.username = username


class ExtensionTaken(AccountError):
    def __init__(self, extension: str, owner: str) -> None:
        super().__init__(f"le poste {extension} est déjà attribué au compte « {owner} »")
        self.extension = extension
        self.owner = owner


class InvalidField(AccountError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field} {reason}")
        self.field = field
        self.reason = reason


class WeakPassword(AccountError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"mot de passe refusé : {reason}")
        self.reason = reason


class WrongPassword(AccountError):
    def __init__(self) -> None:
        super().__init__("le mot de passe actuel est incorrect")


class LastAdmin(AccountError):
    def __init__(self, username: str) -> None:
        super().__init__(
            f"« {username} » est le dernier administrateur actif : "
            "créez ou réactivez d'abord un autre administrateur"
        )
        self.username = username
