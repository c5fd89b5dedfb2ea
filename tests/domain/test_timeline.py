"""Timeline domain: note times in people's zones, durations, ordering, event parsing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import DebriefConfig
from bot.domain.incidents import EventRecord, Incident
from bot.domain.timeline import (
    MarkerChanged,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    PinChanged,
    TimelineEntry,
    build_timeline,
    durations,
    format_duration,
    parse_note_time,
    ts_to_datetime,
)
from bot.errors import UserError
from bot.slack.events import parse_message, parse_timeline_change

PAYLOADS = Path(__file__).parent.parent / "payloads"
BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # 16:00 in Berlin, 10:00 in New York


@pytest.mark.parametrize("words, zone, expected", [
    (["14:05", "rolled", "back"], BERLIN, datetime(2026, 11, 26, 13, 5, tzinfo=UTC)),
    (["09:30", "paged"], NEW_YORK, datetime(2026, 11, 26, 14, 30, tzinfo=UTC)),
    (["yesterday", "23:40", "alerts"], BERLIN, datetime(2026, 11, 25, 22, 40, tzinfo=UTC)),
    (["today", "08:00", "x"], UTC, datetime(2026, 11, 26, 8, 0, tzinfo=UTC)),
    (["2026-11-20", "09:15", "deploy"], BERLIN, datetime(2026, 11, 20, 8, 15, tzinfo=UTC)),
    (["2026-07-01", "09:15", "summer"], BERLIN, datetime(2026, 7, 1, 7, 15, tzinfo=UTC)),
    (["3:05pm", "x"], NEW_YORK, None),  # 15:05 NY is 20:05 UTC: in the future
])
def test_note_times_are_read_in_the_authors_zone(words: list[str], zone: ZoneInfo,
                                                 expected: datetime | None) -> None:
    """`14:05`, `yesterday 23:40` and `YYYY-MM-DD HH:MM` mean the author's wall clock."""
    if expected is None:
        with pytest.raises(UserError, match="future"):
            parse_note_time(words, NOW, zone)
        return
    at, rest = parse_note_time(words, NOW, zone)
    assert at == expected and rest == words[-len(rest):]


def test_note_time_in_a_repeated_hour_takes_the_first() -> None:
    """02:30 on the fall-back night in Berlin is the first (summer-time) 02:30."""
    now = datetime(2026, 10, 25, 12, 0, tzinfo=UTC)
    at, _ = parse_note_time(["02:30", "x"], now, BERLIN)
    assert at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize("words", [["soon", "x"], ["25:99", "x"], ["yesterday"], ["14:05"], []])
def test_bad_note_times_explain_with_an_example(words: list[str]) -> None:
    """Unreadable times (or a time with no text) get a friendly error with an example."""
    with pytest.raises(UserError) as info:
        parse_note_time(words, NOW, UTC)
    assert "/incident note at" in str(info.value)


def _incident(events: list[tuple[int, str, dict[str, str]]], **kw: object) -> Incident:
    start = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    return Incident(number=1, title="t", severity="SEV2", status="resolved", description="",
                    declared_at=start, declared_by="U1",
                    events=tuple(EventRecord(start + timedelta(minutes=m), k, "U1", d)
                                 for m, k, d in events), **kw)  # type: ignore[arg-type]


def test_durations_from_declaration() -> None:
    """Acknowledge, mitigate (first status at or past `monitoring`) and resolve spans."""
    start = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    incident = _incident(
        [(0, "declared", {}), (20, "status", {"from": "investigating", "to": "identified"}),
         (45, "status", {"from": "identified", "to": "monitoring"}),
         (50, "status", {"from": "monitoring", "to": "identified"}), (95, "resolved", {"to": "resolved"})],
        acknowledged_at=start + timedelta(minutes=4), resolved_at=start + timedelta(minutes=95))
    spans = durations(incident, DebriefConfig().statuses, "monitoring")
    assert spans.to_acknowledge == timedelta(minutes=4)
    assert spans.to_mitigate == timedelta(minutes=45)
    assert spans.to_resolve == timedelta(minutes=95)
    assert format_duration(spans.to_resolve) == "1h 35m"
    assert format_duration(timedelta(days=2, minutes=3)) == "2d 0h 3m"
    direct = _incident([(0, "declared", {}), (30, "resolved", {"to": "resolved"})],
                       resolved_at=start + timedelta(minutes=30))
    assert durations(direct, DebriefConfig().statuses, "monitoring").to_mitigate == timedelta(minutes=30)
    assert durations(direct, DebriefConfig().statuses, "monitoring").to_acknowledge is None


def test_timeline_is_ordered_by_when_things_happened() -> None:
    """Entries are ordered by their own time, not by arrival; lifecycle events are key."""
    incident = _incident([(0, "declared", {"title": "t", "severity": "SEV2"}),
                          (30, "resolved", {})])
    late_arrival = TimelineEntry(at=datetime(2026, 11, 26, 10, 5, tzinfo=UTC), kind="message",
                                 author="U2", text="first clue", ts="1")
    note = TimelineEntry(at=datetime(2026, 11, 26, 9, 55, tzinfo=UTC), kind="note",
                         author="U3", text="alerts started")
    items = build_timeline(incident, [late_arrival, note])
    assert [i.text for i in items] == ["alerts started", "Declared SEV2: t", "first clue", "Resolved"]
    assert [i.key for i in items] == [True, True, False, True]


def _event(name: str) -> dict:
    return json.loads((PAYLOADS / name).read_text())["event"]


def test_parse_events_from_slacks_sample_shapes() -> None:
    """Slack's sample events parse to the right timeline changes (or to nothing)."""
    reaction = {**_event("ReactionAddedPayload.json"), "reaction": "pushpin", "user": "U2",
                "item": {"type": "message", "channel": "C1", "ts": "1700000000.000100"}}
    assert parse_timeline_change(reaction, "pushpin") == MarkerChanged("C1", "1700000000.000100", "U2", True)
    assert parse_timeline_change({**reaction, "reaction": "eyes"}, "pushpin") is None
    pin = _event("PinAddedPayload.json")
    pin = {**pin, "channel_id": "C1", "item": {**pin["item"], "message": {
        **pin["item"]["message"], "ts": "1700000000.000200"}}}
    assert parse_timeline_change(pin, "pushpin") == PinChanged("C1", "1700000000.000200", True)
    changed = _event("MessageChangedPayload.json")
    changed = {**changed, "channel": "C1", "message": {**changed["message"], "bot_id": "",
               "subtype": "", "user": "U1", "text": "new", "ts": "1700000000.000300"},
               "previous_message": {"text": "old"}}
    parsed = parse_timeline_change(changed, "pushpin")
    assert isinstance(parsed, MessageEdited) and parsed.previous_text == "old"
    deleted = {**_event("MessageDeletedPayload.json"), "channel": "C1",
               "deleted_ts": "1700000000.000400"}
    assert parse_timeline_change(deleted, "pushpin") == MessageDeleted("C1", "1700000000.000400")


@pytest.mark.parametrize("event", [
    None, "text", {}, {"type": "message"}, {"type": "message", "channel": "C1"},
    {"type": "message", "channel": "C1", "ts": "x", "user": "U1"},
    {"type": "message", "channel": "C1", "ts": "1.0", "user": "U1", "bot_id": "B1"},
    {"type": "message", "channel": "C1", "ts": "1.0", "user": "U1", "subtype": "channel_join"},
    {"type": "message", "channel": "C1", "ts": "1.0", "subtype": "bot_message"},
    {"type": "reaction_added", "reaction": "pushpin", "item": "nope"},
    {"type": "pin_added", "channel_id": "C1", "item": {"message": {}}},
])
def test_malformed_or_non_human_events_are_ignored(event: object) -> None:
    """Nothing malformed, and nothing a bot or Slack itself said, becomes a timeline change."""
    assert parse_timeline_change(event, "pushpin") is None


def test_file_share_and_thread_reply() -> None:
    """Shared files keep name and permalink; a reply keeps its thread parent."""
    message = {"type": "message", "subtype": "file_share", "channel": "C1", "user": "U1",
               "ts": "1700000000.000500", "thread_ts": "1700000000.000100", "text": "graph",
               "files": [{"name": "latency.png", "permalink": "https://x/latency.png"}]}
    change = parse_timeline_change(message, "pushpin")
    assert isinstance(change, MessagePosted)
    assert change.message.thread_ts == "1700000000.000100"
    assert change.message.files[0].name == "latency.png"
    assert ts_to_datetime("1700000000.000500") == datetime(2023, 11, 14, 22, 13, 20, 500,
                                                          tzinfo=UTC)
    history = parse_message({**message, "reactions": [{"name": "pushpin", "users": ["U2"]}],
                             "pinned_to": ["C1"]}, "C1", "pushpin", from_history=True)
    assert history is not None and history.marked_by == ("U2",) and history.pinned is True


def test_items_built_for_speed_equal_items_built_normally() -> None:
    """`build_timeline` fills a TimelineItem's `__dict__` directly (for speed); a field
    added to TimelineItem but not filled there would make items that break on use."""
    from dataclasses import fields

    from bot.domain.timeline import FileRef, TimelineItem, _item_of

    entry = TimelineEntry(at=datetime(2026, 11, 26, 10, 5, tzinfo=UTC), kind="message",
                          author="U1", text="disk full", ts="1.000100", thread_ts="1.000000",
                          pinned=True, files=(FileRef("log.txt", "https://x.test/F1"),),
                          id=7, hidden=True)
    item = _item_of(entry)
    assert set(vars(item)) == {f.name for f in fields(TimelineItem)}
    assert item == TimelineItem(at=entry.at, kind="message", author="U1", text="disk full",
                                key=True, source_ts="1.000100", deleted=False,
                                thread_ts="1.000000", files=entry.files, entry_id=7,
                                hidden=True)


OWN = frozenset({"B0OURS", "UOURBOT"})


@pytest.mark.parametrize("event", [
    {"type": "message", "channel": "C1", "ts": "1.0", "user": "UOURBOT", "bot_id": "B0OURS",
     "text": "status update"},
    {"type": "message", "channel": "C1", "ts": "1.0", "bot_id": "B0OURS", "text": "x",
     "subtype": "bot_message"},
    {"type": "message", "channel": "C1", "ts": "1.0", "user": "UOURBOT", "text": "x"},
    {"type": "message", "channel": "C1", "ts": "1.0", "bot_id": "B1", "subtype": "channel_join"},
])
def test_our_own_messages_are_never_captured(event: object) -> None:
    assert parse_timeline_change(event, "pushpin", OWN) is None


def test_other_bots_are_named_and_read_from_blocks() -> None:
    """Another app's message: named by its profile, text from its blocks when it has no
    text, mass mentions inert; without knowing who we are, no bot message is taken."""
    event = {"type": "message", "channel": "C1", "ts": "1.0", "user": "U9", "bot_id": "B9",
             "bot_profile": {"name": "Deploy <!here> Bot"}, "text": "",
             "blocks": [{"type": "rich_text", "elements": [{"type": "rich_text_section",
                        "elements": [{"type": "text", "text": "shipped "},
                                     {"type": "link", "url": "https://ci/1"},
                                     {"type": "broadcast", "range": "here"}]}]}]}
    change = parse_timeline_change(event, "pushpin", OWN)
    assert isinstance(change, MessagePosted)
    assert change.message.bot_name == "Deploy Bot" and change.message.user == ""
    assert change.message.text == "shipped\nhttps://ci/1"
    assert parse_timeline_change(event, "pushpin") is None
