"""What a new password must be, and the one-time passwords handed to staff. Pure.

A password chosen by its user needs ``MIN_LENGTH`` characters and must differ from the one it
replaces; nothing else is imposed (length is what makes a password hard to guess, and rules of
character classes push people to write them down). One-time passwords are printed once, read
aloud or copied by hand: groups of letters and digits without the look-alikes (0/O, 1/l/I).
"""

from __future__ import annotations

import secrets

from cti.accounts.errors import WeakPassword

MIN_LENGTH = 12
MAX_LENGTH = 200
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def check_new_password(new: str, old: str | None = None) -> None:
    """Raises ``WeakPassword`` saying what is wrong with ``new``."""
    if len(new) < MIN_LENGTH:
        raise WeakPassword(f"au moins {MIN_LENGTH} caractères (il en a {len(new)})")
    if len(new) > MAX_LENGTH:
        raise WeakPassword(f"au plus {MAX_LENGTH} caractères")
    if not new.strip():
        raise WeakPassword("il ne peut pas être fait que d'espaces")
    if old is not None and new == old:
        raise WeakPassword("le nouveau mot de passe doit être différent de l'actuel")


def one_time_password() -> str:
    """Four groups of four characters, e.g. ``k7Qm-3xPa-Wn9d-Hc4t`` (about 93 bits)."""
    groups = ("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)
