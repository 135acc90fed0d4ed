"""The engine's view of the configuration: plain frozen dataclasses, no validation.

Theory of operation: ``routing.config`` validates the YAML with pydantic and converts it into
these dataclasses once; the engine only reads them. A service's requirement changes with the
call's wait through *relaxation steps*: at level 0 the agent needs every required skill at its
minimum; each step passed (``after_s`` seconds of wait) may lower every minimum to
``min_proficiency`` and/or accept extra skills on their own (any one of them at its level is
enough). Requirements only ever loosen, so "qualifies at level k" implies "at every level > k".
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from routing.callbacks.rules import RetryRules


class OverflowKind(enum.Enum):
    VOICEMAIL = "voicemail"
    CALLBACK = "callback"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class OverflowTarget:
    kind: OverflowKind
    target: str | None = None  # a service name for SERVICE, a mailbox or list otherwise


@dataclass(frozen=True, slots=True)
class RelaxationStep:
    after_s: float
    min_proficiency: int | None = None
    extra_skills: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AnnounceRules:
    """What a waiting caller of the service is told (``routing.wait_announce``): on entry
    and/or every ``every_s`` seconds of her wait, her position and/or her expected wait."""

    on_entry: bool = False
    every_s: float = 0.0  # 0: not repeated
    position: bool = True
    wait: bool = True

    @property
    def active(self) -> bool:
        return (self.on_entry or self.every_s > 0) and (self.position or self.wait)


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    label: str
    required_skills: Mapping[str, int]
    priority: int = 0
    sl_target_pct: float = 80.0
    sl_threshold_s: float = 30.0
    max_wait_s: float = 300.0
    wrap_up_s: float = 0.0
    overflow: OverflowTarget = OverflowTarget(OverflowKind.VOICEMAIL)
    relaxation: tuple[RelaxationStep, ...] = ()  # sorted by after_s
    case_owner_first_s: float = 0.0
    callback: RetryRules = RetryRules()  # how its callback requests are retried
    announce: AnnounceRules = AnnounceRules()  # position and wait told to its callers


@dataclass(frozen=True, slots=True)
class AgentSpec:
    agent: str  # the phone extension, e.g. "201"
    name: str
    skills: Mapping[str, int]
    languages: frozenset[str] = frozenset({"fr"})


@dataclass(frozen=True, slots=True)
class EngineConfig:
    services: Mapping[str, ServiceSpec]
    agents: Mapping[str, AgentSpec]
    max_missed_offers: int = 3
    # Phones rung at once for one call (the first to answer takes it): the shell carries
    # them out as one Dial of several phones (cti/router.py, asterisk-conf's cti-connect).
    ring_together: int = 1
    skill_labels: Mapping[str, str] = field(default_factory=dict)  # skill -> French label
