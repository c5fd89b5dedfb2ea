"""The incident timeline: chat captured from the channel merged with lifecycle events,
ordered by when things happened. Plus durations and reading backdated note times.
Pure: plain values in, plain values out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from operator import attrgetter
from typing import assert_never

from dateutil import parser as dateparser

from bot.domain.incidents import EventKind, Incident
from bot.errors import UserError

# Message subtypes that are a person speaking; every other subtype (joins, topic
# changes, bot messages...) is not chat.
HUMAN_SUBTYPES = {None, "", "thread_broadcast", "file_share", "me_message"}


@dataclass(frozen=True)
class FileRef:
    name: str
    permalink: str


@dataclass(frozen=True)
class ChatMessage:
    """A person's message in an incident channel, as the chat reports it (from an event
    or from history): plain values, so the timeline, storage and services need no Slack."""

    channel_id: str
    ts: str
    user: str
    text: str
    thread_ts: str | None = None
    files: tuple[FileRef, ...] = ()
    marked_by: tuple[str, ...] | None = None  # None: not known (events); () from history
    pinned: bool | None = None
    edited_ts: str | None = None


@dataclass(frozen=True)
class TimelineEntry:
    """One stored piece of the timeline that is not a lifecycle event: chat or a note."""

    at: datetime
    kind: str  # message | file | note
    author: str | None
    text: str
    channel_id: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    pinned: bool = False
    marked_by: tuple[str, ...] = ()
    deleted: bool = False
    history: tuple[dict[str, str], ...] = ()
    files: tuple[FileRef, ...] = ()
    id: int | None = None  # how `/incident note edit` and `/incident hide` name it
    hidden: bool = False  # hidden from the postmortem; kept for audit

    @property
    def key(self) -> bool:
        return self.kind == "note" or self.pinned or bool(self.marked_by)


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str
    author: str | None
    text: str
    key: bool
    source_ts: str | None = None
    deleted: bool = False
    thread_ts: str | None = None
    files: tuple[FileRef, ...] = field(default=())
    entry_id: int | None = None  # a stored entry's number (`/incident hide 7`)
    hidden: bool = False  # hidden from the postmortem by hand


def ts_to_datetime(ts: str) -> datetime:
    """Slack's `ts` ("1700000000.000100") is the message's own time, in UTC seconds."""
    return datetime.fromtimestamp(float(ts), UTC)


def is_human(subtype: str | None, bot_id: str | None, user: str | None) -> bool:
    return subtype in HUMAN_SUBTYPES and not bot_id and bool(user)


def kind_of(message: ChatMessage) -> str:
    return "file" if message.files else "message"


def lifecycle_text(kind: EventKind, detail: dict[str, str]) -> str:
    """The plain-text wording of a lifecycle event: the timeline entry the postmortem,
    the CLI and the Slack timeline page show. (What the channel is told when it happens
    is Slack's own wording: `bot.slack.messages.event_text`.)"""
    note = f": {detail['note']}" if detail.get("note") else ""
    match kind:
        case EventKind.DECLARED:
            return f"Declared {detail.get('severity', '')}: {detail.get('title', '')}".strip()
        case EventKind.ACKNOWLEDGED:
            return "Acknowledged"
        case EventKind.STATUS:
            return f"Status {detail.get('from')} → {detail.get('to')}{note}"
        case EventKind.REOPENED:
            return f"Reopened as {detail.get('to')}{note}"
        case EventKind.SEVERITY:
            return f"Severity {detail.get('from')} → {detail.get('to')}"
        case EventKind.ROLE:
            return f"{detail.get('role', 'role').capitalize()}: {detail.get('user')}"
        case EventKind.UPDATE:
            return f"Update: {detail.get('text', '')}"
        case EventKind.ONCALL:
            return f"On call for {detail.get('schedule')}: {detail.get('user')} (invited)"
        case EventKind.RESOLVED:
            summary = f": {detail['summary']}" if detail.get("summary") else ""
            return f"Resolved{summary}"
        case EventKind.ACTION_ITEM:
            return item_change_text(detail)
        case EventKind.EDITED:
            return "Corrected " + "; ".join(
                f"{name}: {detail.get(f'{name}_was', '')} → {detail[name]}"
                for name in ("title", "severity", "description", "summary") if name in detail)
        case EventKind.CANCELLED:
            reason = f": {detail['reason']}" if detail.get("reason") else ""
            return f"Cancelled (declared by mistake){reason}"
        case EventKind.TAGGED:
            return tag_change_text(detail)
        case EventKind.POSTMORTEM:
            return review_step_text(detail)
        case _:  # mypy: every kind has a case above
            assert_never(kind)


def review_step_text(detail: dict[str, str]) -> str:
    """A postmortem review step in plain words (`detail`: step, reviewers, version, comment;
    a contributing factor added or removed: factor, category, text)."""
    version = f" (v{detail['version']})" if detail.get("version") else ""
    comment = f": {detail['comment']}" if detail.get("comment") else ""
    match detail.get("step"):
        case "requested":
            return f"Postmortem review requested from {', '.join(detail.get('reviewers', '').split())}"
        case "approved":
            return f"Postmortem approved{version}"
        case "changes_requested":
            return f"Postmortem changes requested{version}{comment}"
        case "published":
            return f"Postmortem published{version}"
        case "reopened":
            return "Postmortem reopened"
        case "factor_added":
            return (f"Contributing factor {detail.get('factor')} added "
                    f"({detail.get('category')}): {detail.get('text', '')}")
        case "factor_removed":
            return (f"Contributing factor {detail.get('factor')} removed "
                    f"({detail.get('category')}): {detail.get('text', '')}")
        case _:
            return "Incident channel archived"


def item_change_text(detail: dict[str, str]) -> str:
    """An action item correction in plain words (`detail`: item, field, to, text)."""
    item = f"Action item {detail.get('item')} ({detail.get('text', '')})"
    match detail.get("field"):
        case "owner":
            return f"{item} reassigned to {detail.get('to')}"
        case "due":
            return f"{item} now due {detail.get('to')}"
        case "type":
            return f"{item} is now of type {detail.get('to')}"
        case "text":
            return f"Action item {detail.get('item')} now reads: {detail.get('to')}"
        case _:
            return f"{item} removed"


_new = object.__new__


def _item_of(entry: TimelineEntry) -> TimelineItem:
    """The item for a captured entry, every field set. Built without the frozen
    dataclass's `__init__` (nine `object.__setattr__` calls): a long incident turns
    thousands of entries into items, and this is about 3x cheaper. Same object: equal,
    hashable and immutable like any other `TimelineItem`."""
    item: TimelineItem = _new(TimelineItem)
    item.__dict__.update(at=entry.at, kind=entry.kind, author=entry.author, text=entry.text,
                         key=entry.key, source_ts=entry.ts, deleted=entry.deleted,
                         thread_ts=entry.thread_ts, files=entry.files,
                         entry_id=entry.id, hidden=entry.hidden)
    return item


def build_timeline(incident: Incident, entries: list[TimelineEntry], *,
                   key_only: bool = False) -> list[TimelineItem]:
    """Lifecycle events (always key) and captured entries, in the order they happened.
    `key_only` leaves out chat that is not key and deleted entries (a postmortem shows
    neither), so a long incident does not build thousands of items to drop them."""
    items = [
        TimelineItem(at=e.at, kind=e.kind, author=e.actor,
                     text=lifecycle_text(e.kind, e.detail),
                     # corrections and postmortem reviews: not key events of the incident
                     key=e.kind not in (EventKind.ACTION_ITEM, EventKind.POSTMORTEM))
        for e in incident.events
    ]
    items += [_item_of(e) for e in entries if not key_only or (e.key and not e.deleted)]
    # Stable sort: at equal times lifecycle events stay before chat.
    return sorted(items, key=attrgetter("at"))


@dataclass(frozen=True)
class Durations:
    to_acknowledge: timedelta | None
    to_mitigate: timedelta | None
    to_resolve: timedelta | None


def durations(incident: Incident, statuses: tuple[str, ...], mitigated_status: str) -> Durations:
    """From declaration to acknowledgement, to the first status at or past the
    "mitigated" one (resolving counts), and to resolution."""
    start = incident.declared_at
    rank = {s: i for i, s in enumerate(statuses)}
    threshold = rank.get(mitigated_status, len(statuses) - 1)
    mitigated = next(
        (e.at for e in incident.events
         if e.kind in (EventKind.STATUS, EventKind.RESOLVED, EventKind.REOPENED)
         and rank.get(e.detail.get("to", ""), -1) >= threshold),
        None,
    )
    return Durations(
        to_acknowledge=incident.acknowledged_at - start if incident.acknowledged_at else None,
        to_mitigate=mitigated - start if mitigated else None,
        to_resolve=incident.resolved_at - start if incident.resolved_at else None,
    )


def format_duration(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    if delta.total_seconds() < 60:
        return f"{max(int(delta.total_seconds()), 0)}s"
    minutes = int(round(delta.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {mins}m"
    if hours:
        return f"{hours}h {mins}m"
    return f"{mins}m"


_CLOCK = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?([ap]m)?$", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NOTE_TIME_EXAMPLE = (
    "e.g. `/incident note at 14:05 Rolled back`, `/incident note at yesterday 23:40 ...` "
    "or `/incident note at 2026-11-20 09:15 ...` (your own time zone)"
)


@dataclass(frozen=True)
class NoteClock:
    """A backdating time as typed: `clock` (`14:05`), read on `on` (a date typed) or on
    today / yesterday (`days_back`) in the author's zone once that zone is known."""
    clock: str
    time_of_day: time
    on: date | None = None
    on_text: str = ""  # the date as typed, for replies
    days_back: int = 0


def parse_note_clock(words: list[str]) -> tuple[NoteClock, list[str]]:
    """The syntax of `<time> <text...>` (`HH:MM`, `yesterday HH:MM`, `today HH:MM` or
    `YYYY-MM-DD HH:MM`), needing no zone: `25:99` is refused before any I/O."""
    taken: list[str] = []
    rest = list(words)
    if rest and rest[0].lower() in ("yesterday", "today"):
        taken.append(rest.pop(0))
    elif rest and _DATE.match(rest[0]):
        taken.append(rest.pop(0))
    if not rest or not _CLOCK.match(rest[0]):
        raise UserError(f"I couldn't read a time there; {NOTE_TIME_EXAMPLE}.")
    clock = rest.pop(0)
    typed = taken[-1] if taken and _DATE.match(taken[-1]) else None
    try:  # any valid date reads a clock alike; a typed date must itself be valid
        parsed = dateparser.parse(f"{typed or '2000-01-01'} {clock}",
                                  default=datetime(2000, 1, 1))
    except (dateparser.ParserError, ValueError, OverflowError) as exc:
        raise UserError(f"I couldn't read `{clock}` as a time; {NOTE_TIME_EXAMPLE}.") from exc
    days_back = 1 if taken and taken[0].lower() == "yesterday" else 0
    return NoteClock(clock, parsed.time(), parsed.date() if typed else None, typed or "",
                     days_back), rest


def note_instant(note: NoteClock, now: datetime, zone: tzinfo) -> datetime:
    """The UTC instant of a backdating time, read in the author's zone."""
    local_now = now.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    day = note.on or (local_now - timedelta(days=note.days_back)).date()
    date_part = note.on_text or f"{day:%Y-%m-%d}"
    # fold=0: in a repeated (fall-back) hour take the first occurrence.
    try:
        at = datetime.combine(day, note.time_of_day).replace(tzinfo=zone, fold=0).astimezone(UTC)
    except (OverflowError, ValueError) as exc:  # year 1 or 9999 at the calendar's edge
        raise UserError(f"`{date_part} {note.clock}` is too far back; {NOTE_TIME_EXAMPLE}.") from exc
    if at > now + timedelta(minutes=1):
        raise UserError("That time is in the future; a note can only be backdated.")
    return at


def parse_note_time(words: list[str], now: datetime, zone: tzinfo) -> tuple[datetime, list[str]]:
    """Read `<time> <text...>` where the time is `HH:MM`, `yesterday HH:MM`, `today HH:MM`
    or `YYYY-MM-DD HH:MM`, in the author's zone; returns the UTC instant and the rest."""
    note, rest = parse_note_clock(words)
    at = note_instant(note, now, zone)
    if not rest:
        raise UserError(f"What happened at {note.clock}? {NOTE_TIME_EXAMPLE}.")
    return at, rest


# What a Slack event means for the timeline (parsed by the Slack adapter).
@dataclass(frozen=True)
class MessagePosted:
    message: ChatMessage


@dataclass(frozen=True)
class MessageEdited:
    message: ChatMessage
    previous_text: str | None


@dataclass(frozen=True)
class MessageDeleted:
    channel_id: str
    ts: str


@dataclass(frozen=True)
class MarkerChanged:
    channel_id: str
    ts: str
    user: str
    marked: bool


@dataclass(frozen=True)
class PinChanged:
    channel_id: str
    ts: str
    pinned: bool


TimelineChange = MessagePosted | MessageEdited | MessageDeleted | MarkerChanged | PinChanged


def change_channel(change: TimelineChange) -> str:
    if isinstance(change, MessagePosted | MessageEdited):
        return change.message.channel_id
    return change.channel_id


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def timeline_as_dicts(items: list[TimelineItem]) -> list[dict[str, object]]:
    """The `timeline` list of `debrief incident show --json`."""
    return [
        {"at": _iso(i.at), "kind": i.kind, "author": i.author, "text": i.text, "key": i.key,
         "source_ts": i.source_ts, "deleted": i.deleted, "thread_ts": i.thread_ts,
         **({"files": [{"name": f.name, "permalink": f.permalink} for f in i.files]}
            if i.files else {})}
        for i in items
    ]


def durations_as_dict(spans: Durations) -> dict[str, float | None]:
    def seconds(delta: timedelta | None) -> float | None:
        return delta.total_seconds() if delta is not None else None

    return {"to_acknowledge_seconds": seconds(spans.to_acknowledge),
            "to_mitigate_seconds": seconds(spans.to_mitigate),
            "to_resolve_seconds": seconds(spans.to_resolve)}


def tag_change_text(detail: dict[str, str]) -> str:
    """"Tagged database, service:payments; untagged network" (plain text)."""
    parts = []
    if detail.get("added"):
        parts.append("Tagged " + ", ".join(detail["added"].split()))
    if detail.get("removed"):
        parts.append(("untagged " if parts else "Untagged ") + ", ".join(detail["removed"].split()))
    return "; ".join(parts)
