"""The one place that reads the system clock, so tests can freeze it with freezegun."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now as an aware UTC datetime."""
    return datetime.now(UTC)
