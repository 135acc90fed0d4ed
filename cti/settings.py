"""Settings, from environment variables prefixed ``CTI_`` (documented in the README).

With no ``CTI_AMI_HOST``, ``make demo`` runs an embedded simulated PBX instead of Asterisk.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from cti.ami.connection import AmiParams


class StartupError(Exception):
    """The product cannot start as configured (a port already taken...): the message says
    what to change, for the technician who reads it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CTI_", extra="ignore")

    ami_host: str | None = Field(
        default=None, description="Asterisk's AMI host; unset: simulated PBX"
    )
    ami_port: int = Field(default=5038, ge=1, le=65535)
    ami_username: str = "cti"
    ami_secret: str = ""
    ami_ping_interval: float = Field(default=10.0, gt=0)
    ami_action_timeout: float = Field(default=10.0, gt=0)
    ami_reconnect_min: float = Field(default=0.5, gt=0)
    ami_reconnect_max: float = Field(default=30.0, gt=0)
    ami_auth_retry_delay: float = Field(default=30.0, gt=0)
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    database_url: str = "sqlite:///cti.db"
    agi_host: str = Field(default="127.0.0.1", description="address of the FastAGI server")
    agi_port: int = Field(default=4573, ge=0, le=65535, description="FastAGI port (0: any)")
    sounds_dir: Path = Field(
        default=Path("sounds"),
        description="where the voice menu's sounds are written (<dir>/cti/<hash>.wav); "
        "Asterisk's sounds directory when it runs on this machine",
    )
    sounds_url: str | None = Field(
        default=None,
        description="base URL at which Asterisk fetches this product's /sounds (another "
        "machine); unset: Asterisk reads sounds_dir",
    )
    tts_voice: str = Field(default="fr", description="espeak-ng voice of the speech synthesis")
    recording_max_seconds: float = Field(
        default=120.0, gt=0, le=600, description="longest recording the editor accepts"
    )
    routing_config: Path = Field(
        default=Path(__file__).resolve().parent.parent / "routing" / "demo.yaml",
        description="YAML routing configuration loaded into an empty database",
    )
    safety_net: float = Field(
        default=60.0,
        gt=0,
        description="seconds the dialplan waits for a silent service (SAFETY_NET)",
    )
    router_lease_ttl: float = Field(
        default=0.0,
        ge=0,
        le=60,
        description="seconds of the router's lease in the database; 0: a single node. Above 0, "
        "this node drives the PBX only while it holds the lease, and a standby sharing the "
        "same PostgreSQL takes over when it is lost",
    )
    router_lease_name: str = Field(
        default="default", description="the PBX the lease is for (one lease per PBX)"
    )
    role: Literal["all", "router", "web"] = Field(
        default="all",
        description="what this process runs: all (one node: AMI, router, pages), router (AMI "
        "and router, its pages' messages through the broker), web (pages and sockets only, "
        "everything else asked of the router through the broker)",
    )
    broker_url: str | None = Field(
        default=None,
        description="the broker (NATS with JetStream) between router and web nodes, e.g. "
        "nats://127.0.0.1:4222, or a NATS cluster's servers comma-separated; needed by the "
        "router and web roles",
    )
    broker_replicas: int = Field(
        default=1,
        ge=1,
        le=5,
        description="servers of the NATS cluster that keep the domain events' stream (3 with "
        "a three-server cluster: one server lost loses no event)",
    )
    callback_agent_ring: float = Field(
        default=20.0,
        gt=0,
        le=120,
        description="seconds the agent's phone rings for a callback she accepted (AGENT_RING)",
    )
    ivr_max_bytes: int = Field(
        default=512 * 1024, ge=1024, description="largest voice-menu text the editor accepts"
    )
    ivr_max_nodes: int = Field(default=1000, ge=10, description="most nodes a voice menu may have")
    ivr_check_timeout: float = Field(
        default=10.0, gt=0, description="seconds a voice menu's reading and checking may take"
    )
    whatif_max_calls: int = Field(
        default=20_000, ge=1, description="most recorded calls one « Et si… » replay takes"
    )
    whatif_max_days: int = Field(
        default=31, ge=1, description="longest period, in days, of an « Et si… » replay"
    )
    whatif_timeout: float = Field(
        default=60.0, gt=0, description="seconds an « Et si… » replay may compute"
    )
    default_service: str = Field(
        default="accueil", description="service for calls whose menu choice is unknown"
    )
    sl_alert_min_calls: int = Field(
        default=5,
        ge=1,
        description="calls settled in the last 30 minutes before a service-level alert is raised",
    )
    sl_alert_clear_margin: float = Field(
        default=5.0,
        ge=0,
        description="points above its target the service level must reach to clear its alert",
    )
    demo_citizens: int = Field(default=50_000, ge=10, description="citizens seeded by make demo")
    sim_rate: float = Field(default=2.5, ge=0, description="simulated calls per minute")
    sim_seed: int = 1
    sim_time_scale: float = Field(default=1.0, gt=0, description="<1 makes simulated calls faster")
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field(
        default="text", description="json: one JSON object per line (ts, level, logger, ...)"
    )
    retention_calls_days: int = Field(
        default=365, ge=1, description="days before a call's caller and citizen are forgotten"
    )
    retention_notes_days: int = Field(
        default=365, ge=1, description="days before an agent's note text is erased"
    )
    retention_ivr_days: int = Field(
        default=90, ge=1, description="days before a call's voice-menu path is erased"
    )
    metrics_token: str | None = Field(
        default=None, description="bearer token for /metrics; unset: loopback only"
    )
    spool_dir: Path | None = Field(
        default=None,
        description="where writes the database refused wait for it (a crash loses none); "
        "unset: beside the SQLite file (<file>-spool), else ./spool",
    )
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="reverse proxies (addresses or CIDR, comma-separated) whose "
        "X-Forwarded-For/-Proto are believed; empty: none",
    )
    cookie_secure: Literal["true", "false", "auto"] = Field(
        default="auto",
        description="session cookie's Secure flag; auto: except plain HTTP from this machine",
    )

    def spool_directory(self) -> Path:
        """``spool_dir``, or its default: ``cti.db-spool`` beside an SQLite file, ``spool``."""
        if self.spool_dir is not None:
            return self.spool_dir
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            path = Path(str(url.database))
            return path.with_name(path.name + "-spool")
        return Path("spool")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: object) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise ValueError("une liste d'adresses ou de réseaux (10.0.0.5,192.168.1.0/24)")
        proxies = tuple(str(item).strip() for item in items if str(item).strip())
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"« {proxy} » n'est ni une adresse IP ni un réseau (10.0.0.0/8)"
                ) from exc
        return proxies

    @field_validator("cookie_secure", mode="before")
    @classmethod
    def _secure(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    def ami_params(self, host: str | None = None, port: int | None = None) -> AmiParams:
        return AmiParams(
            host=host or self.ami_host or "127.0.0.1",
            port=port or self.ami_port,
            username=self.ami_username,
            secret=self.ami_secret,
            ping_interval=self.ami_ping_interval,
            action_timeout=self.ami_action_timeout,
            reconnect_min=self.ami_reconnect_min,
            reconnect_max=self.ami_reconnect_max,
            auth_retry_delay=self.ami_auth_retry_delay,
        )
