"""The plain-data context a postmortem template renders: names instead of Slack ids,
UTC times, durations, the key timeline with permalinks, and action items. Explicit
incident and instants; no template engine, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from bot.domain.action_items import ActionItem
from bot.domain.incidents import EventRecord, Incident
from bot.domain.postmortem import postmortem_context
from bot.domain.timeline import TimelineItem, durations

ALICE, BOB, CAROL = "U01ALICE", "U02BOB", "U03CAROL"
NAMES = {ALICE: "alice", BOB: "bob", CAROL: "carol"}
STATUSES = ("investigating", "identified", "monitoring", "resolved")
ROLES = ("commander", "comms", "scribe")


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 25, hour, minute, tzinfo=UTC)


INCIDENT = Incident(
    number=7, title="Checkout errors in EU", severity="SEV1", status="resolved",
    description="5xx on checkout", declared_at=at(10), declared_by=ALICE,
    acknowledged_at=at(10, 5), acknowledged_by=BOB, resolved_at=at(11),
    summary="rolled back the config", channel_id="C0INC7", channel_name="inc-20261125-7-checkout",
    roles={"commander": ALICE, "comms": BOB},
    events=(EventRecord(at(10, 30), "status", ALICE, {"from": "identified", "to": "monitoring"}),
            EventRecord(at(11), "resolved", ALICE, {"from": "monitoring", "to": "resolved"})),
)
TIMELINE = [
    TimelineItem(at(9, 50), "message", CAROL, f"5xx started after {BOB} pushed", key=True,
                 source_ts="1764064200.000100"),
    TimelineItem(at(9, 55), "message", BOB, "lunch?", key=False, source_ts="1764064500.000200"),
    TimelineItem(at(10, 10), "message", BOB, "deleted later", key=True, deleted=True),
    TimelineItem(at(10, 30), "status", None, "Status identified → monitoring; paged U09ZED",
                 key=True),
]
ACTIONS = [
    ActionItem(id=1, text="Validate configs in CI", owner=BOB, due_on=date(2026, 12, 15),
               type="prevent", status="open", created_at=at(11), created_by=ALICE,
               incident_number=7),
    ActionItem(id=2, text="Alert on EU 5xx", owner=None, due_on=None, type="detect",
               status="done", created_at=at(11), created_by=ALICE, incident_number=7),
]


def context(incident: Incident = INCIDENT, timeline: list[TimelineItem] = TIMELINE,
            **overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "actions": ACTIONS, "names": NAMES, "severity_description": "Critical",
        "document_status": "in_review", "version": 2, "generated_at": at(12),
        "due_at": None, "workspace_url": "https://acme.slack.com/", "roles": ROLES,
        "spans": durations(incident, STATUSES, "monitoring"), **overrides}
    return postmortem_context(incident, timeline=timeline, **args)


def test_incident_people_are_named_and_times_are_utc() -> None:
    """People appear by name (unfilled roles as "unassigned"); times as UTC strings."""
    incident = context()["incident"]
    assert incident == {
        "number": 7, "title": "Checkout errors in EU", "severity": "SEV1",
        "severity_description": "Critical", "status": "resolved",
        "description": "5xx on checkout", "summary": "rolled back the config",
        "channel_name": "inc-20261125-7-checkout", "commander": "alice",
        "roles": {"commander": "alice", "comms": "bob", "scribe": "unassigned"},
        "declared_at": "2026-11-25 10:00 UTC", "acknowledged_at": "2026-11-25 10:05 UTC",
        "resolved_at": "2026-11-25 11:00 UTC",
    }


def test_document_status_version_and_due_date() -> None:
    """The review status reads as words; without a policy there is no due date."""
    assert context()["document"] == {"status": "in review", "version": 2,
                                     "generated_at": "2026-11-25 12:00 UTC",
                                     "due": "no due date for this severity"}
    assert context(due_at=at(15))["document"]["due"] == "2026-11-25 15:00 UTC"


def test_impact_starts_at_the_first_key_signal_before_detection() -> None:
    """A key message before the declaration moves the impact start and the detection time."""
    ctx = context()
    assert ctx["impact"] == {"start": "2026-11-25 09:50 UTC", "detected": "2026-11-25 10:00 UTC",
                             "mitigated": "2026-11-25 10:30 UTC",
                             "resolved": "2026-11-25 11:00 UTC"}
    assert ctx["durations"] == {"to_acknowledge": "5m", "to_mitigate": "30m",
                                "to_resolve": "1h 0m", "detection": "10m"}


def test_key_timeline_only_with_names_and_permalinks() -> None:
    """Only key, undeleted entries; ids inside texts become names when known; each
    entry with a Slack message links to it."""
    assert context()["timeline"] == [
        {"at": "09:50", "date": "2026-11-25", "kind": "message", "author": "carol",
         "text": "5xx started after bob pushed",
         "link": "https://acme.slack.com/archives/C0INC7/p1764064200000100"},
        {"at": "10:30", "date": "2026-11-25", "kind": "status", "author": "",
         "text": "Status identified → monitoring; paged U09ZED", "link": None},
    ]


def test_action_items_read_as_plain_text() -> None:
    """Owners by name, due dates as ISO dates, "no due date" and "unassigned" otherwise."""
    assert context()["action_items"] == [
        {"text": "Validate configs in CI", "owner": "bob", "type": "prevent", "status": "open",
         "due": "2026-12-15"},
        {"text": "Alert on EU 5xx", "owner": "unassigned", "type": "detect", "status": "done",
         "due": "no due date"},
    ]


def test_an_open_incident_without_key_events_or_workspace() -> None:
    """Nothing yet: "not yet" for missing times, no detection gap, no links, unknown
    ids left as they are."""
    incident = replace(INCIDENT, status="investigating", acknowledged_at=None, resolved_at=None,
                       events=(), roles={"commander": "U09ZED"})
    ctx = context(incident, timeline=[], workspace_url=None)
    assert ctx["incident"]["commander"] == "U09ZED"
    assert ctx["incident"]["acknowledged_at"] == "not yet"
    assert ctx["impact"] == {"start": "2026-11-25 10:00 UTC", "detected": "2026-11-25 10:00 UTC",
                             "mitigated": "not yet", "resolved": "not yet"}
    assert ctx["durations"] == {"to_acknowledge": "—", "to_mitigate": "—", "to_resolve": "—",
                                "detection": "0m"}
    assert ctx["timeline"] == []
    linked = context(workspace_url=None)["timeline"]
    assert [entry["link"] for entry in linked] == [None, None]
