"""Correcting what was typed (issue 12): edit or remove a note, hide a timeline entry
from the postmortem, change or remove an action item. Each asks the permission model
(`change_entry`: the author, the commander or an incident admin; `close_action_item`:
the item's owner or creator, the commander or an admin) before anything changes, records
the change (entries keep their history; item changes
are lifecycle events, so the channel and the timeline show them) and brings the card up
to date."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from bot.config import DebriefConfig
from bot.domain.action_items import ActionItem, parse_due
from bot.domain.blameless import Finding, lint_text
from bot.domain.corrections import EntryChange, ItemField, check_entry_change
from bot.domain.incidents import EventKind, EventRecord, Incident
from bot.domain.permissions import Act, Policy
from bot.domain.timeline import TimelineEntry
from bot.errors import ChatError, UserError
from bot.services.permissions import Subject, authorize
from bot.services.ports import Chat, UnitOfWorkFactory
from bot.services.reviews import archive_if_ready, channel_archived
from bot.services.timeline import zone_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EntryChanged:
    """Timeline entry `entry_id` of incident `number` was `change`d."""
    number: int
    entry_id: int
    change: EntryChange


def _entry(number: int, entry_id: int, uow: UnitOfWorkFactory,
           ) -> tuple[Incident, TimelineEntry]:
    with uow() as tx:
        incident = tx.incidents.get(number)
        entry = tx.timeline.entry(number, entry_id)
    if incident is None or entry is None or entry.id is None:
        raise UserError(f"Incident #{number} has no timeline entry {entry_id}: "
                        "`/incident timeline` shows each entry's number.")
    return incident, entry


def check_may_change_entry(incident: Incident, entry: TimelineEntry, user: str,
                           change: EntryChange, *, policy: Policy, chat: Chat) -> None:
    """`Refused` (or a `UserError` for a change that makes no sense for this entry)."""
    check_entry_change(entry, change)
    authorize(Act.CHANGE_ENTRY, user, Subject(incident=incident, entry_author=entry.author),
              policy=policy, chat=chat)


def change_entry(number: int, entry_id: int, user: str, change: EntryChange, text: str = "",
                 *, uow: UnitOfWorkFactory, chat: Chat, policy: Policy,
                 now: datetime) -> EntryChanged:
    """Edit (`text`) or remove a note, or hide / show an entry in the postmortem. Who may
    is asked before the write (it may ask Slack; no row is locked meanwhile)."""
    incident, entry = _entry(number, entry_id, uow)
    check_may_change_entry(incident, entry, user, change, policy=policy, chat=chat)
    with uow() as tx:
        tx.incidents.get(number, for_update=True)  # one correction at a time
        current = tx.timeline.entry(number, entry_id)
        assert current is not None and current.id is not None  # entries are never deleted
        check_entry_change(current, change)  # removed meanwhile?
        match change:
            case "edited":
                tx.timeline.edit_note(current.id, text, user, now)
            case "deleted":
                tx.timeline.delete_note(current.id, user, now)
            case "hidden" | "shown":
                tx.timeline.set_hidden(current.id, change == "hidden", user, now)
        tx.commit()
    return EntryChanged(number, entry_id, change)


def hide_message(channel_id: str, ts: str, user: str, *, uow: UnitOfWorkFactory, chat: Chat,
                 policy: Policy, now: datetime) -> EntryChanged:
    """The "Hide from postmortem" shortcut on a message in an incident channel."""
    with uow() as tx:
        number = tx.incidents.number_for_channel(channel_id)
        entry = tx.timeline.entry_for_message(channel_id, ts) if number is not None else None
    if number is None:
        raise UserError("That message isn't in an incident channel.")
    if entry is None or entry.id is None:
        raise UserError("That message isn't on the timeline (yet): "
                        "`/incident timeline rebuild` re-reads the channel.")
    return change_entry(number, entry.id, user, "hidden", uow=uow, chat=chat, policy=policy,
                        now=now)


def note_to_rephrase(number: int, entry_id: int, user: str, *, uow: UnitOfWorkFactory,
                     chat: Chat, policy: Policy) -> tuple[str, list[Finding]]:
    """The note's text and the blameless checker's findings, for the Rephrase form;
    refused for anyone who may not edit it."""
    incident, entry = _entry(number, entry_id, uow)
    check_may_change_entry(incident, entry, user, "edited", policy=policy, chat=chat)
    return entry.text, lint_text(entry.text)


def check_may_change_item(incident: Incident | None, item: ActionItem, user: str, *,
                          policy: Policy, chat: Chat) -> None:
    """Changing an item is closing's rule: its owner, its creator, the commander or an
    incident admin (by default)."""
    authorize(Act.CLOSE_ACTION_ITEM, user, Subject(incident=incident, item=item),
              policy=policy, chat=chat)


def item_to_edit(item_id: int, user: str, *, uow: UnitOfWorkFactory, chat: Chat,
                 policy: Policy) -> tuple[int, ActionItem]:
    """(incident number, item) for the edit form; refused for anyone who may not."""
    with uow() as tx:
        item = tx.action_items.get(item_id)
        incident = tx.incidents.get(item.incident_number or 0) if item else None
    if item is None or incident is None:
        raise UserError(f"There is no action item {item_id} any more.")
    check_may_change_item(incident, item, user, policy=policy, chat=chat)
    return incident.number, item


@dataclass(frozen=True)
class ItemChanged:
    """Action item `item` (as it is now; as it was, when removed) had `field` changed."""
    number: int
    item: ActionItem
    field: ItemField
    archived: bool = False  # this change let the published incident's channel be archived


def change_action_item(number: int, item_id: int, field: ItemField, value: str, user: str, *,
                       uow: UnitOfWorkFactory, chat: Chat, config: DebriefConfig,
                       now: datetime) -> ItemChanged:
    """Change one field of an action item (or remove it, kept for audit), recorded as an
    `action_item` event: the channel is told and the card's count follows."""
    due: date | None = None
    if field == "due":
        due = parse_due(value, now.astimezone(zone_of(user, chat, config)).date())
    with uow() as tx:
        found = tx.action_items.get(item_id)
        incident = tx.incidents.get(number)
    if found is None or found.incident_number != number:
        raise UserError(f"Incident #{number} has no action item {item_id}: "
                        "`/incident actions` lists them with their numbers.")
    check_may_change_item(incident, found, user, policy=config.permissions, chat=chat)
    with uow() as tx:
        incident = tx.incidents.get(number, for_update=True)
        assert incident is not None
        item = tx.action_items.get(item_id)
        assert item is not None  # items are never deleted (removal is a status)
        match field:
            case "deleted":
                tx.action_items.change(item_id, status="deleted")
                changed, shown = item, ""
            case "due":
                changed = tx.action_items.change(item_id, due_on=due)
                shown = str(due)
            case "owner":
                changed, shown = tx.action_items.change(item_id, owner=value), value
            case "type":
                changed, shown = tx.action_items.change(item_id, type=value), value
            case "text":
                changed, shown = tx.action_items.change(item_id, text=value), value
        event = EventRecord(now, EventKind.ACTION_ITEM, user,
                            {"item": str(item_id), "field": field, "to": shown,
                             "text": item.text})
        tx.incidents.save(replace(incident, events=(*incident.events, event)))
        tx.commit()
    with uow() as tx:
        updated = tx.incidents.get(number)
        archived = channel_archived(tx, number)
    assert updated is not None
    calls: list[tuple[str, Callable[[], None]]] = [] if archived else [  # kept archived
        ("card", lambda: chat.update_card(updated)),
        ("channel", lambda: chat.post_event(updated, event, announce=False))]
    for what, call in calls:
        try:
            call()
        except ChatError as exc:  # recorded; the card catches up on the next change
            log.info("action item %s changed; %s not updated: %s", item_id, what, exc.code)
    archived = field in ("owner", "due", "deleted") and archive_if_ready(
        number, user, uow=uow, chat=chat, config=config, now=now).state == "archived"
    return ItemChanged(number, changed, field, archived)
