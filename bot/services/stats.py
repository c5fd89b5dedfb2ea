"""Incident metrics use case (shared by `/incident stats` and `debrief stats`)."""

from __future__ import annotations

from datetime import datetime

from bot.config import DebriefConfig
from bot.domain.stats import Stats, compute_stats, parse_period
from bot.services.ports import UnitOfWorkFactory


def incident_stats(period_text: str | None, *, uow: UnitOfWorkFactory, config: DebriefConfig,
                   now: datetime) -> Stats:
    period = parse_period(period_text)
    with uow() as tx:
        every = tx.incidents.list()
        postmortems = tx.postmortems.all()
        items = tx.action_items.all_items()
    # Drills and incidents declared by mistake are kept for audit, not counted.
    incidents = [i for i in every if i.counts]
    left_out = {i.number for i in every if not i.counts}
    postmortems = [p for p in postmortems if p.incident_number not in left_out]
    items = [a for a in items if a.incident_number not in left_out]
    return compute_stats(
        incidents, postmortems, items, now=now, period=period, statuses=config.statuses,
        mitigated_status=config.timeline.mitigated_status,
        policies={s.name: config.postmortem.due_policy(s.name) for s in config.severities},
        today=now.astimezone(config.zone).date())
