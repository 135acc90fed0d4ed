"""Who is preferred for what: the fixed order among qualified agents and among services.

Theory of operation: skills and services do not change during a day, so everything here is
computed once, when the engine is built.

* Among free agents for a call, the engine prefers (smallest first) the *rank*
  ``(first level, spare cost, -lowest proficiency, -total proficiency)``, then the longest
  idle, then the smallest extension. The first level (0: meets the unrelaxed requirement)
  comes first so that an agent let in by relaxation is only rung when no fully qualified
  agent is free. The *spare cost* is what the other services lose while she takes this call:
  for each other service she fully qualifies for, one over the number of agents who fully
  qualify for it. An agent who only does this service costs 0; one who is also one of three
  for urbanisme costs 1/3. So versatile agents and the few who can take a scarce service are
  kept for the calls only they can take (on the sample day, this alone raises the qualified
  share by about a point at the same service level).
* A freed agent looks at services in *tiers*: first the services she fully qualifies for, by
  decreasing priority, then those she may take only once a call's requirement is relaxed,
  by decreasing priority. Her own work comes before a relaxed call of a higher-priority
  service: app_queue's ``compare_weight`` does the opposite and pays for it in qualified
  share, and on an overloaded day in service level too (a versatile agent stuck on a long
  call of another service while her own short calls wait).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routing.model import AgentSpec, ServiceSpec
from routing.requirements import qualifying_level, requirements, score

Rank = tuple[float, ...]
Tier = list[tuple[str, int]]  # (service, her first level for it)


@dataclass(frozen=True, slots=True)
class AgentTables:
    entries: dict[str, list[tuple[str, int, Rank]]]  # agent -> (service, first level, rank)
    tiers: dict[str, list[Tier]]  # agent -> the services she looks at, best tier first
    serves: dict[str, tuple[str, ...]]  # agent -> services she can ever take
    first_level: dict[tuple[str, str], int]  # (agent, service) -> first level
    fully: dict[str, tuple[str, ...]]  # service -> agents meeting its unrelaxed requirement


def agent_tables(
    services: Mapping[str, ServiceSpec], agents: Mapping[str, AgentSpec]
) -> AgentTables:
    levels = {name: requirements(spec) for name, spec in services.items()}
    first = {
        (agent, name): level
        for agent, spec in agents.items()
        for name in services
        if (level := qualifying_level(spec.skills, levels[name])) is not None
    }
    fully = {
        name: tuple(a for a in agents if first.get((a, name)) == 0) for name in sorted(services)
    }
    by_priority = sorted(services.values(), key=lambda s: (-s.priority, s.name))
    entries: dict[str, list[tuple[str, int, Rank]]] = {}
    tiers: dict[str, list[Tier]] = {}
    for agent, spec in agents.items():
        mine = [s for s in by_priority if (agent, s.name) in first]
        own = [s.name for s in mine if first[(agent, s.name)] == 0]
        rows: list[tuple[str, int, Rank]] = []
        for service in mine:
            level = first[(agent, service.name)]
            cost = sum(1 / len(fully[o]) for o in own if o != service.name)
            low, total = score(spec.skills, service)
            rows.append((service.name, level, (level, round(cost, 9), -low, -total)))
        entries[agent] = rows
        agent_tiers: list[Tier] = []
        last: tuple[bool, int] | None = None
        for service in sorted(mine, key=lambda s: first[(agent, s.name)] > 0):  # stable
            key = (first[(agent, service.name)] > 0, service.priority)
            if key != last:
                agent_tiers.append([])
                last = key
            agent_tiers[-1].append((service.name, first[(agent, service.name)]))
        tiers[agent] = agent_tiers
    return AgentTables(
        entries,
        tiers,
        {agent: tuple(row[0] for row in rows) for agent, rows in entries.items()},
        first,
        fully,
    )
