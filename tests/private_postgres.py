"""A PostgreSQL server of a test's own, to stop and start at will.

The machine's shared server (5432) serves every other test: an outage test must never stop
it. This one is a cluster made by ``initdb`` in a temporary directory, on a free port, with
trust authentication on loopback only, and removed at the end. PostgreSQL refuses to run as
root: when the tests do, the cluster belongs to the ``postgres`` user and its commands run
through ``runuser``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN = Path(os.environ.get("CTI_TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
OWNER = "postgres"  # who runs the cluster when the tests run as root


class ServerError(AssertionError):
    """A command on the private server failed: the message has its output."""


def unavailable() -> str | None:
    """Why a private server cannot be made here, or None."""
    if not (BIN / "initdb").exists():
        return f"no initdb in {BIN} (Debian package postgresql-15; CTI_TEST_POSTGRES_BIN)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(OWNER)
        except KeyError:
            return f"running as root and no {OWNER!r} user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root and no runuser to run PostgreSQL as another user"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateServer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> str:
        argv = [str(BIN / command[0]), *command[1:]]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", OWNER, "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
        if done.returncode != 0:
            raise ServerError(f"{' '.join(command[:2])} failed: {done.stdout}{done.stderr}")
        return done.stdout

    def create(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )

    def start(self) -> None:
        """Start and wait until it takes connections (``pg_ctl -w``)."""
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.folder} -c fsync=off"
        )
        self._run("pg_ctl", "start", "-w", "-D", str(self.data), "-o", options, "-l", self.log_path)

    def stop(self) -> None:
        """``pg_ctl stop -m fast``: open connections cut, new ones refused; waits until down."""
        self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data))

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    @property
    def log_path(self) -> str:
        return str(self.folder / "server.log")


@contextlib.contextmanager
def private_server() -> Iterator[PrivateServer]:
    """A running PostgreSQL server of the caller's own, removed at the end (the test is
    skipped where none can be made)."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    # Not under pytest's tmp_path: PostgreSQL's user must be able to reach the directory.
    folder = Path(tempfile.mkdtemp(prefix="cti-private-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, OWNER, OWNER)
    server = PrivateServer(folder)
    try:
        server.create()
        server.start()
        yield server
    finally:
        if server.running:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
