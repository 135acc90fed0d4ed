"""Who qualifies for a service, from when, and how well.

Theory of operation: skills and services are static, so for every (agent, service) pair we
compute once the *level* (number of relaxation steps passed) from which the agent qualifies,
or ``None`` if she never does, and her score on the service's required skills. The engine
indexes ready agents by that level, so a call at level L only looks at agents of level <= L,
and a freed agent only at calls whose level is >= hers. A call's level is a pure function of
its arrival time and the current time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routing.model import ServiceSpec


@dataclass(frozen=True, slots=True)
class Requirement:
    """What an agent needs at one level: every skill of ``all_of``, or any one of ``any_of``."""

    all_of: Mapping[str, int]
    any_of: Mapping[str, int]

    def accepts(self, skills: Mapping[str, int]) -> bool:
        if all(skills.get(s, 0) >= m for s, m in self.all_of.items()):
            return True
        return any(skills.get(s, 0) >= m for s, m in self.any_of.items())


def requirements(service: ServiceSpec) -> tuple[Requirement, ...]:
    """The requirement at each level: index 0 before any step, k after k steps."""
    floor: int | None = None
    extra: dict[str, int] = {}
    out = [Requirement(dict(service.required_skills), {})]
    for step in service.relaxation:
        if step.min_proficiency is not None:
            floor = step.min_proficiency if floor is None else min(floor, step.min_proficiency)
        for skill, level in step.extra_skills.items():
            extra[skill] = min(level, extra.get(skill, level))
        all_of = {
            s: (m if floor is None else min(m, floor)) for s, m in service.required_skills.items()
        }
        out.append(Requirement(all_of, dict(extra)))
    return tuple(out)


def qualifying_level(skills: Mapping[str, int], levels: tuple[Requirement, ...]) -> int | None:
    """The first level at which these skills qualify, or None if they never do."""
    for level, requirement in enumerate(levels):
        if requirement.accepts(skills):
            return level
    return None


def score(skills: Mapping[str, int], service: ServiceSpec) -> tuple[int, int]:
    """Proficiency on the service's required skills: (lowest, total); higher is better.

    An agent let in by an extra skill of a relaxation step usually lacks a required skill and
    scores 0, so real specialists are always preferred.
    """
    values = [skills.get(s, 0) for s in service.required_skills]
    return (min(values, default=0), sum(values))


def level_at(service: ServiceSpec, since: float, now: float) -> int:
    """How many relaxation steps a call that started waiting at ``since`` has passed."""
    level = 0
    for step in service.relaxation:
        if now >= since + step.after_s:
            level += 1
        else:
            break
    return level


def next_step_at(service: ServiceSpec, since: float, level: int) -> float | None:
    """When a call at ``level`` reaches the next one, or None after the last step."""
    if level < len(service.relaxation):
        return since + service.relaxation[level].after_s
    return None


def floor_levels(service: ServiceSpec) -> int:
    """How many of the first steps only lower proficiency floors (no extra skill).

    These are the steps a caller forecast to miss her threshold passes at once
    (``routing.wait_forecast``)."""
    count = 0
    for step in service.relaxation:
        if step.extra_skills or step.min_proficiency is None:
            break
        count += 1
    return count


def floors_due_at(service: ServiceSpec, since: float) -> float:
    """When a call still waiting gets its floors whatever its forecast: at half its
    service-level threshold, leaving the other half for an agent at the floor to be rung
    and answer. Measured on 32 days (samples and generated days 1-30, seeds 1-3): +0.18
    point of service level on average against the forecast alone, at a quarter of the
    threshold the same, 10 s before the threshold less; a second forecast at that
    moment instead of applying them gained less (+0.09)."""
    return since + service.sl_threshold_s / 2


def level_in_force(service: ServiceSpec, since: float, now: float, early: int) -> int:
    """The call's level: the steps its wait has passed, or the floors granted early."""
    return max(level_at(service, since, now), early)
