"""Read-only use cases for the command line: incidents as plain data (the stable JSON
shapes of `debrief incident list/show --json`), so the CLI never queries repositories."""

from __future__ import annotations

from typing import Any

from bot.config import DebriefConfig
from bot.domain.incidents import as_dict
from bot.domain.timeline import build_timeline, durations, durations_as_dict, timeline_as_dicts
from bot.errors import UserError
from bot.services.ports import UnitOfWorkFactory


def incident_list(*, uow: UnitOfWorkFactory, open_only: bool = False) -> list[dict[str, Any]]:
    """Every incident (or only the open ones) by number, as `as_dict` shapes."""
    with uow() as tx:
        return [as_dict(i) for i in tx.incidents.list(open_only=open_only)]


def incident_report(number: int, *, uow: UnitOfWorkFactory,
                    config: DebriefConfig) -> dict[str, Any]:
    """One incident with its timeline and durations; `UserError` when there is none."""
    with uow() as tx:
        incident = tx.incidents.get(number)
        if incident is None:
            raise UserError(f"no incident #{number}")
        entries = tx.timeline.entries(number)
        alerts = tx.alerts.for_incident(number)
    data = as_dict(incident)
    data["alerts"] = [{"id": g.id, "integration": g.integration, "title": g.title,
                       "status": g.status, "attached": g.attached,
                       "first_firing_at": g.first_firing_at.isoformat()} for g in alerts]
    data["timeline"] = timeline_as_dicts(build_timeline(incident, entries))
    data["durations"] = durations_as_dict(
        durations(incident, config.statuses, config.timeline.mitigated_status))
    return data
