"""The pooled bound: every agent takes every call, longest idle first.

Theory of operation: a router that respects skills can only ever choose among fewer agents
than one that ignores them, so the same day replayed with every requirement dropped shows
how far any skill-based router is from the best the staff could do. It is our own engine run
on a configuration where every service requires nothing (every agent qualifies at level 0
with the same score, so the longest idle is chosen), without relaxation or case-owner holds;
service priorities, wrap-ups and max waits are kept, so only the skills differ. Its
"qualified" share is still measured against the real requirements by the report.
"""

from __future__ import annotations

from dataclasses import replace

from routing.model import EngineConfig


def pooled_config(config: EngineConfig) -> EngineConfig:
    """``config`` with every service open to every agent."""
    services = {
        name: replace(spec, required_skills={}, relaxation=(), case_owner_first_s=0.0)
        for name, spec in config.services.items()
    }
    return replace(config, services=services)
