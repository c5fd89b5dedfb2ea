"""Repositories map rows to the domain's plain snapshots. They never commit: the unit
of work does, once per use case."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from bot.domain.action_items import ActionItem, ActionRequest
from bot.domain.factors import Factor
from bot.domain.incidents import EventKind, EventRecord, Incident
from bot.domain.postmortem import Postmortem, PostmortemVersion, SectionText
from bot.domain.reviews import ReviewKind, ReviewRecord
from bot.domain.rotations import Override, Schedule
from bot.domain.schedules import layer_from_json, layer_to_json
from bot.domain.timeline import ChatMessage, FileRef, TimelineEntry, kind_of, ts_to_datetime
from storage.models import (
    ActionItemRow,
    CounterRow,
    IncidentEventRow,
    IncidentRow,
    NotificationRow,
    OncallOverrideRow,
    OncallScheduleRow,
    PostmortemFactorRow,
    PostmortemReviewRow,
    PostmortemRow,
    PostmortemSectionRow,
    PostmortemVersionRow,
    RoleAssignmentRow,
    SlackUserRow,
    TimelineEntryRow,
    new_feed_token,
)

# Roles (a handful per incident) come joined to the incident row; events and action
# items, which grow, come in one extra SELECT each: three statements per read.
_LOAD = (joinedload(IncidentRow.roles), selectinload(IncidentRow.events),
         selectinload(IncidentRow.action_items))
DELETED = "deleted"  # an action item removed by hand: kept for audit, listed nowhere

_SCALARS = (
    "title", "description", "severity", "status", "declared_at", "declared_by",
    "acknowledged_at", "acknowledged_by", "resolved_at", "summary", "channel_id",
    "channel_name", "card_ts", "announce_channel_id", "announce_ts", "private", "tags",
)


def to_action(row: ActionItemRow, number: int | None = None) -> ActionItem:
    return ActionItem(id=row.id, text=row.text, owner=row.owner, due_on=row.due_on,
                      type=row.type, status=row.status, created_at=row.created_at,
                      created_by=row.created_by, closed_at=row.closed_at,
                      incident_number=number)


def to_incident(row: IncidentRow) -> Incident:
    return Incident(
        number=row.number,
        action_items=tuple(to_action(a, row.number) for a in row.action_items
                           if a.status != DELETED),
        roles={r.role: r.user_id for r in row.roles},
        events=tuple(
            EventRecord(at=e.at, kind=EventKind(e.kind), actor=e.actor, detail=dict(e.detail))
            for e in row.events
        ),
        **{name: getattr(row, name) for name in _SCALARS},
    )


class SqlIncidentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        # Rows this unit of work already read, so `save` writes to them without reading
        # the incident and its collections a second time.
        self._read: dict[int, IncidentRow] = {}

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

    def _row(self, where: ColumnElement[bool], *, for_update: bool = False) -> IncidentRow | None:
        query = select(IncidentRow).where(where).options(*_LOAD)
        if for_update:
            query = query.with_for_update(of=IncidentRow)
        row = self.session.execute(query).unique().scalar_one_or_none()
        if row is not None:
            self._read[row.number] = row
        return row

    def get(self, number: int, *, for_update: bool = False) -> Incident | None:
        """`for_update` locks the row until commit so two changes to one incident queue."""
        row = self._row(IncidentRow.number == number, for_update=for_update)
        return to_incident(row) if row else None

    def get_for_channel(self, channel_id: str, *, for_update: bool = False) -> Incident | None:
        """The incident whose channel this is (found and read in one go)."""
        row = self._row(IncidentRow.channel_id == channel_id, for_update=for_update)
        return to_incident(row) if row else None

    def exists(self, number: int) -> bool:
        return self.session.execute(
            select(IncidentRow.id).where(IncidentRow.number == number)).first() is not None

    def set_fields(self, number: int, fields: Mapping[str, object]) -> dict[str, object]:
        """Write the given scalar fields and return every scalar as now stored, in one
        statement (UPDATE ... RETURNING): set-up records each Slack id this way."""
        unknown = set(fields) - set(_SCALARS)
        if unknown:
            raise ValueError(f"not a scalar field of an incident: {sorted(unknown)}")
        columns = [getattr(IncidentRow, name) for name in _SCALARS]
        stored = self.session.execute(
            update(IncidentRow).where(IncidentRow.number == number).values(**fields)
            .returning(*columns).execution_options(synchronize_session=False)
        ).one_or_none()
        if stored is None:
            raise LookupError(f"incident {number} does not exist")
        row = self._read.get(number)
        if row is not None:  # keep an already-read row in step (the UPDATE bypassed it)
            self.session.expire(row)
            del self._read[number]
        return dict(zip(_SCALARS, stored, strict=True))

    def number_for_channel(self, channel_id: str) -> int | None:
        return self.session.execute(
            select(IncidentRow.number).where(IncidentRow.channel_id == channel_id)
        ).scalar_one_or_none()

    def list(self, *, open_only: bool = False, resolved_since: datetime | None = None,
             declared_since: datetime | None = None,
             numbers: Iterable[int] | None = None) -> list[Incident]:
        """All incidents, the open ones, those resolved at or after `resolved_since` or
        declared at or after `declared_since` (each an indexed range: the answer's size,
        not the history's, is what the query costs)."""
        query = (
            select(IncidentRow)
            .options(*_LOAD)
            .order_by(IncidentRow.number)
        )
        if open_only:
            query = query.where(IncidentRow.resolved_at.is_(None))
        if resolved_since is not None:
            query = query.where(IncidentRow.resolved_at >= resolved_since)
        if declared_since is not None:
            query = query.where(IncidentRow.declared_at >= declared_since)
        if numbers is not None:
            query = query.where(IncidentRow.number.in_(list(numbers)))
        return [to_incident(row) for row in self.session.execute(query).unique().scalars()]

    def add(self, incident: Incident) -> None:
        """Three statements whatever the number of roles and events: the incident row,
        then its roles and its events each as one multi-row INSERT."""
        incident_id = self.session.execute(
            insert(IncidentRow).values(number=incident.number,
                                       **{n: getattr(incident, n) for n in _SCALARS})
            .returning(IncidentRow.id)).scalar_one()
        if incident.roles:
            self.session.execute(insert(RoleAssignmentRow).values([
                {"incident_id": incident_id, "role": k, "user_id": v}
                for k, v in incident.roles.items()]))
        if incident.events:
            self.session.execute(insert(IncidentEventRow).values([
                {"incident_id": incident_id, "at": e.at, "kind": e.kind, "actor": e.actor,
                 "detail": e.detail} for e in incident.events]))

    def save(self, incident: Incident) -> None:
        """Write back scalars and roles; append events not stored yet (events are never
        rewritten: the audit trail only grows). Writes to the row `get` read in this
        unit of work if there is one, so a change reads the incident once."""
        row = self._read.get(incident.number) or self._row(IncidentRow.number == incident.number)
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


def _insert_unless_present(session: Session, row: type[Any], values: dict[str, Any],
                           key: list[str]) -> bool:
    """INSERT ... ON CONFLICT (key) DO NOTHING on SQLite and PostgreSQL; True if added.
    RETURNING, not rowcount: psycopg reports a rowcount of 1 for a skipped conflict."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(row).values(**values).on_conflict_do_nothing(index_elements=key)
    returning = getattr(row, key[0])
    return session.execute(statement.returning(returning)).first() is not None


def to_entry(row: TimelineEntryRow) -> TimelineEntry:
    return TimelineEntry(
        at=row.at, kind=row.kind, author=row.author, text=row.text, channel_id=row.channel_id,
        ts=row.ts, thread_ts=row.thread_ts, pinned=row.pinned, marked_by=tuple(row.marked_by),
        deleted=row.deleted, history=tuple(row.history), id=row.id, hidden=row.hidden,
        files=tuple(FileRef(f["name"], f["permalink"]) for f in row.files),
    )


class SqlTimelineRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._ids: dict[int, int] = {}  # incident number -> row id, for this unit of work

    def _incident_id(self, number: int) -> int:
        """Looked up once per unit of work: a batch of events for one incident
        (services.timeline.TimelineWriter) asks for it once, not per event."""
        if number not in self._ids:
            self._ids[number] = self.session.execute(
                select(IncidentRow.id).where(IncidentRow.number == number)).scalar_one()
        return self._ids[number]

    def _row(self, channel_id: str, ts: str) -> TimelineEntryRow | None:
        return self.session.execute(
            select(TimelineEntryRow)
            .where(TimelineEntryRow.channel_id == channel_id, TimelineEntryRow.ts == ts)
            .with_for_update()
        ).scalar_one_or_none()

    def add_message(self, number: int, message: ChatMessage, history: list[dict[str, str]]
                    | None = None) -> bool:
        """Store a message unless it is already stored (then: False, nothing changes)."""
        return _insert_unless_present(self.session, TimelineEntryRow, {
            "incident_id": self._incident_id(number), "channel_id": message.channel_id,
            "ts": message.ts, "at": ts_to_datetime(message.ts), "kind": kind_of(message),
            "author": message.bot_name if message.bot_name is not None else message.user,
            "text": message.text, "thread_ts": message.thread_ts,
            "pinned": bool(message.pinned), "marked_by": sorted(message.marked_by or ()),
            "deleted": False, "history": history or [],
            "files": [{"name": f.name, "permalink": f.permalink} for f in message.files],
        }, ["channel_id", "ts"])

    def edit_message(self, number: int, message: ChatMessage, previous_text: str | None) -> None:
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
            row.kind = "bot" if row.kind == "bot" or message.bot_name is not None else \
                "file" if row.files else "message"
        self.session.flush()

    def _change(self, channel_id: str, ts: str, change: Callable[[TimelineEntryRow], None]) -> bool:
        """Apply `change` to a stored message under a row lock; False if it is not stored
        (yet: backfill brings it in with its current state)."""
        row = self._row(channel_id, ts)
        if row is None:
            return False
        change(row)
        self.session.flush()
        return True

    def mark_deleted(self, channel_id: str, ts: str) -> bool:
        return self._change(channel_id, ts, lambda row: setattr(row, "deleted", True))

    def set_marker(self, channel_id: str, ts: str, user: str, marked: bool) -> bool:
        def apply(row: TimelineEntryRow) -> None:
            users = set(row.marked_by)
            row.marked_by = sorted(users | {user} if marked else users - {user})
        return self._change(channel_id, ts, apply)

    def set_pinned(self, channel_id: str, ts: str, pinned: bool) -> bool:
        return self._change(channel_id, ts, lambda row: setattr(row, "pinned", pinned))

    def add_note(self, number: int, at: datetime, author: str | None, text: str, *,
                 kind: str = "note") -> int:
        """A note (or, `kind="alert"`, an attached alert's change: no author)."""
        row = TimelineEntryRow(
            incident_id=self._incident_id(number), at=at, kind=kind, author=author, text=text,
            pinned=False, marked_by=[], deleted=False, history=[], files=[])
        self.session.add(row)
        self.session.flush()
        return row.id

    def entry(self, number: int, entry_id: int) -> TimelineEntry | None:
        """Entry `entry_id` if it is on incident `number`'s timeline."""
        row = self.session.execute(
            select(TimelineEntryRow)
            .join(IncidentRow, IncidentRow.id == TimelineEntryRow.incident_id)
            .where(IncidentRow.number == number, TimelineEntryRow.id == entry_id)
            .with_for_update(of=TimelineEntryRow)).scalar_one_or_none()
        return to_entry(row) if row is not None else None

    def entry_for_message(self, channel_id: str, ts: str) -> TimelineEntry | None:
        row = self._row(channel_id, ts)
        return to_entry(row) if row is not None else None

    def _audit(self, entry_id: int, change: dict[str, str]) -> TimelineEntryRow:
        """The row, with `change` appended to its history: corrections are kept for audit."""
        row = self.session.get(TimelineEntryRow, entry_id)
        if row is None:
            raise LookupError(entry_id)
        row.history = [*row.history, change]
        return row

    def edit_note(self, entry_id: int, text: str, by: str, now: datetime) -> None:
        row = self._audit(entry_id, {"text": "", "replaced_at": now.isoformat(), "by": by})
        row.history = [*row.history[:-1], {**row.history[-1], "text": row.text}]
        row.text = text
        self.session.flush()

    def delete_note(self, entry_id: int, by: str, now: datetime) -> None:
        row = self._audit(entry_id, {"deleted_at": now.isoformat(), "by": by})
        row.deleted = True
        self.session.flush()

    def set_hidden(self, entry_id: int, hidden: bool, by: str, now: datetime) -> None:
        change = "hidden_at" if hidden else "shown_at"
        row = self._audit(entry_id, {change: now.isoformat(), "by": by})
        row.hidden = hidden
        self.session.flush()

    def merge(self, number: int, message: ChatMessage) -> bool:
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


class SqlActionItemRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, number: int, req: ActionRequest, created_by: str, now: datetime) -> ActionItem:
        incident_id = self.session.execute(
            select(IncidentRow.id).where(IncidentRow.number == number)).scalar_one()
        row = ActionItemRow(incident_id=incident_id, text=req.text, owner=req.owner,
                            due_on=req.due_on, type=req.type, status="open", created_at=now,
                            created_by=created_by)
        self.session.add(row)
        self.session.flush()
        return to_action(row, number)

    def _items(self, *where: ColumnElement[bool]) -> list[ActionItem]:
        """Items matching `where`, with their incident's number, in due order. Built and
        run here so the row type is inferred (SQLAlchemy 2.0 and 2.1 spell `Select`'s
        type parameters differently)."""
        query = (select(ActionItemRow, IncidentRow.number)
                 .join(IncidentRow, IncidentRow.id == ActionItemRow.incident_id)
                 .where(ActionItemRow.status != DELETED, *where)
                 .order_by(ActionItemRow.due_on.is_(None), ActionItemRow.due_on, ActionItemRow.id))
        return [to_action(row, n) for row, n in self.session.execute(query)]

    def get(self, item_id: int) -> ActionItem | None:
        found = self._items(ActionItemRow.id == item_id)
        return found[0] if found else None

    def for_incident(self, number: int) -> list[ActionItem]:
        return self._items(IncidentRow.number == number)

    def open_items(self, owner: str | None = None, *, due_from: date | None = None,
                   due_before: date | None = None) -> list[ActionItem]:
        """Open items (of `owner`), optionally only those due in [`due_from`,
        `due_before`): the reminders ask for a window of days, on an index."""
        where = [ActionItemRow.status == "open"]
        if owner is not None:
            where.append(ActionItemRow.owner == owner)
        if due_from is not None:
            where.append(ActionItemRow.due_on >= due_from)
        if due_before is not None:
            where.append(ActionItemRow.due_on < due_before)
        return self._items(*where)

    def all_items(self) -> list[ActionItem]:
        return self._items()

    def touched_since(self, since: datetime) -> list[ActionItem]:
        """Items created or closed at or after `since` (the weekly trends): two reads,
        each on its own index (ix_action_items_created_at / _closed_at)."""
        found = {i.id: i for i in self._items(ActionItemRow.created_at >= since)}
        for item in self._items(ActionItemRow.closed_at >= since):
            found.setdefault(item.id, item)
        return list(found.values())

    def change(self, item_id: int, **values: object) -> ActionItem:
        """Set the given columns (text, owner, due_on, type, status) of one item."""
        row = self.session.get(ActionItemRow, item_id, with_for_update=True)
        if row is None:
            raise LookupError(item_id)
        for name, value in values.items():
            setattr(row, name, value)
        self.session.flush()
        return self.get(item_id)  # type: ignore[return-value]

    def set_status(self, item_id: int, status: str, user: str, now: datetime) -> ActionItem:
        row = self.session.get(ActionItemRow, item_id, with_for_update=True)
        if row is None:
            raise LookupError(item_id)
        row.status = status
        row.closed_at, row.closed_by = (now, user) if status == "done" else (None, None)
        self.session.flush()
        return self.get(item_id)  # type: ignore[return-value]


class SqlPostmortemRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _row(self, number: int) -> PostmortemRow | None:
        return self.session.execute(
            select(PostmortemRow).join(IncidentRow, IncidentRow.id == PostmortemRow.incident_id)
            .where(IncidentRow.number == number).with_for_update(of=PostmortemRow)
        ).scalar_one_or_none()

    def get(self, number: int) -> Postmortem | None:
        row = self._row(number)
        return to_postmortem(row, number) if row else None

    def add_version(self, number: int, *, template: str, content: str, author: str,
                    now: datetime) -> Postmortem:
        """A new version (1, 2, ...); the first one creates the postmortem as a draft."""
        row = self._row(number)
        if row is None:
            incident_id = self.session.execute(
                select(IncidentRow.id).where(IncidentRow.number == number)).scalar_one()
            row = PostmortemRow(incident_id=incident_id, status="draft", created_at=now,
                                updated_at=now)
            self.session.add(row)
            self.session.flush()
        row.versions.append(PostmortemVersionRow(
            version=len(row.versions) + 1, template=template, content=content,
            created_at=now, created_by=author))
        row.updated_at = now
        self.session.flush()
        return to_postmortem(row, number)

    def set_file(self, number: int, version: int, file_id: str,
                 message_ts: str | None = None) -> None:
        row = self._row(number)
        assert row is not None
        row.versions[version - 1].file_id = file_id
        row.versions[version - 1].message_ts = message_ts
        self.session.flush()

    def set_status(self, number: int, status: str, now: datetime) -> Postmortem:
        row = self._row(number)
        assert row is not None
        row.status, row.updated_at = status, now
        row.published_at = now if status == "published" else None
        self.session.flush()
        return to_postmortem(row, number)

    def states(self, *, declared_since: datetime | None = None,
               resolved_since: datetime | None = None) -> list[Postmortem]:
        """The postmortems of the incidents declared / resolved since these times, without
        their versions (no text is read): the stats and the reminders need only the
        status and when it was published."""
        query = (select(IncidentRow.number, PostmortemRow.status, PostmortemRow.created_at,
                        PostmortemRow.updated_at, PostmortemRow.published_at)
                 .join(IncidentRow, IncidentRow.id == PostmortemRow.incident_id))
        if declared_since is not None:
            query = query.where(IncidentRow.declared_at >= declared_since)
        if resolved_since is not None:
            query = query.where(IncidentRow.resolved_at >= resolved_since)
        return [Postmortem(incident_number=n, status=status, created_at=created,
                           updated_at=updated, published_at=published)
                for n, status, created, updated, published in self.session.execute(query)]

    def latest_versions(self, numbers: Iterable[int]) -> dict[int, PostmortemVersion]:
        """The latest version of each of these incidents' postmortems, in one query."""
        wanted = sorted(set(numbers))
        if not wanted:
            return {}
        latest = (select(PostmortemVersionRow.postmortem_id,
                         func.max(PostmortemVersionRow.version).label("version"))
                  .group_by(PostmortemVersionRow.postmortem_id).subquery())
        rows = self.session.execute(
            select(PostmortemVersionRow, IncidentRow.number)
            .join(latest, (latest.c.postmortem_id == PostmortemVersionRow.postmortem_id)
                  & (latest.c.version == PostmortemVersionRow.version))
            .join(PostmortemRow, PostmortemRow.id == PostmortemVersionRow.postmortem_id)
            .join(IncidentRow, IncidentRow.id == PostmortemRow.incident_id)
            .where(IncidentRow.number.in_(wanted)))
        return {n: PostmortemVersion(v.version, v.template, v.content, v.created_at,
                                     v.created_by, v.file_id, v.message_ts)
                for v, n in rows}

    def posted(self, numbers: Iterable[int]) -> dict[int, tuple[str, str | None]]:
        """For each of these incidents that has a postmortem: its status and the ts of
        the latest version posted in the incident channel (None if none was), in one
        query (a related-incident suggestion links to it)."""
        wanted = sorted(set(numbers))
        if not wanted:
            return {}
        rows = self.session.execute(
            select(IncidentRow.number, PostmortemRow.status, PostmortemVersionRow.version,
                   PostmortemVersionRow.message_ts)
            .join(IncidentRow, IncidentRow.id == PostmortemRow.incident_id)
            .outerjoin(PostmortemVersionRow,
                       (PostmortemVersionRow.postmortem_id == PostmortemRow.id)
                       & PostmortemVersionRow.message_ts.is_not(None))
            .where(IncidentRow.number.in_(wanted))
            .order_by(IncidentRow.number, PostmortemVersionRow.version))
        found: dict[int, tuple[str, str | None]] = {}
        for number, status, _, ts in rows:  # later versions win
            found[number] = (status, ts or found.get(number, (status, None))[1])
        return found

    def all(self) -> list[Postmortem]:
        rows = self.session.execute(
            select(PostmortemRow, IncidentRow.number)
            .join(IncidentRow, IncidentRow.id == PostmortemRow.incident_id))
        return [to_postmortem(row, n) for row, n in rows]


    def section_history(self, number: int) -> list[SectionText]:
        """Every edit of every section, oldest first (key, then version)."""
        rows = self.session.execute(
            select(PostmortemSectionRow)
            .join(IncidentRow, IncidentRow.id == PostmortemSectionRow.incident_id)
            .where(IncidentRow.number == number)
            .order_by(PostmortemSectionRow.key, PostmortemSectionRow.version)).scalars()
        return [SectionText(r.key, r.text, r.version, r.author, r.written_at) for r in rows]

    def sections(self, number: int) -> dict[str, SectionText]:
        """The current text of each section written so far."""
        return {s.key: s for s in self.section_history(number)}  # later versions win

    def write_sections(self, number: int, texts: dict[str, str], *, author: str,
                       now: datetime) -> list[str]:
        """Store a new version of each section whose text changed (unchanged ones keep
        their author and time); returns the keys that changed."""
        current = self.sections(number)
        incident_id = self.session.execute(
            select(IncidentRow.id).where(IncidentRow.number == number)).scalar_one()
        changed = []
        for key, text in texts.items():
            before = current.get(key)
            if (before.text if before else "") == text:
                continue
            self.session.add(PostmortemSectionRow(
                incident_id=incident_id, key=key, version=before.version + 1 if before else 1,
                text=text, author=author, written_at=now))
            changed.append(key)
        self.session.flush()
        return changed

    def reviews(self, number: int) -> list[ReviewRecord]:
        """The review log, oldest first (bot.domain.reviews.review_state reads it)."""
        rows = self.session.execute(
            select(PostmortemReviewRow)
            .join(IncidentRow, IncidentRow.id == PostmortemReviewRow.incident_id)
            .where(IncidentRow.number == number).order_by(PostmortemReviewRow.id)).scalars()
        return [ReviewRecord(ReviewKind(r.kind), r.actor, r.at, r.reviewer, r.comment,
                             r.version) for r in rows]

    def add_reviews(self, number: int, records: Iterable[ReviewRecord]) -> None:
        incident_id = self.session.execute(
            select(IncidentRow.id).where(IncidentRow.number == number)).scalar_one()
        self.session.add_all(PostmortemReviewRow(
            incident_id=incident_id, kind=r.kind.value, actor=r.actor, reviewer=r.reviewer,
            comment=r.comment, version=r.version, at=r.at) for r in records)
        self.session.flush()

    def factors(self, number: int) -> list[Factor]:
        """Every contributing factor, removed ones too, in the order they were added."""
        rows = self.session.execute(
            select(PostmortemFactorRow)
            .join(IncidentRow, IncidentRow.id == PostmortemFactorRow.incident_id)
            .where(IncidentRow.number == number).order_by(PostmortemFactorRow.id)).scalars()
        return [to_factor(r) for r in rows]

    def add_factor(self, number: int, factor: Factor, *, author: str,
                   now: datetime) -> Factor:
        incident_id = self.session.execute(
            select(IncidentRow.id).where(IncidentRow.number == number)).scalar_one()
        row = PostmortemFactorRow(
            incident_id=incident_id, category=factor.category, description=factor.description,
            timeline_ids=list(factor.timeline), action_item_ids=list(factor.action_items),
            added_by=author, added_at=now)
        self.session.add(row)
        self.session.flush()
        return to_factor(row)

    def remove_factor(self, number: int, factor_id: int, *, by: str,
                      now: datetime) -> Factor | None:
        """Mark a standing factor of this incident removed; None if there is no such one
        standing (unknown, another incident's, or removed already)."""
        row = self.session.execute(
            select(PostmortemFactorRow)
            .join(IncidentRow, IncidentRow.id == PostmortemFactorRow.incident_id)
            .where(IncidentRow.number == number, PostmortemFactorRow.id == factor_id,
                   PostmortemFactorRow.removed_at.is_(None))
            .with_for_update(of=PostmortemFactorRow)).scalar_one_or_none()
        if row is None:
            return None
        row.removed_by, row.removed_at = by, now
        self.session.flush()
        return to_factor(row)

    def factor_lists(self, numbers: Iterable[int]) -> dict[int, list[Factor]]:
        """The standing factors of each of these incidents, in one query."""
        wanted = sorted(set(numbers))
        found: dict[int, list[Factor]] = {n: [] for n in wanted}
        if not wanted:
            return found
        rows = self.session.execute(
            select(PostmortemFactorRow, IncidentRow.number)
            .join(IncidentRow, IncidentRow.id == PostmortemFactorRow.incident_id)
            .where(IncidentRow.number.in_(wanted), PostmortemFactorRow.removed_at.is_(None))
            .order_by(PostmortemFactorRow.id))
        for row, n in rows:
            found[n].append(to_factor(row))
        return found


def to_factor(row: PostmortemFactorRow) -> Factor:
    return Factor(row.category, row.description, tuple(row.timeline_ids),
                  tuple(row.action_item_ids), row.id, row.added_by, row.added_at,
                  row.removed_by, row.removed_at)


def to_postmortem(row: PostmortemRow, number: int) -> Postmortem:
    return Postmortem(
        incident_number=number, status=row.status, created_at=row.created_at,
        updated_at=row.updated_at, published_at=row.published_at,
        versions=tuple(PostmortemVersion(v.version, v.template, v.content, v.created_at,
                                         v.created_by, v.file_id, v.message_ts)
                     for v in row.versions))


class SqlNotificationRepository:
    """Claims for timed notices: see storage.models.NotificationRow."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, key: str, now: datetime) -> bool:
        return _insert_unless_present(self.session, NotificationRow,
                                      {"key": key, "status": "sending", "claimed_at": now},
                                      ["key"])

    def mark_sent(self, key: str, now: datetime) -> None:
        self.session.execute(update(NotificationRow).where(NotificationRow.key == key)
                             .values(status="sent", sent_at=now))

    def release(self, key: str) -> None:
        self.session.execute(delete(NotificationRow).where(NotificationRow.key == key))

    def status(self, key: str) -> str | None:
        return self.session.execute(
            select(NotificationRow.status).where(NotificationRow.key == key)).scalar_one_or_none()

    def claimed(self, keys: Iterable[str]) -> set[str]:
        """Which of these keys are claimed already (sent, or being sent): one query."""
        wanted = sorted(set(keys))
        if not wanted:
            return set()
        return set(self.session.execute(
            select(NotificationRow.key).where(NotificationRow.key.in_(wanted))).scalars())


class SqlScheduleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def names(self) -> list[str]:
        return list(self.session.execute(
            select(OncallScheduleRow.name).order_by(OncallScheduleRow.name)).scalars())

    def get(self, name: str, *, for_update: bool = False) -> Schedule | None:
        query = select(OncallScheduleRow).where(OncallScheduleRow.name == name)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).scalar_one_or_none()
        if row is None:
            return None
        return Schedule(
            name=row.name, channel=row.channel, usergroup=row.usergroup,
            layers=tuple(layer_from_json(data) for data in row.layers),
            overrides=tuple(Override(o.user, o.start, o.end, o.id) for o in row.overrides))

    def save(self, schedule: Schedule, now: datetime) -> None:
        """Write layers, channel and user group (overrides are added separately)."""
        row = self.session.get(OncallScheduleRow, schedule.name)
        layers = [layer_to_json(layer) for layer in schedule.layers]
        if row is None:
            self.session.add(OncallScheduleRow(name=schedule.name, channel=schedule.channel,
                                               usergroup=schedule.usergroup, layers=layers,
                                               applied_at=now))
        else:
            row.channel, row.usergroup, row.layers, row.applied_at = (
                schedule.channel, schedule.usergroup, layers, now)
        self.session.flush()

    def add_override(self, name: str, user: str, start: datetime, end: datetime, *,
                     now: datetime, created_by: str | None = None,
                     spec_key: str | None = None) -> bool:
        """False when an override with the same key (a YAML entry, a cover request)
        already exists, also when another transaction inserted it meanwhile: on
        PostgreSQL two clicks can both find none; the unique key stops the second, whose
        insert is undone by its savepoint alone."""
        if spec_key is not None and self.session.execute(
                select(OncallOverrideRow.id).where(OncallOverrideRow.schedule_name == name,
                                                   OncallOverrideRow.spec_key == spec_key)
        ).first():
            return False
        row = OncallOverrideRow(schedule_name=name, user=user, start=start, end=end,
                                created_at=now, created_by=created_by, spec_key=spec_key)
        if spec_key is None:
            self.session.add(row)
            self.session.flush()
            return True
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return False
        return True

    def override(self, override_id: int) -> tuple[str, Override] | None:
        """(schedule name, override) of override `override_id`, if it exists."""
        row = self.session.get(OncallOverrideRow, override_id, with_for_update=True)
        if row is None:
            return None
        return row.schedule_name, Override(row.user, row.start, row.end, row.id)

    def remove_override(self, override_id: int) -> None:
        row = self.session.get(OncallOverrideRow, override_id)
        if row is not None:
            self.session.delete(row)
            self.session.flush()

    def end_override(self, override_id: int, end: datetime) -> None:
        row = self.session.get(OncallOverrideRow, override_id)
        if row is None:
            raise LookupError(override_id)
        row.end = end
        self.session.flush()

    def feed_token(self, name: str) -> str | None:
        """The secret of the schedule's iCal feed URL (None: no such schedule)."""
        return self.session.execute(select(OncallScheduleRow.feed_token).where(
            OncallScheduleRow.name == name)).scalar_one_or_none()

    def rotate_feed_token(self, name: str) -> str | None:
        """A new secret: the old feed URL stops working (None: no such schedule)."""
        row = self.session.get(OncallScheduleRow, name, with_for_update=True)
        if row is None:
            return None
        row.feed_token = new_feed_token()
        self.session.flush()
        return row.feed_token


class SqlPeopleRepository:
    """Display names of Slack users, keyed by id and, for people a schedule names by
    e-mail, by that address too."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def remember(self, user_id: str, name: str, email: str | None, now: datetime) -> None:
        row = self.session.get(SlackUserRow, user_id)
        if row is None:
            self.session.add(SlackUserRow(id=user_id, name=name, email=email, updated_at=now))
        else:
            row.name, row.updated_at = name, now
            row.email = email or row.email
        self.session.flush()

    def known_since(self, since: datetime) -> set[str]:
        """Ids and e-mails whose names were refreshed at or after `since`."""
        rows = self.session.execute(select(SlackUserRow.id, SlackUserRow.email).where(
            SlackUserRow.updated_at >= since)).all()
        return {key for row in rows for key in row if key}

    def lookup(self, members: Iterable[str]) -> dict[str, tuple[str, str]]:
        """member (a Slack id or e-mail) -> (Slack id, display name), for those known."""
        wanted = set(members)
        if not wanted:
            return {}
        rows = self.session.execute(select(SlackUserRow).where(
            SlackUserRow.id.in_(wanted) | SlackUserRow.email.in_(wanted))).scalars()
        found: dict[str, tuple[str, str]] = {}
        for row in rows:
            for key in (row.id, row.email):
                if key in wanted:
                    found[key] = (row.id, row.name)
        return found
