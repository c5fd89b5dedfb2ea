"""Every sentence a person reads in Slack, built here from what the domain and the
services return (events, incidents, typed outcomes), in Slack's mrkdwn.

Block Kit structure (cards, lists, forms) is `blocks.py`; the words inside it come from
the values it is given. Each builder escapes user text (`text.escape_mrkdwn`) and writes
mentions (`<@U…>`): nothing below Slack does. The plain-text wording of the same event
kinds, for the timeline and the postmortem, is `bot.domain.timeline.lifecycle_text`;
both are exhaustive over `EventKind` (mypy and tests/slack/test_messages.py check it).
"""

from __future__ import annotations

from typing import assert_never

from bot.domain.incidents import EventKind, EventRecord, Incident
from bot.slack.text import escape_mrkdwn, user_mention


def topic_text(incident: Incident) -> str:
    """The incident channel's topic: severity, status and commander at a glance."""
    commander = f"<@{incident.commander}>" if incident.commander else "no commander"
    return f"{incident.severity} · {incident.status} · Commander: {commander}"


def event_text(incident: Incident, event: EventRecord) -> str:
    """What the incident channel is told when an event is recorded."""
    who = user_mention(event.actor)
    d = {k: escape_mrkdwn(str(v)) for k, v in event.detail.items()}
    note = f": {d['note']}" if d.get("note") else ""
    match event.kind:
        case EventKind.DECLARED:
            return f":rotating_light: {who} declared the incident (*{d['severity']}*): {d['title']}"
        case EventKind.ACKNOWLEDGED:
            return f":eyes: {who} acknowledged the incident."
        case EventKind.STATUS:
            return f":arrows_counterclockwise: Status *{d['from']} → {d['to']}* (by {who}){note}"
        case EventKind.REOPENED:
            return f":rotating_light: Reopened as *{d['to']}* by {who}{note}"
        case EventKind.SEVERITY:
            return f":warning: Severity *{d['from']} → {d['to']}* (by {who})"
        case EventKind.ROLE:
            return (f":bust_in_silhouette: {user_mention(d['user'])} is now *{d['role']}* "
                    f"(set by {who})")
        case EventKind.UPDATE:
            return f":mega: *Update* from {who}: {d['text']}"
        case EventKind.ONCALL:
            return (f":pager: {user_mention(d['user'])} is on call for *{d['schedule']}* "
                    f"(invited by {who})")
        case EventKind.RESOLVED:
            summary = f": {d['summary']}" if d.get("summary") else "."
            return f":white_check_mark: *Resolved* by {who}{summary}"
        case _:  # mypy: every kind has a case above
            assert_never(event.kind)


def thread_text(incident: Incident, event: EventRecord) -> str:
    """The same event in the announcement's thread, which needs the incident named."""
    return f"*#{incident.number} {escape_mrkdwn(incident.title)}* — {event_text(incident, event)}"
