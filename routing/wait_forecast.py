"""Will a caller make her service-level threshold waiting for a fully qualified agent?

Theory of operation: a service's proficiency floors (relaxation steps that only lower the
minimum proficiency) used to apply after a fixed wait, usually longer than the service-level
threshold: by then the caller had missed it whatever happened. Now a call that finds no fully
qualified agent free is *forecast* at once, and if it would miss its threshold, its floors
apply from the start (its extra-skill steps keep their configured times: they let in agents
without the skill, which app_queue never rings). Fully qualified agents are still preferred
whenever one is free (``routing.agent_rank``), so a floor applied early only changes who may
take the call, not who is tried first.

The forecast is deliberately simple and observable: the fully qualified agents who are
working (``routing.states.WORKING``: ready, ringing, on a call or in wrap-up)
free up about once per ``work / working`` seconds, where ``work`` is the service's observed
handling time (talk plus wrap-up, an exponential moving average of the calls answered so far);
with ``ahead`` calls of the service already waiting, this caller waits about
``(ahead + 1) * work / working``. Before the first call of the service has ended nothing is
forecast (floors keep their configured times). Pure: fed by the engine, no clock.

``routing.caller_forecast`` answers another question, for the caller: her place across the
services that share her agents and when any agent able to take her will, relaxation steps
included. Both count the same agents as working; they differ on the handling time (see
there why the caller's is still a constant).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

SMOOTHING = 0.1  # weight of the newest handling time in the moving average


class WaitForecast:
    __slots__ = ("_work", "_working", "_fully_for", "_answered_at")

    def __init__(self, fully: Mapping[str, Sequence[str]]) -> None:
        """``fully``: per service, the agents meeting its unrelaxed requirement."""
        self._work: dict[str, float] = {}
        self._working = dict.fromkeys(fully, 0)
        self._fully_for: dict[str, list[str]] = {}
        for service, agents in fully.items():
            for agent in agents:
                self._fully_for.setdefault(agent, []).append(service)
        self._answered_at: dict[str, float] = {}

    def working_changed(self, agent: str, working: bool) -> None:
        """The agent started (True) or stopped (False) working."""
        step = 1 if working else -1
        for service in self._fully_for.get(agent, ()):
            self._working[service] += step

    def answered(self, agent: str, at: float) -> None:
        self._answered_at[agent] = at

    def finished(self, agent: str, service: str | None, at: float, wrap_up_s: float) -> None:
        began = self._answered_at.pop(agent, None)
        if began is None or service is None:
            return
        work = at - began + wrap_up_s
        old = self._work.get(service)
        self._work[service] = work if old is None else old + SMOOTHING * (work - old)

    def wait(self, service: str, ahead: int) -> float | None:
        """The forecast wait of a caller with ``ahead`` calls before her; None if unknown."""
        work = self._work.get(service)
        if work is None:
            return None
        working = self._working[service]
        return (ahead + 1) * work / working if working else float("inf")
