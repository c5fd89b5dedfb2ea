"""Corrections after the fact: editing or removing a note, hiding a timeline entry from
the postmortem, changing an action item. Pure.

Who may make a correction is the permission model's (`bot.domain.permissions`:
`change_entry` for notes and entries, `close_action_item` for action items); what is
left here is whether the correction makes sense for that entry at all."""

from __future__ import annotations

from typing import Literal

from bot.domain.timeline import TimelineEntry
from bot.errors import UserError

EntryChange = Literal["edited", "deleted", "hidden", "shown"]
ItemField = Literal["text", "owner", "due", "type", "deleted"]


def check_entry_change(entry: TimelineEntry, change: EntryChange) -> None:
    """Only notes are edited or removed here (a chat message is edited in Slack itself,
    and the timeline follows), and a removed note only once; any entry may be hidden
    from (or shown again in) the postmortem."""
    if change in ("edited", "deleted") and entry.kind != "note":
        raise UserError(f"Entry {entry.id} is a chat message, not a note: edit or delete it "
                        "in Slack and the timeline follows (or hide it: "
                        f"`/incident hide {entry.id}`).")
    if change in ("edited", "deleted") and entry.deleted:
        raise UserError(f"Note {entry.id} was already removed.")
