"""Bounded input: backdated notes, schedules as code, YAML files, and the scheduler's
health when its ticks fail (issue 9, "Bounded work")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine

from bot.config import DebriefConfig, TimelineConfig, parse_config
from bot.errors import ConfigError
from tests.conftest import Stack, start_stack
from tests.test_e2e_incident import BOB, declare, slash


def notes(stack: Stack) -> list[Any]:
    with stack.runtime.deps.uow() as tx:
        return [e for e in tx.timeline.entries(1) if e.kind == "note"]


def test_backdated_notes_are_bounded_by_the_declaration_and_now(engine: Engine) -> None:
    """A note may go back 7 days before the declaration (the default) and not past a
    minute from now; out of range gets a one-line reply and stores nothing."""
    with freeze_time("2026-11-26 15:00:00", tick=True):
        stack = start_stack(engine)
        stack.slack.users[BOB]["tz"] = "Europe/Berlin"
        try:
            channel = declare(stack).channel_id
            refused = {
                "note at 2026-11-19 15:59 eight days back": "more than 7 days before",
                "note at 2025-11-26 12:00 a year back": "more than 7 days before",
                "note at 0001-01-01 00:00 the first day": "too far back",
                "note at 9999-12-31 23:59 the last day": "in the future",
                "note at 2026-11-26 16:10 an hour ahead": "in the future",
            }
            for text, why in refused.items():
                reply = slash(stack, text, user=BOB, channel=channel)
                assert why in reply and "\n" not in reply, (text, reply)
            assert notes(stack) == []
            assert "Noted" in slash(stack, "note at 2026-11-19 16:01 just inside", user=BOB,
                                    channel=channel)
            assert "Noted" in slash(stack, "note at 16:00 right now", user=BOB, channel=channel)
        finally:
            stack.close()
        assert [n.text for n in notes(stack)] == ["just inside", "right now"]
        assert stack.slack.violations == []


def test_the_backdate_window_is_configurable(engine: Engine) -> None:
    """`timeline.backdate_limit: 2d` allows two days before the declaration, not three."""
    config = parse_config({"timeline": {"backdate_limit": "2d"}})
    assert config.timeline.backdate_limit == timedelta(days=2)
    with freeze_time("2026-11-26 15:00:00", tick=True):
        stack = start_stack(engine, config)
        try:
            channel = declare(stack).channel_id
            reply = slash(stack, "note at 2026-11-23 14:00 three days back", channel=channel)
            assert "more than 2 days before" in reply and "2026-11-24 15:00 UTC" in reply
            assert "Noted" in slash(stack, "note at 2026-11-24 16:00 two days back",
                                    channel=channel)
        finally:
            stack.close()
        assert [n.text for n in notes(stack)] == ["two days back"]


@pytest.mark.parametrize("value, ok", [
    ("7d", timedelta(days=7)), ("48h", timedelta(hours=48)), ("30m", timedelta(minutes=30)),
    ("0m", timedelta(0)), ("365d", timedelta(days=365)),
    ("366d", None), ("a week", None), ("-1d", None), (7, None),
])
def test_backdate_limit_setting_is_validated(value: object, ok: timedelta | None) -> None:
    """`timeline.backdate_limit` takes 7d / 48h / 30m up to a year; anything else names the key."""
    if ok is None:
        with pytest.raises(ConfigError, match=r"timeline\.backdate_limit"):
            parse_config({"timeline": {"backdate_limit": value}})
    else:
        assert parse_config({"timeline": {"backdate_limit": value}}).timeline.backdate_limit == ok
    assert DebriefConfig().timeline == TimelineConfig()
    assert TimelineConfig().backdate_limit == timedelta(days=7)


def test_parse_when_at_the_calendars_edge_is_a_user_error() -> None:
    """Year 1 and year 9999 in a zone with an offset are explained, not a crash."""
    from zoneinfo import ZoneInfo

    from bot.domain.when import parse_when
    from bot.errors import UserError

    now = datetime(2026, 11, 26, 15, tzinfo=UTC)
    for text, zone in (("0001-01-01 00:00", "Europe/Berlin"),
                       ("9999-12-31 23:59", "America/Los_Angeles"),
                       ("9999-12-31T23:59", "America/Los_Angeles")):
        with pytest.raises(UserError, match="too far"):
            parse_when(text, now, ZoneInfo(zone))
