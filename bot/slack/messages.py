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
from bot.domain.permissions import Act, Party, Refused
from bot.slack.text import escape_mrkdwn, user_mention


def topic_text(incident: Incident) -> str:
    """The incident channel's topic: severity, status and commander at a glance."""
    commander = f"<@{incident.commander}>" if incident.commander else "no commander"
    marks = "".join(m for m, on in (("CANCELLED · ", incident.is_cancelled),
                                     ("TEST · ", incident.is_test)) if on)
    return f"{marks}{incident.severity} · {incident.status} · Commander: {commander}"


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
        case EventKind.EDITED:
            changed = "; ".join(f"{name} *{d.get(name + '_was', '')}* → *{d[name]}*"
                                for name in ("title", "severity") if name in d)
            others = [name for name in ("description", "summary") if name in d]
            changed = "; ".join([c for c in (changed, " and ".join(others) + " changed"
                                             if others else "") if c])
            return f":pencil2: {who} corrected the incident: {changed}"
        case EventKind.CANCELLED:
            reason = f": {d['reason']}" if d.get("reason") else "."
            return (f":no_entry_sign: {who} *cancelled* the incident (declared by mistake; "
                    f"kept for the record, left out of stats){reason}")
        case _:  # mypy: every kind has a case above
            assert_never(event.kind)


def thread_text(incident: Incident, event: EventRecord) -> str:
    """The same event in the announcement's thread, which needs the incident named."""
    return f"*#{incident.number} {escape_mrkdwn(incident.title)}* — {event_text(incident, event)}"


ACT_WORDS: dict[Act, str] = {
    Act.DECLARE: "declare incidents",
    Act.ACK: "acknowledge this incident",
    Act.UPDATE: "post updates or change the status of this incident",
    Act.NOTE: "add notes to this incident",
    Act.ADD_ACTION_ITEM: "add action items to this incident",
    Act.SEVERITY: "change this incident's severity",
    Act.ROLE: "assign roles in this incident",
    Act.RESOLVE: "resolve this incident",
    Act.REOPEN: "reopen this incident",
    Act.CANCEL: "cancel this incident",
    Act.EDIT: "correct this incident's title or details",
    Act.DRAFT_POSTMORTEM: "draft this incident's postmortem or send it for review",
    Act.APPROVE_POSTMORTEM: "approve or reopen this postmortem",
    Act.PUBLISH_POSTMORTEM: "publish this postmortem",
    Act.CLOSE_ACTION_ITEM: "close or reopen this action item",
    Act.ONCALL_OVERRIDE: "put that person on call",
    Act.ACCEPT_COVER: "accept this cover request",
}
PARTY_WORDS: dict[Party, str] = {
    Party.ANYONE: "anyone",
    Party.CHANNEL_MEMBERS: "people in the incident's channel",
    Party.COMMANDER: "its commander",
    Party.INCIDENT_ADMINS: "incident admins",
    Party.REVIEWERS: "the postmortem's reviewers",
    Party.ITEM_OWNER: "its owner",
    Party.ITEM_CREATOR: "whoever created it",
    Party.SCHEDULE_MEMBERS_FOR_THEMSELVES: "people on the schedule, for themselves",
    Party.COVERER: "anyone but the person who asked",
    Party.ONCALL_ADMINS: "on-call admins",
}


def _party(refused: Refused, party: Party) -> str:
    """A party's words, and who they are where known: "its commander (@alice)"."""
    found = refused.named.get(party)
    if found is None:
        return PARTY_WORDS[party]
    names = [user_mention(u) for u in found.users]
    if found.group:
        names.append("@" + escape_mrkdwn(found.group))
    return f"{PARTY_WORDS[party]} ({', '.join(names)})" if names else PARTY_WORDS[party]


def refusal_text(refused: Refused) -> str:
    """Why nothing happened, and who may do it (shown only to the person who tried; a
    mention in an ephemeral reply notifies nobody)."""
    who = [_party(refused, p) for p in refused.allowed]
    names = who[0] if len(who) == 1 else ", ".join(who[:-1]) + " or " + who[-1]
    return (f":no_entry: You can't {ACT_WORDS[refused.act]}: only {names} can. "
            "Nothing was changed.")
