"""Start-up with a port already taken: a message naming the port and the setting to change.

The product is assembled for real (``cti.assembly.running``); another socket holds the port.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from cti.assembly import running
from cti.settings import Settings, StartupError


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.fixture
def closed_port() -> Iterator[int]:
    """Bound, not listening: the AMI connection is refused at once and retries later."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_a_taken_web_port_names_cti_http_port(tmp_path: Path, taken_port: int) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cti.db'}",
        http_port=taken_port,
        demo_citizens=10,
        sim_rate=0,
    )
    with pytest.raises(StartupError, match=f"127.0.0.1:{taken_port}.*CTI_HTTP_PORT"):
        async with running(settings, simulated=True, traffic=False):
            pass


async def test_a_taken_fastagi_port_names_cti_agi_port(
    tmp_path: Path, taken_port: int, closed_port: int
) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cti.db'}",
        http_port=0,
        agi_port=taken_port,
        ami_host="127.0.0.1",
        ami_port=closed_port,
        ami_reconnect_min=3600,
        ami_reconnect_max=3600,
    )
    with pytest.raises(StartupError, match=f"127.0.0.1:{taken_port}.*CTI_AGI_PORT"):
        async with running(settings, simulated=False):
            pass
