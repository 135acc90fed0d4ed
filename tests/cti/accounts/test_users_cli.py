"""``python -m cti.users`` as a technician runs it: a real process on a real SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cti.db import Database
from screenpop.accounts import authenticate

ROOT = Path(__file__).resolve().parents[3]


def users(db_file: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CTI_DATABASE_URL": f"sqlite:///{db_file}"}
    return subprocess.run(
        [sys.executable, "-m", "cti.users", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )


def one_time_password(output: str) -> str:
    (line,) = [x for x in output.splitlines() if x.startswith("Mot de passe à usage unique")]
    return line.split(" : ", 1)[1].strip()


def test_a_technician_sets_up_and_manages_accounts(tmp_path: Path) -> None:
    db_file = tmp_path / "cti.db"

    first = users(db_file, "init")
    assert first.returncode == 0, first.stderr
    admin_password = one_time_password(first.stdout)
    again = users(db_file, "init")
    assert again.returncode == 0 and "existe déjà" in again.stdout
    assert "usage unique" not in again.stdout  # printed once only

    marie = users(
        db_file,
        "create",
        "Marie",
        "--name",
        "Marie Lambert",
        "--role",
        "agent",
        "--extension",
        "201",
    )
    assert marie.returncode == 0, marie.stderr
    marie_password = one_time_password(marie.stdout)
    assert "marie (Marie Lambert) : agent, poste 201, actif" in marie.stdout

    taken = users(db_file, "create", "paul", "--role", "agent", "--extension", "201")
    assert taken.returncode == 1
    assert "le poste 201 est déjà attribué au compte « marie »" in taken.stderr
    chosen = users(
        db_file,
        "create",
        "paul",
        "--role",
        "agent",
        "--extension",
        "202",
        "--password-stdin",
        stdin="un mot de passe choisi\n",
    )
    assert chosen.returncode == 0, chosen.stderr
    assert "un mot de passe choisi" not in chosen.stdout  # not echoed back
    short = users(db_file, "reset-password", "paul", "--password-stdin", stdin="court\n")
    assert short.returncode == 1 and "au moins 12 caractères" in short.stderr

    assert users(db_file, "set-extension", "paul", "201").returncode == 1
    assert users(db_file, "set-extension", "marie", "--remove").returncode == 0
    moved = users(db_file, "set-extension", "paul", "201")
    assert moved.returncode == 0 and "paul (paul) : agent, poste 201" in moved.stdout
    role = users(db_file, "set-role", "marie", "supervisor")
    assert role.returncode == 0 and "supervisor, sans poste" in role.stdout
    assert users(db_file, "set-role", "marie", "chef").returncode == 2  # not a role: usage

    assert users(db_file, "disable", "paul").returncode == 0
    last = users(db_file, "disable", "admin")
    assert last.returncode == 1 and "dernier administrateur actif" in last.stderr
    assert users(db_file, "disable", "nobody").returncode == 1

    reset = users(db_file, "reset-password", "marie")
    assert reset.returncode == 0
    new_marie = one_time_password(reset.stdout)

    listed = users(db_file, "list")
    assert listed.returncode == 0
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert set(rows) == {"admin", "marie", "paul"}
    assert "désactivé" in rows["paul"] and " 201 " in rows["paul"]
    assert "supervisor" in rows["marie"] and "mot de passe à changer" in rows["marie"]

    db = Database(f"sqlite:///{db_file}")
    try:
        admin = authenticate(db, "admin", admin_password)
        assert admin is not None and admin.must_change_password
        assert authenticate(db, "marie", marie_password) is None  # replaced by the reset
        assert authenticate(db, "marie", new_marie) is not None
        assert authenticate(db, "paul", "un mot de passe choisi") is None  # disabled
    finally:
        db.close()
    assert users(db_file, "enable", "paul").returncode == 0
    db = Database(f"sqlite:///{db_file}")
    try:
        assert authenticate(db, "paul", "un mot de passe choisi") is not None
    finally:
        db.close()


def test_an_unreachable_database_is_said_so(tmp_path: Path) -> None:
    env = {**os.environ, "CTI_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    done = subprocess.run(
        [sys.executable, "-m", "cti.users", "list"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert "Base de données injoignable" in done.stderr
