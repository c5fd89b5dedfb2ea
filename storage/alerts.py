"""Alert groups and their events (storage.models.AlertGroupRow, AlertEventRow) as the
domain's `AlertGroup` snapshots. Never commits: the unit of work does."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.domain.alerts import AlertGroup, Attached, Heartbeat, Link, LinkedIncident, StepRecord
from storage.models import AlertEventRow, AlertGroupRow, HeartbeatRow, IncidentRow
from storage.repositories import _insert_unless_present

ESCALATED = "escalated"
ACKNOWLEDGED = "acknowledged"
LINE = "incident_line"
_SKIP = {"id", "links", "steps", "notified", "labels", "incident"}
_COLUMNS = [f.name for f in fields(AlertGroup) if f.name not in _SKIP]


def _group(row: AlertGroupRow, steps: Iterable[AlertEventRow] = (),
           incident: LinkedIncident | None = None) -> AlertGroup:
    records = tuple(StepRecord(index=int(e.detail.get("index", 0)), at=e.at,
                               notified=tuple(e.detail.get("notified") or ()),
                               target=str(e.detail.get("target", "")),
                               after_gap=bool(e.detail.get("after_gap")))
                    for e in steps
                    if int(e.detail.get("round", 0)) == row.escalation_round)
    notified: list[str] = []
    for record in records:
        notified += [u for u in record.notified if u not in notified]
    return AlertGroup(id=row.id, labels=dict(row.labels),
                      links=tuple(Link(str(k.get("url", "")), str(k.get("text", "")))
                                  for k in row.links),
                      steps=records, notified=tuple(notified), incident=incident,
                      **{name: getattr(row, name) for name in _COLUMNS})


class SqlAlertRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _steps(self, ids: list[int]) -> dict[int, list[AlertEventRow]]:
        found: dict[int, list[AlertEventRow]] = {i: [] for i in ids}
        if ids:
            for event in self.session.execute(
                    select(AlertEventRow).where(AlertEventRow.group_id.in_(ids),
                                                AlertEventRow.kind == ESCALATED)
                    .order_by(AlertEventRow.at, AlertEventRow.id)).scalars():
                found[event.group_id].append(event)
        return found

    def _incidents(self, rows: Iterable[AlertGroupRow]) -> dict[int, LinkedIncident]:
        """The incidents `rows` are linked to (one query, only when some are)."""
        numbers = {r.incident_number for r in rows if r.incident_number is not None}
        if not numbers:
            return {}
        return {n: LinkedIncident(n, title, bool(private), resolved is None, channel)
                for n, title, private, resolved, channel in self.session.execute(
                    select(IncidentRow.number, IncidentRow.title, IncidentRow.private,
                           IncidentRow.resolved_at, IncidentRow.channel_id)
                    .where(IncidentRow.number.in_(numbers)))}

    def _groups(self, rows: list[AlertGroupRow]) -> list[AlertGroup]:
        steps = self._steps([r.id for r in rows])
        incidents = self._incidents(rows)
        return [_group(r, steps[r.id], incidents.get(r.incident_number or 0)) for r in rows]

    def find(self, integration: str, group_key: str, *, for_update: bool = False,
             ) -> AlertGroup | None:
        query = select(AlertGroupRow).where(AlertGroupRow.integration == integration,
                                            AlertGroupRow.group_key == group_key)
        row = self.session.execute(query.with_for_update() if for_update else query).scalar()
        return None if row is None else self._groups([row])[0]

    def create(self, values: Mapping[str, Any]) -> bool:
        """Insert a new group unless another request (or replica) just did: True if this
        call made it. The caller then reads it back locked."""
        return _insert_unless_present(self.session, AlertGroupRow, dict(values),
                                      ["integration", "group_key"])

    def get(self, group_id: int, *, for_update: bool = False) -> AlertGroup | None:
        query = select(AlertGroupRow).where(AlertGroupRow.id == group_id)
        row = self.session.execute(query.with_for_update() if for_update else query).scalar()
        return None if row is None else self._groups([row])[0]

    def save(self, group: AlertGroup) -> None:
        """Write back every column of `group` (a snapshot read in this unit of work)."""
        values = {name: getattr(group, name) for name in _COLUMNS}
        values["labels"] = dict(group.labels)
        values["links"] = [{"url": link.url, "text": link.text} for link in group.links]
        self.session.execute(update(AlertGroupRow).where(AlertGroupRow.id == group.id)
                             .values(**values))

    def add_event(self, group_id: int, kind: str, at: datetime, actor: str | None = None,
                  detail: Mapping[str, Any] | None = None) -> int:
        row = AlertEventRow(group_id=group_id, kind=kind, at=at, actor=actor,
                            detail=dict(detail or {}))
        self.session.add(row)
        self.session.flush()
        return row.id

    def events(self, group_id: int) -> list[tuple[datetime, str, str | None, dict[str, Any]]]:
        return [(e.at, e.kind, e.actor, dict(e.detail)) for e in self.session.execute(
            select(AlertEventRow).where(AlertEventRow.group_id == group_id)
            .order_by(AlertEventRow.at, AlertEventRow.id)).scalars()]

    def groups(self, *, open_only: bool = False, limit: int | None = None) -> list[AlertGroup]:
        query = select(AlertGroupRow).order_by(AlertGroupRow.id.desc())
        if open_only:
            query = query.where(AlertGroupRow.status.in_(("firing", "acknowledged", "silenced")))
        if limit:
            query = query.limit(limit)
        return self._groups(list(self.session.execute(query).scalars()))

    def escalating(self) -> list[AlertGroup]:
        """Groups still firing with nobody answering and a policy to follow: what the
        scheduler's escalation tick reads (an indexed window, never the history)."""
        rows = list(self.session.execute(
            select(AlertGroupRow).where(AlertGroupRow.status == "firing",
                                        AlertGroupRow.escalation.is_not(None))
            .order_by(AlertGroupRow.id)).scalars())
        return [g for g in self._groups(rows) if g.escalating]

    def silenced_until_before(self, now: datetime) -> list[int]:
        """Silenced groups whose silence has run out (they fire again)."""
        return list(self.session.execute(
            select(AlertGroupRow.id).where(AlertGroupRow.status == "silenced",
                                           AlertGroupRow.silenced_until <= now)).scalars())

    def unsynced(self, limit: int = 100) -> list[int]:
        """Groups whose Slack message is behind their state."""
        return list(self.session.execute(
            select(AlertGroupRow.id).where(AlertGroupRow.synced_version < AlertGroupRow.version)
            .order_by(AlertGroupRow.id).limit(limit)).scalars())

    def mark_synced(self, group_id: int, version: int, channel_id: str | None = None,
                    ts: str | None = None) -> None:
        values: dict[str, Any] = {"synced_version": version}
        if ts is not None:
            values.update(message_channel_id=channel_id, message_ts=ts)
        self.session.execute(update(AlertGroupRow).where(
            AlertGroupRow.id == group_id, AlertGroupRow.synced_version < version).values(**values))
        if ts is not None:  # the message exists even when a newer sync got there first
            self.session.execute(update(AlertGroupRow).where(
                AlertGroupRow.id == group_id, AlertGroupRow.message_ts.is_(None))
                .values(message_channel_id=channel_id, message_ts=ts))

    def for_incident(self, number: int) -> list[AlertGroup]:
        rows = list(self.session.execute(select(AlertGroupRow).where(
            AlertGroupRow.incident_number == number).order_by(AlertGroupRow.id)).scalars())
        return self._groups(rows)

    def attached_to_open(self, integration: str) -> list[Attached]:
        """Groups of `integration` attached to incidents still open (an indexed read of
        the open incidents' groups, never the history)."""
        return [Attached(int(number or 0), integration, dict(labels), declared)
                for number, labels, declared in self.session.execute(
                    select(AlertGroupRow.incident_number, AlertGroupRow.labels,
                           IncidentRow.declared_at)
                    .join(IncidentRow, IncidentRow.number == AlertGroupRow.incident_number)
                    .where(IncidentRow.resolved_at.is_(None),
                           AlertGroupRow.integration == integration))]

    def lines_after(self, group_id: int, after: int,
                    ) -> list[tuple[int, datetime, dict[str, Any]]]:
        """The group's incident lines not yet posted (event id above `after`)."""
        return [(e.id, e.at, dict(e.detail)) for e in self.session.execute(
            select(AlertEventRow).where(AlertEventRow.group_id == group_id,
                                        AlertEventRow.kind == LINE, AlertEventRow.id > after)
            .order_by(AlertEventRow.id)).scalars()]

    def mark_lines_posted(self, group_id: int, event_id: int) -> None:
        self.session.execute(update(AlertGroupRow).where(
            AlertGroupRow.id == group_id, AlertGroupRow.lines_posted < event_id)
            .values(lines_posted=event_id))

    def touch_incident(self, number: int) -> None:
        """The incident's groups change with it (resolved, reopened): their messages are
        brought up to date by the next sync."""
        self.session.execute(update(AlertGroupRow).where(
            AlertGroupRow.incident_number == number)
            .values(version=AlertGroupRow.version + 1))

    def acknowledgements(self, since: datetime | None, until: datetime,
                         ) -> list[tuple[str | None, str | None, float]]:
        """(schedule, who, seconds to acknowledge) of every acknowledgement in
        [since, until) (since None: all): one range read on (kind, at), whatever the
        history holds."""
        found: list[tuple[str | None, str | None, float]] = []
        query = (select(AlertEventRow.at, AlertEventRow.actor, AlertEventRow.detail,
                        AlertGroupRow.schedule, AlertGroupRow.first_firing_at)
                 .join(AlertGroupRow, AlertGroupRow.id == AlertEventRow.group_id)
                 .where(AlertEventRow.kind == ACKNOWLEDGED, AlertEventRow.at <= until))
        if since is not None:
            query = query.where(AlertEventRow.at >= since)
        for at, actor, detail, schedule, first in self.session.execute(query):
            seconds = detail.get("seconds") if isinstance(detail, dict) else None
            if not isinstance(seconds, int | float):
                seconds = (at - first).total_seconds()
            found.append((detail.get("schedule", schedule) if isinstance(detail, dict)
                          else schedule, actor, max(float(seconds), 0.0)))
        return found



def _heartbeat(row: HeartbeatRow) -> Heartbeat:
    return Heartbeat(integration=row.integration, armed_at=row.armed_at,
                     last_ping_at=row.last_ping_at, pings=row.pings,
                     open_group_id=row.open_group_id, missed_since=row.missed_since)


class SqlHeartbeatRepository:
    """Heartbeat rows: a ping is one `UPDATE … RETURNING` of its row (the first ping of a
    heartbeat nobody armed yet also inserts it), whatever its history."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def ping(self, integration: str, now: datetime) -> int | None:
        """Record a ping; the open outage's group id, if any."""
        statement = (update(HeartbeatRow).where(HeartbeatRow.integration == integration)
                     .values(last_ping_at=now, pings=HeartbeatRow.pings + 1)
                     .returning(HeartbeatRow.open_group_id))
        found = self.session.execute(statement).first()
        if found is not None:
            return found[0]
        if _insert_unless_present(self.session, HeartbeatRow, {
                "integration": integration, "armed_at": now, "last_ping_at": now,
                "pings": 1}, ["integration"]):
            return None
        found = self.session.execute(statement).first()  # armed meanwhile by another
        return None if found is None else found[0]

    def arm(self, integrations: Iterable[str], now: datetime) -> None:
        """Start the clock of heartbeats seen for the first time (one read; an insert
        only for a heartbeat new to the database)."""
        wanted = sorted(set(integrations))
        if not wanted:
            return
        known = set(self.session.execute(select(HeartbeatRow.integration).where(
            HeartbeatRow.integration.in_(wanted))).scalars())
        for name in wanted:
            if name not in known:
                _insert_unless_present(self.session, HeartbeatRow, {
                    "integration": name, "armed_at": now, "pings": 0}, ["integration"])

    def all(self, integrations: Iterable[str]) -> list[Heartbeat]:
        wanted = sorted(set(integrations))
        if not wanted:
            return []
        return [_heartbeat(r) for r in self.session.execute(
            select(HeartbeatRow).where(HeartbeatRow.integration.in_(wanted))
            .order_by(HeartbeatRow.integration)).scalars()]

    def get(self, integration: str, *, for_update: bool = False) -> Heartbeat | None:
        query = select(HeartbeatRow).where(HeartbeatRow.integration == integration)
        row = self.session.execute(query.with_for_update() if for_update else query).scalar()
        return None if row is None else _heartbeat(row)

    def set_outage(self, integration: str, group_id: int | None,
                   missed_since: datetime | None) -> None:
        """The outage now open (its group and since when pings are missing), or none."""
        self.session.execute(update(HeartbeatRow).where(
            HeartbeatRow.integration == integration).values(
            open_group_id=group_id, missed_since=missed_since))
