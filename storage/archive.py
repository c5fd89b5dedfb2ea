"""Whole incidents in and out, for `debrief incident export` / `import`
(bot/domain/archive.py defines the record).

Reads go a page of incidents at a time with one query per table for the page (never one
per incident, never the whole history in memory); writes are multi-row INSERTs per table
for a batch of incidents. Rows are read as plain columns, not ORM objects, so the
session's identity map does not grow with the export.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, Select, insert, select, text, update
from sqlalchemy.orm import Session

from bot.domain.archive import Record, iso, parse_time
from storage.models import (
    ActionItemRow,
    CounterRow,
    IncidentEventRow,
    IncidentRow,
    PostmortemFactorRow,
    PostmortemReviewRow,
    PostmortemRow,
    PostmortemSectionRow,
    PostmortemVersionRow,
    RoleAssignmentRow,
    TimelineEntryRow,
)

_TIMES = ("declared_at", "acknowledged_at", "resolved_at")
_INCIDENT_COLUMNS = (
    "number", "title", "description", "severity", "status", "channel_id", "channel_name",
    "declared_at", "declared_by", "acknowledged_at", "acknowledged_by", "resolved_at",
    "summary", "card_ts", "announce_channel_id", "announce_ts", "private", "tags")


def _columns(row: type[Any]) -> Select[Any]:
    """Every column of a table as plain values: no ORM objects to build or keep."""
    return select(*(getattr(row, c.key) for c in row.__table__.columns))


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


class SqlArchiveRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- reading ------------------------------------------------------------------------

    def page(self, *, after: int, limit: int, since: datetime | None = None) -> list[Record]:
        """Up to `limit` incidents numbered above `after` (declared at or after `since`),
        by number: keyset paging, so each page costs the same however far in it is."""
        query = (select(IncidentRow.id, *(getattr(IncidentRow, c) for c in _INCIDENT_COLUMNS))
                 .where(IncidentRow.number > after).order_by(IncidentRow.number).limit(limit))
        if since is not None:
            query = query.where(IncidentRow.declared_at >= since)
        return self._records(self.session.execute(query).all())

    def records(self, numbers: Iterable[int]) -> dict[int, Record]:
        """The stored incidents among `numbers`, as records."""
        query = (select(IncidentRow.id, *(getattr(IncidentRow, c) for c in _INCIDENT_COLUMNS))
                 .where(IncidentRow.number.in_(list(numbers))))
        return {r["number"]: r for r in self._records(self.session.execute(query).all())}

    def _records(self, rows: Sequence[Row[Any]]) -> list[Record]:
        if not rows:
            return []
        ids = [row.id for row in rows]
        roles: dict[int, dict[str, str]] = defaultdict(dict)
        for r in self.session.execute(
                select(RoleAssignmentRow.incident_id, RoleAssignmentRow.role,
                       RoleAssignmentRow.user_id)
                .where(RoleAssignmentRow.incident_id.in_(ids)).order_by(RoleAssignmentRow.role)):
            roles[r.incident_id][r.role] = r.user_id
        events: dict[int, list[Record]] = defaultdict(list)
        for e in self.session.execute(
                _columns(IncidentEventRow).where(IncidentEventRow.incident_id.in_(ids))
                .order_by(IncidentEventRow.at, IncidentEventRow.id)):
            events[e.incident_id].append(
                {"at": iso(e.at), "kind": e.kind, "actor": e.actor, "detail": dict(e.detail)})
        items: dict[int, list[Record]] = defaultdict(list)
        item_at: dict[int, int] = {}  # an action item's id -> its position in its incident's
        for a in self.session.execute(
                _columns(ActionItemRow).where(ActionItemRow.incident_id.in_(ids))
                .order_by(ActionItemRow.id)):
            item_at[a.id] = len(items[a.incident_id])
            items[a.incident_id].append(
                {"text": a.text, "owner": a.owner, "due": _day(a.due_on), "type": a.type,
                 "status": a.status, "created_at": iso(a.created_at),
                 "created_by": a.created_by, "closed_at": iso(a.closed_at),
                 "closed_by": a.closed_by})
        entries: dict[int, list[Record]] = defaultdict(list)
        entry_at: dict[int, int] = {}  # a timeline entry's id -> its position
        for t in self.session.execute(
                _columns(TimelineEntryRow).where(TimelineEntryRow.incident_id.in_(ids))
                .order_by(TimelineEntryRow.at, TimelineEntryRow.id)):
            entry_at[t.id] = len(entries[t.incident_id])
            entries[t.incident_id].append(
                {"at": iso(t.at), "kind": t.kind, "author": t.author, "text": t.text,
                 "channel_id": t.channel_id, "ts": t.ts, "thread_ts": t.thread_ts,
                 "pinned": t.pinned, "marked_by": list(t.marked_by), "deleted": t.deleted,
                 "hidden": t.hidden, "history": list(t.history), "files": list(t.files)})
        postmortems: dict[int, Record] = {}
        by_id: dict[int, Record] = {}
        for p in self.session.execute(
                _columns(PostmortemRow).where(PostmortemRow.incident_id.in_(ids))):
            by_id[p.id] = postmortems[p.incident_id] = {
                "status": p.status, "created_at": iso(p.created_at),
                "updated_at": iso(p.updated_at), "published_at": iso(p.published_at),
                "versions": []}
        if by_id:
            for v in self.session.execute(
                    _columns(PostmortemVersionRow)
                    .where(PostmortemVersionRow.postmortem_id.in_(list(by_id)))
                    .order_by(PostmortemVersionRow.postmortem_id, PostmortemVersionRow.version)
            ):
                by_id[v.postmortem_id]["versions"].append(
                    {"version": v.version, "template": v.template, "content": v.content,
                     "created_at": iso(v.created_at), "created_by": v.created_by,
                     "file_id": v.file_id, "message_ts": v.message_ts})
        sections: dict[int, list[Record]] = defaultdict(list)
        for w in self.session.execute(
                _columns(PostmortemSectionRow)
                .where(PostmortemSectionRow.incident_id.in_(ids))
                .order_by(PostmortemSectionRow.key, PostmortemSectionRow.version)):
            sections[w.incident_id].append(
                {"key": w.key, "version": w.version, "text": w.text, "author": w.author,
                 "written_at": iso(w.written_at)})
        reviews: dict[int, list[Record]] = defaultdict(list)
        for v in self.session.execute(
                _columns(PostmortemReviewRow)
                .where(PostmortemReviewRow.incident_id.in_(ids))
                .order_by(PostmortemReviewRow.id)):
            reviews[v.incident_id].append(
                {"kind": v.kind, "actor": v.actor, "reviewer": v.reviewer,
                 "comment": v.comment, "version": v.version, "at": iso(v.at)})
        factors: dict[int, list[Record]] = defaultdict(list)
        for f in self.session.execute(
                _columns(PostmortemFactorRow)
                .where(PostmortemFactorRow.incident_id.in_(ids))
                .order_by(PostmortemFactorRow.id)):
            factors[f.incident_id].append(
                {"category": f.category, "description": f.description,
                 "timeline": [entry_at[i] for i in f.timeline_ids if i in entry_at],
                 "action_items": [item_at[i] for i in f.action_item_ids if i in item_at],
                 "added_by": f.added_by, "added_at": iso(f.added_at),
                 "removed_by": f.removed_by, "removed_at": iso(f.removed_at)})
        records = []
        for row in rows:
            record: Record = {c: (iso(getattr(row, c)) if c in _TIMES else getattr(row, c))
                              for c in _INCIDENT_COLUMNS[:13]}
            record["roles"] = roles.get(row.id, {})
            record["events"] = events.get(row.id, [])
            record["action_items"] = items.get(row.id, [])
            for c in _INCIDENT_COLUMNS[13:]:
                record[c] = list(row.tags) if c == "tags" else getattr(row, c)
            record["timeline_entries"] = entries.get(row.id, [])
            record["postmortem"] = postmortems.get(row.id)
            record["postmortem_sections"] = sections.get(row.id, [])
            record["postmortem_reviews"] = reviews.get(row.id, [])
            record["postmortem_factors"] = factors.get(row.id, [])
            records.append(record)
        return records

    def channels_in_use(self, channel_ids: Iterable[str]) -> dict[str, int]:
        """Which of these channels already belong to an incident (channel -> number)."""
        wanted = list(channel_ids)
        if not wanted:
            return {}
        return {c: n for c, n in self.session.execute(
            select(IncidentRow.channel_id, IncidentRow.number)
            .where(IncidentRow.channel_id.in_(wanted))) if c is not None}

    # --- writing ------------------------------------------------------------------------

    def add(self, records: Sequence[Record]) -> None:
        """Insert whole incidents (checked records whose numbers are free): one multi-row
        INSERT per table for the batch. The incident counter moves past the highest
        number, so the next declare does not collide with an imported incident."""
        if not records:
            return
        ids = dict(self.session.execute(
            insert(IncidentRow).returning(IncidentRow.number, IncidentRow.id),
            [{c: (parse_time(r[c]) if c in _TIMES and r[c] else r[c])
              for c in _INCIDENT_COLUMNS} for r in records]).all())
        self._insert(RoleAssignmentRow, [
            {"incident_id": ids[r["number"]], "role": role, "user_id": user}
            for r in records for role, user in r["roles"].items()])
        self._insert(IncidentEventRow, [
            {"incident_id": ids[r["number"]], "at": parse_time(e["at"]), "kind": e["kind"],
             "actor": e["actor"], "detail": e["detail"]}
            for r in records for e in r["events"]])
        self._insert(ActionItemRow, [
            {"incident_id": ids[r["number"]], "text": a["text"], "owner": a["owner"],
             "due_on": date.fromisoformat(a["due"]) if a["due"] else None, "type": a["type"],
             "status": a["status"], "created_at": parse_time(a["created_at"]),
             "created_by": a["created_by"],
             "closed_at": parse_time(a["closed_at"]) if a["closed_at"] else None,
             "closed_by": a["closed_by"]}
            for r in records for a in r["action_items"]])
        self._insert(TimelineEntryRow, [
            {"incident_id": ids[r["number"]], **{k: v for k, v in t.items() if k != "at"},
             "at": parse_time(t["at"])}
            for r in records for t in r["timeline_entries"]])
        with_postmortem = [r for r in records if r["postmortem"] is not None]
        if with_postmortem:
            pm_ids = dict(self.session.execute(
                insert(PostmortemRow).returning(PostmortemRow.incident_id, PostmortemRow.id),
                [{"incident_id": ids[r["number"]], "status": r["postmortem"]["status"],
                  "created_at": parse_time(r["postmortem"]["created_at"]),
                  "updated_at": parse_time(r["postmortem"]["updated_at"]),
                  "published_at": parse_time(r["postmortem"]["published_at"])
                  if r["postmortem"]["published_at"] else None}
                 for r in with_postmortem]).all())
            self._insert(PostmortemVersionRow, [
                {"postmortem_id": pm_ids[ids[r["number"]]], **v,
                 "created_at": parse_time(v["created_at"])}
                for r in with_postmortem for v in r["postmortem"]["versions"]])
        self._insert(PostmortemSectionRow, [
            {"incident_id": ids[r["number"]], **{k: v for k, v in w.items() if k != "written_at"},
             "written_at": parse_time(w["written_at"])}
            for r in records for w in r["postmortem_sections"]])
        self._insert(PostmortemReviewRow, [
            {"incident_id": ids[r["number"]], **{k: v for k, v in p.items() if k != "at"},
             "at": parse_time(p["at"])}
            for r in records for p in r["postmortem_reviews"]])
        self._add_factors(records, ids)
        top = max(r["number"] for r in records)
        self.session.execute(update(CounterRow)
                             .where(CounterRow.name == "incident_number", CounterRow.value < top)
                             .values(value=top))
        self.session.expunge_all()

    def _add_factors(self, records: Sequence[Record], ids: dict[int, int]) -> None:
        """The factors, their links turned from positions back into this database's ids
        (read back in the order the export wrote them: entries by time, items by id)."""
        with_factors = [r for r in records if r["postmortem_factors"]]
        if not with_factors:
            return
        wanted = [ids[r["number"]] for r in with_factors]
        entry_ids: dict[int, list[int]] = defaultdict(list)
        for incident_id, entry_id in self.session.execute(
                select(TimelineEntryRow.incident_id, TimelineEntryRow.id)
                .where(TimelineEntryRow.incident_id.in_(wanted))
                .order_by(TimelineEntryRow.at, TimelineEntryRow.id)):
            entry_ids[incident_id].append(entry_id)
        item_ids: dict[int, list[int]] = defaultdict(list)
        for incident_id, item_id in self.session.execute(
                select(ActionItemRow.incident_id, ActionItemRow.id)
                .where(ActionItemRow.incident_id.in_(wanted)).order_by(ActionItemRow.id)):
            item_ids[incident_id].append(item_id)
        self._insert(PostmortemFactorRow, [
            {"incident_id": ids[r["number"]], "category": f["category"],
             "description": f["description"],
             "timeline_ids": [entry_ids[ids[r["number"]]][p] for p in f["timeline"]],
             "action_item_ids": [item_ids[ids[r["number"]]][p] for p in f["action_items"]],
             "added_by": f["added_by"], "added_at": parse_time(f["added_at"]),
             "removed_by": f["removed_by"],
             "removed_at": parse_time(f["removed_at"]) if f["removed_at"] else None}
            for r in with_factors for f in r["postmortem_factors"]])

    def refresh_statistics(self) -> None:
        """After a bulk import: fresh planner statistics, so the indexed window queries
        (stats, ticks) use their indexes at once instead of after autovacuum's next pass
        (seen: a sequential scan of 50,000 events for a tick's 139 incidents)."""
        if self.session.get_bind().dialect.name == "postgresql":
            tables = ", ".join(t.__tablename__ for t in (
                IncidentRow, RoleAssignmentRow, IncidentEventRow, ActionItemRow,
                TimelineEntryRow, PostmortemRow, PostmortemVersionRow))
            self.session.execute(text(f"ANALYZE {tables}"))
        else:
            self.session.execute(text("PRAGMA optimize"))

    def _insert(self, row: type[Any], values: list[dict[str, Any]]) -> None:
        if values:
            self.session.execute(insert(row), values)
