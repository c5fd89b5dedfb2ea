"""compute_trends over 12 weeks on a small known dataset; the weekly report's schedule
(last_occurrence); the compact figures. Explicit instants; no clock, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.action_items import ActionItem
from bot.domain.incidents import EventRecord, Incident
from bot.domain.postmortem import DuePolicy, Postmortem
from bot.domain.trends import (
    WeeklySchedule,
    compute_trends,
    last_occurrence,
    parse_weekday,
    trend_figures,
    week_bounds,
)

PARIS = ZoneInfo("Europe/Paris")
END = datetime(2026, 12, 7, 9, 0, tzinfo=PARIS)  # a Monday, 09:00 in Paris
STATUSES = ("investigating", "identified", "monitoring", "resolved")
POLICIES: dict[str, DuePolicy | None] = {"SEV1": DuePolicy(3, business=False), "SEV2": None}


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def incident(number: int, severity: str, declared: datetime, *, ack: int | None = None,
             mitigate: int | None = None, resolve: int | None = None) -> Incident:
    """Times in minutes after the declaration; mitigation is reaching "monitoring"."""
    events = []
    if mitigate is not None:
        events.append(EventRecord(declared + timedelta(minutes=mitigate), "status", "U1",
                                  {"from": "investigating", "to": "monitoring"}))
    resolved_at = declared + timedelta(minutes=resolve) if resolve is not None else None
    return Incident(number=number, title=f"I{number}", severity=severity,
                    status="resolved" if resolved_at else "investigating", description="",
                    declared_at=declared, declared_by="U1",
                    acknowledged_at=declared + timedelta(minutes=ack) if ack is not None else None,
                    resolved_at=resolved_at, events=tuple(events))


def item(id_: int, number: int, created: datetime, *, closed: datetime | None = None,
         due: date | None = None) -> ActionItem:
    return ActionItem(id=id_, text=f"item {id_}", owner=None, due_on=due, type="prevent",
                      status="done" if closed else "open", created_at=created,
                      created_by="U1", closed_at=closed, incident_number=number)


INCIDENTS = [
    # This week (Nov 30 09:00 Paris .. Dec 7 09:00 Paris): two incidents.
    incident(10, "SEV1", utc(12, 1, 10), ack=4, mitigate=30, resolve=60),
    incident(11, "SEV2", utc(12, 3, 10), ack=10, resolve=120),
    # The week before: one, slower.
    incident(9, "SEV1", utc(11, 25, 10), ack=20, mitigate=90, resolve=240),
    # Eleven weeks before this week's start: the first week of the 12.
    incident(1, "SEV2", utc(9, 15, 12), ack=6),
    # Before the 12 weeks: not in any week, but its postmortem fell due in the first one.
    incident(0, "SEV1", utc(9, 12, 8), ack=1, resolve=10),
]
POSTMORTEMS = [
    Postmortem(0, "published", utc(9, 12, 9), utc(9, 14, 9), published_at=utc(9, 14, 9)),
    # #9 resolved Nov 25 14:00, due Nov 28 14:00: published late, on Nov 30.
    Postmortem(9, "published", utc(11, 26, 9), utc(11, 30, 9), published_at=utc(11, 30, 9)),
    # #10 resolved Dec 1 11:00, due Dec 4 11:00 (this week): published in time.
    Postmortem(10, "published", utc(12, 2, 9), utc(12, 2, 9), published_at=utc(12, 2, 9)),
]
ITEMS = [
    item(1, 10, utc(12, 1, 12)),                                   # opened this week
    item(2, 10, utc(12, 1, 12), closed=utc(12, 4, 9)),             # opened and closed
    item(3, 1, utc(9, 16, 9), closed=utc(12, 2, 9)),               # old, closed this week
    item(4, 1, utc(9, 16, 9), due=date(2026, 12, 1)),              # overdue
    item(4, 1, utc(9, 16, 9), due=date(2026, 12, 1)),              # the same, twice: once
    item(5, 9, utc(11, 25, 12), due=date(2026, 12, 7)),            # due today: not overdue
]


def trends():  # type: ignore[no-untyped-def]
    return compute_trends(INCIDENTS, POSTMORTEMS, ITEMS, end=END, statuses=STATUSES,
                          mitigated_status="monitoring", policies=POLICIES)


def test_twelve_weeks_end_at_the_report_time_in_the_team_zone() -> None:
    """Twelve 7-day weeks, oldest first, the last ending at the report's local time."""
    bounds = week_bounds(END)
    assert len(bounds) == 12
    assert bounds[-1] == (datetime(2026, 11, 30, 9, tzinfo=PARIS), END)
    assert bounds[0][0] == datetime(2026, 9, 14, 9, tzinfo=PARIS)
    # Across the end of summer time (Oct 25) a week is still Monday 09:00 local.
    assert all(s.hour == 9 and s.weekday() == 0 for s, _ in bounds)


def test_this_week_figures() -> None:
    """Severities, medians (MTTA 4 and 10 min -> 7), items, postmortems of this week."""
    week = trends().this_week
    assert week.by_severity == {"SEV1": 1, "SEV2": 1}
    assert week.median_seconds == {"acknowledge": 7 * 60, "mitigate": 30 * 60,
                                   "resolve": 90 * 60}
    assert (week.items_opened, week.items_closed) == (2, 2)
    assert (week.postmortems_due, week.postmortems_on_time) == (1, 1)


def test_earlier_weeks_and_gaps() -> None:
    """The week before has one slow incident and a late postmortem; the first week has
    an acknowledgement only; weeks without incidents have no medians."""
    t = trends()
    before = t.weeks[-2]
    assert before.median_seconds == {"acknowledge": 20 * 60, "mitigate": 90 * 60,
                                     "resolve": 240 * 60}
    assert (before.postmortems_due, before.postmortems_on_time) == (1, 0)
    first = t.weeks[0]
    assert first.by_severity == {"SEV2": 1}
    assert first.median_seconds == {"acknowledge": 360, "mitigate": None, "resolve": None}
    assert (first.postmortems_due, first.postmortems_on_time) == (1, 1)  # #0's
    assert first.items_opened == 2
    assert t.weeks[5].incidents == 0 and t.weeks[5].median_seconds["acknowledge"] is None
    assert t.series("incidents") == [1.0] + [0.0] * 9 + [1.0, 2.0]
    assert t.items_overdue == 1


def test_this_week_against_the_12_week_median() -> None:
    """MTTA this week 7 min vs the median of 6, 20, 7 min (7): same; MTTR 90 min vs
    median(240, 90) = 165: down; incidents 2 vs median of twelve (0): up."""
    t = trends()
    assert t.compare("acknowledge").direction == "same"
    resolve = t.compare("resolve")
    assert (resolve.this_week, resolve.median, resolve.direction) == (5400, 9900, "down")
    assert t.compare("incidents").direction == "up"
    figures = {f.label: f for f in trend_figures(t)}
    assert (figures["MTTR"].this_week, figures["MTTR"].median, figures["MTTR"].arrow) == (
        "1h 30m", "2h 45m", "↓")
    assert (figures["incidents"].this_week, figures["incidents"].arrow) == ("2", "↑")
    assert t.as_dict()["this_week_vs_median"]["resolve"] == {  # type: ignore[index]
        "this_week": 5400, "median": 9900, "direction": "down"}


def test_no_data_has_no_direction() -> None:
    """Twelve empty weeks: no medians, no arrows, zero counts."""
    empty = compute_trends([], [], [], end=END, statuses=STATUSES,
                           mitigated_status="monitoring", policies=POLICIES)
    assert [f.arrow for f in trend_figures(empty)] == ["→", "", "", ""]
    assert {f.this_week for f in trend_figures(empty)[1:]} == {"—"}


def test_last_occurrence_is_the_latest_scheduled_time_at_or_before_now() -> None:
    """Monday 09:00 Paris: at 09:00 it is that Monday; at 08:59 the Monday before; weeks
    later only the latest Monday is due (one report after downtime, not one per week)."""
    schedule = WeeklySchedule(0, time(9, 0), PARIS)
    assert last_occurrence(schedule, datetime(2026, 12, 7, 8, 0, tzinfo=UTC)) == END
    assert last_occurrence(schedule, datetime(2026, 12, 7, 7, 59, tzinfo=UTC)) == \
        datetime(2026, 11, 30, 9, tzinfo=PARIS)
    assert last_occurrence(schedule, datetime(2026, 12, 30, 12, tzinfo=UTC)) == \
        datetime(2026, 12, 28, 9, tzinfo=PARIS)
    friday = WeeklySchedule(4, time(16, 30), PARIS)
    assert last_occurrence(friday, datetime(2026, 12, 7, 8, 0, tzinfo=UTC)) == \
        datetime(2026, 12, 4, 16, 30, tzinfo=PARIS)


def test_weekday_names() -> None:
    """Full names and three-letter abbreviations, any case."""
    assert [parse_weekday(w) for w in ("Monday", "tue", "SUNDAY", "sun", "noday")] == [
        0, 1, 6, 6, None]


def test_figures_that_read_the_same_get_the_same_arrow() -> None:
    """MTTA 10m 20s this week against a median of 10m 5s both read "10m": "→", not "↑"
    (the arrow agrees with what people read); the JSON keeps the exact direction."""
    from dataclasses import replace

    t = trends()
    weeks = list(t.weeks)
    weeks[-1] = replace(weeks[-1], median_seconds={**weeks[-1].median_seconds,
                                                   "acknowledge": 620})
    for i in range(len(weeks) - 1):
        weeks[i] = replace(weeks[i], median_seconds={**weeks[i].median_seconds,
                                                     "acknowledge": 605})
    close = replace(t, weeks=tuple(weeks) if isinstance(t.weeks, tuple) else weeks)
    mtta = {f.label: f for f in trend_figures(close)}["MTTA"]
    assert (mtta.this_week, mtta.median, mtta.arrow) == ("10m", "10m", "→")
    assert close.compare("acknowledge").direction == "up"
