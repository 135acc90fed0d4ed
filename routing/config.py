"""Routing configuration: pydantic models, YAML loading, conversion to engine dataclasses.

Theory of operation: ``load_config`` parses YAML, validates it with the models below and turns
every failure (missing file, YAML syntax, a field out of range, a reference to something
undeclared) into one ``ConfigError`` whose message names the service, agent and field. Skills
must be declared under ``skills`` (name -> French label) so a typo is an error, not a skill
nobody has. ``RoutingConfig.to_engine()`` gives the plain dataclasses the engine runs on.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

import yaml  # type: ignore[import-untyped]
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from routing.callbacks.rules import RetryRules
from routing.errors import ConfigError
from routing.model import (
    AgentSpec,
    AnnounceRules,
    EngineConfig,
    OverflowKind,
    OverflowTarget,
    RelaxationStep,
    ServiceSpec,
)

# Phones one call may ring at once: beyond a few, a no-answer costs nothing but every ring
# takes a free colleague away from the next call for its whole length.
MAX_RING_TOGETHER = 5


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_levels(value: dict[str, int]) -> dict[str, int]:
    for skill, level in value.items():
        if not 1 <= level <= 5:
            raise ValueError(f"skill {skill!r}: proficiency {level} is outside 1..5")
    return value


#: skill -> proficiency (1..5)
Skills = Annotated[dict[str, int], AfterValidator(_check_levels)]


class OverflowConfig(_Model):
    kind: Literal["voicemail", "callback", "service"] = "voicemail"
    target: str | None = None

    @model_validator(mode="after")
    def _service_needs_target(self) -> OverflowConfig:
        if self.kind == "service" and not self.target:
            raise ValueError("overflow to a service needs a target service name")
        return self


class RelaxationConfig(_Model):
    after_s: float = Field(gt=0)
    min_proficiency: int | None = Field(default=None, ge=1, le=5)
    extra_skills: Skills = Field(default_factory=dict)

    @model_validator(mode="after")
    def _does_something(self) -> RelaxationConfig:
        if self.min_proficiency is None and not self.extra_skills:
            raise ValueError("a relaxation step needs min_proficiency or extra_skills")
        return self


class CallbackRulesConfig(_Model):
    """How the service calls back (``routing.callbacks.rules``)."""

    attempts: int = Field(default=3, ge=1, le=10)
    spacing_min: float = Field(default=15.0, gt=0)
    expiry_days: float = Field(default=5.0, gt=0)
    # While waiting: « tapez 1 pour être rappelé, vous gardez votre place », after this wait.
    offer_in_wait: bool = False
    offer_after_s: float = Field(default=120.0, gt=0)


class AnnounceConfig(_Model):
    """Position and expected wait told to the service's waiting callers (default: nothing)."""

    on_entry: bool = False
    every_s: float = Field(default=0.0, ge=0, le=3600)  # 0: not repeated
    position: bool = True
    wait: bool = True

    @field_validator("every_s")
    @classmethod
    def _not_too_often(cls, value: float) -> float:
        # A sentence lasts a few seconds: repeating it more often than every 30 s is noise.
        if 0 < value < 30:
            raise ValueError("repeat at most every 30 seconds (0: not repeated)")
        return value

    @model_validator(mode="after")
    def _sayable(self) -> AnnounceConfig:
        if (self.on_entry or self.every_s) and not (self.position or self.wait):
            raise ValueError("an announcement says the position, the wait, or both")
        return self


class ServiceConfig(_Model):
    label: str
    required_skills: Skills = Field(min_length=1)
    priority: int = 0
    sl_target_pct: float = Field(default=80.0, ge=0, le=100)
    sl_threshold_s: float = Field(default=30.0, gt=0)
    max_wait_s: float = Field(default=300.0, gt=0)
    wrap_up_s: float = Field(default=0.0, ge=0)
    overflow: OverflowConfig = OverflowConfig()
    relaxation: list[RelaxationConfig] = Field(default_factory=list)
    case_owner_first_s: float = Field(default=0.0, ge=0)
    callback: CallbackRulesConfig = CallbackRulesConfig()
    announce: AnnounceConfig = AnnounceConfig()


class AgentConfig(_Model):
    name: str
    skills: Skills = Field(default_factory=dict)
    languages: set[str] = Field(default_factory=lambda: {"fr"}, min_length=1)


class RoutingConfig(_Model):
    skills: dict[str, str]  # skill -> French label
    services: dict[str, ServiceConfig] = Field(min_length=1)
    agents: dict[str, AgentConfig] = Field(default_factory=dict)
    max_missed_offers: int = Field(default=3, ge=1)
    # Phones rung at once for one call, the first to answer takes it (one Dial of several
    # phones in cti-connect). 1: one phone at a time, as app_queue's linear strategies.
    ring_together: int = Field(default=1, ge=1, le=MAX_RING_TOGETHER)

    @model_validator(mode="after")
    def _references(self) -> RoutingConfig:
        def known(skills: dict[str, int], where: str) -> None:
            for skill in skills:
                if skill not in self.skills:
                    raise ValueError(f"{where}: unknown skill {skill!r}")

        for name, service in self.services.items():
            known(service.required_skills, f"service {name!r}, required_skills")
            for i, step in enumerate(service.relaxation):
                known(step.extra_skills, f"service {name!r}, relaxation[{i}].extra_skills")
            target = service.overflow.target
            if service.overflow.kind == "service" and target not in self.services:
                raise ValueError(f"service {name!r}, overflow: unknown target service {target!r}")
        for agent, config in self.agents.items():
            known(config.skills, f"agent {agent!r}, skills")
        self._no_overflow_cycle()
        return self

    def _no_overflow_cycle(self) -> None:
        for start in self.services:
            seen = [start]
            overflow = self.services[start].overflow
            while overflow.kind == "service" and overflow.target is not None:
                if overflow.target in seen:
                    cycle = " -> ".join([*seen, overflow.target])
                    raise ValueError(f"service {start!r}, overflow: cycle {cycle}")
                seen.append(overflow.target)
                overflow = self.services[overflow.target].overflow

    def to_engine(self) -> EngineConfig:
        services = {
            name: ServiceSpec(
                name=name,
                label=s.label,
                required_skills=dict(s.required_skills),
                priority=s.priority,
                sl_target_pct=s.sl_target_pct,
                sl_threshold_s=s.sl_threshold_s,
                max_wait_s=s.max_wait_s,
                wrap_up_s=s.wrap_up_s,
                overflow=OverflowTarget(OverflowKind(s.overflow.kind), s.overflow.target),
                relaxation=tuple(
                    RelaxationStep(r.after_s, r.min_proficiency, dict(r.extra_skills))
                    for r in sorted(s.relaxation, key=lambda r: r.after_s)
                ),
                case_owner_first_s=s.case_owner_first_s,
                callback=RetryRules(
                    attempts=s.callback.attempts,
                    spacing=timedelta(minutes=s.callback.spacing_min),
                    expiry=timedelta(days=s.callback.expiry_days),
                    offer_in_wait_after=(
                        timedelta(seconds=s.callback.offer_after_s)
                        if s.callback.offer_in_wait
                        else None
                    ),
                ),
                announce=AnnounceRules(
                    s.announce.on_entry, s.announce.every_s, s.announce.position, s.announce.wait
                ),
            )
            for name, s in self.services.items()
        }
        agents = {
            agent: AgentSpec(agent, a.name, dict(a.skills), frozenset(a.languages))
            for agent, a in self.agents.items()
        }
        return EngineConfig(
            services,
            agents,
            self.max_missed_offers,
            ring_together=self.ring_together,
            skill_labels=dict(self.skills),
        )


def problems(exc: ValidationError) -> str:
    """Every validation failure as ``field.path: message``, joined: what ``ConfigError`` says."""
    return "; ".join(
        f"{'.'.join(str(part) for part in err['loc']) or '(top level)'}: "
        f"{err['msg'].removeprefix('Value error, ')}"
        for err in exc.errors()
    )


def read_yaml(path: Path, what: str) -> object:
    """The parsed YAML of ``path``; raises ``ConfigError`` naming the file and ``what`` it is."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what} ({exc.strerror})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None


def parse_config(data: object, source: str = "<config>") -> RoutingConfig:
    """Validate already-parsed YAML/JSON data."""
    try:
        return RoutingConfig.model_validate(data)
    except ValidationError as exc:
        error = ConfigError(f"{source}: {problems(exc)}")
        error.validation = exc  # forms show each failure beside its field
        raise error from None


def load_config(path: str | Path) -> RoutingConfig:
    path = Path(path)
    return parse_config(read_yaml(path, "routing configuration"), str(path))
