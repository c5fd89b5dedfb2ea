"""Repositories map rows to the domain's plain snapshots. They never commit: the unit
of work does, once per use case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.domain.incidents import EventRecord, Incident
from bot.domain.timeline import FileRef, SlackMessage, TimelineEntry, kind_of, ts_to_datetime
from storage.models import (
    CounterRow,
    IncidentEventRow,
    IncidentRow,
    RoleAssignmentRow,
    TimelineEntryRow,
)

_SCALARS = (
    "title", "description", "severity", "status", "declared_at", "declared_by",
    "acknowledged_at", "acknowledged_by", "resolved_at", "summary", "channel_id",
    "channel_name", "card_ts", "announce_channel_id", "announce_ts",
)


def to_incident(row: IncidentRow) -> Incident:
    return Incident(
        number=row.number,
        roles={r.role: r.user_id for r in row.roles},
        events=tuple(
            EventRecord(at=e.at, kind=e.kind, actor=e.actor, detail=dict(e.detail))
            for e in row.events
        ),
        **{name: getattr(row, name) for name in _SCALARS},
    )


class SqlIncidentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def allocate_number(self) -> int:
        """Next incident number. The UPDATE takes a row lock (PostgreSQL) or the write
        lock (SQLite) held to commit, so concurrent declares get distinct numbers."""
        name = "incident_number"
        bump = (
            update(CounterRow)
            .where(CounterRow.name == name)
            .values(value=CounterRow.value + 1)
            .returning(CounterRow.value)
        )
        value = self.session.execute(bump).scalar_one_or_none()
        if value is not None:
            return value
        highest = self.session.execute(
            select(IncidentRow.number).order_by(IncidentRow.number.desc()).limit(1)
        ).scalar_one_or_none()
        value = (highest or 0) + 1
        try:
            # Two first-ever declares can race to create the counter; the loser's
            # savepoint rolls back and it takes the bump path, which waits for the lock.
            with self.session.begin_nested():
                self.session.add(CounterRow(name=name, value=value))
        except IntegrityError:
            return self.session.execute(bump).scalar_one()
        return value

    def _row(self, number: int, *, for_update: bool = False) -> IncidentRow | None:
        query = (
            select(IncidentRow)
            .where(IncidentRow.number == number)
            .options(selectinload(IncidentRow.roles), selectinload(IncidentRow.events))
        )
        if for_update:
            query = query.with_for_update(of=IncidentRow)
        return self.session.execute(query).scalar_one_or_none()

    def get(self, number: int, *, for_update: bool = False) -> Incident | None:
        """`for_update` locks the row until commit so two changes to one incident queue."""
        row = self._row(number, for_update=for_update)
        return to_incident(row) if row else None

    def number_for_channel(self, channel_id: str) -> int | None:
        return self.session.execute(
            select(IncidentRow.number).where(IncidentRow.channel_id == channel_id)
        ).scalar_one_or_none()

    def list(self, *, open_only: bool = False) -> list[Incident]:
        query = (
            select(IncidentRow)
            .options(selectinload(IncidentRow.roles), selectinload(IncidentRow.events))
            .order_by(IncidentRow.number)
        )
        if open_only:
            query = query.where(IncidentRow.resolved_at.is_(None))
        return [to_incident(row) for row in self.session.execute(query).scalars()]

    def add(self, incident: Incident) -> None:
        row = IncidentRow(number=incident.number, **{n: getattr(incident, n) for n in _SCALARS})
        row.roles = [RoleAssignmentRow(role=k, user_id=v) for k, v in incident.roles.items()]
        row.events = [
            IncidentEventRow(at=e.at, kind=e.kind, actor=e.actor, detail=e.detail)
            for e in incident.events
        ]
        self.session.add(row)
        self.session.flush()

    def save(self, incident: Incident) -> None:
        """Write back scalars and roles; append events not stored yet (events are never
        rewritten: the audit trail only grows)."""
        row = self._row(incident.number)
        if row is None:
            raise LookupError(f"incident {incident.number} does not exist")
        for name in _SCALARS:
            setattr(row, name, getattr(incident, name))
        current = {r.role: r for r in row.roles}
        for role, assignment in current.items():
            if role not in incident.roles:
                row.roles.remove(assignment)
        for role, user_id in incident.roles.items():
            if role in current:
                current[role].user_id = user_id
            else:
                row.roles.append(RoleAssignmentRow(role=role, user_id=user_id))
        for event in incident.events[len(row.events):]:
            row.events.append(
                IncidentEventRow(at=event.at, kind=event.kind, actor=event.actor,
                                 detail=event.detail)
            )
        self.session.flush()


def _insert_ignoring_duplicates(session: Session, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT (channel_id, ts) DO NOTHING; True if a row was added."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(TimelineEntryRow).values(**values).on_conflict_do_nothing(
        index_elements=["channel_id", "ts"]).returning(TimelineEntryRow.id)
    # RETURNING, not rowcount: psycopg reports a rowcount of 1 for a skipped conflict.
    return session.execute(statement).first() is not None


def to_entry(row: TimelineEntryRow) -> TimelineEntry:
    return TimelineEntry(
        at=row.at, kind=row.kind, author=row.author, text=row.text, channel_id=row.channel_id,
        ts=row.ts, thread_ts=row.thread_ts, pinned=row.pinned, marked_by=tuple(row.marked_by),
        deleted=row.deleted, history=tuple(row.history),
        files=tuple(FileRef(f["name"], f["permalink"]) for f in row.files),
    )


class SqlTimelineRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _incident_id(self, number: int) -> int:
        return self.session.execute(
            select(IncidentRow.id).where(IncidentRow.number == number)).scalar_one()

    def _row(self, channel_id: str, ts: str) -> TimelineEntryRow | None:
        return self.session.execute(
            select(TimelineEntryRow)
            .where(TimelineEntryRow.channel_id == channel_id, TimelineEntryRow.ts == ts)
            .with_for_update()
        ).scalar_one_or_none()

    def add_message(self, number: int, message: SlackMessage, history: list[dict[str, str]]
                    | None = None) -> bool:
        """Store a message unless it is already stored (then: False, nothing changes)."""
        return _insert_ignoring_duplicates(self.session, {
            "incident_id": self._incident_id(number), "channel_id": message.channel_id,
            "ts": message.ts, "at": ts_to_datetime(message.ts), "kind": kind_of(message),
            "author": message.user, "text": message.text, "thread_ts": message.thread_ts,
            "pinned": bool(message.pinned), "marked_by": sorted(message.marked_by or ()),
            "deleted": False, "history": history or [],
            "files": [{"name": f.name, "permalink": f.permalink} for f in message.files],
        })

    def edit_message(self, number: int, message: SlackMessage, previous_text: str | None) -> None:
        """Apply an edit; the earlier text is kept in `history`. An edit that arrives
        before its message creates the entry (with the earlier text as history)."""
        row = self._row(message.channel_id, message.ts)
        if row is None:
            earlier = [{"text": previous_text, "replaced_at": message.edited_ts or ""}] \
                if previous_text is not None and previous_text != message.text else []
            if self.add_message(number, message, earlier):
                return
            row = self._row(message.channel_id, message.ts)
            assert row is not None
        if row.text != message.text:
            row.history = [*row.history,
                           {"text": row.text, "replaced_at": message.edited_ts or ""}]
            row.text = message.text
            row.files = [{"name": f.name, "permalink": f.permalink} for f in message.files] \
                or row.files
            row.kind = "file" if row.files else "message"
        self.session.flush()

    def mark_deleted(self, channel_id: str, ts: str) -> bool:
        row = self._row(channel_id, ts)
        if row is None:
            return False
        row.deleted = True
        self.session.flush()
        return True

    def set_marker(self, channel_id: str, ts: str, user: str, marked: bool) -> bool:
        row = self._row(channel_id, ts)
        if row is None:
            return False
        users = set(row.marked_by)
        users = users | {user} if marked else users - {user}
        row.marked_by = sorted(users)
        self.session.flush()
        return True

    def set_pinned(self, channel_id: str, ts: str, pinned: bool) -> bool:
        row = self._row(channel_id, ts)
        if row is None:
            return False
        row.pinned = pinned
        self.session.flush()
        return True

    def add_note(self, number: int, at: datetime, author: str, text: str) -> None:
        self.session.add(TimelineEntryRow(
            incident_id=self._incident_id(number), at=at, kind="note", author=author, text=text,
            pinned=False, marked_by=[], deleted=False, history=[], files=[]))
        self.session.flush()

    def merge(self, number: int, message: SlackMessage) -> bool:
        """Backfill: add what is missing and bring what exists up to date with what Slack
        shows now (text, marks, pin). True if anything changed."""
        if self.add_message(number, message):
            return True
        row = self._row(message.channel_id, message.ts)
        assert row is not None
        before = (row.text, row.marked_by, row.pinned)
        if row.text != message.text:
            self.edit_message(number, message, None)
        if message.marked_by is not None:
            row.marked_by = sorted(message.marked_by)
        if message.pinned is not None:
            row.pinned = message.pinned
        self.session.flush()
        return before != (row.text, row.marked_by, row.pinned)

    def entries(self, number: int) -> list[TimelineEntry]:
        rows = self.session.execute(
            select(TimelineEntryRow)
            .join(IncidentRow, IncidentRow.id == TimelineEntryRow.incident_id)
            .where(IncidentRow.number == number)
            .order_by(TimelineEntryRow.at, TimelineEntryRow.id)
        ).scalars()
        return [to_entry(row) for row in rows]
