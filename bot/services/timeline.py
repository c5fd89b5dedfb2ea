"""Timeline use cases: capture what Slack reports, notes, backfill, reading it back."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import DebriefConfig
from bot.domain.incidents import Incident
from bot.domain.timeline import (
    MarkerChanged,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    NoteClock,
    PinChanged,
    TimelineChange,
    TimelineItem,
    build_timeline,
    change_channel,
    note_instant,
)
from bot.domain.when import check_backdate
from bot.errors import ChatError, UserError
from bot.services.ports import Chat, UnitOfWorkFactory

log = logging.getLogger(__name__)


def record_change(change: TimelineChange, uow: UnitOfWorkFactory) -> bool:
    """Store what a Slack event means; False when the channel is not an incident's.

    Idempotent: a retried or duplicated event changes nothing the second time. Raises
    on a database error so the caller can refuse the event (Slack then retries it)."""
    with uow() as tx:
        number = tx.incidents.number_for_channel(change_channel(change))
        if number is None:
            return False
        match change:
            case MessagePosted(message):
                tx.timeline.add_message(number, message)
            case MessageEdited(message, previous):
                tx.timeline.edit_message(number, message, previous)
            case MessageDeleted(channel_id, ts):
                tx.timeline.mark_deleted(channel_id, ts)
            case MarkerChanged(channel_id, ts, user, marked):
                tx.timeline.set_marker(channel_id, ts, user, marked)
            case PinChanged(channel_id, ts, pinned):
                tx.timeline.set_pinned(channel_id, ts, pinned)
        tx.commit()
    return True


def zone_of(user_id: str, chat: Chat, config: DebriefConfig) -> ZoneInfo:
    """The person's own zone from Slack, else the configured default."""
    try:
        name = chat.user_time_zone(user_id)
    except ChatError as exc:
        log.info("no time zone for %s (%s); using %s", user_id, exc.code, config.time_zone)
        name = None
    try:
        return ZoneInfo(name or config.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(config.time_zone)


def add_note(number: int, author: str, text: str, clock: NoteClock | None = None, *,
             uow: UnitOfWorkFactory, chat: Chat, config: DebriefConfig, now: datetime) -> datetime:
    """`note <text>` at now, or `note at <time> <text>` backdated in the author's zone
    (the text and the time's syntax were checked by the parser, before the ack).
    Returns when the note stands on the timeline (UTC)."""
    at = now
    if clock is not None:
        at = note_instant(clock, now, zone_of(author, chat, config))
    with uow() as tx:
        incident = tx.incidents.get(number)
        if incident is None:
            raise UserError(f"There is no incident #{number}.")
        if clock is not None:
            check_backdate(at, declared_at=incident.declared_at, now=now,
                           limit=config.timeline.backdate_limit)
        tx.timeline.add_note(number, at, author, text)
        tx.commit()
    return at


@dataclass(frozen=True)
class BackfillResult:
    seen: int
    changed: int


def backfill(number: int, *, uow: UnitOfWorkFactory, chat: Chat) -> BackfillResult:
    """Read the channel's history (with threads) and merge it into the stored timeline."""
    with uow() as tx:
        incident = tx.incidents.get(number)
    if incident is None or incident.channel_id is None:
        raise UserError(f"Incident #{number} has no channel yet: run `/incident retry #{number}`.")
    messages = chat.channel_messages(incident.channel_id)
    changed = 0
    for start in range(0, len(messages), 200):  # bounded transactions for long histories
        with uow() as tx:
            changed += sum(tx.timeline.merge(number, m) for m in messages[start:start + 200])
            tx.commit()
    return BackfillResult(seen=len(messages), changed=changed)


def timeline_of(number: int, uow: UnitOfWorkFactory) -> tuple[Incident, list[TimelineItem]]:
    with uow() as tx:
        incident = tx.incidents.get(number)
        assert incident is not None
        entries = tx.timeline.entries(number)
    return incident, build_timeline(incident, entries)
