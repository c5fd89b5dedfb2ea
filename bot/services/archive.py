"""Export and import whole incidents (`debrief incident export` / `import`): backups,
moving between SQLite and PostgreSQL, and seeding benchmarks.

Both stream: export reads a page of incidents at a time; import reads the file twice, once
to check every line (a bad file changes nothing and is reported by line number) and once
to insert batches, each batch one transaction. Import is idempotent by incident number:
an incident already stored with the same content is skipped, one stored with different
content is a conflict, reported and left as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.archive import Record, check_record
from bot.errors import UserError
from bot.services.ports import UnitOfWorkFactory

PAGE = 200  # incidents per export query round (each brings its events, entries, ...)
BATCH = 500  # incidents per import transaction


def export_incidents(*, uow: UnitOfWorkFactory, since: datetime | None = None,
                     page: int = PAGE) -> Iterator[Record]:
    """Every incident (declared at or after `since`) by number, one record at a time.
    One short transaction per page, not one for the whole export: on SQLite every
    transaction holds the write lock (BEGIN IMMEDIATE), and a backup of a live bot must
    not stall its writes for the minute a large export takes."""
    after = 0
    while True:
        with uow() as tx:
            records = tx.archive.page(after=after, limit=page, since=since)
        yield from records
        if len(records) < page:
            return
        after = records[-1]["number"]


def dump_line(record: Record) -> str:
    """One line of the export file (stable: same incident, same bytes)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def parse_lines(lines: Iterable[str], name: str) -> Iterator[tuple[int, Record]]:
    """(line number, checked record) for each non-blank line; `UserError` naming the line
    for anything that is not an exported incident."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise UserError(f"{name}:{number}: not JSON ({exc})") from None
        try:
            yield number, check_record(value)
        except ValueError as exc:
            raise UserError(f"{name}:{number}: not an exported incident: {exc}") from None


@dataclass
class ImportReport:
    added: int = 0
    unchanged: int = 0
    conflicts: list[tuple[int, int, str]] = field(default_factory=list)  # line, number, why


def import_incidents(records: Iterable[tuple[int, Record]], *, uow: UnitOfWorkFactory,
                     batch: int = BATCH,
                     progress: Callable[[ImportReport], None] | None = None) -> ImportReport:
    """Add the incidents not stored yet, batch by batch; compare the others."""
    report = ImportReport()
    chunk: list[tuple[int, Record]] = []
    for item in records:
        chunk.append(item)
        if len(chunk) >= batch:
            _import_batch(chunk, uow, report)
            chunk = []
            if progress:
                progress(report)
    if chunk:
        _import_batch(chunk, uow, report)
    if report.added:
        with uow() as tx:
            tx.archive.refresh_statistics()
            tx.commit()
    return report


def _canonical(record: Record) -> str:
    return json.dumps(record, sort_keys=True)


def _import_batch(chunk: list[tuple[int, Record]], uow: UnitOfWorkFactory,
                  report: ImportReport) -> None:
    with uow() as tx:
        stored = tx.archive.records({r["number"] for _, r in chunk})
        first: dict[int, Record] = {}  # incidents new to the database, first line wins
        for line, record in chunk:
            number = record["number"]
            earlier = stored.get(number) or first.get(number)
            if earlier is None:
                first[number] = record
            elif _canonical(earlier) == _canonical(record):
                report.unchanged += 1
            else:
                where = "stored" if number in stored else "earlier in the file"
                report.conflicts.append((line, number, f"differs from the incident {where}"))
        fresh = list(first.values())
        taken = tx.archive.channels_in_use(r["channel_id"] for r in fresh if r["channel_id"])
        seen: dict[str, int] = {}
        lines = {r["number"]: line for line, r in reversed(chunk)}
        added: list[Record] = []
        for record in fresh:
            channel = record["channel_id"]
            owner = taken.get(channel) if channel else None
            owner = owner if owner is not None else seen.get(channel) if channel else None
            if owner is not None:
                report.conflicts.append((lines[record["number"]], record["number"],
                                         f"its channel {channel} belongs to incident #{owner}"))
                continue
            if channel:
                seen[channel] = record["number"]
            added.append(record)
        tx.archive.add(added)
        tx.commit()
    report.added += len(added)


def conflict_lines(report: ImportReport, name: str) -> list[str]:
    return [f"{name}:{line}: incident #{number} not imported: {why}"
            for line, number, why in report.conflicts]


def describe(report: ImportReport) -> str:
    return (f"imported {report.added} incident(s), {report.unchanged} already present, "
            f"{len(report.conflicts)} conflict(s)")
