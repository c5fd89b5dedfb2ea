"""Timeline end to end: Events API deliveries into the real endpoint, stored once, read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine, text

from bot.domain.timeline import build_timeline, ts_to_datetime
from bot.standin.state import BOT_USER
from tests.conftest import Stack, start_stack
from tests.helpers import ALICE, BOB, CAROL, all_pages, declare, join, slash


def entries(stack: Stack, number: int = 1) -> list[Any]:
    with stack.runtime.deps.uow() as tx:
        return tx.timeline.entries(number)


def by_ts(stack: Stack, ts: str) -> Any:
    return next(e for e in entries(stack) if e.ts == ts)


@pytest.fixture
def channel(stack: Stack) -> str:
    return declare(stack).channel_id


def test_messages_replies_and_files_are_captured(stack: Stack, channel: str) -> None:
    """Messages, thread replies and shared files are stored with author, time and parent."""
    first = stack.client.say(channel, BOB, "error rate is 40% on EU")
    reply = stack.client.say(channel, CAROL, "seeing it in eu-west-1 too", thread_ts=first)
    graph = stack.client.say(channel, BOB, "graph", files=[
        {"name": "latency.png", "permalink": "https://standin.slack.local/files/latency.png"}])
    stored = entries(stack)
    assert [(e.ts, e.author, e.kind) for e in stored] == [
        (first, BOB, "message"), (reply, CAROL, "message"), (graph, BOB, "file")]
    assert stored[0].at == ts_to_datetime(first)
    assert stored[1].thread_ts == first
    assert stored[2].files[0].name == "latency.png"
    assert not any(e.key for e in stored)


def test_own_messages_and_other_channels_are_not_captured(stack: Stack, channel: str) -> None:
    """The bot's own posts (Slack tells it of them too) and chat in non-incident
    channels never enter a timeline: what the bot says is already a lifecycle event."""
    slash(stack, "update rolling back", channel=channel)  # the bot posts in the channel
    own = [ts for ts, m in stack.slack.channels[channel].messages.items()
           if m.user == BOT_USER]
    assert own
    for ts in own:
        stack.client.echo_own(channel, ts)
    stack.client.say(stack.general, BOB, "lunch?")
    stack.client.bot_says(stack.general, "deployed web v1.2.3")
    assert entries(stack) == []
    slash(stack, "timeline rebuild", channel=channel)  # history holds them too
    assert entries(stack) == []
    assert sum("rolling back" in i.text for i in build_timeline(stack.incident(), [])) == 1


def test_other_bots_messages_are_captured_named_and_bounded(stack: Stack, channel: str) -> None:
    """Deploy and alert bots' messages are captured like people's: named by their bot
    profile (or the username an incoming webhook set), their blocks and attachments read
    as text, bounded, with mass mentions made inert; pins and the marker make them key;
    edits are kept; the history (backfill) finds them once."""
    deploy = stack.client.bot_says(channel, "<!here> deployed web v1.2.3 to prod")
    alert = stack.client.bot_says(channel, "", name="Grafana", bot_id="B0GRAFANA1",
                                  webhook=True, attachments=[{
                                      "fallback": "[FIRING:1] HighLatency",
                                      "title": "[FIRING:1] HighLatency",
                                      "text": "p99 over 2s <!channel>",
                                      "fields": [{"title": "service", "value": "checkout"}]}])
    rich = stack.client.bot_says(channel, "", name="CI", bot_id="B0CI000001", user="U0CIBOT",
                                 blocks=[{"type": "header", "text": {
                                     "type": "plain_text", "text": "Build 812 failed"}},
                                     {"type": "section", "text": {
                                         "type": "mrkdwn", "text": "x" * 5000}}])
    stored = {e.ts: e for e in entries(stack)}
    assert (stored[deploy].kind, stored[deploy].author) == ("bot", "Deploy Bot")
    assert stored[deploy].text == "@here deployed web v1.2.3 to prod"
    assert (stored[alert].kind, stored[alert].author) == ("bot", "Grafana")
    assert stored[alert].text == ("[FIRING:1] HighLatency\np99 over 2s @channel\n"
                                  "service: checkout")
    assert stored[rich].text.startswith("Build 812 failed\nxxx")
    assert len(stored[rich].text) == 2000
    assert not any(e.key for e in stored.values())
    stack.client.pin(channel, deploy, ALICE)
    stack.client.react(channel, alert, BOB, "pushpin")
    assert by_ts(stack, deploy).key and by_ts(stack, alert).marked_by == (BOB,)
    stack.client.edit(channel, deploy, "deployed web v1.2.4 to prod")
    assert by_ts(stack, deploy).text == "deployed web v1.2.4 to prod"
    assert by_ts(stack, deploy).kind == "bot"
    missed = stack.client.bot_says(channel, "rollback started", deliver=False)
    slash(stack, "timeline rebuild", channel=channel)
    stored = {e.ts: e for e in entries(stack)}
    assert len(stored) == 4 and stored[missed].author == "Deploy Bot"
    reply = stack.client.slash("timeline", user=ALICE, channel=channel)
    shown = json.dumps(all_pages(stack, reply, ALICE, channel))
    assert "_Deploy Bot_ (bot)" in shown and "Grafana" in shown
    assert "<!here>" not in shown and "<!channel>" not in shown


def test_duplicates_and_retries_are_stored_once(stack: Stack, channel: str) -> None:
    """The same event delivered again (Slack retry headers included) is stored once."""
    ts = stack.client.say(channel, BOB, "restarting the pool")
    event = {"type": "message", "channel": channel, "user": BOB, "text": "restarting the pool",
             "ts": ts, "event_ts": ts, "channel_type": "channel"}
    for retry in ("1", "2", "3"):
        reply = stack.client.event(event, headers={"X-Slack-Retry-Num": retry,
                                                   "X-Slack-Retry-Reason": "http_timeout"})
        assert reply.status == 200
    assert [e.ts for e in entries(stack)] == [ts]


def test_edits_keep_history_and_deletes_are_kept_for_audit(stack: Stack, channel: str) -> None:
    """An edit updates the text and keeps the old one; a delete marks the entry removed."""
    ts = stack.client.say(channel, BOB, "db is fine")
    stack.client.edit(channel, ts, "db is NOT fine")
    stack.client.edit(channel, ts, "db is NOT fine")  # a duplicate delivery of the edit
    entry = by_ts(stack, ts)
    assert entry.text == "db is NOT fine"
    assert [h["text"] for h in entry.history] == ["db is fine"]
    stack.client.delete(channel, ts)
    assert by_ts(stack, ts).deleted is True
    incident = stack.incident()
    items = build_timeline(incident, entries(stack))
    assert any(i.deleted and i.source_ts == ts for i in items)


def test_edit_arriving_before_its_message(stack: Stack, channel: str) -> None:
    """Out-of-order delivery: the edit creates the entry, the late original changes nothing."""
    message = stack.slack.human_message(channel, BOB, "v1")
    stack.client.edit(channel, message.ts, "v2")
    stack.client.event({"type": "message", "channel": channel, "user": BOB, "text": "v1",
                        "ts": message.ts, "event_ts": message.ts})
    entry = by_ts(stack, message.ts)
    assert entry.text == "v2" and [h["text"] for h in entry.history] == ["v1"]


def test_marker_reactions_and_pins_make_key_events(stack: Stack, channel: str) -> None:
    """The marker emoji or a pin marks a message key; removing them unmarks it."""
    ts = stack.client.say(channel, BOB, "found it: bad config push")
    stack.client.react(channel, ts, CAROL, "eyes")
    assert by_ts(stack, ts).key is False
    stack.client.react(channel, ts, CAROL, "pushpin")
    stack.client.react(channel, ts, ALICE, "pushpin")
    assert by_ts(stack, ts).marked_by == (ALICE, CAROL)
    stack.client.react(channel, ts, CAROL, "pushpin", add=False)
    assert by_ts(stack, ts).key is True
    stack.client.react(channel, ts, ALICE, "pushpin", add=False)
    assert by_ts(stack, ts).key is False
    stack.client.pin(channel, ts, ALICE)
    assert by_ts(stack, ts).pinned is True and by_ts(stack, ts).key
    stack.client.pin(channel, ts, ALICE, add=False)
    assert by_ts(stack, ts).key is False


def test_configured_marker_emoji(engine: Engine) -> None:
    """`timeline.marker_emoji` in debrief.yaml replaces pushpin."""
    from bot.config import parse_config

    stack = start_stack(engine, parse_config({"timeline": {"marker_emoji": ":star:"}}))
    try:
        channel = declare(stack).channel_id
        ts = stack.client.say(channel, BOB, "look here")
        stack.client.react(channel, ts, BOB, "pushpin")
        assert by_ts(stack, ts).key is False
        stack.client.react(channel, ts, BOB, "star")
        assert by_ts(stack, ts).key is True
    finally:
        stack.close()


def test_notes_now_and_backdated_in_the_authors_zone(engine: Engine) -> None:
    """`note` is stamped now; `note at` reads the time in the author's Slack zone."""
    with freeze_time("2026-11-26 15:00:00", tick=True):
        stack = start_stack(engine)
        stack.slack.users[BOB]["tz"] = "Europe/Berlin"
        try:
            channel = declare(stack).channel_id
            join(stack, channel, BOB)
            assert "Noted" in slash(stack, "note paged the DB team", user=BOB, channel=channel)
            for when in ("14:05", "yesterday 23:40", "2026-11-20 09:15"):
                assert "Noted" in slash(stack, f"note at {when} thing at {when}", user=BOB,
                                        channel=channel)
            error = slash(stack, "note at teatime biscuits", user=BOB, channel=channel)
            assert "couldn't read a time" in error and "/incident note at 14:05" in error
            notes = [(e.text, e.at) for e in entries(stack) if e.kind == "note"]
        finally:
            stack.close()
    assert notes[0][0] == "thing at 2026-11-20 09:15"
    assert notes[0][1] == datetime(2026, 11, 20, 8, 15, tzinfo=UTC)
    assert (notes[1][0], notes[1][1]) == ("thing at yesterday 23:40",
                                          datetime(2026, 11, 25, 22, 40, tzinfo=UTC))
    assert notes[2][1] == datetime(2026, 11, 26, 13, 5, tzinfo=UTC)
    assert notes[3][0] == "paged the DB team"
    assert abs((notes[3][1] - datetime(2026, 11, 26, 15, 0, tzinfo=UTC)).total_seconds()) < 60
    assert len(stack.slack.calls_of("users.info")) == 1  # the zone is cached


def test_backfill_over_several_pages_merges_with_live_events(stack: Stack, channel: str) -> None:
    """`timeline rebuild` reads every page of history and threads; live events and
    history overlap without duplicates, and history brings marks up to date."""
    live = stack.client.say(channel, BOB, "live message")
    missed = [stack.client.say(channel, CAROL, f"missed {i}", deliver=False) for i in range(450)]
    stack.client.say(channel, ALICE, "missed reply", thread_ts=missed[3], deliver=False)
    stack.slack.channels[channel].messages[missed[10]].reactions["pushpin"] = [ALICE]
    stack.slack.channels[channel].pins.add(missed[20])
    message = slash(stack, "timeline rebuild", channel=channel)
    assert "452 messages" in message and "451 timeline entries" in message
    stored = entries(stack)
    assert len(stored) == 452 and len({e.ts for e in stored}) == 452
    assert [e.ts for e in stored] == sorted((e.ts for e in stored), key=float)
    assert by_ts(stack, missed[10]).marked_by == (ALICE,)
    assert by_ts(stack, missed[20]).pinned is True
    history_pages = stack.slack.calls_of("conversations.history")
    assert len(history_pages) == 3  # 451 top-level messages at 200 a page
    assert "0 timeline entries" in slash(stack, "timeline rebuild", channel=channel)
    assert by_ts(stack, live).text == "live message"


def test_backfill_when_the_bot_is_added_back(stack: Stack, channel: str) -> None:
    """The bot joining an incident channel reads the history it missed."""
    missed = stack.client.say(channel, CAROL, "said while the bot was out", deliver=False)
    stack.client.event({"type": "member_joined_channel", "user": "UDEBRIEFBOT",
                        "channel": channel, "channel_type": "C", "team": "T00000001"})
    stack.slack.wait_for(lambda: stack.slack.calls_of("conversations.history"))
    deadline_entries = stack.slack.wait_for(
        lambda: [e for e in entries(stack) if e.ts == missed], timeout=10)
    assert deadline_entries[0].author == CAROL


def test_rate_limited_backfill_loses_nothing(stack: Stack, channel: str) -> None:
    """HTTP 429 during backfill is waited out and the history is complete."""
    sent = [stack.client.say(channel, CAROL, f"m{i}", deliver=False) for i in range(5)]
    stack.slack.rate_limit("conversations.history", retry_after=1)
    slash(stack, "timeline rebuild", channel=channel)
    assert {e.ts for e in entries(stack)} == set(sent)


def test_database_error_refuses_the_event_so_slack_retries(stack: Stack, channel: str) -> None:
    """If storing fails the endpoint answers 500 (Slack retries); the retry is stored."""
    ts = stack.slack.human_message(channel, BOB, "important").ts
    event = {"type": "message", "channel": channel, "user": BOB, "text": "important",
             "ts": ts, "event_ts": ts}
    with stack.runtime.engine.begin() as conn:
        conn.execute(text("ALTER TABLE timeline_entries RENAME TO timeline_entries_away"))
    assert stack.client.event(event).status == 500
    with stack.runtime.engine.begin() as conn:
        conn.execute(text("ALTER TABLE timeline_entries_away RENAME TO timeline_entries"))
    retry = stack.client.event(event, headers={"X-Slack-Retry-Num": "1",
                                               "X-Slack-Retry-Reason": "http_error"})
    assert retry.status == 200
    assert [e.ts for e in entries(stack)] == [ts]


def test_timeline_command_shows_key_events_and_splits_long_ones(stack: Stack, channel: str) -> None:
    """/incident timeline lists key events privately, page by page when long."""
    for i in range(300):
        ts = stack.client.say(channel, BOB, f"finding {i}: " + "x" * 400, deliver=False)
        stack.slack.channels[channel].messages[ts].reactions["pushpin"] = [BOB]
    stack.client.say(channel, BOB, "not key")
    slash(stack, "timeline rebuild", channel=channel)
    reply = stack.client.slash("timeline", user=ALICE, channel=channel)
    pages = all_pages(stack, reply, ALICE, channel)  # page by page through "More"
    shown = json.dumps(pages)
    assert len(pages) >= 2 and "(1/" in pages[0]["text"] and "finding 299:" in shown
    assert "finding 0:" in shown and "not key" not in shown
    for page in pages:
        assert len(page["blocks"]) <= 50
        assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in page["blocks"])


def test_durations_on_the_card_and_in_json(stack: Stack, channel: str) -> None:
    """After resolve the card shows time to acknowledge, mitigate and resolve."""
    slash(stack, "ack", user=BOB, channel=channel)
    slash(stack, "status monitoring", channel=channel)
    slash(stack, "resolve", channel=channel)
    incident = stack.incident()
    card = json.dumps(stack.slack.channels[channel].messages[incident.card_ts].blocks)
    for label in ("Time to acknowledge", "Time to mitigate", "Time to resolve"):
        assert label in card
