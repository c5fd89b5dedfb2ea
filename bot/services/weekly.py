"""The weekly report (`reports.weekly` in debrief.yaml): the last 12 weeks' trends posted
to a channel with the chart, once a week, exactly once across replicas.

`due_report` says which report is due at `now`: the latest scheduled time at or before
it, keyed by its day. The scheduler claims the key in `notifications` before posting
(bot/services/reminders.py), so a second replica or a restart never posts it again; a
replica that was down at the scheduled time posts it once when it is back, and after
weeks of downtime only the latest week's report is due, not one per missed week. The
figures are read only when the report is sent, never on the ticks in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config import DebriefConfig
from bot.domain.trends import last_occurrence
from bot.services.ports import Deps
from bot.services.stats import incident_trends


@dataclass(frozen=True)
class DueReport:
    key: str          # the claim in `notifications`: one per scheduled week
    channel: str
    end: datetime     # the scheduled time: the report covers the 12 weeks up to it


def due_report(config: DebriefConfig, now: datetime) -> DueReport | None:
    weekly = config.reports.weekly
    if weekly is None:
        return None
    end = last_occurrence(weekly.schedule(config.time_zone), now)
    return DueReport(f"weekly-report:{end:%Y-%m-%d}", weekly.channel, end)


def post_weekly_report(deps: Deps, report: DueReport) -> None:
    """Read the 12 weeks up to the scheduled time and post them (text and chart)."""
    trends = incident_trends(uow=deps.uow, config=deps.config, end=report.end)
    deps.chat.post_weekly_report(report.channel, trends)
