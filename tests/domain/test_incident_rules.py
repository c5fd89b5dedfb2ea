"""The incident state rules of the pure domain: plain values in, the changed incident
and the event to record out, a `UserError` for a change that makes no sense."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import incidents as rules
from bot.domain.commands import Severity, parse_incident_command
from bot.domain.incidents import EventRecord, Incident
from bot.errors import Echo, UserError
from bot.slack.text import error_text

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=5)
RESOLVED = "resolved"


def incident(**changes: object) -> Incident:
    base = Incident(number=7, title="Checkout errors", severity="SEV2", status="investigating",
                    description="", declared_at=T0, declared_by="U1", roles={"commander": "U1"})
    return replace(base, **changes)  # type: ignore[arg-type]


def test_acknowledge_once() -> None:
    """The first acknowledgement is recorded with who and when; a second is refused."""
    acked, event = rules.acknowledge(incident(), "U2", LATER)
    assert (acked.acknowledged_at, acked.acknowledged_by) == (LATER, "U2")
    assert event == EventRecord(LATER, "acknowledged", "U2", {})
    with pytest.raises(UserError, match="already acknowledged by @U2 at 10:05 UTC") as refused:
        rules.acknowledge(acked, "U3", LATER)
    assert "by <@U2> at" in error_text(refused.value)  # a mention once shown in Slack


def test_status_changes_resolves_and_reopens() -> None:
    """A status change records from/to; the resolved status resolves; leaving it reopens."""
    moved, event = rules.set_status(incident(), "monitoring", "fix out", "U2", LATER,
                                    resolved_status=RESOLVED)
    assert moved.status == "monitoring"
    assert event == EventRecord(LATER, "status", "U2",
                                {"from": "investigating", "to": "monitoring", "note": "fix out"})
    with pytest.raises(UserError, match="already `monitoring`"):
        rules.set_status(moved, "monitoring", "", "U2", LATER, resolved_status=RESOLVED)
    done, event = rules.set_status(moved, RESOLVED, "rolled back", "U2", LATER,
                                   resolved_status=RESOLVED)
    assert (done.status, done.resolved_at, done.summary) == (RESOLVED, LATER, "rolled back")
    assert event.kind == "resolved" and event.detail["summary"] == "rolled back"
    again, event = rules.set_status(done, "identified", "", "U3", LATER, resolved_status=RESOLVED)
    assert (again.status, again.resolved_at, event.kind) == ("identified", None, "reopened")
    assert event.detail == {"from": RESOLVED, "to": "identified"}


def test_resolve_keeps_an_earlier_summary_and_refuses_twice() -> None:
    """Resolving without a summary keeps the one recorded; resolving twice is refused."""
    done, event = rules.resolve(incident(summary="earlier"), "", "U2", LATER,
                                resolved_status=RESOLVED)
    assert done.summary == "earlier" and "summary" not in event.detail
    with pytest.raises(UserError, match="already resolved"):
        rules.resolve(done, "x", "U2", LATER, resolved_status=RESOLVED)


def test_severity_role_and_update() -> None:
    """Severity and role changes record what they replaced; an update changes nothing."""
    raised, event = rules.set_severity(incident(), "SEV1", "U2", LATER)
    assert raised.severity == "SEV1" and event.detail == {"from": "SEV2", "to": "SEV1"}
    with pytest.raises(UserError, match="already SEV1"):
        rules.set_severity(raised, "SEV1", "U2", LATER)
    handed, event = rules.assign_role(incident(), "commander", "U3", "U2", LATER)
    assert handed.roles == {"commander": "U3"}
    assert event.detail == {"role": "commander", "user": "U3", "previous": "U1"}
    with pytest.raises(UserError, match="^@U3 is already commander of #7") as refused:
        rules.assign_role(handed, "commander", "U3", "U2", LATER)
    assert error_text(refused.value) == "<@U3> is already commander of #7."
    same, event = rules.post_update(incident(), "rolled back", "U2", LATER)
    assert same == incident() and event.detail == {"text": "rolled back"}


@dataclass(frozen=True)
class Words:
    """Not a `DebriefConfig`: the parser needs only the configured words."""

    severity_names: tuple[str, ...] = ("P1", "P2")
    statuses: tuple[str, ...] = ("open", "closed")
    roles: tuple[str, ...] = ("lead",)


def test_commands_parse_against_any_vocabulary() -> None:
    """Command parsing takes the configured words, not the configuration loader."""
    assert parse_incident_command("severity p1", Words()) == Severity(severity="P1")
    with pytest.raises(UserError) as info:
        parse_incident_command("status &lt;b&gt;", Words())
    assert str(info.value) == "I don't know status `<b>`. Choose one of: open, closed."
    assert error_text(info.value) == "I don't know status `&lt;b&gt;`. Choose one of: open, closed."


def test_an_error_keeps_quoted_words_plain_until_shown() -> None:
    """A `UserError` echo is plain in the message and escaped only when shown in Slack."""
    error = UserError("Type `", Echo("a&<b>"), "` isn't one I know.")
    assert str(error) == "Type `a&<b>` isn't one I know."
    assert error_text(error) == "Type `a&amp;&lt;b&gt;` isn't one I know."
    assert error_text(UserError("plain `<@U1>` text")) == "plain `<@U1>` text"
