"""Incident metrics from the recorded lifecycle (never from "last updated"). Pure."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.domain.action_items import ActionItem
from bot.domain.incidents import Incident
from bot.domain.postmortem import DuePolicy, Postmortem
from bot.domain.timeline import durations
from bot.errors import UserError

_PERIOD = re.compile(r"^(\d{1,4})([dw])$")


def parse_period(text: str | None) -> timedelta | None:
    """`30d`, `12w` or `all` (None); default 30 days."""
    text = (text or "30d").strip().lower()
    if text == "all":
        return None
    match = _PERIOD.match(text)
    if not match:
        raise UserError("Give a period like `30d`, `12w` or `all`.")
    n = int(match.group(1))
    return timedelta(days=n) if match.group(2) == "d" else timedelta(weeks=n)


def _quantiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p90": None, "count": 0}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return {"median": statistics.median(ordered), "p90": p90, "count": len(ordered)}


@dataclass(frozen=True)
class Stats:
    since: datetime | None
    by_severity: dict[str, int]
    seconds_to: dict[str, dict[str, float | None]]
    postmortems: dict[str, int]
    action_items: dict[str, int]
    # Alerts' time to acknowledge, by schedule and by person (see `ack_stats`).
    alert_ack: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"since": self.since.isoformat().replace("+00:00", "Z") if self.since else None,
                "incidents_by_severity": self.by_severity,
                "seconds_to": self.seconds_to, "postmortems": self.postmortems,
                "action_items": self.action_items,
                "alert_seconds_to_acknowledge": self.alert_ack}


NO_SCHEDULE = "(no schedule)"


def ack_stats(acks: list[tuple[str | None, str | None, float]],
              ) -> dict[str, dict[str, dict[str, float | None]]]:
    """Median and p90 seconds from an alert's firing (or firing again) to its
    acknowledgement, by schedule and by the person who acknowledged, from
    (schedule, person, seconds) of each acknowledgement in the window."""
    by_schedule: dict[str, list[float]] = {}
    by_person: dict[str, list[float]] = {}
    for schedule, person, seconds in acks:
        by_schedule.setdefault(schedule or NO_SCHEDULE, []).append(seconds)
        if person:
            by_person.setdefault(person, []).append(seconds)
    return {"by_schedule": {k: _quantiles(v) for k, v in sorted(by_schedule.items())},
            "by_person": {k: _quantiles(v) for k, v in sorted(by_person.items())}}


def compute_stats(incidents: list[Incident], postmortems: list[Postmortem],
                  items: list[ActionItem], *, now: datetime, period: timedelta | None,
                  statuses: tuple[str, ...], mitigated_status: str,
                  policies: dict[str, DuePolicy | None], today: date) -> Stats:
    since = now - period if period else None
    chosen = [i for i in incidents if since is None or i.declared_at >= since]
    numbers = {i.number for i in chosen}
    spans = [durations(i, statuses, mitigated_status) for i in chosen]
    seconds = {
        name: _quantiles([getattr(s, f"to_{name}").total_seconds() for s in spans
                          if getattr(s, f"to_{name}") is not None])
        for name in ("acknowledge", "mitigate", "resolve")
    }
    published = {p.incident_number: p for p in postmortems if p.status == "published"}
    due, on_time = 0, 0
    for incident in chosen:
        policy = policies.get(incident.severity)
        if policy is None or incident.resolved_at is None:
            continue
        due += 1
        done = published.get(incident.number)
        if done and done.published_at and done.published_at <= policy.due_at(incident.resolved_at):
            on_time += 1
    mine = [a for a in items if a.incident_number in numbers]
    return Stats(
        since=since,
        by_severity=dict(sorted(Counter(i.severity for i in chosen).items())),
        seconds_to=seconds,
        postmortems={"due": due, "published_on_time": on_time,
                     "published": sum(1 for n in numbers if n in published)},
        action_items={"open": sum(a.is_open for a in mine),
                      "overdue": sum(a.overdue(today) for a in mine),
                      "closed": sum(not a.is_open for a in mine)},
    )
