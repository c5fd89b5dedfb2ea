"""Every sentence a person reads in Slack, built here from what the domain and the
services return (events, incidents, typed outcomes), in Slack's mrkdwn.

Block Kit structure (cards, lists, forms) is `blocks.py`; the words inside it come from
the values it is given. Each builder escapes user text (`text.escape_mrkdwn`) and writes
mentions (`<@U…>`): nothing below Slack does. The plain-text wording of the same event
kinds, for the timeline and the postmortem, is `bot.domain.timeline.lifecycle_text`;
both are exhaustive over `EventKind` (mypy and tests/slack/test_messages.py check it).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, assert_never

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.domain.action_items import ActionItem
from bot.domain.blameless import Finding
from bot.domain.incidents import EventKind, EventRecord, Incident
from bot.errors import explain
from bot.services import postmortems as pm
from bot.services.dispatch import ItemAdded, Noted, Reply, Result, ReviewStep
from bot.services.incidents import Outcome, Problem, Stopped
from bot.services.ports import ActionItemDue, DirectNotice, PostmortemDue, TurnsMoved
from bot.services.timeline import BackfillResult
from bot.slack.blocks import slack_date
from bot.slack.text import describe, escape_mrkdwn, user_mention
from bot.templating import templates_dir


def _finalize(value: Any) -> Any:
    return escape_mrkdwn(value) if isinstance(value, str) else value


@cache
def message_env() -> Environment:
    """Longer messages are templates (`templates/messages/*.mrkdwn.j2`); every value
    they print is escaped for mrkdwn, so user text stays inert."""
    return Environment(
        loader=FileSystemLoader(templates_dir()),
        undefined=StrictUndefined,
        finalize=_finalize,
        keep_trailing_newline=False,
        autoescape=False,
    )


def render_message(name: str, **context: Any) -> str:
    return message_env().get_template(name).render(**context).strip()


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


def notice_text(notice: DirectNotice) -> str:
    """A direct message a service sends one person (reminders, roster changes)."""
    match notice:
        case ActionItemDue(item=item):
            return (f":alarm_clock: Your action item from incident *#{item.incident_number}* "
                    f"is due today: {escape_mrkdwn(item.text)}\n`/actions` lists all of yours.")
        case PostmortemDue(incident=incident, overdue=overdue, policy=policy):
            return (f":memo: The postmortem for incident *#{incident.number} "
                    f"{escape_mrkdwn(incident.title)}* is {'overdue' if overdue else 'due'} "
                    f"({policy} after resolution). `/incident postmortem` drafts it.")
        case TurnsMoved(schedule=schedule):
            return (f":calendar: Your upcoming on-call turns for *{escape_mrkdwn(schedule)}* "
                    f"changed. `/oncall {schedule}` shows the new schedule.")
        case _:
            assert_never(notice)


def shift_reminder_text(schedule: str, start: datetime, end: datetime | None) -> str:
    """The direct message before someone's on-call turn starts."""
    until = f" until {slack_date(end)}" if end else ""
    return (f":pager: You're on call for *{escape_mrkdwn(schedule)}* from "
            f"{slack_date(start)}{until}.")


def handoff_text(schedule: str, user_id: str | None, until: datetime | None) -> str:
    """The schedule channel's message at a handoff (or a gap)."""
    name = escape_mrkdwn(schedule)
    until_text = f" until {slack_date(until)}" if until else ""
    return (f":pager: <@{user_id}> is on call for *{name}*{until_text}." if user_id else
            f":warning: Nobody is on call for *{name}*{until_text}: a gap in the schedule.")


def _problems(problems: list[Problem]) -> str:
    return "; ".join(f"{p.step}: {explain(p.code)}" for p in problems)


def _stop_reason(stopped: Stopped) -> str:
    match stopped.cause:
        case "slack":
            return f"Slack said {explain(stopped.detail)}"
        case "storage-read":
            return "the database didn't answer"
        case "storage":
            return f"the database didn't save it: `{stopped.detail}`"
        case "internal":
            return f"an unexpected `{stopped.detail}`, logged"
        case _:
            assert_never(stopped.cause)


def outcome_text(outcome: Outcome) -> str:
    """A declare, set-up (retry) or change, for the person who asked: what was recorded,
    and what did not reach Slack with how to repair it."""
    number = outcome.incident.number
    if outcome.busy:
        return (f"Incident *#{number}* is being set up right now. If something is still "
                f"missing once that is done, run `/incident retry #{number}` again.")
    if outcome.stopped is not None:
        return (f"Incident *#{number}* was recorded, but setting it up in Slack stopped at "
                f"{outcome.stopped.step} ({_stop_reason(outcome.stopped)}). "
                f"Run `/incident retry #{number}` to finish it.")
    if outcome.event is not None:
        if outcome.problems:
            return (f"Saved, but Slack didn't take every change ({_problems(outcome.problems)}). "
                    f"`/incident retry #{number}` repairs the channel set-up.")
        return f"Incident *#{number}*: {outcome.event.kind.replace('_', ' ')} recorded."
    message = f"Declared incident *#{number}* in <#{outcome.incident.channel_id}>."
    if outcome.problems:
        message += (f" Some steps failed ({_problems(outcome.problems)}); "
                    f"run `/incident retry #{number}` to try them again.")
    return message


def findings_text(findings: list[Finding], text: str, limit: int = 8) -> str:
    """The checker's suggestions, for the author's eyes only (replies are ephemeral)."""
    if not findings:
        return ""
    lines = text.splitlines()
    shown = [
        f"• line {f.line}: “{escape_mrkdwn(lines[f.line - 1][f.start:f.end])}” — "
        f"{f.message} {f.suggestion}"
        for f in findings[:limit]
    ]
    more = f"\n…and {len(findings) - limit} more (`debrief lint`)." if len(findings) > limit else ""
    return ("\n\n:thought_balloon: *Blameless wording check* (only you see this):\n"
            + "\n".join(shown) + more)


def draft_text(draft: pm.Draft) -> str:
    stored = f"Postmortem draft v{draft.version} for *#{draft.number}* is stored"
    if draft.upload_error is not None:
        stored += (f", but Slack refused the upload ({explain(draft.upload_error)}). Run "
                   "`/incident postmortem` again to post a new version, or "
                   "`debrief postmortem render` to read it.")
    else:
        stored += " and posted in the channel."
    return stored + findings_text(draft.findings, draft.content)


def item_marked_text(item: ActionItem) -> str:
    """The answer to a Done / Reopen button."""
    return f"Marked {'open again' if item.is_open else 'done'}: {describe(item)}"


def command_reply(result: Result) -> Reply | None:
    """What a command's result says to the person who ran it (ephemeral)."""
    match result:
        case None | Reply():
            return result
        case Outcome():
            return Reply(outcome_text(result))
        case BackfillResult(seen=seen, changed=changed):
            return Reply(f"Re-read {seen} messages from the channel; "
                         f"{changed} timeline entries added or brought up to date.")
        case Noted(number=number, at=at, text=text, findings=findings):
            return Reply(f"Noted on incident *#{number}*'s timeline at {at:%Y-%m-%d %H:%M} UTC."
                         + findings_text(findings, text))
        case ItemAdded(item=item):
            return Reply(f"Action item added: {describe(item)}")
        case pm.Draft():
            return Reply(draft_text(result))
        case ReviewStep(number=number, status=status):
            return Reply(f"The postmortem for *#{number}* is now *{status.replace('_', ' ')}*.")
        case _:
            assert_never(result)
