"""Staff accounts of a real install: created, listed, disabled, reset by a technician or an admin.

``admin`` holds the operations (one transaction each, audited), ``passwords`` the rules a new
password must follow and the one-time passwords it generates, ``cli`` the technician's command
(``python -m cti.users``). The web routes are in ``cti.web.users_api``; checking a password at
login stays in ``screenpop.accounts``.
"""
