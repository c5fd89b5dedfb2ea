"""When each incident's nudges are next due, and their snoozes (storage.models.NudgeRow).
Never commits: the unit of work does."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import IncidentRow, NudgeRow


def _incident_id(number: int) -> Any:
    return select(IncidentRow.id).where(IncidentRow.number == number).scalar_subquery()


class SqlNudgeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _upsert(self, rows: list[dict[str, Any]], keep: tuple[str, ...]) -> None:
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(NudgeRow).values(rows)
        self.session.execute(statement.on_conflict_do_update(
            index_elements=["incident_id", "kind"],
            set_={name: getattr(statement.excluded, name) for name in keep}))

    def schedule(self, number: int, due: Mapping[str, datetime | None]) -> None:
        """Set when each kind is next due (snoozes kept): one statement."""
        if due:
            self._upsert([{"incident_id": _incident_id(number), "kind": kind, "due_at": at}
                          for kind, at in due.items()], ("due_at",))

    def due(self, now: datetime) -> list[tuple[int, str, datetime | None]]:
        """(incident number, kind, snoozed until) of every row due at `now`: a range on
        the `due_at` index, so its cost is what is due, not the history."""
        rows = self.session.execute(
            select(IncidentRow.number, NudgeRow.kind, NudgeRow.snoozed_until)
            .join(IncidentRow, IncidentRow.id == NudgeRow.incident_id)
            .where(NudgeRow.due_at <= now)
            .order_by(IncidentRow.number, NudgeRow.kind))
        return [(number, kind, until) for number, kind, until in rows]

    def reschedule(self, number: int, kind: str, due_at: datetime | None) -> None:
        self.session.execute(update(NudgeRow)
                             .where(NudgeRow.incident_id == _incident_id(number),
                                    NudgeRow.kind == kind)
                             .values(due_at=due_at))

    def snoozed_until(self, number: int, kind: str) -> datetime | None:
        return self.session.execute(
            select(NudgeRow.snoozed_until)
            .where(NudgeRow.incident_id == _incident_id(number), NudgeRow.kind == kind)
        ).scalar_one_or_none()

    def snooze(self, number: int, kind: str, until: datetime, by: str, at: datetime) -> None:
        """Recorded with who and when; the row is next looked at when the snooze ends."""
        self._upsert([{"incident_id": _incident_id(number), "kind": kind, "due_at": until,
                       "snoozed_until": until, "snoozed_by": by, "snoozed_at": at}],
                     ("due_at", "snoozed_until", "snoozed_by", "snoozed_at"))
