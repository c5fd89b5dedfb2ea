"""Repositories map rows to the domain's plain snapshots. They never commit: the unit
of work does, once per use case."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.domain.incidents import EventRecord, Incident
from storage.models import CounterRow, IncidentEventRow, IncidentRow, RoleAssignmentRow

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
