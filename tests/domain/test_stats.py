"""compute_stats from the recorded lifecycle: the window, medians and p90s of the
response times, postmortems on time by policy, action items open, overdue and closed.
Explicit incidents and instants; no clock, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.config import DebriefConfig
from bot.domain.action_items import ActionItem
from bot.domain.incidents import EventRecord, Incident
from bot.domain.postmortem import DuePolicy, Postmortem
from bot.domain.stats import Stats, compute_stats

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
POLICIES: dict[str, DuePolicy | None] = {"SEV1": DuePolicy(3, business=False),
                                         "SEV2": DuePolicy(5, business=True), "SEV3": None}


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def incident(number: int, severity: str, declared: datetime, *, acked: timedelta | None = None,
             resolved: timedelta | None = None,
             events: tuple[EventRecord, ...] = ()) -> Incident:
    resolved_at = declared + resolved if resolved else None
    return Incident(number=number, title=f"Incident {number}", severity=severity,
                    status="resolved" if resolved_at else "investigating", description="",
                    declared_at=declared, declared_by="U01ALICE",
                    acknowledged_at=declared + acked if acked else None,
                    resolved_at=resolved_at, events=events)


def postmortem(number: int, status: str, published: datetime | None) -> Postmortem:
    return Postmortem(incident_number=number, status=status, created_at=at(1, 0, month=9),
                      updated_at=published or at(1, 0, month=9), published_at=published)


def item(id_: int, number: int, status: str = "open", due: date | None = None) -> ActionItem:
    return ActionItem(id=id_, text=f"item {id_}", owner=None, due_on=due, type="prevent",
                      status=status, created_at=at(1, 0), created_by="U01ALICE",
                      incident_number=number)


INCIDENTS = [
    # Mitigated by reaching "monitoring" 30 minutes in; postmortem published in time.
    incident(1, "SEV1", at(1, 10), acked=timedelta(minutes=5), resolved=timedelta(hours=1),
             events=(EventRecord(at(1, 10, 30), "status", "U01ALICE",
                                 {"from": "investigating", "to": "monitoring"}),
                     EventRecord(at(1, 11), "resolved", "U01ALICE",
                                 {"from": "monitoring", "to": "resolved"}))),
    # "identified" is short of mitigation; resolving 4 hours in counts as mitigated.
    incident(2, "SEV2", at(10, 8), acked=timedelta(minutes=20), resolved=timedelta(hours=4),
             events=(EventRecord(at(10, 9), "status", "U02BOB",
                                 {"from": "investigating", "to": "identified"}),
                     EventRecord(at(10, 12), "resolved", "U02BOB",
                                 {"from": "identified", "to": "resolved"}))),
    incident(3, "SEV2", at(20, 9)),  # still open, never acknowledged
    incident(5, "SEV3", at(21, 9), acked=timedelta(minutes=1), resolved=timedelta(minutes=10)),
    incident(4, "SEV1", at(1, 10, month=9), acked=timedelta(hours=9),
             resolved=timedelta(days=2)),  # before the 30-day window
]
POSTMORTEMS = [
    postmortem(1, "published", at(3, 10)),  # due 4 Nov 11:00: on time
    postmortem(2, "published", at(20, 10)),  # due Tue 17 Nov 12:00 (5 business days): late
    postmortem(3, "draft", None),
    postmortem(4, "published", at(2, 10, month=9)),  # outside the window
]
ITEMS = [
    item(1, 1, status="done", due=date(2026, 11, 5)),
    item(2, 2, due=date(2026, 11, 20)),  # overdue
    item(3, 2, due=date(2026, 11, 30)),
    item(4, 3),
    item(5, 4, due=date(2026, 9, 10)),  # overdue, but outside the window
]


def stats(period: timedelta | None = timedelta(days=30), *,
          incidents: list[Incident] = INCIDENTS, postmortems: list[Postmortem] = POSTMORTEMS,
          items: list[ActionItem] = ITEMS) -> Stats:
    return compute_stats(incidents, postmortems, items, now=NOW, period=period,
                         statuses=DebriefConfig().statuses, mitigated_status="monitoring",
                         policies=POLICIES, today=TODAY)


def test_window_and_counts_by_severity() -> None:
    """Only incidents declared within the period count, by severity, sorted."""
    result = stats()
    assert result.since == datetime(2026, 10, 26, 12, 0, tzinfo=UTC)
    assert result.by_severity == {"SEV1": 1, "SEV2": 2, "SEV3": 1}
    assert list(result.by_severity) == ["SEV1", "SEV2", "SEV3"]


def test_median_and_p90_of_each_response_time() -> None:
    """Times to acknowledge, mitigate and resolve come from the recorded events;
    incidents that never reached a step are left out of that step."""
    assert stats().seconds_to == {
        "acknowledge": {"median": 300.0, "p90": 1200.0, "count": 3},
        "mitigate": {"median": 8100.0, "p90": 14400.0, "count": 2},
        "resolve": {"median": 3600.0, "p90": 14400.0, "count": 3},
    }


def test_postmortems_due_and_on_time_by_policy() -> None:
    """Resolved incidents with a policy are due; published by the policy's date is on
    time; severities without a policy and open incidents are not due."""
    assert stats().postmortems == {"due": 2, "published_on_time": 1, "published": 2}


def test_action_items_of_the_incidents_in_the_window() -> None:
    """Open, overdue (open and past due today) and closed items, for chosen incidents only."""
    assert stats().action_items == {"open": 3, "overdue": 1, "closed": 1}


def test_all_time_includes_every_incident() -> None:
    """Period `all` has no start and counts the older incident and its items too."""
    result = stats(period=None)
    assert result.since is None
    assert result.by_severity == {"SEV1": 2, "SEV2": 2, "SEV3": 1}
    assert result.seconds_to["acknowledge"]["count"] == 4
    assert result.postmortems == {"due": 3, "published_on_time": 2, "published": 3}
    assert result.action_items == {"open": 4, "overdue": 2, "closed": 1}


def test_no_incidents_gives_empty_figures() -> None:
    """With nothing recorded every figure is zero or None, never an error."""
    result = stats(incidents=[], postmortems=[], items=[])
    assert result.by_severity == {}
    assert result.seconds_to["resolve"] == {"median": None, "p90": None, "count": 0}
    assert result.postmortems == {"due": 0, "published_on_time": 0, "published": 0}
    assert result.action_items == {"open": 0, "overdue": 0, "closed": 0}


def test_as_dict_is_plain_json_data() -> None:
    """The JSON form names its parts and writes the start as a UTC `Z` instant."""
    assert stats().as_dict()["since"] == "2026-10-26T12:00:00Z"
    assert stats(period=None).as_dict()["since"] is None
    assert set(stats().as_dict()) == {"since", "incidents_by_severity", "seconds_to",
                                      "postmortems", "action_items",
                                      "alert_seconds_to_acknowledge"}


def test_alert_ack_stats_by_schedule_and_person() -> None:
    from bot.domain.stats import ack_stats

    stats = ack_stats([("platform", "U1", 60.0), ("platform", "U2", 180.0),
                       (None, "U1", 600.0), ("db", None, 30.0)])
    assert stats["by_schedule"]["platform"] == {"median": 120.0, "p90": 180.0, "count": 2}
    assert stats["by_schedule"]["(no schedule)"]["count"] == 1
    assert stats["by_person"]["U1"] == {"median": 330.0, "p90": 600.0, "count": 2}
    assert "None" not in stats["by_person"] and len(stats["by_person"]) == 2
    assert ack_stats([]) == {"by_schedule": {}, "by_person": {}}
