"""Pure Block Kit builders. All user text goes through `escape_mrkdwn` (mrkdwn) or
plain_text objects, so nothing a person typed can ping a channel or inject markup."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from bot.config import DebriefConfig
from bot.domain.action_items import TYPES, ActionItem
from bot.domain.alerts import AlertGroup, alert_tags
from bot.domain.commands import MAX_TEXT as MAX_UPDATE
from bot.domain.factors import FACTOR_TEXT_LIMIT, FactorForm, category_title
from bot.domain.incidents import EventKind, Incident
from bot.domain.nudges import SNOOZE, Nudge, NudgeKind
from bot.domain.postmortem import SECTION_TEXT_LIMIT, Postmortem, SectionForm
from bot.domain.reviews import MAX_COMMENT
from bot.domain.rotations import Override
from bot.domain.stats import Stats
from bot.domain.timeline import Durations, TimelineItem, durations, format_duration
from bot.domain.trends import Trends, trend_figures
from bot.services.factors import FactorList
from bot.services.ports import PublishedSummary, RelatedIncident, ReviewRequest
from bot.services.search import MAX_RESULTS, Found
from bot.slack.ids import Action, Block, Callback, Field
from bot.slack.text import describe, escape_mrkdwn, slack_date, user_mention

Blocks = list[dict[str, Any]]
MAX_SECTION = 3000
MAX_BLOCKS = 50
MAX_TEXT = 40_000
MAX_OPTIONS = 100  # a select menu's options  # a message's `text` (Slack refuses longer with msg_too_long)
# chat.postMessage refuses blocks holding more than about 12,000 characters of text
# (`msg_blocks_too_long`; see the stand-in's MAX_BLOCKS_TEXT).
MAX_POSTED_TEXT = 11_500
ELLIPSIS = "…"
# Page sizes: each page stays well within 50 blocks and Slack's message size.
ITEMS_PER_PAGE = 40  # header + 40 items + edit menu + page line + buttons = 44 blocks
INCIDENTS_PER_PAGE = 50  # at most ~14 sections even with long, heavily escaped titles
TIMELINE_SECTIONS_PER_PAGE = 15
# What a cut must not split: an entity (`&amp;`) or a control sequence (`<@U1>`, `<!date^…>`).
_OPEN_ENTITY = re.compile(r"&(?:a|am|amp|l|lt|g|gt)?$")


def fit(text: str, limit: int) -> str:
    """`text` (already escaped for Slack) in at most `limit` characters: cut with an
    ellipsis, never inside an escaped entity (`&amp;`, `&lt;`, `&gt;`) or a control
    sequence (`<@U1>`, `<#C1>`, `<!date^…|…>`), which would garble or un-escape it."""
    if len(text) <= limit:
        return text
    cut = text[:max(limit - len(ELLIPSIS), 0)]
    entity = _OPEN_ENTITY.search(cut)
    if entity and text[entity.start():].startswith(("&amp;", "&lt;", "&gt;")):
        cut = cut[:entity.start()]
    opened = cut.rfind("<")
    if opened != -1 and ">" not in cut[opened:]:
        cut = cut[:opened]
    return cut + ELLIPSIS


def _plain(text: str, limit: int = 150) -> dict[str, Any]:
    return {"type": "plain_text", "text": fit(text, limit) or " ", "emoji": True}


def _mrkdwn(text: str, limit: int = MAX_SECTION) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": fit(text, limit)}


def _pager(kind: str, ref: str, page: int, pages: int, *, back: bool = True,
           more: str = "Next") -> Blocks:
    """A page line and Previous / Next buttons (value `kind:ref:page`), when there is
    more than one page: lists page instead of silently dropping items."""
    if pages <= 1:
        return []
    buttons: list[dict[str, Any]] = []
    if back and page > 1:
        buttons.append({"type": "button", "action_id": Action.PAGE_BACK.value,
                        "text": _plain("Previous", 75), "value": f"{kind}:{ref}:{page - 1}"})
    if page < pages:
        buttons.append({"type": "button", "action_id": Action.PAGE_NEXT.value,
                        "text": _plain(more, 75), "value": f"{kind}:{ref}:{page + 1}"})
    blocks: Blocks = [{"type": "context", "elements": [_mrkdwn(f"Page {page} of {pages}")]}]
    if buttons:
        blocks.append({"type": "actions", "block_id": "pager", "elements": buttons})
    return blocks


def _at_most(choices: list[Any], limit: int, keep: Any) -> list[Any]:
    """A select menu takes at most 100 options: the first ones, always with `keep`
    (the current choice) among them."""
    if len(choices) <= limit:
        return choices
    head = choices[:limit]
    return head if keep in head or keep not in choices else head[:limit - 1] + [keep]


def page_count(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def _clamp(page: int, pages: int) -> int:
    return min(max(page, 1), pages)


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
    fields += _people_fields(incident, config)
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
        {"type": "header", "text": _plain(f"{_label(incident)}#{incident.number} {incident.title}")},
    ]
    if incident.is_cancelled or incident.is_test:
        blocks.append({"type": "context", "elements": [_mrkdwn(_label_note(incident))]})
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
    text = (f"{_label(incident)}#{incident.number} {escape_mrkdwn(incident.title)} — "
            f"{incident.severity}, {incident.status}")
    return text, blocks


def _label(incident: Incident) -> str:
    """What a card or announcement says first about an incident that does not count."""
    marks = [m for m, on in (("CANCELLED", incident.is_cancelled), ("TEST", incident.is_test))
             if on]
    return f"[{' · '.join(marks)}] " if marks else ""


def _label_note(incident: Incident) -> str:
    if incident.is_cancelled:
        return (":no_entry_sign: *Cancelled*: declared by mistake. Kept for the record; "
                "not counted in stats.")
    return ":test_tube: *Test incident* (a drill): not counted in stats, lists or reminders."


MAX_PEOPLE_FIELDS = 20  # a card has 50 blocks of 10 fields; configured roles are unbounded


def _people_fields(incident: Incident, config: DebriefConfig) -> list[str]:
    """A field per role and per on-call person; past 20, the rest share one field that
    names only the filled ones (cut whole at 2,000 characters, Slack's field limit)."""
    people = [(role.capitalize(), role, user_mention(incident.roles.get(role)),
               role in incident.roles) for role in config.roles]
    people += [(f"On call ({escape_mrkdwn(e.detail['schedule'])})",
                f"on call ({escape_mrkdwn(e.detail['schedule'])})", f"<@{e.detail['user']}>",
                True) for e in incident.events if e.kind is EventKind.ONCALL]
    fields = [f"*{label}*\n{who}" for label, _, who, _ in people[:MAX_PEOPLE_FIELDS - 1]]
    rest = people[MAX_PEOPLE_FIELDS - 1:]
    if len(rest) == 1:
        fields.append(f"*{rest[0][0]}*\n{rest[0][2]}")
    elif rest:
        filled = [f"{name}: {who}" for _, name, who, held in rest if held]
        fields.append(fit(f"*Other roles ({len(rest)})*\n" + ("\n".join(filled)
                                                              or "none filled"), 2000))
    return fields


def _card_actions(incident: Incident, config: DebriefConfig) -> list[dict[str, Any]]:
    value = str(incident.number)
    elements: list[dict[str, Any]] = []
    if incident.acknowledged_at is None and incident.resolved_at is None:
        elements.append({"type": "button", "action_id": Action.ACKNOWLEDGE.value,
                         "text": _plain("Acknowledge"), "value": value, "style": "primary"})
    statuses = _at_most(list(config.statuses), MAX_OPTIONS, incident.status)
    options = [
        {"text": _plain(status.capitalize(), 75), "value": f"{value}:{status}"}
        for status in statuses
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
    if incident.private:  # redacted: no title, channel or people
        text = f":lock: A private *{incident.severity}* incident (*#{incident.number}*) was declared."
        return text, [{"type": "section", "text": _mrkdwn(text)}]
    text = (
        f":rotating_light: {_label(incident)}*{incident.severity}* incident "
        f"*#{incident.number}* declared: "
        f"*{escape_mrkdwn(incident.title)}*\nJoin <#{incident.channel_id}> · "
        f"Commander: {user_mention(incident.commander)}"
    )
    if incident.is_cancelled or incident.is_test:
        text += "\n" + _label_note(incident)
    return text, [{"type": "section", "text": _mrkdwn(text)}]


def build_incident_list(incidents: list[Incident], page: int = 1) -> tuple[str, Blocks]:
    """Open incidents, 50 to a page, with Previous / Next buttons when there are more."""
    if not incidents:
        return "No open incidents. :tada:", [{"type": "section", "text": _mrkdwn(
            "No open incidents. :tada:")}]
    pages = page_count(len(incidents), INCIDENTS_PER_PAGE)
    page = _clamp(page, pages)
    shown = incidents[(page - 1) * INCIDENTS_PER_PAGE:page * INCIDENTS_PER_PAGE]
    lines = [
        f"*#{i.number}* {i.severity} · {escape_mrkdwn(i.status)} · "
        f"{fit(escape_mrkdwn(i.title), 300)} · "
        + (f"<#{i.channel_id}>" if i.channel_id else "_no channel_")
        for i in shown
    ]
    blocks: Blocks = [{"type": "header", "text": _plain(f"Open incidents ({len(incidents)})")}]
    blocks += _sections(lines)
    blocks += _pager("incidents", "", page, pages)
    return f"{len(incidents)} open incident(s), page {page} of {pages}", blocks


SEARCH_PER_PAGE = 10


def build_search_results(found: Found, page: int = 1) -> tuple[str, Blocks]:
    """Matches of a search, best first, 10 to a page with Previous / Next buttons; each
    with its severity, when it was declared, its tags and its channel."""
    said = escape_mrkdwn(found.query.text)
    if not found.incidents:
        text = f"No incidents match _{said}_."
        return text, [{"type": "section", "text": _mrkdwn(text)}]
    total = len(found.incidents)
    pages = page_count(total, SEARCH_PER_PAGE)
    page = _clamp(page, pages)
    shown = found.incidents[(page - 1) * SEARCH_PER_PAGE:page * SEARCH_PER_PAGE]
    lines = [
        f"*#{i.number}* {i.severity} · {slack_date(i.declared_at)} · "
        f"{fit(escape_mrkdwn(i.title), 300)}"
        + (f" · `{' '.join(i.tags)}`" if i.tags else "")
        + (f" · <#{i.channel_id}>" if i.channel_id else "")
        for i in shown
    ]
    more = "+" if total >= MAX_RESULTS else ""
    blocks: Blocks = [{"type": "section", "text": _mrkdwn(
        f"*{total}{more} incident(s) match* _{fit(said, 500)}_")}]
    blocks += _sections(lines)
    blocks += _pager("search", found.query.text, page, pages)
    return f"{total}{more} incident(s) match {found.query.text}, page {page} of {pages}", blocks


def build_declare_modal(config: DebriefConfig, channel_id: str | None, *,
                        alert: AlertGroup | None = None, severity: str | None = None,
                        ) -> dict[str, Any]:
    """The declare form; from an alert (`alert`), prefilled with its title, description,
    the severity and the tags its labels suggest, and carrying the group's id."""
    chosen = severity if severity in config.severity_names else config.default_severity
    severities = _at_most(list(config.severities), MAX_OPTIONS,
                          next(s for s in config.severities if s.name == chosen))
    options = [
        {"text": _plain(f"{s.name} — {s.description}", 75), "value": s.name}
        for s in severities
    ]
    default = [o for o in options if o["value"] == chosen][0]
    view = _declare_view(options, default, channel_id)
    if alert is not None:
        view["callback_id"] = Callback.DECLARE_ALERT.value
        view["private_metadata"] = f"{alert.id}:{channel_id or ''}"
        view["blocks"][0]["element"]["initial_value"] = alert.title[:150]
        if alert.description:
            view["blocks"][2]["element"]["initial_value"] = alert.description[:2900]
        tags = alert_tags(alert.labels)
        if tags:
            view["blocks"][3]["element"]["initial_value"] = " ".join(tags)
    return view


def _declare_view(options: list[dict[str, Any]], default: dict[str, Any],
                  channel_id: str | None) -> dict[str, Any]:
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
            {"type": "input", "block_id": Block.TAGS.value, "optional": True,
             "label": _plain("Tags and services"),
             "hint": _plain("Separate them with spaces; a service is service:payments. "
                            "Related past incidents are found by these and the title."),
             "element": {"type": "plain_text_input", "action_id": Field.TAGS.value,
                         "max_length": 700,
                         "placeholder": _plain("database service:payments")}},
            {"type": "input", "block_id": Block.COMMANDER.value, "optional": True,
             "label": _plain("Commander (you, if empty)"),
             "element": {"type": "users_select", "action_id": Field.COMMANDER.value}},
            {"type": "input", "block_id": Block.PRIVATE.value, "optional": True,
             "label": _plain("Visibility"),
             "element": {"type": "checkboxes", "action_id": Field.PRIVATE.value, "options": [
                 {"text": _plain("Private incident", 75), "value": "private",
                  "description": _plain("A private channel; not listed to non-members", 75)}]}},
            {"type": "input", "block_id": Block.TEST.value, "optional": True,
             "label": _plain("Drill"),
             "element": {"type": "checkboxes", "action_id": Field.TEST.value, "options": [
                 {"text": _plain("Test incident (not counted in stats, lists or reminders)"),
                  "value": "test"}]}},
        ],
    }


MAX_OVERRIDES_LISTED = 40  # a section and a button each: within 50 blocks


def build_override_list(schedule: str, overrides: list[Override],
                        removable: Collection[int]) -> tuple[str, Blocks]:
    """A schedule's current and coming overrides; a Remove button on those the viewer
    may remove (`removable`, by number)."""
    name = escape_mrkdwn(schedule)
    if not overrides:
        text = f"No current or coming overrides on *{name}*."
        return text, [{"type": "section", "text": _mrkdwn(text)}]
    blocks: Blocks = [{"type": "header", "text": _plain(f"Overrides on {schedule}")}]
    for o in overrides[:MAX_OVERRIDES_LISTED]:
        who = f"<@{o.user}>" if "@" not in o.user else escape_mrkdwn(o.user)
        row: dict[str, Any] = {
            "type": "section", "block_id": f"override-{o.seq}",
            "text": _mrkdwn(f"`{o.seq}` {who} from {slack_date(o.start)} to {slack_date(o.end)}")}
        if o.seq in removable:
            row["accessory"] = {"type": "button", "action_id": Action.OVERRIDE_REMOVE.value,
                                "value": str(o.seq), "style": "danger",
                                "text": _plain("Remove", 75)}
        blocks.append(row)
    if len(overrides) > MAX_OVERRIDES_LISTED:
        blocks.append({"type": "context", "elements": [_mrkdwn(
            f"…and {len(overrides) - MAX_OVERRIDES_LISTED} more later.")]})
    return f"Overrides on {name}: {len(overrides)}", blocks


def build_rephrase_button(text: str, number: int, entry_id: int) -> Blocks:
    """The reply to a note the blameless checker flagged, with "Rephrase" right there."""
    return [{"type": "section", "text": _mrkdwn(text)},
            {"type": "actions", "elements": [{
                "type": "button", "action_id": Action.NOTE_REPHRASE.value,
                "value": f"{number}:{entry_id}", "text": _plain("Rephrase", 75)}]}]


def build_rephrase_modal(number: int, entry_id: int, channel_id: str, text: str,
                         advice: list[str]) -> dict[str, Any]:
    """A form prefilled with the note, the checker's suggestions above it."""
    hints = "\n".join(f"• {escape_mrkdwn(a)}" for a in advice[:8]) or "Reword it freely."
    return {
        "type": "modal", "callback_id": Callback.REPHRASE.value,
        "title": _plain("Rephrase the note", 24), "submit": _plain("Save", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": f"{number}:{entry_id}:{channel_id}",
        "blocks": [
            {"type": "section", "text": _mrkdwn(f"*Blameless wording check*\n{hints}")},
            {"type": "input", "block_id": Block.NOTE_TEXT.value, "label": _plain("Note"),
             "element": {"type": "plain_text_input", "action_id": Field.NOTE_TEXT.value,
                         "multiline": True, "max_length": 2900,
                         "initial_value": text[:2900]}},
        ],
    }


def build_edit_modal(incident: Incident, config: DebriefConfig) -> dict[str, Any]:
    """The declare form's fields (and the summary), prefilled with what the incident says."""
    severities = _at_most(list(config.severities), MAX_OPTIONS,
                          next((s for s in config.severities if s.name == incident.severity),
                               config.severities[0]))
    options = [{"text": _plain(f"{s.name} — {s.description}", 75), "value": s.name}
               for s in severities]
    severity: dict[str, Any] = {"type": "static_select", "action_id": Field.SEVERITY.value,
                                "options": options}
    current = [o for o in options if o["value"] == incident.severity]
    if current:
        severity["initial_option"] = current[0]

    def text_input(field: Field, value: str, **more: Any) -> dict[str, Any]:
        element = {"type": "plain_text_input", "action_id": field.value, **more}
        if value:
            element["initial_value"] = value
        return element

    return {
        "type": "modal",
        "callback_id": Callback.EDIT.value,
        "title": _plain(f"Edit incident #{incident.number}", 24),
        "submit": _plain("Save", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": str(incident.number),
        "blocks": [
            {"type": "input", "block_id": Block.TITLE.value, "label": _plain("Title"),
             "element": text_input(Field.TITLE, incident.title, max_length=150)},
            {"type": "input", "block_id": Block.SEVERITY.value, "label": _plain("Severity"),
             "element": severity},
            {"type": "input", "block_id": Block.DESCRIPTION.value, "optional": True,
             "label": _plain("Description"),
             "element": text_input(Field.DESCRIPTION, incident.description, multiline=True,
                                   max_length=2900)},
            {"type": "input", "block_id": Block.SUMMARY.value, "optional": True,
             "label": _plain("Summary"),
             "element": text_input(Field.SUMMARY, incident.summary, multiline=True,
                                   max_length=2900)},
        ],
    }


def build_cover_request(schedule: str, user_id: str, start: datetime,
                        end: datetime) -> tuple[str, Blocks]:
    """The message asking a schedule's channel for cover, with the button whose value
    carries the whole request (the click handler needs nothing else)."""
    value = json.dumps({"schedule": schedule, "start": start.isoformat(),
                        "end": end.isoformat(), "by": user_id})
    text = (f":sos: <@{user_id}> needs cover for *{escape_mrkdwn(schedule)}* from "
            f"{slack_date(start)} to {slack_date(end)}.")
    return text, [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "actions", "elements": [{
            "type": "button", "action_id": Action.COVER.value, "value": value,
            "style": "primary", "text": {"type": "plain_text", "text": "I'll cover"}}]},
    ]


def _author(item: TimelineItem) -> str:
    """A person as a mention; another bot (kind `bot`) by the name it posted under."""
    return f"_{escape_mrkdwn(item.author or '')}_ (bot)" if item.kind == "bot" \
        else user_mention(item.author)


def _timeline_sections(items: list[TimelineItem]) -> list[str]:
    lines = [
        (f"`{i.entry_id}` " if i.entry_id is not None else "")
        + f"{slack_date(i.at)} · *{escape_mrkdwn(i.kind)}* · {fit(escape_mrkdwn(i.text), 500)}"
        + (f" — {_author(i)}" if i.author else "")
        + (" _(hidden from the postmortem)_" if i.hidden else "")
        for i in items
    ]
    sections: list[str] = []
    chunk = ""
    for line in lines:
        if chunk and len(chunk) + len(line) + 1 > MAX_SECTION - 50:
            sections.append(chunk)
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    sections.append(chunk)
    return sections


def build_timeline_page(incident: Incident, items: list[TimelineItem], page: int = 1,
                        *, key_only: bool = True) -> tuple[str, Blocks]:
    """One page of the timeline within Block Kit's limits, with a "More" button for the
    next page: a response_url takes only 5 responses, so long timelines are shown page
    by page, each click answering through its own response_url; nothing is cut."""
    shown = [i for i in items if not i.deleted and (i.key or not key_only)]
    title = f"Timeline of #{incident.number} {incident.title}"
    safe_title = f"Timeline of #{incident.number} {escape_mrkdwn(incident.title)}"
    if not shown:
        return safe_title, [{"type": "header", "text": _plain(title)},
                            {"type": "section", "text": _mrkdwn(
                                "Nothing marked as key yet. React with the marker emoji or "
                                "pin a message to add it.")}]
    sections = _timeline_sections(shown)
    pages = page_count(len(sections), TIMELINE_SECTIONS_PER_PAGE)
    page = _clamp(page, pages)
    heading = title if pages == 1 else f"({page}/{pages}) {title}"
    blocks: Blocks = [{"type": "header", "text": _plain(heading)}]
    start = (page - 1) * TIMELINE_SECTIONS_PER_PAGE
    blocks += [{"type": "section", "text": _mrkdwn(text)}
               for text in sections[start:start + TIMELINE_SECTIONS_PER_PAGE]]
    blocks += _pager("timeline", str(incident.number), page, pages, back=False, more="More")
    part = "" if pages == 1 else f" ({page}/{pages})"
    return fit(f"{safe_title}{part}: {len(shown)} key events", MAX_TEXT), blocks


def build_action_items(items: list[ActionItem], title: str, page: int = 1,
                       pager: tuple[str, str] = ("items", "")) -> tuple[str, Blocks]:
    """A list with a Done / Reopen button per item, 40 to a page, with Previous / Next
    buttons (`pager` names the list for the page buttons: kind and reference)."""
    blocks: Blocks = [{"type": "header", "text": _plain(title)}]
    if not items:
        blocks.append({"type": "section", "text": _mrkdwn("No action items. :sparkles:")})
        return escape_mrkdwn(title), blocks
    pages = page_count(len(items), ITEMS_PER_PAGE)
    page = _clamp(page, pages)
    for item in items[(page - 1) * ITEMS_PER_PAGE:page * ITEMS_PER_PAGE]:
        done = not item.is_open
        blocks.append({
            "type": "section", "block_id": f"item-{item.id}",
            "text": _mrkdwn(("✅ " if done else "◻️ ") + f"`{item.id}` " + describe(item)),
            "accessory": {
                "type": "button", "value": str(item.id),
                "action_id": (Action.ITEM_REOPEN if done else Action.ITEM_DONE).value,
                "text": _plain("Reopen" if done else "Done", 75),
                **({} if done else {"style": "primary"}),
            },
        })
    shown = items[(page - 1) * ITEMS_PER_PAGE:page * ITEMS_PER_PAGE]
    blocks.append({"type": "actions", "block_id": "edit-item", "elements": [{
        "type": "static_select", "action_id": Action.ITEM_EDIT.value,
        "placeholder": _plain("Edit or remove an item…", 75),
        "options": [{"text": _plain(f"{i.id} {i.text}", 75), "value": str(i.id)}
                    for i in shown[:MAX_OPTIONS]]}]})
    blocks += _pager(pager[0], pager[1], page, pages)
    return f"{escape_mrkdwn(title)}: {sum(i.is_open for i in items)} open", blocks


def build_item_form(number: int, item: ActionItem, channel_id: str) -> dict[str, Any]:
    """Change an action item's text, owner, due date or type, or remove it."""
    types = [{"text": _plain(t, 75), "value": t} for t in TYPES]
    due: dict[str, Any] = {"type": "datepicker", "action_id": Field.ITEM_DUE.value}
    if item.due_on:
        due["initial_date"] = f"{item.due_on:%Y-%m-%d}"
    owner: dict[str, Any] = {"type": "users_select", "action_id": Field.ITEM_OWNER.value}
    if item.owner:
        owner["initial_user"] = item.owner
    return {
        "type": "modal", "callback_id": Callback.ITEM_EDIT.value,
        "title": _plain(f"Action item {item.id}", 24), "submit": _plain("Save", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": f"{number}:{item.id}:{channel_id}",
        "blocks": [
            {"type": "input", "block_id": Block.ITEM_TEXT.value, "label": _plain("What"),
             "element": {"type": "plain_text_input", "action_id": Field.ITEM_TEXT.value,
                         "max_length": 500, "initial_value": item.text[:500]}},
            {"type": "input", "block_id": Block.ITEM_OWNER.value, "optional": True,
             "label": _plain("Owner"), "element": owner},
            {"type": "input", "block_id": Block.ITEM_DUE.value, "optional": True,
             "label": _plain("Due"), "element": due},
            {"type": "input", "block_id": Block.ITEM_TYPE.value, "label": _plain("Type"),
             "element": {"type": "static_select", "action_id": Field.ITEM_TYPE.value,
                         "options": types,
                         "initial_option": next(t for t in types if t["value"] == item.type)}},
            {"type": "input", "block_id": Block.ITEM_REMOVE.value, "optional": True,
             "label": _plain("Remove"),
             "element": {"type": "checkboxes", "action_id": Field.ITEM_REMOVE.value,
                         "options": [{"text": _plain("Remove this action item", 75),
                                      "value": "remove"}]}},
        ],
    }


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
        {"type": "actions", "block_id": "postmortem", "elements": [
            {"type": "button", "action_id": Action.POSTMORTEM_WRITE.value,
             "text": _plain("Write postmortem"), "value": str(incident.number),
             "style": "primary"},
            {"type": "button", "action_id": Action.FACTOR_ADD.value,
             "text": _plain("Add contributing factor"), "value": str(incident.number)}]},
        {"type": "context", "elements": [_mrkdwn(
            "The full document is attached below (later versions in this thread). "
            "*Write postmortem* (or `/incident postmortem edit [section]`) to write its "
            "sections, *Add contributing factor* (or `/incident postmortem factor`) for "
            "each condition that played a part; `/incident postmortem review` when it is "
            "ready for review, `/incident postmortem publish` when it is done.")]},
    ]


MAX_MODAL_SECTIONS = 100  # a modal holds at most 100 blocks


def build_sections_modal(form: SectionForm, channel_id: str,
                         message_ts: str | None) -> dict[str, Any]:
    """The "Write postmortem" modal: one multi-line input per declared section, filled
    with its current text; the hint says who wrote it last. Slack's plain_text_input
    takes at most 3,000 characters, so that is the limit (checked again on submit)."""
    blocks: Blocks = []
    for spec in form.sections[:MAX_MODAL_SECTIONS]:
        current = form.current.get(spec.key)
        element: dict[str, Any] = {"type": "plain_text_input",
                                   "action_id": Field.SECTION_TEXT.value, "multiline": True,
                                   "max_length": SECTION_TEXT_LIMIT}
        if current and current.text:
            element["initial_value"] = current.text[:SECTION_TEXT_LIMIT]
        block: dict[str, Any] = {
            "type": "input", "block_id": f"{Block.SECTION.value}{spec.key}", "optional": True,
            "label": _plain(spec.heading, 2000), "element": element}
        if current:
            who = form.names.get(current.author, current.author)
            block["hint"] = _plain(f"Version {current.version}, last written by {who} at "
                                   f"{current.written_at:%Y-%m-%d %H:%M} UTC", 2000)
        blocks.append(block)
    return {
        "type": "modal",
        "callback_id": Callback.POSTMORTEM_WRITE.value,
        "title": _plain(f"Postmortem #{form.number}", 24),
        "submit": _plain("Save", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": f"{form.number}:{channel_id}:{message_ts or ''}",
        "blocks": blocks,
    }


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(text, 75), "value": value}


def build_factor_modal(form: FactorForm, channel_id: str,
                       message_ts: str | None) -> dict[str, Any]:
    """The "Add contributing factor" modal: a category, a description, and optionally
    the key timeline entries and action items it links (menus only when there are any)."""
    categories = [_option(category_title(c), c) for c in form.categories[:MAX_OPTIONS]]
    select: dict[str, Any] = {"type": "static_select", "action_id": Field.FACTOR_CATEGORY.value,
                              "placeholder": _plain("Technical, process, …", 75),
                              "options": categories}
    if form.category in form.categories:
        select["initial_option"] = categories[form.categories.index(form.category)]
    text: dict[str, Any] = {"type": "plain_text_input", "action_id": Field.FACTOR_TEXT.value,
                            "multiline": True, "max_length": FACTOR_TEXT_LIMIT,
                            "placeholder": _plain("A condition that made this possible, e.g. "
                                                  "“config changes skip the canary”", 150)}
    if form.description:
        text["initial_value"] = form.description[:FACTOR_TEXT_LIMIT]
    blocks: Blocks = [
        {"type": "input", "block_id": Block.FACTOR_CATEGORY.value,
         "label": _plain("Category"), "element": select},
        {"type": "input", "block_id": Block.FACTOR_TEXT.value, "label": _plain("Description"),
         "hint": _plain("Describe a condition of the system, the process or the "
                        "organisation, not a person's mistake.", 2000),
         "element": text},
    ]
    if form.timeline:
        blocks.append({
            "type": "input", "block_id": Block.FACTOR_TIMELINE.value, "optional": True,
            "label": _plain("Timeline entries it links"),
            "element": {"type": "multi_static_select", "action_id": Field.FACTOR_TIMELINE.value,
                        "placeholder": _plain("Key events", 75),
                        "options": [_option(f"{label} — {' '.join(words.split())}", str(i))
                                    for i, label, words in form.timeline[:MAX_OPTIONS]]}})
    if form.action_items:
        blocks.append({
            "type": "input", "block_id": Block.FACTOR_ITEMS.value, "optional": True,
            "label": _plain("Action items it links"),
            "element": {"type": "multi_static_select", "action_id": Field.FACTOR_ITEMS.value,
                        "placeholder": _plain("Action items", 75),
                        "options": [_option(f"#{i} {' '.join(words.split())}", str(i))
                                    for i, words in form.action_items[:MAX_OPTIONS]]}})
    return {
        "type": "modal", "callback_id": Callback.FACTOR_ADD.value,
        "title": _plain("Contributing factor", 24), "submit": _plain("Add", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": f"{form.number}:{channel_id}:{message_ts or ''}",
        "blocks": blocks,
    }


def build_factor_list(listed: FactorList) -> tuple[str, Blocks]:
    """The incident's standing contributing factors, each with its number, category,
    links and a **Remove** button (confirmed), and a button to add another. At most
    MAX_FACTORS stand, so the list fits one message."""
    title = f"Contributing factors of #{listed.number}"
    blocks: Blocks = [{"type": "header", "text": _plain(title)}]
    if not listed.factors:
        blocks.append({"type": "section", "text": _mrkdwn(
            "None yet. *Add contributing factor* below, or "
            "`/incident postmortem factor <category> <text>`.")})
    for factor, links in listed.factors:
        said = (f"`{factor.id}` *{escape_mrkdwn(category_title(factor.category))}* — "
                f"{escape_mrkdwn(factor.description)}"
                + (f" _({escape_mrkdwn(links)})_" if links else ""))
        blocks.append({
            "type": "section", "block_id": f"factor-{factor.id}", "text": _mrkdwn(said),
            "accessory": {
                "type": "button", "action_id": Action.FACTOR_REMOVE.value,
                "value": f"{listed.number}:{factor.id}", "text": _plain("Remove", 75),
                "confirm": {"title": _plain("Remove this factor?", 100),
                            "text": _plain(f"Factor {factor.id} leaves the postmortem (it "
                                           "stays on record as removed).", 300),
                            "confirm": _plain("Remove", 30), "deny": _plain("Keep it", 30)}}})
    blocks.append({"type": "actions", "block_id": "factors", "elements": [
        {"type": "button", "action_id": Action.FACTOR_ADD.value,
         "text": _plain("Add contributing factor"), "value": str(listed.number)}]})
    return f"{escape_mrkdwn(title)}: {len(listed.factors)}", blocks


def build_digest(items: list[ActionItem], today: date) -> tuple[str, Blocks]:
    """The overdue items in one message: within 50 blocks and the ~12,000 characters of
    block text chat.postMessage takes (else `msg_blocks_too_long`), counting the rest."""
    title = f"Overdue action items ({len(items)})"
    lines = [f"• {describe(i)} — {(today - i.due_on).days}d late" for i in items if i.due_on]
    blocks: Blocks = [{"type": "header", "text": _plain(title)}]
    budget = MAX_POSTED_TEXT - len(title) - 200  # room for the "and N more" line
    sections = _sections(lines)
    for block in sections[:MAX_BLOCKS - 2]:
        budget -= len(block["text"]["text"])
        if budget < 0:
            break
        blocks.append(block)
    if len(blocks) - 1 < len(sections):  # say what is left out rather than drop it silently
        shown = sum(b["text"]["text"].count("\n") + 1 for b in blocks[1:])
        blocks.append({"type": "context", "elements": [_mrkdwn(
            f"…and {len(lines) - shown} more: each owner sees theirs with `/actions`.")]})
    return title, blocks


def _seconds(value: float | None) -> str:
    return format_duration(timedelta(seconds=value)) if value is not None else "—"


def trend_text(trends: Trends) -> str:
    """`*This week vs 12-week median*` then `Incidents 3 ↑ (1) · MTTA 4m ↓ (9m) · …`
    (↑ / ↓: above / below the median of the 12 weekly figures)."""
    parts = [f"{f.label.capitalize() if f.label == 'incidents' else f.label} "
             f"*{f.this_week}*{' ' + f.arrow if f.arrow else ''} ({f.median})"
             for f in trend_figures(trends)]
    return "*This week vs 12-week median*\n" + " · ".join(parts)


def build_stats(stats: Stats, period: str, trends: Trends | None = None) -> tuple[str, Blocks]:
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
    blocks: Blocks = [{"type": "header", "text": _plain(title)},
                      {"type": "section", "fields": [_mrkdwn(f) for f in fields]}]
    ack = stats.alert_ack
    lines = [f"{escape_mrkdwn(name)}: median {_seconds(q['median'])} · p90 "
             f"{_seconds(q['p90'])} ({q['count']})"
             for name, q in list(ack.get("by_schedule", {}).items())[:MAX_ACK_ROWS]]
    lines += [f"{user_mention(user)}: median {_seconds(q['median'])} · p90 "
              f"{_seconds(q['p90'])} ({q['count']})"
              for user, q in list(ack.get("by_person", {}).items())[:MAX_ACK_ROWS]]
    if lines:
        blocks.append({"type": "section", "text": _mrkdwn(
            ("*Alerts: time to acknowledge* (by schedule, then by person)\n"
             + "\n".join(lines))[:2900])})
    if trends is not None:
        blocks.append({"type": "section", "text": _mrkdwn(trend_text(trends))})
    return title, blocks


MAX_ACK_ROWS = 15  # schedules, then people, in the Slack reply (the CLI shows all)


ALERT_EMOJI = {"firing": ":red_circle:", "acknowledged": ":eyes:", "silenced": ":mute:",
               "resolved": ":large_green_circle:"}
ALERT_EVENT = "debrief_alert_group"


def build_alert_message(group: AlertGroup, *, page: bool = False) -> tuple[str, Blocks]:
    """An alert group's one channel message: status, title, counts and links, who it
    reached and who answered; updated in place as the group changes. Everything the
    sender wrote is escaped (a label cannot ping anyone). `page`: the same alert as the
    direct message escalation sends."""
    status = group.status.upper()
    title = escape_mrkdwn(group.title)
    text = f"{ALERT_EMOJI.get(group.status, '')} [{status}] {title}"
    if page:
        text = f":rotating_light: You are being paged: {title}"
    counts = f"{group.alerts_firing} firing" + (
        f", {group.alerts_resolved} resolved" if group.alerts_resolved else "") + (
        f" (+{group.alerts_truncated} more not listed by the sender)"
        if group.alerts_truncated else "")
    fields = [f"*Status*\n{status}", f"*Severity*\n{escape_mrkdwn(group.severity or '—')}",
              f"*Alerts*\n{counts}", f"*First firing*\n{slack_date(group.first_firing_at)}",
              f"*Source*\n{escape_mrkdwn(group.integration)}",
              f"*Updates*\n{group.notifications}"]
    if group.schedule:
        fields.append(f"*On-call schedule*\n{escape_mrkdwn(group.schedule)}")
    blocks: Blocks = [
        {"type": "section", "text": _mrkdwn((
            ":rotating_light: *You are being paged.* Acknowledge to stop the escalation.\n"
            if page else "") + f"{ALERT_EMOJI.get(group.status, '')} *[{status}] {title}*"[:2900])},
        {"type": "section", "fields": [_mrkdwn(f[:2000]) for f in fields[:10]]},
    ]
    if group.description:
        blocks.append({"type": "section", "text": _mrkdwn(escape_mrkdwn(group.description)[:2900])})
    labels = ", ".join(f"{k}={v}" for k, v in sorted(group.labels.items()))
    if labels:
        blocks.append({"type": "context", "elements": [_mrkdwn(
            "`" + escape_mrkdwn(labels.replace("`", "'"))[:2900] + "`")]})
    notes: list[str] = []
    if group.notified:
        notes.append("Notified: " + ", ".join(f"<@{u}>" for u in group.notified[:20]))
    if any(not s.notified for s in group.steps):
        notes.append("A step found nobody on call (a gap in the schedule): escalated "
                     "straight to the next step.")
    if group.acknowledged_by:
        notes.append(f"Acknowledged by <@{group.acknowledged_by}> "
                     f"{slack_date(group.acknowledged_at)}")
    if group.silenced_until:
        where = f" (Alertmanager silence `{escape_mrkdwn(group.silence_id)}`)" \
            if group.silence_id else ""
        notes.append(f"Silenced until {slack_date(group.silenced_until)}{where}")
    if group.resolved_at and group.status == "resolved":
        notes.append(f"Resolved {slack_date(group.resolved_at)}")
    if group.incident_number:
        notes.append(alert_incident_note(group))
    if group.links:
        notes.append(" · ".join(f"<{link.url}|{escape_mrkdwn(link.text or 'Link')}>"
                                for link in group.links))
    if notes:
        blocks.append({"type": "section", "text": _mrkdwn("\n".join(notes)[:3000])})
    if group.status != "resolved":
        blocks.append(build_alert_buttons(group))
    return text[:3000], blocks


def alert_incident_note(group: AlertGroup) -> str:
    """The incident a group is attached to, as its message says it. A private incident
    is named by number only: an alert channel is seen by people who are not its members."""
    incident = group.incident
    if incident is None:
        return f"Incident #{group.incident_number}"
    name = f"Incident #{incident.number}" + (
        "" if incident.private else f": {escape_mrkdwn(incident.title)}")
    if incident.open:
        return (f":link: Attached to {name}. Escalation is stopped while it is open; this "
                "alert's changes go to its timeline and channel.")
    return f"{name} (resolved): this alert pages on-call again if it fires."


def build_attach_modal(group: AlertGroup, incidents: list[Incident],
                       channel_id: str | None) -> dict[str, Any]:
    """"Attach to incident": a select of the open incidents the clicker may see (built
    for them alone, so no private incident's title reaches anyone else)."""
    options = [{"text": _plain(f"#{i.number} {i.title}", 75), "value": str(i.number)}
               for i in incidents[:MAX_OPTIONS]]
    return {
        "type": "modal", "callback_id": Callback.ATTACH_ALERT.value,
        "title": _plain("Attach to incident", 24), "submit": _plain("Attach", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": f"{group.id}:{channel_id or ''}",
        "blocks": [
            {"type": "section", "text": _mrkdwn(
                f"*{escape_mrkdwn(group.title)}*\nWhile the incident is open, this alert's "
                "changes go to its timeline and channel, and nobody is paged for it.")},
            {"type": "input", "block_id": Block.ATTACH_INCIDENT.value,
             "label": _plain("Incident"),
             "element": {"type": "static_select", "action_id": Field.ATTACH_INCIDENT.value,
                         "options": options, "initial_option": options[0]}},
        ],
    }


def build_alert_buttons(group: AlertGroup) -> dict[str, Any]:
    value = str(group.id)
    buttons = [("Acknowledge", Action.ALERT_ACK, "primary"), ("Resolve", Action.ALERT_RESOLVE, None),
               ("Silence 1h", Action.ALERT_SILENCE, None),
               ("Declare incident", Action.ALERT_DECLARE, "danger"),
               ("Attach to incident", Action.ALERT_ATTACH, None)]
    elements = []
    for label, action, style in buttons:
        if (action == Action.ALERT_ACK and group.status == "acknowledged") or (
                action == Action.ALERT_SILENCE and group.status == "silenced") or (
                action in (Action.ALERT_DECLARE, Action.ALERT_ATTACH) and group.attached):
            continue
        button: dict[str, Any] = {"type": "button", "text": _plain(label),
                                  "action_id": action.value, "value": value}
        if style:
            button["style"] = style
        elements.append(button)
    return {"type": "actions", "elements": elements}
def build_review_request(reviewer: str, request: ReviewRequest) -> tuple[str, Blocks]:
    """The direct message asking `reviewer` to review: the postmortem's link and the
    Approve / Request changes buttons (their value: the incident number)."""
    incident = request.incident
    version = f", version {request.version}" if request.version else ""
    read = f" <{request.link}|Read it here.>" if request.link else ""
    text = (f":mag: {user_mention(request.requested_by)} asked you to review the postmortem of "
            f"*#{incident.number} {escape_mrkdwn(incident.title)}* ({incident.severity}"
            f"{version}).{read} Approve it, or request changes with a comment.")
    number = str(incident.number)
    return text, [
        {"type": "section", "text": {"type": "mrkdwn", "text": fit(text, MAX_SECTION)}},
        {"type": "actions", "elements": [
            {"type": "button", "action_id": Action.POSTMORTEM_APPROVE.value, "value": number,
             "style": "primary", "text": _plain("Approve", 75)},
            {"type": "button", "action_id": Action.POSTMORTEM_CHANGES.value, "value": number,
             "text": _plain("Request changes", 75)}]},
    ]


def build_changes_modal(number: int) -> dict[str, Any]:
    """Request changes: one optional comment, posted in the incident channel."""
    return {
        "type": "modal",
        "callback_id": Callback.POSTMORTEM_CHANGES.value,
        "title": _plain(f"Changes to #{number}", 24),
        "submit": _plain("Request changes", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": str(number),
        "blocks": [{
            "type": "input", "block_id": Block.REVIEW_COMMENT.value, "optional": True,
            "label": _plain("What should change? (optional)", 2000),
            "element": {"type": "plain_text_input", "action_id": Field.REVIEW_COMMENT.value,
                        "multiline": True, "max_length": MAX_COMMENT}}],
    }


MAX_SUMMARY_ITEMS = 10


def build_published_summary(summary: PublishedSummary) -> str:
    """The short summary a published postmortem posts: title, severity, duration, the
    top contributing factors, the action items, and the link to read it."""
    incident = summary.incident
    version = f" (v{summary.version})" if summary.version else ""
    lines = [f":books: *Postmortem published{version}: #{incident.number} "
             f"{escape_mrkdwn(incident.title)}*",
             f"Severity *{incident.severity}* · duration {format_duration(summary.duration)}"
             f" · published by {user_mention(summary.published_by)}"
             + (f", approved by {', '.join(user_mention(u) for u in summary.approved_by)}"
                if summary.approved_by else "")]
    if summary.factors:
        lines.append("*Top contributing factors*")
        lines += [f"• {fit(escape_mrkdwn(f), 300)}" for f in summary.factors]
    items = [i for i in summary.items if i.status != "deleted"]
    if items:
        lines.append(f"*Action items ({len(items)})*")
        lines += [f"• {describe(i)}" for i in items[:MAX_SUMMARY_ITEMS]]
        if len(items) > MAX_SUMMARY_ITEMS:
            lines.append(f"…and {len(items) - MAX_SUMMARY_ITEMS} more.")
    else:
        lines.append("No action items.")
    if summary.link:
        lines.append(f"<{summary.link}|Read the postmortem>")
    return "\n".join(lines)


def build_related_incidents(related: Sequence[RelatedIncident]) -> str:
    """The suggestion posted in a new incident's channel: each related past incident with
    its severity, status, date, channel, what it shares with this one, and a link to its
    postmortem (or that there is none yet). Titles are escaped: they ping nobody."""
    lines = [":books: *Related past incidents* — what was learned then may help now:"]
    for r in related:
        past = r.incident
        parts = [f"*#{past.number}* {fit(escape_mrkdwn(past.title), 200)}", past.severity,
                 past.status.replace("_", " "), slack_date(past.declared_at)]
        if past.channel_id:
            parts.append(f"<#{past.channel_id}>")
        status = (r.postmortem or "").replace("_", " ")
        if r.link:
            parts.append(f"<{r.link}|postmortem> ({status})")
        elif r.postmortem:
            parts.append(f"postmortem {status}, not posted in its channel")
        else:
            parts.append("no postmortem yet")
        if r.shared:
            parts.append(f"shares `{' '.join(r.shared)}`")
        lines.append("• " + " · ".join(parts))
    return "\n".join(lines)


def build_nudge(text: str, nudge: Nudge) -> Blocks:
    """A nudge in the incident channel: its words and what to do about it now (post an
    update / take the commander role) or later (snooze). Button values: the incident
    number (snooze: `<number>:<kind>`)."""
    number = str(nudge.number)
    act = {
        NudgeKind.UPDATE: (Action.NUDGE_UPDATE, "Post update"),
        NudgeKind.COMMANDER: (Action.NUDGE_COMMAND, "I'll be commander"),
        NudgeKind.OPEN: (Action.NUDGE_UPDATE, "Post update"),
    }[nudge.kind]
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": fit(text, MAX_SECTION)}},
        {"type": "actions", "elements": [
            {"type": "button", "action_id": act[0].value, "value": number, "style": "primary",
             "text": _plain(act[1], 75)},
            {"type": "button", "action_id": Action.NUDGE_SNOOZE.value,
             "value": f"{number}:{nudge.kind}",
             "text": _plain(f"Snooze {short_duration(SNOOZE[nudge.kind])}", 75)}]},
    ]


def short_duration(delta: timedelta) -> str:
    """`30m`, `1h`, `1d` on a button; `1h 2m`, `1d 5m` in a sentence: the parts that are
    not zero."""
    minutes = int(delta.total_seconds() // 60)
    parts = ((minutes // 1440, "d"), (minutes % 1440 // 60, "h"), (minutes % 60, "m"))
    return " ".join(f"{value}{unit}" for value, unit in parts if value) or "0m"


def build_update_modal(number: int, channel_id: str | None) -> dict[str, Any]:
    """Post a status update: one text, posted like `/incident update`."""
    return {
        "type": "modal",
        "callback_id": Callback.NUDGE_UPDATE.value,
        "title": _plain(f"Update #{number}", 24),
        "submit": _plain("Post update", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": f"{number}:{channel_id or ''}",
        "blocks": [{
            "type": "input", "block_id": Block.UPDATE_TEXT.value,
            "label": _plain("Where do things stand?", 2000),
            "element": {"type": "plain_text_input", "action_id": Field.UPDATE_TEXT.value,
                        "multiline": True, "max_length": MAX_UPDATE}}],
    }
