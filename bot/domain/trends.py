"""Week-by-week trends for the weekly report, `/incident stats` and `debrief stats --chart`:
incidents by severity, median time to acknowledge / mitigate / resolve (MTTA, MTTM,
MTTR), action items opened and closed, postmortems due and published on time, for each
of the last 12 weeks; and when the weekly report is due. Pure: plain values in and out.
"""

from __future__ import annotations

import bisect
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from bot.domain.action_items import ActionItem
from bot.domain.incidents import Incident
from bot.domain.postmortem import DuePolicy, Postmortem
from bot.domain.timeline import durations, format_duration

WEEKS = 12
METRICS = ("acknowledge", "mitigate", "resolve")
SHORT = {"acknowledge": "MTTA", "mitigate": "MTTM", "resolve": "MTTR"}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class WeekFigures:
    """One week [start, end) in the team's zone."""

    start: datetime
    end: datetime
    by_severity: dict[str, int]
    median_seconds: dict[str, float | None]  # METRICS -> median over the week's incidents
    items_opened: int
    items_closed: int
    postmortems_due: int      # postmortems whose due time fell in the week
    postmortems_on_time: int  # ... and were published by then

    @property
    def incidents(self) -> int:
        return sum(self.by_severity.values())


@dataclass(frozen=True)
class Comparison:
    """This week's figure against the median of the weekly figures (weeks without one,
    e.g. no incident acknowledged, are left out of the median)."""

    metric: str
    this_week: float | None
    median: float | None

    @property
    def direction(self) -> str:
        """`up`, `down`, `same`, or `none` when either side is missing."""
        if self.this_week is None or self.median is None:
            return "none"
        if self.this_week > self.median:
            return "up"
        return "down" if self.this_week < self.median else "same"


@dataclass(frozen=True)
class Trends:
    weeks: tuple[WeekFigures, ...]  # oldest first; the last one is "this week"
    items_overdue: int              # open items past their due date at the end

    @property
    def this_week(self) -> WeekFigures:
        return self.weeks[-1]

    @property
    def end(self) -> datetime:
        return self.weeks[-1].end

    def series(self, metric: str) -> list[float | None]:
        """The weekly values of `incidents` or a METRICS median (seconds), oldest first."""
        if metric == "incidents":
            return [float(w.incidents) for w in self.weeks]
        return [w.median_seconds[metric] for w in self.weeks]

    def compare(self, metric: str) -> Comparison:
        values = [v for v in self.series(metric) if v is not None]
        return Comparison(metric, self.series(metric)[-1],
                          statistics.median(values) if values else None)

    def as_dict(self) -> dict[str, object]:
        return {
            "end": _iso(self.end),
            "items_overdue": self.items_overdue,
            "weeks": [{"start": _iso(w.start), "end": _iso(w.end),
                       "incidents_by_severity": w.by_severity,
                       "median_seconds_to": w.median_seconds,
                       "action_items": {"opened": w.items_opened, "closed": w.items_closed},
                       "postmortems": {"due": w.postmortems_due,
                                       "published_on_time": w.postmortems_on_time}}
                      for w in self.weeks],
            "this_week_vs_median": {
                m: {"this_week": c.this_week, "median": c.median, "direction": c.direction}
                for m in ("incidents", *METRICS) for c in [self.compare(m)]},
        }


ARROWS = {"up": "↑", "down": "↓", "same": "→", "none": ""}


@dataclass(frozen=True)
class Figure:
    """One compact trend figure: `label` this week, the 12-week median, an arrow."""

    label: str
    this_week: str
    median: str
    arrow: str


def trend_figures(trends: Trends) -> list[Figure]:
    """Incidents, MTTA, MTTM, MTTR: this week against the 12-week median, as short
    figures ("3", "1h 10m", "—") for the Slack and command-line wordings."""
    figures = []
    for metric in ("incidents", *METRICS):
        c = trends.compare(metric)
        if metric == "incidents":
            shown = [_count(c.this_week), _count(c.median)]
        else:
            shown = [format_duration(None if v is None else timedelta(seconds=v))
                     for v in (c.this_week, c.median)]
        # Figures that read the same are "→", whatever the seconds behind them say.
        arrow = ARROWS["same"] if shown[0] == shown[1] and c.direction in ("up", "down") \
            else ARROWS[c.direction]
        figures.append(Figure(SHORT.get(metric, metric), shown[0], shown[1], arrow))
    return figures


def _count(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _iso(at: datetime) -> str:
    return at.isoformat()


def week_bounds(end: datetime, weeks: int = WEEKS) -> list[tuple[datetime, datetime]]:
    """`weeks` consecutive weeks ending at `end` (aware, in the team's zone), oldest
    first. Wall-clock arithmetic, so a week across a DST change is still Monday 09:00 to
    Monday 09:00."""
    zone = end.tzinfo
    assert zone is not None, "end must be aware"
    edges = [_wall(end, zone, timedelta(weeks=weeks - i)) for i in range(weeks + 1)]
    return list(zip(edges, edges[1:], strict=False))


def _wall(end: datetime, zone: tzinfo, back: timedelta) -> datetime:
    naive = end.replace(tzinfo=None) - back
    return naive.replace(tzinfo=zone)


def compute_trends(incidents: Iterable[Incident], postmortems: Iterable[Postmortem],
                   items: Iterable[ActionItem], *, end: datetime, statuses: tuple[str, ...],
                   mitigated_status: str, policies: dict[str, DuePolicy | None],
                   weeks: int = WEEKS) -> Trends:
    """The figures of each week ending at `end`. `incidents` are the counted ones (drills
    and cancelled left out by the caller): those declared in a week give its severities
    and medians, those resolved with a due policy give the postmortems due. `items` are
    the action items of counted incidents: opened / closed by their own times; overdue =
    open at the end with a due day before `end`'s day."""
    bounds = week_bounds(end, weeks)
    starts = [s.astimezone(UTC) for s, _ in bounds]
    stop = end.astimezone(UTC)

    def week_of(at: datetime) -> int | None:
        if at < starts[0] or at >= stop:
            return None
        return bisect.bisect_right(starts, at.astimezone(UTC)) - 1

    severities: list[Counter[str]] = [Counter() for _ in bounds]
    spans: list[dict[str, list[float]]] = [{m: [] for m in METRICS} for _ in bounds]
    due = [0] * len(bounds)
    on_time = [0] * len(bounds)
    opened = [0] * len(bounds)
    closed = [0] * len(bounds)
    published = {p.incident_number: p for p in postmortems if p.status == "published"}
    seen: set[int] = set()
    for incident in incidents:
        if incident.number in seen:
            continue
        seen.add(incident.number)
        week = week_of(incident.declared_at)
        if week is not None:
            severities[week][incident.severity] += 1
            took = durations(incident, statuses, mitigated_status)
            for metric in METRICS:
                delta = getattr(took, f"to_{metric}")
                if delta is not None:
                    spans[week][metric].append(delta.total_seconds())
        policy = policies.get(incident.severity)
        if policy is None or incident.resolved_at is None:
            continue
        deadline = policy.due_at(incident.resolved_at)
        week = week_of(deadline)
        if week is None:
            continue
        due[week] += 1
        done = published.get(incident.number)
        if done is not None and done.published_at is not None and done.published_at <= deadline:
            on_time[week] += 1
    overdue_before = end.date()
    overdue = 0
    counted: set[int] = set()
    for item in items:
        if item.id in counted:
            continue
        counted.add(item.id)
        if (week := week_of(item.created_at)) is not None:
            opened[week] += 1
        if not item.is_open and item.closed_at is not None \
                and (week := week_of(item.closed_at)) is not None:
            closed[week] += 1
        overdue += item.overdue(overdue_before)
    return Trends(
        weeks=tuple(
            WeekFigures(start=start, end=finish,
                        by_severity=dict(sorted(severities[i].items())),
                        median_seconds={m: statistics.median(v) if (v := spans[i][m]) else None
                                        for m in METRICS},
                        items_opened=opened[i], items_closed=closed[i],
                        postmortems_due=due[i], postmortems_on_time=on_time[i])
            for i, (start, finish) in enumerate(bounds)),
        items_overdue=overdue)


# --- when the weekly report is due --------------------------------------------------

@dataclass(frozen=True)
class WeeklySchedule:
    """`reports.weekly`: post on `weekday` (0 = Monday) at `at` in `zone`."""

    weekday: int
    at: time
    zone: tzinfo


def last_occurrence(schedule: WeeklySchedule, now: datetime) -> datetime:
    """The latest scheduled time at or before `now` (aware, in the schedule's zone).

    The report is due from then until the next one: a replica that was down at the
    scheduled time posts it once when it is back, and after weeks of downtime only the
    latest week's report is due, not one per missed week."""
    local = now.astimezone(schedule.zone)
    back = (local.weekday() - schedule.weekday) % 7
    day = local.date() - timedelta(days=back)
    at = datetime.combine(day, schedule.at, tzinfo=schedule.zone)
    if at > local:
        at = datetime.combine(day - timedelta(days=7), schedule.at, tzinfo=schedule.zone)
    return at


def parse_weekday(text: str) -> int | None:
    """`monday` / `mon` (any case) -> 0 ... 6; None if it is no weekday."""
    word = text.strip().lower()
    for i, name in enumerate(WEEKDAYS):
        if word in (name, name[:3]):
            return i
    return None
