"""Incident metrics use case (shared by `/incident stats` and `debrief stats`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.config import DebriefConfig
from bot.domain.incidents import Incident
from bot.domain.stats import Stats, ack_stats, compute_stats, parse_period
from bot.domain.trends import Trends, compute_trends, week_bounds
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


def incident_trends(*, uow: UnitOfWorkFactory, config: DebriefConfig, end: datetime,
                    visible: Callable[[list[Incident]], list[Incident]] | None = None,
                    ) -> Trends:
    """The last 12 weeks ending at `end` (`compute_trends`). Every read is a window on
    an index (incidents declared in the 12 weeks; incidents and postmortems resolved
    since a due policy before them; action items created or closed in the 12 weeks;
    open items past due), so a report costs the same after years of history."""
    end = end.astimezone(config.zone)
    start = week_bounds(end)[0][0]
    horizon = start - _due_horizon(config)
    with uow() as tx:
        incidents = {i.number: i for i in tx.incidents.list(declared_since=start)}
        for incident in tx.incidents.list(resolved_since=horizon):
            incidents.setdefault(incident.number, incident)
        postmortems = tx.postmortems.states(resolved_since=horizon)
        items = [*tx.action_items.touched_since(start),
                 *tx.action_items.open_items(due_before=end.date())]
        # Items of incidents older than the window: is their incident counted, visible?
        others = {i.incident_number for i in items if i.incident_number is not None} \
            - set(incidents)
        older = tx.incidents.list(numbers=others) if others else []
    counted = [i for i in incidents.values() if i.counts]
    older = [i for i in older if i.counts]
    if visible is not None:
        private = [i for i in [*counted, *older] if i.private]
        if private:
            hidden = {i.number for i in private} - {i.number for i in visible(private)}
            counted = [i for i in counted if i.number not in hidden]
            older = [i for i in older if i.number not in hidden]
    keep = {i.number for i in counted} | {i.number for i in older}
    items = [a for a in items if a.incident_number in keep]
    return compute_trends(
        counted, postmortems, items, end=end, statuses=config.statuses,
        mitigated_status=config.timeline.mitigated_status,
        policies={s.name: config.postmortem.due_policy(s.name) for s in config.severities})


def _due_horizon(config: DebriefConfig) -> timedelta:
    """The longest due policy (business days stretched over weekends), plus a day."""
    days = [p.days * 2 if p.business else p.days
            for p in (config.postmortem.due_policy(s.name) for s in config.severities)
            if p is not None]
    return timedelta(days=max(days, default=0) + 1)
