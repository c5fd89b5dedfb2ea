"""The export/import record: one JSON object per incident, everything stored about it
(`debrief incident export` / `import`). Pure: a record is checked and put into its
canonical form here, so two records compare equal exactly when they describe the same
incident, whichever database or spelling of a timestamp they came from.

The shape is `debrief incident show --json`'s stored part (its derived `timeline` and
`durations` are left out: they depend on the configuration and are recomputed) plus
what a lossless copy needs: the card and announcement references, the raw timeline
entries, every action item with who made and closed it, and the postmortem with its
versions, sections, review steps and contributing factors. Database ids are not part of it:
they belong to one database (a factor names its links by position in the record).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from bot.domain.reviews import ReviewKind
from bot.domain.tags import MAX_TAGS, valid_tag

Record = dict[str, Any]
Check = Callable[[object], object]


def iso(at: datetime | None) -> str | None:
    """A UTC time as the export writes it (`...Z`, microseconds when there are any)."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at else None


def parse_time(text: str) -> datetime:
    """The inverse of `iso` (any ISO 8601 time with a zone is accepted)."""
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return at.astimezone(UTC)


def _text(limit: int | None = None, *, null: bool = False) -> Check:
    def check(value: object) -> object:
        if value is None and null:
            return None
        if not isinstance(value, str):
            raise ValueError("should be text" + (" or null" if null else ""))
        if limit is not None and len(value) > limit:
            raise ValueError(f"is longer than {limit} characters")
        return value
    return check


def _time(*, null: bool = False) -> Check:
    def check(value: object) -> object:
        if value is None and null:
            return None
        if not isinstance(value, str):
            raise ValueError("should be an ISO 8601 time" + (" or null" if null else ""))
        try:
            return iso(parse_time(value))
        except ValueError:
            raise ValueError(f"{value[:40]!r} is not an ISO 8601 time with a zone") from None
    return check


def _day(value: object) -> object:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat() if isinstance(value, str) else _bad()
    except ValueError:
        raise ValueError("should be a date (YYYY-MM-DD) or null") from None


def _bad() -> object:
    raise ValueError("has the wrong type")


def _int(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**31 - 1:
        raise ValueError("should be a whole number from 1 to 2147483647")
    return value


def _version(value: object) -> object:
    return None if value is None else _int(value)


def _review_kind(value: object) -> object:
    if value not in {k.value for k in ReviewKind}:
        raise ValueError(f"should be one of {', '.join(k.value for k in ReviewKind)}")
    return value


def _bool(value: object) -> object:
    if not isinstance(value, bool):
        raise ValueError("should be true or false")
    return value


def _json(kind: type) -> Check:
    def check(value: object) -> object:
        if not isinstance(value, kind):
            raise ValueError(f"should be a JSON {'object' if kind is dict else 'array'}")
        return value
    return check


def _strings(value: object) -> object:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("should be an array of text")
    return value


def _roles(value: object) -> object:
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and 0 < len(k) <= 30 and isinstance(v, str) and len(v) <= 30
            for k, v in value.items()):
        raise ValueError("should map role names to user ids")
    return dict(sorted(value.items()))


def _list_of(fields: dict[str, Check], *, unique: Callable[[Record], object] | None = None
             ) -> Check:
    def check(value: object) -> object:
        if not isinstance(value, list):
            raise ValueError("should be an array")
        items = [_object(fields, item, f"[{n}]") for n, item in enumerate(value)]
        if unique is not None:
            keys = [unique(i) for i in items]
            keys = [k for k in keys if k is not None]
            if len(keys) != len(set(keys)):
                raise ValueError("has duplicates")
        return items
    return check


def _object(fields: dict[str, Check], value: object, where: str = "") -> Record:
    """`value` checked field by field, keys in the canonical order; every field required
    (an export writes them all, so a missing one means a damaged or foreign file)."""
    if not isinstance(value, dict):
        raise ValueError(f"{where or 'the line'} should be a JSON object")
    missing = [name for name in fields if name not in value and name not in DEFAULTS]
    if missing:
        raise ValueError(f"{where}{'.' if where else ''}{missing[0]} is missing")
    out: Record = {}
    for name, check in fields.items():
        try:
            out[name] = check(value[name] if name in value else DEFAULTS[name])
        except ValueError as exc:
            raise ValueError(f"{where}{'.' if where else ''}{name} {exc}") from None
    return out


EVENT = {"at": _time(), "kind": _text(30), "actor": _text(30, null=True),
         "detail": _json(dict)}
ACTION_ITEM = {"text": _text(), "owner": _text(30, null=True), "due": _day,
               "type": _text(20), "status": _text(10), "created_at": _time(),
               "created_by": _text(30), "closed_at": _time(null=True),
               "closed_by": _text(30, null=True)}
TIMELINE_ENTRY = {"at": _time(), "kind": _text(20), "author": _text(30, null=True),
                  "text": _text(), "channel_id": _text(30, null=True),
                  "ts": _text(30, null=True), "thread_ts": _text(30, null=True),
                  "pinned": _bool, "marked_by": _strings, "deleted": _bool, "hidden": _bool,
                  "history": _json(list), "files": _json(list)}
VERSION = {"version": _int, "template": _text(200), "content": _text(),
           "created_at": _time(), "created_by": _text(30), "file_id": _text(30, null=True),
           "message_ts": _text(30, null=True)}
SECTION = {"key": _text(40), "version": _int, "text": _text(), "author": _text(30),
           "written_at": _time()}
REVIEW = {"kind": _review_kind, "actor": _text(30), "reviewer": _text(30, null=True),
          "comment": _text(), "version": _version, "at": _time()}
def _positions(value: object) -> object:
    if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**31 for v in value):
        raise ValueError("should be an array of positions (whole numbers from 0)")
    return value


# A contributing factor links timeline entries and action items by their position in
# this record's `timeline_entries` and `action_items` (database ids stay behind).
FACTOR = {"category": _text(40), "description": _text(), "timeline": _positions,
          "action_items": _positions, "added_by": _text(30), "added_at": _time(),
          "removed_by": _text(30, null=True), "removed_at": _time(null=True)}
POSTMORTEM = {"status": _text(20), "created_at": _time(), "updated_at": _time(),
              "published_at": _time(null=True),
              "versions": _list_of(VERSION, unique=lambda v: v["version"])}


def _postmortem(value: object) -> object:
    return None if value is None else _object(POSTMORTEM, value, "postmortem")


def _tags(value: object) -> object:
    if not isinstance(value, list) or not all(isinstance(t, str) and valid_tag(t)
                                              for t in value):
        raise ValueError("should be a list of tags (lowercase letters, digits, `-`, "
                         "optionally `service:`)")
    if len(value) > MAX_TAGS:
        raise ValueError(f"has more than {MAX_TAGS} tags")
    return sorted(set(value))


# Added after a format was in use: a record without them (an older export) gets these.
DEFAULTS: dict[str, object] = {"tags": [], "postmortem_reviews": [], "postmortem_factors": []}

INCIDENT: dict[str, Check] = {
    "number": _int, "title": _text(200), "description": _text(), "severity": _text(20),
    "status": _text(30), "channel_id": _text(30, null=True),
    "channel_name": _text(80, null=True), "declared_at": _time(), "declared_by": _text(30),
    "acknowledged_at": _time(null=True), "acknowledged_by": _text(30, null=True),
    "resolved_at": _time(null=True), "summary": _text(), "roles": _roles,
    "events": _list_of(EVENT), "action_items": _list_of(ACTION_ITEM),
    "card_ts": _text(30, null=True), "announce_channel_id": _text(30, null=True),
    "announce_ts": _text(30, null=True), "private": _bool, "tags": _tags,
    "timeline_entries": _list_of(
        TIMELINE_ENTRY,
        unique=lambda e: (e["channel_id"], e["ts"]) if e["ts"] is not None else None),
    "postmortem": _postmortem,
    "postmortem_sections": _list_of(SECTION, unique=lambda w: (w["key"], w["version"])),
    "postmortem_reviews": _list_of(REVIEW),  # in the order they happened
    "postmortem_factors": _list_of(FACTOR),  # in the order they were added
}


def check_record(value: object) -> Record:
    """The canonical form of one exported incident; `ValueError` names the bad field."""
    record = _object(INCIDENT, value)
    for n, factor in enumerate(record["postmortem_factors"]):
        for key, listed in (("timeline", "timeline_entries"), ("action_items", "action_items")):
            if any(p >= len(record[listed]) for p in factor[key]):
                raise ValueError(f"postmortem_factors[{n}].{key} names a position past the "
                                 f"end of {listed}")
    return record
