"""Column types. Every timestamp is stored in UTC and comes back timezone-aware."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Rejects naive datetimes on the way in and re-attaches UTC on the way out
    (SQLite keeps no zone at all)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class TagList(TypeDecorator[tuple[str, ...]]):
    """An incident's tags as one space-separated string (`database service:payments`):
    read with the incident row (no extra statement per change), filtered with
    `' ' || tags || ' ' LIKE '% x %'`; tags contain no spaces (bot/domain/tags.py)."""

    impl = String(700)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, str):  # a filter's comparison value, already a string
            return value
        return " ".join(value)

    def process_result_value(self, value: str | None, dialect: Any) -> tuple[str, ...]:
        return tuple(value.split()) if value else ()
