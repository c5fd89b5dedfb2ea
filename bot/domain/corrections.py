"""Corrections after the fact: who may edit or remove a note, hide a timeline entry
from the postmortem, or change an action item. Pure.

Each rule is one small function that raises `UserError` (saying who may) or returns:
the issue's simple rules, until the permission model (`bot/domain/permissions.py`,
issue 12) takes them over: routing one through it is then a change to its body only."""

from __future__ import annotations

from typing import Literal

from bot.domain.action_items import ActionItem
from bot.domain.incidents import Incident
from bot.domain.timeline import TimelineEntry
from bot.errors import Mention, UserError

EntryChange = Literal["edited", "deleted", "hidden", "shown"]
ItemField = Literal["text", "owner", "due", "type", "deleted"]


def check_may_change_entry(entry: TimelineEntry, incident: Incident, user: str,
                           change: EntryChange) -> None:
    """A note is edited or removed, and an entry hidden from (or shown again in) the
    postmortem, by its author or the incident's commander. Only notes are edited or
    removed here: a chat message is edited in Slack itself, and the timeline follows."""
    if change in ("edited", "deleted") and entry.kind != "note":
        raise UserError(f"Entry {entry.id} is a chat message, not a note: edit or delete it "
                        "in Slack and the timeline follows (or hide it: "
                        f"`/incident hide {entry.id}`).")
    if change in ("edited", "deleted") and entry.deleted:
        raise UserError(f"Note {entry.id} was already removed.")
    if user in (entry.author, incident.commander):
        return
    raise UserError(*_who_may("that entry's author", entry.author, incident))


def check_may_change_item(item: ActionItem, incident: Incident, user: str) -> None:
    """An action item is changed by its owner, its creator or the incident's commander."""
    if user in (item.owner, item.created_by, incident.commander):
        return
    parts: list[str | Mention] = ["Only the action item's owner"]
    if item.owner:
        parts += [" (", Mention(item.owner), ")"]
    parts += [", its creator (", Mention(item.created_by), ")"]
    raise UserError(*parts, *_who_may("", None, incident)[1:])


def _who_may(first: str, user: str | None, incident: Incident) -> list[str | Mention]:
    parts: list[str | Mention] = [f"Only {first}"]
    if user:
        parts += [" (", Mention(user), ")"]
    parts.append(" or the commander")
    if incident.commander:
        parts += [" (", Mention(incident.commander), ")"]
    parts.append(" can change it.")
    return parts
