"""Incident metrics use case (shared by `/incident stats` and `debrief stats`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from bot.config import DebriefConfig
from bot.domain.incidents import Incident
from bot.domain.stats import Stats, ack_stats, compute_stats, parse_period
from bot.services.ports import UnitOfWorkFactory


def incident_stats(period_text: str | None, *, uow: UnitOfWorkFactory, config: DebriefConfig,
                   now: datetime,
                   visible: Callable[[list[Incident]], list[Incident]] | None = None) -> Stats:
    """`visible` keeps the incidents the asker may see (private ones only for their
    members); their postmortems and action items go with them. None: all (the CLI)."""
    period = parse_period(period_text)
    since = now - period if period else None
    # Only the window is read (indexed on declared_at), and postmortems without their
    # text: the cost follows the answer, not the years of history before it.
    with uow() as tx:
        every = tx.incidents.list(declared_since=since)
        postmortems = tx.postmortems.states(declared_since=since)
        # Alert acknowledgements in the window: one range read on (kind, at).
        acks = tx.alerts.acknowledgements(since, now)
    # Drills and incidents declared by mistake are kept for audit, not counted.
    incidents = [i for i in every if i.counts]
    items = [item for incident in incidents for item in incident.action_items]
    if visible is not None and any(i.private for i in incidents):
        incidents = visible(incidents)
        items = [a for a in items if a.incident_number in {i.number for i in incidents}]
    shown = {i.number for i in incidents}
    postmortems = [p for p in postmortems if p.incident_number in shown]
    stats = compute_stats(
        incidents, postmortems, items, now=now, period=period, statuses=config.statuses,
        mitigated_status=config.timeline.mitigated_status,
        policies={s.name: config.postmortem.due_policy(s.name) for s in config.severities},
        today=now.astimezone(config.zone).date())
    return replace(stats, alert_ack=ack_stats(acks))
