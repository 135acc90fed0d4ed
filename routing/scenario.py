"""Day scenarios: pydantic models, YAML loading, conversion to ``routing.day_model``.

Theory of operation: like ``routing.config``, ``load_scenario`` turns every failure (missing
file, YAML syntax, a field out of range, a reference to an unknown service or agent) into one
``ConfigError`` whose message names the file and the field, e.g.
``mairie.yaml: traffic.accueil.handle_mean_s: Input should be greater than 0``.

A scenario holds (or names, with ``routing_file``, relative to the scenario) a routing
configuration, a traffic profile (a weight per half-hour slot, "HH:MM" keys on :00 or :30),
per-service traffic, staff schedules, ring behaviour and callbacks (``callbacks:``
``share_pct`` of the callers who give up on a service with a ``callback:`` block in the
routing configuration ask to be called back; ``no_answer_pct`` of the attempts find nobody).
Times of day are written "HH:MM" and become seconds since midnight.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from routing.config import RoutingConfig, load_config, problems, read_yaml
from routing.day_model import (
    SLOT_S,
    AppQueueSpec,
    Break,
    CallbackSpec,
    DaySpec,
    RingSpec,
    ServiceTraffic,
    StaffSchedule,
)
from routing.errors import ConfigError


def _clock(value: object) -> float:
    """'08:30' -> 30600.0; numbers are taken as seconds since midnight."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        hours, sep, minutes = value.partition(":")
        if sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2:
            h, m = int(hours), int(minutes)
            if h <= 24 and m < 60 and h * 60 + m <= 24 * 60:
                return float(h * 3600 + m * 60)
    raise ValueError(f"{value!r} is not a time of day HH:MM")


def _slot(value: object) -> float:
    seconds = _clock(value)
    if seconds % SLOT_S:
        raise ValueError(f"{value!r} does not start a half-hour slot (HH:00 or HH:30)")
    return seconds


Clock = Annotated[float, BeforeValidator(_clock)]
Slot = Annotated[float, BeforeValidator(_slot)]
Profile = dict[Slot, Annotated[float, Field(ge=0)]]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrafficConfig(_Model):
    calls_per_day: float = Field(ge=0)
    handle_mean_s: float = Field(gt=0)
    handle_sigma: float = Field(default=0.6, ge=0, le=3)
    patience_mean_s: float = Field(gt=0)
    transfers: dict[str, Annotated[float, Field(ge=0, le=100)]] = Field(default_factory=dict)
    profile: Profile | None = None  # overrides the scenario's profile for this service

    @model_validator(mode="after")
    def _shares(self) -> TrafficConfig:
        if sum(self.transfers.values()) > 100:
            raise ValueError("transfers: shares add up to more than 100 %")
        return self


class BreakConfig(_Model):
    start: Clock
    minutes: float = Field(gt=0)


class StaffConfig(_Model):
    shifts: list[tuple[Clock, Clock]] = Field(min_length=1)
    breaks: list[BreakConfig] = Field(default_factory=list)
    no_answer_pct: float | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _times(self) -> StaffConfig:
        shifts = sorted(self.shifts)
        for start, end in shifts:
            if end <= start:
                raise ValueError(f"shifts: a shift ends ({_hhmm(end)}) before it starts")
        for (_, end), (start, _) in zip(shifts, shifts[1:], strict=False):
            if start < end:
                raise ValueError(f"shifts: shifts overlap at {_hhmm(start)}")
        for b in self.breaks:
            stop = b.start + b.minutes * 60
            if not any(s <= b.start and stop <= e for s, e in shifts):
                raise ValueError(f"breaks: the break at {_hhmm(b.start)} is not inside a shift")
        return self


class RingConfig(_Model):
    timeout_s: float = Field(default=15.0, gt=0)
    answer_delay_s: tuple[float, float] = (2.0, 8.0)
    no_answer_pct: float = Field(default=4.0, ge=0, le=100)
    unpause_after_s: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _delays(self) -> RingConfig:
        low, high = self.answer_delay_s
        if not 0 <= low <= high < self.timeout_s:
            raise ValueError("answer_delay_s: needs 0 <= min <= max < timeout_s")
        return self


class AppQueueConfig(_Model):
    retry_s: float = Field(default=5.0, ge=0)
    shared_lastcall: bool = True


class CallbacksConfig(_Model):
    """Callbacks in the day (our engine only), for services with a ``callback:`` block."""

    share_pct: float = Field(default=0.0, ge=0, le=100)
    no_answer_pct: float = Field(default=25.0, ge=0, le=100)


class ScenarioConfig(_Model):
    name: str
    routing: RoutingConfig | None = None
    routing_file: str | None = None
    scale: float = Field(default=1.0, gt=0)
    profile: Profile = Field(min_length=1)
    traffic: dict[str, TrafficConfig] = Field(min_length=1)
    staff: dict[str, StaffConfig] = Field(min_length=1)
    ring: RingConfig = RingConfig()
    app_queue: AppQueueConfig = AppQueueConfig()
    callbacks: CallbacksConfig = CallbacksConfig()

    @model_validator(mode="after")
    def _one_routing(self) -> ScenarioConfig:
        if (self.routing is None) == (self.routing_file is None):
            raise ValueError("give exactly one of routing (inline) or routing_file")
        return self


def _hhmm(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60:02}:{minutes % 60:02}"


def _check_references(config: ScenarioConfig, routing: RoutingConfig) -> None:
    for service, traffic in config.traffic.items():
        if service not in routing.services:
            raise ValueError(f"traffic.{service}: unknown service {service!r}")
        for target in traffic.transfers:
            if target not in routing.services:
                raise ValueError(f"traffic.{service}.transfers: unknown service {target!r}")
            if target == service:
                raise ValueError(f"traffic.{service}.transfers: {service!r} transfers to itself")
        profile = traffic.profile if traffic.profile is not None else config.profile
        if not sum(profile.values()) > 0:
            raise ValueError(f"traffic.{service}.profile: every slot weight is 0")
    for agent in config.staff:
        if agent not in routing.agents:
            raise ValueError(f"staff.{agent}: unknown agent {agent!r}")


def _to_spec(config: ScenarioConfig, routing: RoutingConfig) -> DaySpec:
    ring = config.ring
    traffic = {
        service: ServiceTraffic(
            service=service,
            calls_per_day=t.calls_per_day,
            slot_weights=dict(sorted((t.profile or config.profile).items())),
            handle_mean_s=t.handle_mean_s,
            handle_sigma=t.handle_sigma,
            patience_mean_s=t.patience_mean_s,
            transfers={target: pct / 100 for target, pct in sorted(t.transfers.items())},
        )
        for service, t in config.traffic.items()
    }
    staff = {
        agent: StaffSchedule(
            agent=agent,
            shifts=tuple(sorted(s.shifts)),
            breaks=tuple(
                Break(b.start, b.start + b.minutes * 60)
                for b in sorted(s.breaks, key=lambda b: b.start)
            ),
            no_answer=(ring.no_answer_pct if s.no_answer_pct is None else s.no_answer_pct) / 100,
        )
        for agent, s in sorted(config.staff.items())
    }
    return DaySpec(
        name=config.name,
        routing=routing.to_engine(),
        traffic=traffic,
        staff=staff,
        ring=RingSpec(ring.timeout_s, ring.answer_delay_s, ring.unpause_after_s),
        app_queue=AppQueueSpec(config.app_queue.retry_s, config.app_queue.shared_lastcall),
        scale=config.scale,
        callbacks=CallbackSpec(
            share=config.callbacks.share_pct / 100,
            no_answer=config.callbacks.no_answer_pct / 100,
            # A service takes callback requests when its routing configuration says how
            # it calls back (its ``callback:`` block), defaults or not.
            services=frozenset(
                name for name, s in routing.services.items() if "callback" in s.model_fields_set
            ),
        ),
    )


def parse_scenario(data: Any, source: str = "<scenario>", base: Path | None = None) -> DaySpec:
    """Validate already-parsed YAML data; ``routing_file`` is resolved against ``base``.

    Raises ``ConfigError`` naming ``source`` and the field at fault.
    """
    try:
        config = ScenarioConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {problems(exc)}") from None
    if config.routing is not None:
        routing = config.routing
    else:
        assert config.routing_file is not None
        routing = load_config((base or Path(".")) / config.routing_file)
    try:
        _check_references(config, routing)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return _to_spec(config, routing)


def load_scenario(path: str | Path) -> DaySpec:
    """Read and validate a scenario file; raises ``ConfigError``."""
    path = Path(path)
    return parse_scenario(read_yaml(path, "scenario"), str(path), path.parent)
