"""Fixtures of the multi-node tests: a nats-server of the test's own and the cluster lab
(router, standbys and web nodes on PostgreSQL), written once for every test file here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.broker_lab import NATS_SERVER, NatsServer, nats_server
from bench.cluster_lab import ClusterLab, cluster_lab


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[NatsServer]:
    if NATS_SERVER is None:
        pytest.skip("nats-server is not installed (Debian package nats-server)")
    async with nats_server(tmp_path / "jetstream") as server:
        yield server


@pytest.fixture
async def lab(database_url: str, tmp_path: Path) -> AsyncIterator[ClusterLab]:
    if database_url.startswith("sqlite"):
        pytest.skip("routers and web nodes share PostgreSQL (CTI_TEST_DATABASE_URL)")
    async with cluster_lab(database_url, tmp_path, ttl=1.5) as lab:
        yield lab
