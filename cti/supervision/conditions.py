"""When the wallboard's alerts hold, and what they say (in French, for the supervisors).

Each condition has a key (kind, service or agent) and a message; ``AlertBook.evaluate`` turns
the set that holds now into raised and cleared alerts. The service-level condition has a
hysteresis (a minimum volume to raise it, a margin above target to clear it).
"""

from __future__ import annotations

from cti.supervision import callbacks
from cti.supervision.alerts import AlertEvent, AlertKind, Conditions
from cti.supervision.state import BoardState, Stage
from routing.model import ServiceSpec

OVERLOAD_S = 5.0  # seconds behind past which the supervisors are told the cards are late


class AlertConditions(BoardState):
    def _service_level_low(self, name: str, spec: ServiceSpec) -> float | None:
        """The level over the window when its alert should hold: under target on enough
        calls to raise it; once raised, until it is back above target by the margin."""
        pct, count = self._window_pct(name)
        if pct is None:
            return None
        if self.book.is_active((AlertKind.SERVICE_LEVEL, name)):
            return pct if pct < spec.sl_target_pct + self.sl_clear_margin_pct else None
        return pct if count >= self.sl_min_outcomes and pct < spec.sl_target_pct else None

    def _conditions(self) -> Conditions:
        """Every alert condition that holds now: key -> (service, agent, French message)."""
        out: Conditions = {}
        longest: dict[str, float] = {}  # service -> longest wait, in one pass over the calls
        for call in self.calls.values():
            if call.stage is Stage.WAITING and call.service and call.queued_at is not None:
                waited = self.now - call.queued_at
                if waited > longest.get(call.service, -1.0):
                    longest[call.service] = waited
        for name, spec in self.config.services.items():
            label = spec.label
            pct = self._service_level_low(name, spec)
            if pct is not None:
                out[(AlertKind.SERVICE_LEVEL, name)] = (
                    name,
                    None,
                    f"« {label} » : niveau de service de {pct:.0f} % sur les 30 dernières "
                    f"minutes, sous l'objectif de {spec.sl_target_pct:.0f} %",
                )
            wait = longest.get(name)
            if wait is not None and wait > spec.max_wait_s:
                out[(AlertKind.LONG_WAIT, name)] = (
                    name,
                    None,
                    f"« {label} » : un appel attend depuis {_duration(wait)}, "
                    f"au-delà du maximum de {_duration(spec.max_wait_s)}",
                )
            if self.is_open(name, self.now) and self._logged_in(spec) == 0:
                out[(AlertKind.NO_AGENT, name)] = (
                    name,
                    None,
                    f"« {label} » est ouvert et aucun agent connecté ne peut prendre ses appels",
                )
        self._staffing()
        for agent_id in self._missed_offers:
            row = self.agents[agent_id]
            out[(AlertKind.MISSED_OFFERS, agent_id)] = (
                None,
                agent_id,
                f"{row.name} ({agent_id}) a été mis(e) en pause après des appels sans réponse",
            )
        if self._pending_writes:
            count = self._pending_writes
            out[(AlertKind.DATABASE, "")] = (
                None,
                None,
                f"Base de données injoignable : {count} enregistrement{'s' if count > 1 else ''} "
                "en attente (gardés, écrits à son retour)",
            )
        if self._lag >= OVERLOAD_S:
            behind = _duration(self._lag // 5 * 5)  # by 5 s steps: not news every second
            out[(AlertKind.OVERLOAD, "")] = (
                None,
                None,
                f"Service surchargé : les appels sont suivis avec {behind} de retard, "
                "les fiches arrivent en retard",
            )
        out.update(callbacks.conditions(self._windows, self.now, self.tz, self._label))
        return out

    def _evaluate(self) -> list[AlertEvent]:
        return self.book.evaluate(self._conditions(), self.now)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
