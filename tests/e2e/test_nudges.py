"""Nudges end to end, on a frozen clock, through signed HTTP and the stand-in: a SEV1
without updates gets exactly one nudge per 30-minute window; an update restarts the
clock; Snooze holds it off (recorded); an incident without a commander prompts the
channel and "I'll be commander" takes the role (permission-checked); a resolved
incident gets nothing; two replicas ticking at the same instant send one nudge."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine, text

from bot.config import DebriefConfig, parse_config
from bot.services.reminders import send_due
from bot.slack.ids import Action, Block, Field
from bot.slack.replies import WORKER
from tests.conftest import Stack, start_stack
from tests.helpers import ALICE, BOB, CAROL, declare, join, slash

START = "2026-12-02 14:00:00"


def _nudges(stack: Stack, channel: str) -> list[Any]:
    """The nudges posted in `channel`, oldest first (their buttons tell them apart)."""
    return [m for m in stack.slack.channels[channel].messages.values()
            if any(e.get("action_id", "").startswith("nudge-")
                   for b in m.blocks if b.get("type") == "actions" for e in b["elements"])]


def _button(message: Any, action: Action) -> dict[str, Any]:
    return next(e for b in message.blocks if b.get("type") == "actions"
                for e in b["elements"] if e["action_id"] == action.value)


def _nudge_keys(sent: list[str]) -> list[str]:
    return [k for k in sent if k.startswith("nudge-")]


@pytest.fixture
def frozen() -> Iterator[Any]:
    with freeze_time(START) as clock:
        yield clock


def test_a_sev1_without_updates_gets_one_nudge_per_window(engine: Engine, frozen: Any) -> None:
    """30 minutes without an update: one nudge to the commander with Post update; ticks
    within the window send nothing more; the next comes at 60 minutes; an update (from
    the nudge's own modal) restarts the clock: the next is 30 minutes after it."""
    stack = start_stack(engine)
    try:
        incident = declare(stack, "declare sev1 Payments down")
        channel = incident.channel_id
        deps = stack.runtime.deps
        frozen.tick(timedelta(minutes=29, seconds=59))
        assert _nudge_keys(send_due(deps)) == []
        frozen.tick(timedelta(seconds=1))
        assert _nudge_keys(send_due(deps)) == ["nudge-update:1:20261202T140000:1"]
        for _ in range(5):  # the rest of the window: nothing more
            frozen.tick(timedelta(minutes=5))
            assert _nudge_keys(send_due(deps)) == []
        [first] = _nudges(stack, channel)
        assert first.text.startswith(f":hourglass_flowing_sand: <@{ALICE}>: no status update on "
                                     "*#1 Payments down* (SEV1) for 30m.")
        assert _button(first, Action.NUDGE_UPDATE)["text"]["text"] == "Post update"
        frozen.tick(timedelta(minutes=5))  # 14:60
        assert _nudge_keys(send_due(deps)) == ["nudge-update:1:20261202T140000:2"]
        assert "for 1h." in _nudges(stack, channel)[-1].text

        # Post update opens the update modal; submitting it is `/incident update`.
        frozen.tick(timedelta(minutes=10))  # 15:10
        views = len(stack.slack.views)
        stack.client.click(Action.NUDGE_UPDATE.value, user=ALICE, channel=channel,
                           message_ts=_nudges(stack, channel)[-1].ts, value="1")
        view = stack.slack.wait_for(lambda: stack.slack.views[-1]
                                    if len(stack.slack.views) > views else None)
        stack.client.submit(view, {Block.UPDATE_TEXT.value: {Field.UPDATE_TEXT.value: {
            "type": "plain_text_input", "value": "Rolled back <!channel> v42"}}}, user=ALICE)
        stack.slack.wait_for(lambda: any(
            "Rolled back &lt;!channel&gt; v42" in m.text
            for m in stack.slack.channels[channel].messages.values()))
        WORKER.drain()
        frozen.tick(timedelta(minutes=20))  # 15:30: would have been window 3
        assert _nudge_keys(send_due(deps)) == []
        frozen.tick(timedelta(minutes=10))  # 15:40: 30 minutes after the update
        assert _nudge_keys(send_due(deps)) == ["nudge-update:1:20261202T151000:1"]
        assert len(_nudges(stack, channel)) == 3
    finally:
        stack.close()
    assert stack.slack.violations == []


def test_a_key_counted_sent_was_posted_and_a_skipped_one_is_not_counted(
        engine: Engine, frozen: Any) -> None:
    """A tick at an instant of its own (the bot's clock elsewhere) posts what it found due
    at that instant; a nudge whose incident moved between finding and posting is posted
    nowhere and not counted: its claim is released, not marked sent."""
    from bot.services.nudges import NudgeSkipped, due_nudges

    stack = start_stack(engine)
    try:
        incident = declare(stack, "declare sev1 Payments down")
        channel = incident.channel_id
        deps = stack.runtime.deps
        tick_at = frozen.time_to_freeze + timedelta(minutes=31)  # the bot's clock: 14:00
        assert _nudge_keys(send_due(deps, tick_at.replace(tzinfo=UTC))) == [
            "nudge-update:1:20261202T140000:1"]
        assert len(_nudges(stack, channel)) == 1
        assert "(SEV1) for 31m." in _nudges(stack, channel)[0].text  # as of the tick

        frozen.tick(timedelta(minutes=60))  # 15:00: window 2 is due
        [(key, send)] = due_nudges(deps, deps.now())
        slash(stack, "update Rolled back", channel=channel)  # the incident moves
        WORKER.drain()
        with pytest.raises(NudgeSkipped):  # send_due releases the claim on this
            send()
        assert len(_nudges(stack, channel)) == 1
        # The update restarted the clock: nothing is due until 15:30, nothing more sent.
        frozen.tick(timedelta(minutes=29))  # 15:29: window 1 after the update is not due
        assert _nudge_keys(send_due(deps)) == []
        with engine.connect() as conn:
            statuses = dict(conn.execute(text("SELECT key, status FROM notifications "
                                              "WHERE key LIKE 'nudge-%'")).all())
        assert statuses == {"nudge-update:1:20261202T140000:1": "sent"}
    finally:
        stack.close()
    assert stack.slack.violations == []


def test_snooze_holds_the_nudge_off_and_is_recorded(engine: Engine, frozen: Any) -> None:
    """Snooze 30m: the message says who snoozed it until when; nothing until then."""
    stack = start_stack(engine)
    try:
        incident = declare(stack, "declare sev1 Payments down")
        channel, deps = incident.channel_id, stack.runtime.deps
        join(stack, channel, BOB)
        frozen.tick(timedelta(minutes=30))
        assert _nudge_keys(send_due(deps)) == ["nudge-update:1:20261202T140000:1"]
        frozen.tick(timedelta(minutes=2))  # 14:32
        [nudge] = _nudges(stack, channel)
        snooze = _button(nudge, Action.NUDGE_SNOOZE)
        assert snooze["text"]["text"] == "Snooze 30m" and snooze["value"] == "1:update"
        reply = stack.client.click(Action.NUDGE_SNOOZE.value, user=BOB, channel=channel,
                                   message_ts=nudge.ts, value=snooze["value"])
        replaced = stack.client.reply_to(reply)
        assert replaced["replace_original"] is True
        assert replaced["text"].startswith(f":zzz: <@{BOB}> snoozed the update reminder for "
                                           "*#1* until <!date^")
        frozen.tick(timedelta(minutes=28))  # 15:00: window 2 without the snooze
        assert _nudge_keys(send_due(deps)) == []
        frozen.tick(timedelta(minutes=1, seconds=59))
        assert _nudge_keys(send_due(deps)) == []
        frozen.tick(timedelta(seconds=1))  # 15:02: the snooze is over
        assert _nudge_keys(send_due(deps)) == ["nudge-update:1:20261202T143200:1"]
        # It says how long since the last update (14:00), not since the snooze's clock.
        assert "(SEV1) for 1h 2m." in _nudges(stack, channel)[-1].text
        with engine.connect() as conn:
            row = conn.execute(text("SELECT snoozed_by, snoozed_at, snoozed_until FROM nudges "
                                    "WHERE kind = 'update'")).one()
        assert row[0] == BOB
        # Someone outside the channel may not snooze it.
        refused = stack.client.click(Action.NUDGE_SNOOZE.value, user=CAROL, channel=channel,
                                     message_ts=nudge.ts, value="1:update")
        assert "only people in the incident's channel can" in \
            stack.client.reply_to(refused)["text"]
    finally:
        stack.close()


def test_no_commander_prompts_the_channel_and_the_button_takes_the_role(
        engine: Engine, frozen: Any) -> None:
    """With `declarer_is_commander: false`, an incident declared without a commander gets a
    prompt 10 minutes in; "I'll be commander" is refused to someone outside the channel,
    gives Bob the role, and a second click is told Bob has it. No more prompts after."""
    config = parse_config({"declarer_is_commander": False})
    stack = start_stack(engine, config)
    try:
        incident = declare(stack, "declare sev3 Search is slow")
        assert incident.commander is None
        channel, deps = incident.channel_id, stack.runtime.deps
        join(stack, channel, BOB)
        frozen.tick(timedelta(minutes=10))
        assert _nudge_keys(send_due(deps)) == ["nudge-commander:1:20261202T140000:1"]
        [prompt] = _nudges(stack, channel)
        assert prompt.text.startswith(":bust_in_silhouette: *#1 Search is slow* (SEV3) has had "
                                      "no commander for 10m.")
        take = _button(prompt, Action.NUDGE_COMMAND)
        assert take["text"]["text"] == "I'll be commander"

        def click(user: str) -> str:
            reply = stack.client.click(Action.NUDGE_COMMAND.value, user=user, channel=channel,
                                       message_ts=prompt.ts, value=take["value"])
            return str(stack.client.reply_to(reply)["text"])

        assert "You can't assign roles in this incident" in click(CAROL)
        assert stack.incident().commander is None
        taken = click(BOB)  # the prompt is replaced: who took it, no buttons left
        assert stack.incident().commander == BOB
        assert taken == f":white_check_mark: <@{BOB}> took the commander role for *#1*."
        [replaced] = [r for r in stack.slack.responses
                      if r.get("replace_original") and "took the commander" in r["text"]]
        assert "blocks" not in replaced or not replaced["blocks"]
        assert click(ALICE) == f"<@{BOB}> is already the commander of #1."
        assert f"Commander: <@{BOB}>" in stack.slack.channels[channel].topic
        frozen.tick(timedelta(minutes=30))
        assert _nudge_keys(send_due(deps)) == []  # SEV3: no update nudge by default
    finally:
        stack.close()
    assert stack.slack.violations == []


def test_resolved_and_long_open_incidents(engine: Engine, frozen: Any) -> None:
    """A resolved SEV1 gets no nudge; one open for 7 days gets the open nudge (once)."""
    config = parse_config({"nudges": {"update_after": "none", "open_after": "7d"}})
    stack = start_stack(engine, config)
    try:
        declare(stack, "declare sev1 Payments down")
        second = declare(stack, "declare sev2 Slow emails")
        slash(stack, "resolve fixed", channel=stack.incident(1).channel_id)
        deps = stack.runtime.deps
        frozen.tick(timedelta(days=7))
        assert _nudge_keys(send_due(deps)) == ["nudge-open:2:20261202T140000:1"]
        assert _nudge_keys(send_due(deps)) == []
        [nudge] = _nudges(stack, second.channel_id)
        assert "has been open for 7d" in nudge.text and "`/incident resolve`" in nudge.text
        assert _button(nudge, Action.NUDGE_SNOOZE)["text"]["text"] == "Snooze 1d"
    finally:
        stack.close()


def test_two_replicas_on_postgresql_send_one_nudge(postgres_url: str, engine: Engine) -> None:
    """Two replicas (each its own engine and runtime, one Slack) tick at the same frozen
    instant, 20 times over, with five SEV1s due: each window's nudge is posted once."""
    from sqlalchemy import create_engine

    with freeze_time(START) as clock:
        first = start_stack(engine)
        other = create_engine(postgres_url)
        second = start_stack(other)
        try:
            for i in range(5):
                declare(first, f"declare sev1 Outage {i}")
            second.runtime.deps.chat.client.base_url = first.slack.api_url  # type: ignore[attr-defined]
            clock.tick(timedelta(minutes=30))
            results: list[list[str]] = []
            for _ in range(20):
                barrier = threading.Barrier(2)

                def tick(stack: Stack, barrier: threading.Barrier = barrier) -> None:
                    barrier.wait(timeout=10)
                    results.append(send_due(stack.runtime.deps))

                threads = [threading.Thread(target=tick, args=(s,)) for s in (first, second)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(timeout=60)
        finally:
            for s in (first, second):
                s.close()
            other.dispose()
    keys = [k for r in results for k in _nudge_keys(r)]
    assert sorted(keys) == [f"nudge-update:{n}:20261202T140000:1" for n in range(1, 6)]
    with engine.connect() as conn:
        channels = [r[0] for r in conn.execute(text(
            "SELECT channel_id FROM incidents ORDER BY number"))]
    posted = [m for c in channels for m in _nudges(first, c)]
    assert len(posted) == 5


def test_nudges_config_is_checked_at_load() -> None:
    """Bad values are refused with the key named; `none` switches a kind off."""
    from bot.errors import ConfigError

    for raw, message in [
        ({"nudges": {"update_after": {"SEV9": "30m"}}},
         "nudges.update_after.SEV9 is not a severity (known: SEV1, SEV2, SEV3, SEV4)."),
        ({"nudges": {"update_after": {"SEV1": "soon"}}},
         "nudges.update_after.SEV1 must be a duration like 30m, 2h or 7d, or none"),
        ({"nudges": {"commander_after": "0m"}}, "nudges.commander_after must be between"),
        ({"nudges": {"remind": "1h"}}, "nudges.remind is not a known setting"),
        ({"nudges": "often"}, "nudges must be a mapping"),
        ({"declarer_is_commander": "yes"}, "declarer_is_commander must be true or false."),
    ]:
        with pytest.raises(ConfigError) as error:
            parse_config(raw)
        assert message in str(error.value), (raw, str(error.value))
    config = parse_config({"nudges": {"update_after": {"sev1": "15m", "SEV3": "2h"},
                                      "commander_after": "none", "open_after": "3d"}})
    assert dict(config.nudges.update_after) == {"SEV1": timedelta(minutes=15),
                                                "SEV3": timedelta(hours=2)}
    assert config.nudges.commander_after is None
    assert config.nudges.open_after == timedelta(days=3)
    defaults = DebriefConfig().nudges
    assert dict(defaults.update_after) == {"SEV1": timedelta(minutes=30),
                                           "SEV2": timedelta(hours=1)}
    assert defaults.commander_after == timedelta(minutes=10)
    assert defaults.open_after == timedelta(days=7)
