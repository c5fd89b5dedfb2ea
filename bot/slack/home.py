"""The Home tab as a Block Kit view (pure), and the same view as plain text for the demo.

Within Slack's limits for a Home tab: at most 100 blocks (each list is cut short, with a
line naming the command that shows all of it), section text 3,000 characters, header
150, button text 75 and value 2,000, the whole view well under 250 kB. Every word comes
from bot/slack/messages.py; user text is escaped there."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.domain.home import Home
from bot.slack.blocks import MAX_SECTION, fit
from bot.slack.ids import Action
from bot.slack.messages import (
    HOME_ASK_COVER,
    HOME_CHANGE_DUE,
    HOME_DECLARE,
    HOME_DONE,
    HOME_EMPTY,
    HOME_HEADINGS,
    HOME_TITLE,
    home_alert_line,
    home_footer_text,
    home_incident_line,
    home_item_text,
    home_more_text,
    home_no_turns_text,
    home_on_call_text,
    home_owed_line,
    home_severity_heading,
    home_turn_text,
)

Blocks = list[dict[str, Any]]
MAX_HOME_BLOCKS = 100


def _plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit] or " ", "emoji": True}


def _section(text: str, **more: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": fit(text, MAX_SECTION)},
            **more}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": fit(text, 2000)}]}


def _lines(lines: list[str]) -> Blocks:
    """Lines packed into as few sections as Slack's 3,000 characters allow."""
    blocks: Blocks = []
    chunk = ""
    for line in lines:
        line = fit(line, 1000)
        if chunk and len(chunk) + len(line) + 1 > MAX_SECTION - 100:
            blocks.append(_section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        blocks.append(_section(chunk))
    return blocks


def _heading(key: str) -> dict[str, Any]:
    return {"type": "header", "text": _plain(HOME_HEADINGS[key], 150)}


def _button(text: str, action: Action, value: str, **more: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": action.value, "text": _plain(text), "value": value,
            **more}


def build_home(home: Home) -> dict[str, Any]:
    """The view for views.publish."""
    blocks: Blocks = [
        {"type": "header", "text": _plain(HOME_TITLE, 150)},
        {"type": "actions", "block_id": "home-actions", "elements": [
            _button(HOME_DECLARE, Action.HOME_DECLARE, "declare", style="danger")]},
        _heading("oncall"),
        _section(home_on_call_text(home.on_call_now, home.has_schedules)),
    ]
    for turn in home.next_turns.items:
        value = json.dumps({"schedule": turn.schedule, "start": turn.start.isoformat(),
                            "end": turn.end.isoformat()})
        extra = {"accessory": _button(HOME_ASK_COVER, Action.HOME_COVER, value)} \
            if turn.can_ask_cover else {}
        blocks.append(_section(home_turn_text(turn.schedule, turn.start, turn.end), **extra))
    if home.has_schedules and not home.next_turns.total:
        blocks.append(_context(home_no_turns_text()))
    if home.next_turns.more:
        blocks.append(_context(home_more_text(home.next_turns.more, "turns")))
    if home.alerts.total:  # only when something paged them: most people, most days, none
        blocks.append(_heading("alerts"))
        blocks += _lines([home_alert_line(g) for g in home.alerts.items])
        if home.alerts.more:
            blocks.append(_context(home_more_text(home.alerts.more, "alerts")))

    blocks.append({"type": "divider"})
    blocks.append(_heading("mine"))
    blocks += _lines([home_incident_line(i) for i in home.mine.items]) or [
        _section(HOME_EMPTY["mine"])]
    if home.mine.more:
        blocks.append(_context(home_more_text(home.mine.more, "mine")))

    blocks.append(_heading("items"))
    for item in home.items.items:
        blocks.append(_section(home_item_text(item, home.today), block_id=f"home-item-{item.id}"))
        blocks.append({"type": "actions", "block_id": f"home-item-actions-{item.id}",
                       "elements": [
                           _button(HOME_DONE, Action.ITEM_DONE, str(item.id), style="primary"),
                           _button(HOME_CHANGE_DUE, Action.ITEM_DUE, str(item.id))]})
    if not home.items.total:
        blocks.append(_section(HOME_EMPTY["items"]))
    if home.items.more:
        blocks.append(_context(home_more_text(home.items.more, "items")))

    blocks.append(_heading("postmortems"))
    blocks += _lines([home_owed_line(o.incident, o.kind, o.status)
                      for o in home.postmortems.items]) or [_section(HOME_EMPTY["postmortems"])]
    if home.postmortems.more:
        blocks.append(_context(home_more_text(home.postmortems.more, "postmortems")))

    blocks.append({"type": "divider"})
    blocks.append(_heading("open"))
    shown = 0
    for severity, group in home.open_by_severity:
        if group.items:
            blocks += _lines([home_severity_heading(severity, group.total),
                              *(home_incident_line(i) for i in group.items)])
            shown += len(group.items)
    if not home.open_total:
        blocks.append(_section(HOME_EMPTY["open"]))
    if home.open_total > shown:
        blocks.append(_context(home_more_text(home.open_total - shown, "open")))
    blocks.append(_context(home_footer_text()))
    # The caps in bot/domain/home.py keep a tab under ~85 blocks (tests/slack/test_home.py);
    # this only guarantees that Slack's limit is never exceeded.
    blocks = blocks[:MAX_HOME_BLOCKS]
    return {"type": "home", "callback_id": "debrief-home", "blocks": blocks}


_MENTION = re.compile(r"<@([A-Z0-9]+)>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_DATE = re.compile(r"<!date\^\d+\^[^|]*\|([^>]*)>")


def home_as_text(view: dict[str, Any], names: dict[str, str] | None = None) -> str:
    """The view as a person would read it, in plain text (the demo prints it): mentions
    and channels by name where `names` knows them, dates in UTC, buttons in brackets."""
    names = names or {}

    def plain(text: str) -> str:
        text = _MENTION.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), text)
        text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or names.get(m.group(1), m.group(1))),
                            text)
        text = _DATE.sub(lambda m: m.group(1), text)
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    lines: list[str] = []
    for block in view.get("blocks") or []:
        kind = block.get("type")
        text = str((block.get("text") or {}).get("text") or "")
        if kind == "header":
            lines += ["", text.upper()]
        elif kind == "section":
            accessory = block.get("accessory") or {}
            button = f"  [{accessory['text']['text']}]" if accessory.get("type") == "button" \
                else ""
            lines += [plain(line) for line in text.splitlines()]
            lines[-1] += button
        elif kind == "context":
            lines += ["  " + plain(str(e.get("text") or "")) for e in block.get("elements") or []]
        elif kind == "actions":
            lines.append("  " + " ".join(f"[{e['text']['text']}]"
                                         for e in block.get("elements") or []
                                         if e.get("type") == "button"))
        elif kind == "divider":
            lines.append("  " + "─" * 40)
    return "\n".join(lines).strip("\n")
