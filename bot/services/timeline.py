"""Timeline use cases: capture what Slack reports, notes, backfill, reading it back."""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
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
from bot.services.ports import Chat, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


def record_change(change: TimelineChange, uow: UnitOfWorkFactory) -> bool:
    """Store what a Slack event means; False when the channel is not an incident's.

    Idempotent: a retried or duplicated event changes nothing the second time. Raises
    on a database error so the caller can refuse the event (Slack then retries it)."""
    with uow() as tx:
        stored = _apply(tx, change, {})
        tx.commit()
    return stored


def _apply(tx: UnitOfWork, change: TimelineChange, numbers: dict[str, int | None]) -> bool:
    """One change inside an open unit of work; `numbers` caches channel -> incident."""
    channel = change_channel(change)
    if channel not in numbers:
        numbers[channel] = tx.incidents.number_for_channel(channel)
    number = numbers[channel]
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
    return True


class StoreTimedOut(Exception):
    """The batch holding an event was not durable within the wait budget (it may still
    be stored: a retry of the event is idempotent)."""


@dataclass
class _Pending:
    change: TimelineChange
    done: Future[bool] = field(default_factory=Future)


class TimelineWriter:
    """Group commit for timeline events: callers hand over a change and wait; one writer
    thread takes everything queued so far and stores it in one transaction, so a burst of
    events costs one commit (one fsync, one turn at SQLite's write lock) instead of one
    each. `record` returns only once the change's batch is committed, so an event is
    acknowledged only when it is durable.

    A batch that fails is not lost: each of its changes is tried again in a transaction
    of its own, and only the ones that still fail raise (the caller answers 500 and Slack
    sends the event again). The thread stops after `idle_seconds` without work and starts
    again on the next event."""

    def __init__(self, uow: UnitOfWorkFactory, *, max_batch: int = 200,
                 wait_seconds: float = 2.5, idle_seconds: float = 30.0) -> None:
        self._uow = uow
        self.max_batch, self.wait_seconds, self.idle_seconds = max_batch, wait_seconds, idle_seconds
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def record(self, change: TimelineChange) -> bool:
        """Like `record_change`, batched. Raises `StoreTimedOut` past `wait_seconds`
        (Slack wants an answer within 3 s; a refused event is sent again)."""
        pending = _Pending(change)
        self._queue.put(pending)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="debrief-timeline",
                                                daemon=True)
                self._thread.start()
        try:
            return pending.done.result(timeout=self.wait_seconds)
        except TimeoutError as exc:
            raise StoreTimedOut(f"not stored within {self.wait_seconds} s") from exc

    def _run(self) -> None:
        while True:
            try:
                batch = [self._queue.get(timeout=self.idle_seconds)]
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        try:
            numbers: dict[str, int | None] = {}
            with self._uow() as tx:
                results = [_apply(tx, pending.change, numbers) for pending in batch]
                tx.commit()
        except Exception as exc:  # noqa: BLE001 - every waiting caller must get an answer
            if len(batch) == 1:
                batch[0].done.set_exception(exc)
                return
            log.warning("a batch of %d timeline events failed (%s); storing them one by one",
                        len(batch), type(exc).__name__)
            for pending in batch:
                try:
                    pending.done.set_result(record_change(pending.change, self._uow))
                except Exception as one:  # noqa: BLE001 - reported to that event's caller
                    pending.done.set_exception(one)
            return
        for pending, stored in zip(batch, results, strict=True):
            pending.done.set_result(stored)


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
             uow: UnitOfWorkFactory, chat: Chat, config: DebriefConfig,
             now: datetime) -> tuple[datetime, int]:
    """`note <text>` at now, or `note at <time> <text>` backdated in the author's zone
    (the text and the time's syntax were checked by the parser, before the ack).
    Returns when the note stands on the timeline (UTC) and its entry number."""
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
        entry_id = tx.timeline.add_note(number, at, author, text)
        tx.commit()
    return at, entry_id


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
