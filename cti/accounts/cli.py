"""``python -m cti.users``: the technician's command to manage staff accounts.

Sub-commands: ``init`` (the first admin), ``create``, ``list``, ``disable``, ``enable``,
``reset-password``, ``set-role``, ``set-extension``. A password is read with ``--ask-password``
(typed twice, not echoed) or ``--password-stdin`` (one line, for scripts); without either it is
generated and printed once. Every password set here is one-time: the user changes it at the
first login. Changes are audited as ``console:<system user>``.

Exit codes: 0 done (or nothing to do), 1 refused (the message says why: unknown account, name
or extension taken, last admin, password too short), 2 wrong usage, 3 database unreachable.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from cti.accounts import admin
from cti.accounts.admin import Account, WithPassword
from cti.accounts.errors import AccountError, WeakPassword
from cti.accounts.passwords import MIN_LENGTH
from cti.db import Database
from cti.settings import Settings
from screenpop.accounts import Role

REFUSED, USAGE, NO_DATABASE = 1, 2, 3
ROLE_HELP = "agent (prend les appels), supervisor, telecom (menus, routage), admin (tout)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cti.users",
        description="Gère les comptes du personnel (agents, superviseurs, télécom, admins).",
        epilog="Codes de sortie : 0 fait, 1 refusé (motif affiché), 2 usage, 3 base injoignable.",
    )
    parser.add_argument("--database", help="URL de la base (défaut : CTI_DATABASE_URL)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMANDE")

    def password_options(sub: argparse.ArgumentParser) -> None:
        source = sub.add_mutually_exclusive_group()
        source.add_argument(
            "--ask-password", action="store_true", help="saisir le mot de passe (deux fois)"
        )
        source.add_argument(
            "--password-stdin", action="store_true", help="lire le mot de passe sur l'entrée"
        )

    commands.add_parser("init", help="crée le premier administrateur s'il n'y en a aucun")
    commands.add_parser("list", help="liste les comptes")
    create = commands.add_parser("create", help="crée un compte")
    create.add_argument("username", help="identifiant de connexion (minuscules, ex. marie)")
    create.add_argument("--name", default="", help="nom affiché (ex. « Marie Lambert »)")
    create.add_argument("--role", required=True, choices=[r.value for r in Role], help=ROLE_HELP)
    create.add_argument("--extension", help="poste téléphonique de l'agent (ex. 201)")
    password_options(create)
    for name, text in (("disable", "désactive un compte"), ("enable", "réactive un compte")):
        commands.add_parser(name, help=text).add_argument("username")
    reset = commands.add_parser("reset-password", help="donne un mot de passe à usage unique")
    reset.add_argument("username")
    password_options(reset)
    role = commands.add_parser("set-role", help="change le rôle d'un compte")
    role.add_argument("username")
    role.add_argument("role", choices=[r.value for r in Role], help=ROLE_HELP)
    extension = commands.add_parser("set-extension", help="attribue ou retire le poste")
    extension.add_argument("username")
    which = extension.add_mutually_exclusive_group(required=True)
    which.add_argument("extension", nargs="?", help="numéro du poste (ex. 201)")
    which.add_argument("--remove", action="store_true", help="retire le poste du compte")
    return parser


def _read_password(args: argparse.Namespace, stdin: TextIO) -> str | None:
    """The password the technician gives, or None to generate one."""
    if args.password_stdin:
        return stdin.readline().rstrip("\r\n")
    if args.ask_password:
        first = getpass.getpass(f"Mot de passe (au moins {MIN_LENGTH} caractères) : ")
        if getpass.getpass("Encore une fois : ") != first:
            raise WeakPassword("les deux saisies diffèrent")
        return first
    return None


def _describe(account: Account) -> str:
    poste = f"poste {account.extension}" if account.extension else "sans poste"
    state = "actif" if account.active else "désactivé"
    if account.must_change_password:
        state += ", mot de passe à changer"
    return f"{account.username} ({account.display_name}) : {account.role.value}, {poste}, {state}"


def _print_password(given: WithPassword, out: TextIO) -> None:
    print(f"Compte « {given.account.username} » prêt.", file=out)
    if not given.generated:
        print("Mot de passe enregistré, à changer à la première connexion.", file=out)
        return
    print(f"Mot de passe à usage unique : {given.password}", file=out)
    print(
        "Il ne sera plus affiché : transmettez-le à la personne, qui devra le changer "
        "à sa première connexion.",
        file=out,
    )


def _table(accounts: Sequence[Account], out: TextIO) -> None:
    if not accounts:
        print("Aucun compte : `python -m cti.users init` crée le premier administrateur.", file=out)
        return
    rows = [("identifiant", "nom", "rôle", "poste", "état")]
    for a in accounts:
        state = "actif" if a.active else "désactivé"
        if a.must_change_password:
            state += " (mot de passe à changer)"
        rows.append((a.username, a.display_name, a.role.value, a.extension or "-", state))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[4]]), file=out)


def _run(args: argparse.Namespace, db: Database, stdin: TextIO, out: TextIO) -> None:
    by = f"console:{getpass.getuser()}"
    name: str = args.command
    if name == "init":
        first = admin.ensure_first_admin(db, by)
        if first is None:
            print("Un administrateur actif existe déjà : rien à faire.", file=out)
        else:
            _print_password(first, out)
        return
    if name == "list":
        _table(admin.accounts(db), out)
        return
    actions: dict[str, Callable[[], Account | WithPassword]] = {
        "create": lambda: admin.create(
            db,
            by,
            admin.check_username(args.username.strip().lower()),
            args.name,
            Role(args.role),
            args.extension,
            _read_password(args, stdin),
        ),
        "disable": lambda: admin.set_active(db, by, args.username, False),
        "enable": lambda: admin.set_active(db, by, args.username, True),
        "reset-password": lambda: admin.reset_password(
            db, by, args.username, _read_password(args, stdin)
        ),
        "set-role": lambda: admin.set_role(db, by, args.username, Role(args.role)),
        "set-extension": lambda: admin.set_extension(
            db, by, args.username, None if args.remove else args.extension
        ),
    }
    done = actions[name]()
    if isinstance(done, WithPassword):
        _print_password(done, out)
        done = done.account
    print(_describe(done), file=out)


def main(
    argv: Sequence[str] | None = None, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout
) -> int:
    args = _parser().parse_args(argv)
    db = Database(args.database or Settings().database_url)
    try:
        db.migrate()
        _run(args, db, stdin, out)
    except AccountError as exc:
        print(f"Refusé : {exc}.", file=sys.stderr)
        return REFUSED
    except SQLAlchemyError as exc:
        print(f"Base de données injoignable ({db.url.split('@')[-1]}) : {exc}", file=sys.stderr)
        return NO_DATABASE
    finally:
        db.close()
    return 0
