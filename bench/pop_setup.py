"""The screen-pop bench's set-up: the directory, the agents' accounts and logins.

A SQLite directory seeded as the demo's with the agents' accounts (password hashing made
cheap for the set-up only: not on the timed path), the callers' numbers (``UNKNOWN_SHARE``
of them not in the directory), the demo's routing configuration with the bench's agents,
and each agent logged in and on Pause, her socket to be opened by the clients' process.
"""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import sqlite3
import ssl
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import httpx
import yaml  # type: ignore[import-untyped]
from argon2 import PasswordHasher

from bench.pop_clients import ClientSocket
from cti.db import Database
from cti.settings import Settings
from cti.web.auth import COOKIE
from screenpop import accounts
from screenpop.seed import seed_demo

UNKNOWN_SHARE = 0.1  # callers not in the directory
PASSWORD = "bench"


def callers(db_path: Path, count: int, seed: int) -> tuple[list[str], int]:
    """National numbers of ``count`` callers, ``UNKNOWN_SHARE`` of them not in the directory."""
    conn = sqlite3.connect(db_path)
    known = [r[0] for r in conn.execute("SELECT e164 FROM phone_numbers ORDER BY id")]
    conn.close()
    taken = set(known)
    rng = random.Random(seed)
    numbers, unknown = [], 0
    for _ in range(count):
        if rng.random() < UNKNOWN_SHARE:
            while (e164 := f"+339{rng.randrange(10**8):08d}") in taken:
                pass
            unknown += 1
        else:
            e164 = rng.choice(known)
        numbers.append("0" + e164[3:] if e164.startswith("+33") else e164)
    return numbers, unknown


def routing_config(path: Path, extensions: list[str]) -> Path:
    """The demo's routing configuration (services, skills) with our agents instead of its six."""
    config = yaml.safe_load(Settings().routing_config.read_text(encoding="utf-8"))
    models = list(config["agents"].values())
    config["agents"] = {
        ext: {**models[i % len(models)], "name": f"Agent {ext}"} for i, ext in enumerate(extensions)
    }
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def prepare(db_path: Path, extensions: list[str], citizens: int) -> None:
    db = Database(f"sqlite:///{db_path}")
    db.migrate()
    seed_demo(db, citizens=citizens, seed=7)
    for ext in extensions:
        accounts.create_user(db, f"agent{ext}", PASSWORD, accounts.Role.AGENT, f"Agent {ext}", ext)
    db.close()


@contextlib.contextmanager
def cheap_hashing() -> Iterator[None]:
    with mock.patch.object(
        accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    ):
        yield


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@contextlib.contextmanager
def quiet(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


async def log_in(port: int, ext: str, tls: ssl.SSLContext) -> ClientSocket:
    """Log in as the agent and go on Pause; the agent's socket, to be opened by the clients."""
    # A client (cookie jar) per agent, one TLS context for all: unused, but costly to build.
    http = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=http, verify=tls) as client:
        response = await client.post(
            "/api/login", json={"username": f"agent{ext}", "password": PASSWORD}
        )
        response.raise_for_status()
        token = response.cookies[COOKIE]
        response = await client.post(
            "/api/agent/state",
            json={"state": "paused", "reason": "banc d'essai"},
            headers={"X-CSRF-Token": response.json()["csrf"]},
        )
        response.raise_for_status()
    headers = {"Cookie": f"{COOKIE}={token}", "Origin": http}
    return ClientSocket(f"ws://127.0.0.1:{port}/ws/agent", headers, hello=ext)
