"""Pure Block Kit builders. All user text goes through `escape_mrkdwn` (mrkdwn) or
plain_text objects, so nothing a person typed can ping a channel or inject markup."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from bot.config import DebriefConfig
from bot.domain.actions import ActionItem, describe
from bot.domain.incidents import EventRecord, Incident
from bot.domain.postmortem import Postmortem
from bot.domain.stats import Stats
from bot.domain.text import escape_mrkdwn, user_mention
from bot.domain.timeline import Durations, TimelineItem, durations, format_duration
from bot.slack.ids import Action, Block, Callback, Field

Blocks = list[dict[str, Any]]
MAX_SECTION = 3000
MAX_BLOCKS = 50


def _plain(text: str, limit: int = 150) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit] or " ", "emoji": True}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text[:MAX_SECTION]}


def slack_date(at: datetime | None) -> str:
    """A date Slack shows in each reader's own time zone, with a UTC fallback."""
    if at is None:
        return "—"
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def _sections(lines: list[str]) -> Blocks:
    """Lines packed into as few sections as fit Slack's 3000-character limit."""
    blocks: Blocks = []
    chunk: list[str] = []
    for line in lines:
        if chunk and sum(len(x) + 1 for x in chunk) + len(line) > MAX_SECTION - 100:
            blocks.append({"type": "section", "text": _mrkdwn("\n".join(chunk))})
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append({"type": "section", "text": _mrkdwn("\n".join(chunk))})
    return blocks


def build_summary_card(incident: Incident, config: DebriefConfig) -> tuple[str, Blocks]:
    fields = [
        f"*Severity*\n{incident.severity}",
        f"*Status*\n{escape_mrkdwn(incident.status)}",
    ]
    fields += [f"*{role.capitalize()}*\n{user_mention(incident.roles.get(role))}"
               for role in config.roles]
    fields += [f"*On call ({escape_mrkdwn(e.detail['schedule'])})*\n<@{e.detail['user']}>"
               for e in incident.events if e.kind == "oncall"]
    fields += [
        f"*Declared*\n{slack_date(incident.declared_at)}",
        f"*Acknowledged*\n{slack_date(incident.acknowledged_at)}",
    ]
    if incident.action_items:
        still_open = sum(a.is_open for a in incident.action_items)
        fields.append(f"*Action items*\n{still_open} open of {len(incident.action_items)}")
    if incident.resolved_at:
        fields.append(f"*Resolved*\n{slack_date(incident.resolved_at)}")
        spans = durations(incident, config.statuses, config.timeline.mitigated_status)
        fields += [
            f"*Time to acknowledge*\n{format_duration(spans.to_acknowledge)}",
            f"*Time to mitigate*\n{format_duration(spans.to_mitigate)}",
            f"*Time to resolve*\n{format_duration(spans.to_resolve)}",
        ]
    blocks: Blocks = [
        {"type": "header", "text": _plain(f"#{incident.number} {incident.title}")},
    ]
    for start in range(0, len(fields), 10):  # a section takes at most 10 fields
        blocks.append({"type": "section", "fields": [_mrkdwn(f) for f in fields[start:start + 10]]})
    if incident.description:
        blocks.append({"type": "section", "text": _mrkdwn(escape_mrkdwn(incident.description))})
    if incident.summary:
        blocks.append({"type": "section",
                       "text": _mrkdwn("*Resolution*\n" + escape_mrkdwn(incident.summary))})
    blocks.append({"type": "actions", "elements": _card_actions(incident, config)})
    blocks.append({"type": "context", "elements": [_mrkdwn(
        f"Declared by <@{incident.declared_by}> · `/incident help` for commands")]})
    text = f"#{incident.number} {escape_mrkdwn(incident.title)} — {incident.severity}, {incident.status}"
    return text, blocks


def _card_actions(incident: Incident, config: DebriefConfig) -> list[dict[str, Any]]:
    value = str(incident.number)
    elements: list[dict[str, Any]] = []
    if incident.acknowledged_at is None:
        elements.append({"type": "button", "action_id": Action.ACKNOWLEDGE.value,
                         "text": _plain("Acknowledge"), "value": value, "style": "primary"})
    options = [
        {"text": _plain(status.capitalize(), 75), "value": f"{value}:{status}"}
        for status in config.statuses
    ]
    select: dict[str, Any] = {
        "type": "static_select", "action_id": Action.SET_STATUS.value,
        "placeholder": _plain("Change status"), "options": options,
    }
    current = [o for o in options if o["value"] == f"{value}:{incident.status}"]
    if current:
        select["initial_option"] = current[0]
    elements.append(select)
    if incident.resolved_at is None:
        elements.append({
            "type": "button", "action_id": Action.RESOLVE.value, "text": _plain("Resolve"),
            "value": value, "style": "danger",
            "confirm": {
                "title": _plain("Resolve incident?"),
                "text": _plain(f"Mark #{incident.number} as resolved.", 300),
                "confirm": _plain("Resolve"), "deny": _plain("Cancel"),
            },
        })
    return elements


def build_announcement(incident: Incident) -> tuple[str, Blocks]:
    text = (
        f":rotating_light: *{incident.severity}* incident *#{incident.number}* declared: "
        f"*{escape_mrkdwn(incident.title)}*\nJoin <#{incident.channel_id}> · "
        f"Commander: {user_mention(incident.commander)}"
    )
    return text, [{"type": "section", "text": _mrkdwn(text)}]


def build_event_text(incident: Incident, event: EventRecord) -> str:
    who = user_mention(event.actor)
    d = {k: escape_mrkdwn(str(v)) for k, v in event.detail.items()}
    note = f": {d['note']}" if d.get("note") else ""
    match event.kind:
        case "acknowledged":
            return f":eyes: {who} acknowledged the incident."
        case "status":
            return f":arrows_counterclockwise: Status *{d['from']} → {d['to']}* (by {who}){note}"
        case "reopened":
            return f":rotating_light: Reopened as *{d['to']}* by {who}{note}"
        case "severity":
            return f":warning: Severity *{d['from']} → {d['to']}* (by {who})"
        case "role":
            return f":bust_in_silhouette: {user_mention(d['user'])} is now *{d['role']}* (set by {who})"
        case "update":
            return f":mega: *Update* from {who}: {d['text']}"
        case "resolved":
            summary = f": {d['summary']}" if d.get("summary") else "."
            return f":white_check_mark: *Resolved* by {who}{summary}"
    return f"{escape_mrkdwn(event.kind)} by {who}"


def build_thread_text(incident: Incident, event: EventRecord) -> str:
    return f"*#{incident.number} {escape_mrkdwn(incident.title)}* — {build_event_text(incident, event)}"


def build_incident_list(incidents: list[Incident]) -> tuple[str, Blocks]:
    if not incidents:
        return "No open incidents. :tada:", [{"type": "section", "text": _mrkdwn(
            "No open incidents. :tada:")}]
    lines = [
        f"*#{i.number}* {i.severity} · {escape_mrkdwn(i.status)} · "
        f"{escape_mrkdwn(i.title)} · " + (f"<#{i.channel_id}>" if i.channel_id else "_no channel_")
        for i in incidents
    ]
    blocks: Blocks = [{"type": "header", "text": _plain(f"Open incidents ({len(incidents)})")}]
    blocks += _sections(lines)
    if len(blocks) > MAX_BLOCKS:
        blocks = blocks[: MAX_BLOCKS - 1] + [{"type": "context", "elements": [
            _mrkdwn("…more; `debrief incident list` shows them all.")]}]
    return f"{len(incidents)} open incident(s)", blocks


def build_declare_modal(config: DebriefConfig, channel_id: str | None) -> dict[str, Any]:
    options = [
        {"text": _plain(f"{s.name} — {s.description}"[:75], 75), "value": s.name}
        for s in config.severities
    ]
    default = [o for o in options if o["value"] == config.default_severity][0]
    return {
        "type": "modal",
        "callback_id": Callback.DECLARE.value,
        "title": _plain("Declare an incident", 24),
        "submit": _plain("Declare", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": channel_id or "",
        "blocks": [
            {"type": "input", "block_id": Block.TITLE.value, "label": _plain("Title"),
             "element": {"type": "plain_text_input", "action_id": Field.TITLE.value,
                         "max_length": 150,
                         "placeholder": _plain("What is broken, for whom?")}},
            {"type": "input", "block_id": Block.SEVERITY.value, "label": _plain("Severity"),
             "element": {"type": "static_select", "action_id": Field.SEVERITY.value,
                         "options": options, "initial_option": default}},
            {"type": "input", "block_id": Block.DESCRIPTION.value, "optional": True,
             "label": _plain("Description"),
             "element": {"type": "plain_text_input", "action_id": Field.DESCRIPTION.value,
                         "multiline": True, "max_length": 2900}},
            {"type": "input", "block_id": Block.COMMANDER.value, "optional": True,
             "label": _plain("Commander (you, if empty)"),
             "element": {"type": "users_select", "action_id": Field.COMMANDER.value}},
        ],
    }


def build_timeline_messages(incident: Incident, items: list[TimelineItem],
                            *, key_only: bool = True) -> list[tuple[str, Blocks]]:
    """The timeline as one or more messages, each within Block Kit's limits (a section
    holds 3000 characters, a message 50 blocks): long timelines are split, never cut."""
    shown = [i for i in items if not i.deleted and (i.key or not key_only)]
    title = f"Timeline of #{incident.number} {incident.title}"
    if not shown:
        return [(title, [{"type": "header", "text": _plain(title)},
                         {"type": "section", "text": _mrkdwn("Nothing marked as key yet. React with "
                          "the marker emoji or pin a message to add it.")}])]
    lines = [
        f"{slack_date(i.at)} · *{escape_mrkdwn(i.kind)}* · {escape_mrkdwn(i.text[:500])}"
        + (f" — {user_mention(i.author)}" if i.author else "")
        for i in shown
    ]
    sections: list[str] = []
    chunk = ""
    for line in lines:
        if chunk and len(chunk) + len(line) + 1 > MAX_SECTION - 50:
            sections.append(chunk)
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    sections.append(chunk)
    per_message = MAX_BLOCKS - 2
    messages: list[tuple[str, Blocks]] = []
    pages = range(0, len(sections), per_message)
    for page, start in enumerate(pages, 1):
        heading = title if len(pages) == 1 else f"{title} ({page}/{len(pages)})"
        blocks: Blocks = [{"type": "header", "text": _plain(heading)}]
        blocks += [{"type": "section", "text": _mrkdwn(text)}
                   for text in sections[start:start + per_message]]
        messages.append((f"{heading}: {len(shown)} key events", blocks))
    return messages


def build_action_items(items: list[ActionItem], title: str) -> tuple[str, Blocks]:
    """A list with a Done / Reopen button per item (at most 45 items in one message)."""
    blocks: Blocks = [{"type": "header", "text": _plain(title)}]
    if not items:
        blocks.append({"type": "section", "text": _mrkdwn("No action items. :sparkles:")})
        return title, blocks
    for item in items[:MAX_BLOCKS - 5]:
        done = not item.is_open
        blocks.append({
            "type": "section", "block_id": f"item-{item.id}",
            "text": _mrkdwn(("✅ " if done else "◻️ ") + describe(item)),
            "accessory": {
                "type": "button", "value": str(item.id),
                "action_id": (Action.ITEM_REOPEN if done else Action.ITEM_DONE).value,
                "text": _plain("Reopen" if done else "Done"),
                **({} if done else {"style": "primary"}),
            },
        })
    if len(items) > MAX_BLOCKS - 5:
        blocks.append({"type": "context", "elements": [_mrkdwn(
            f"…and {len(items) - (MAX_BLOCKS - 5)} more.")]})
    return f"{title}: {sum(i.is_open for i in items)} open", blocks


def build_postmortem_summary(incident: Incident, postmortem: Postmortem, spans: Durations,
                             open_actions: int, total_actions: int,
                             findings: int) -> tuple[str, Blocks]:
    version = postmortem.latest.version if postmortem.latest else 1
    check = ("no blameful wording found" if not findings else
             f"{findings} wording suggestion{'s' * (findings != 1)} sent privately to the drafter")
    text = (f":memo: *Postmortem draft v{version}* for *#{incident.number} "
            f"{escape_mrkdwn(incident.title)}* ({incident.severity}) — "
            f"{postmortem.status.replace('_', ' ')}")
    fields = [
        f"*Time to acknowledge*\n{format_duration(spans.to_acknowledge)}",
        f"*Time to mitigate*\n{format_duration(spans.to_mitigate)}",
        f"*Time to resolve*\n{format_duration(spans.to_resolve)}",
        f"*Action items*\n{open_actions} open of {total_actions}",
        f"*Blameless check*\n{check}",
    ]
    return text, [
        {"type": "section", "text": _mrkdwn(text)},
        {"type": "section", "fields": [_mrkdwn(f) for f in fields]},
        {"type": "context", "elements": [_mrkdwn(
            "The full document is attached below. `/incident postmortem review` when it is "
            "ready for review, `/incident postmortem publish` when it is done.")]},
    ]


def build_digest(items: list[ActionItem], today: date) -> tuple[str, Blocks]:
    title = f"Overdue action items ({len(items)})"
    lines = [f"• {describe(i)} — {(today - i.due_on).days}d late" for i in items if i.due_on]
    blocks: Blocks = [{"type": "header", "text": _plain(title)}]
    return title, (blocks + _sections(lines))[:MAX_BLOCKS]


def _seconds(value: float | None) -> str:
    return format_duration(timedelta(seconds=value)) if value is not None else "—"


def build_stats(stats: Stats, period: str) -> tuple[str, Blocks]:
    total = sum(stats.by_severity.values())
    by_sev = ", ".join(f"{k}: {v}" for k, v in stats.by_severity.items()) or "none"
    fields = [f"*Incidents*\n{total} ({by_sev})"]
    for name, q in stats.seconds_to.items():
        fields.append(f"*Time to {name}*\nmedian {_seconds(q['median'])} · p90 {_seconds(q['p90'])}")
    pm = stats.postmortems
    fields.append(f"*Postmortems on time*\n{pm['published_on_time']} of {pm['due']} due")
    ai = stats.action_items
    fields.append(f"*Action items*\n{ai['open']} open · {ai['overdue']} overdue · "
                  f"{ai['closed']} closed")
    title = f"Incident stats ({period or '30d'})"
    return title, [{"type": "header", "text": _plain(title)},
                   {"type": "section", "fields": [_mrkdwn(f) for f in fields]}]
