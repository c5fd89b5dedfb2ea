"""On-call end to end: schedules applied from YAML, the CLI, /oncall, cover requests,
the iCal feed, handoff reminders and user group sync, invites on declare."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from freezegun import freeze_time
from icalendar import Calendar
from sqlalchemy import Engine

from bot.cli import main
from bot.config import DebriefConfig, OncallConfig, parse_config
from bot.services.reminders import send_due
from bot.slack.ids import Action
from tests.conftest import Stack, start_stack
from tests.helpers import ALICE, BOB, CAROL, SCHEDULE, apply, declare, slash


@pytest.fixture
def oncall_stack(stack: Stack, tmp_path: Path) -> Stack:
    stack.slack.add_channel("platform-oncall")
    stack.slack.add_usergroup("platform-oncall")
    apply(stack, tmp_path)
    return stack


def cli(stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        *argv: str) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", stack.runtime.engine.url.render_as_string(
        hide_password=False))
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_cli_who_shifts_override_and_ical(oncall_stack: Stack, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """`debrief oncall who/shifts/override/ical` answer from the stored schedule."""
    stack = oncall_stack
    code, out = cli(stack, monkeypatch, capsys, "oncall", "who", "platform", "--at",
                    "2026-11-24T12:00:00Z", "--json")
    assert code == 0
    assert json.loads(out) == {"schedule": "platform", "at": "2026-11-24T12:00:00Z",
                               "on_call": "bob@example.com", "source": "layer:primary",
                               "next_change": "2026-11-25T09:00:00Z", "next_on_call": "U03CAROL"}
    code, _ = cli(stack, monkeypatch, capsys, "oncall", "override", "platform", "U09ZED",
                  "--start", "2030-01-01T12:00:00Z", "--end", "2030-01-01T18:00:00Z")
    assert code == 0
    code, out = cli(stack, monkeypatch, capsys, "oncall", "shifts", "platform", "--from",
                    "2030-01-01T00:00:00Z", "--to", "2030-01-02T00:00:00Z", "--json")
    rows = json.loads(out)
    assert [(r["start"][11:16], r["user"], r["source"]) for r in rows] == [
        ("00:00", rows[0]["user"], "layer:primary"), ("09:00", rows[1]["user"], "layer:primary"),
        ("12:00", "U09ZED", "override"), ("18:00", rows[1]["user"], "layer:primary")]
    code, out = cli(stack, monkeypatch, capsys, "oncall", "ical", "platform")
    events = [c for c in Calendar.from_ical(out).walk("VEVENT")]
    assert len(events) >= 90
    assert all(e.decoded("dtend") > e.decoded("dtstart") for e in events)
    code, _ = cli(stack, monkeypatch, capsys, "oncall", "who", "nope")
    assert code == 2


def test_member_change_keeps_the_past_and_reports_who_moved(oncall_stack: Stack,
                                                            tmp_path: Path) -> None:
    """Re-applying with a new member list changes only turns from the next handoff on."""
    stack = oncall_stack
    from bot.services.oncall import who_is_on_call

    before = who_is_on_call("platform", datetime(2026, 11, 24, 12, tzinfo=UTC),
                            stack.runtime.deps.uow)
    report = apply(stack, tmp_path, SCHEDULE.replace("[U01ALICE, bob@example.com, U03CAROL]",
                                                     "[U01ALICE, U03CAROL, U04DAN]"),
                   effective="2026-11-24T12:00:00+00:00")
    assert report.updated == ["platform"]
    after = who_is_on_call("platform", datetime(2026, 11, 24, 12, tzinfo=UTC),
                           stack.runtime.deps.uow)
    assert before.answer == after.answer  # the turn in progress is not cut short
    upcoming = who_is_on_call("platform", datetime(2026, 11, 25, 12, tzinfo=UTC),
                              stack.runtime.deps.uow)
    assert upcoming.answer.user == "U03CAROL"  # bob removed: next in the old order present
    assert "U04DAN" in report.moved["platform"]
    from bot.services.oncall import tell_moved

    stack.slack.add_user("U04DAN", "dan")
    told = tell_moved(report, stack.runtime.deps.chat)
    assert "U04DAN" in told and BOB in told  # bob@example.com resolved to his id
    dms = [c.args for c in stack.slack.calls_of("chat.postMessage") if c.args["channel"] == "U04DAN"]
    assert "Your upcoming on-call turns for *platform* changed" in dms[0]["text"]


def test_slash_oncall_commands(oncall_stack: Stack) -> None:
    """/oncall lists everyone; /oncall platform shows the next shifts; override in your zone."""
    stack = oncall_stack
    with freeze_time("2026-11-24 12:00:00", tick=True):
        everyone = stack.client.reply_to(stack.client.slash("", user=ALICE, command="/oncall"))
        assert everyone["text"] == f"*platform*: <@{BOB}>"  # the e-mail, resolved
        detail = stack.client.reply_to(stack.client.slash("platform", user=ALICE,
                                                          command="/oncall"))
        assert "<@U03CAROL>" in detail["text"] and "<!date^" in detail["text"]
        stack.slack.users[BOB]["tz"] = "America/New_York"
        reply = stack.client.reply_to(stack.client.slash(
            "override platform <@U02BOB|bob> today 18:00 to tomorrow 09:00", user=BOB,
            command="/oncall"))
        assert "Override saved" in reply["text"]
        from bot.services.oncall import who_is_on_call

        at = who_is_on_call("platform", datetime(2026, 11, 24, 23, 30, tzinfo=UTC),
                            stack.runtime.deps.uow)  # 18:30 in New York
        assert (at.answer.user, at.answer.source) == (BOB, "override")
        for text, error in (("nope", "no on-call schedule `nope`"),
                            ("override platform bob today to tomorrow", "Mention them"),
                            ("override platform <@U02BOB|bob> 18:00 09:00", "`<from> to <to>`")):
            answer = stack.client.reply_to(stack.client.slash(text, user=BOB, command="/oncall"))
            assert error in answer["text"], text


def test_cover_request_button_creates_an_override(oncall_stack: Stack) -> None:
    """`/oncall cover` asks the schedule's channel; whoever clicks covers."""
    stack = oncall_stack
    with freeze_time("2026-11-24 12:00:00", tick=True):
        reply = stack.client.reply_to(stack.client.slash(
            "cover platform tomorrow 09:00 to tomorrow 17:00", user=BOB, command="/oncall"))
        assert "Asked in #platform-oncall" in reply["text"]
        channel = stack.slack.channel_named("platform-oncall")
        [request] = [m for m in channel.messages.values() if "needs cover" in m.text]
        [button] = request.blocks[1]["elements"]
        assert button["action_id"] == Action.COVER
        click = stack.client.click(Action.COVER, user=CAROL, channel=channel.id,
                                   message_ts=request.ts, value=button["value"])
        assert "Covered by <@U03CAROL>" in stack.client.reply_to(click)["text"]
        from bot.services.oncall import who_is_on_call

        at = who_is_on_call("platform", datetime(2026, 11, 25, 12, tzinfo=UTC),
                            stack.runtime.deps.uow)
        assert (at.answer.user, at.answer.source) == (CAROL, "override")


def test_ics_feed_over_http(oncall_stack: Stack) -> None:
    """GET /oncall/<schedule>/<token>.ics serves the feed; an unknown schedule is 404
    (tests/e2e/test_ical.py covers the secret, names and stability)."""
    stack = oncall_stack
    from bot.services.oncall import feed_path, feed_token

    path = feed_path("platform", feed_token("platform", stack.runtime.deps.uow))
    with urllib.request.urlopen(stack.server.url + path + "?user=U01ALICE",
                                timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/calendar")
        calendar = Calendar.from_ical(response.read())
    events = list(calendar.walk("VEVENT"))
    assert events and all("U01ALICE" in str(e["summary"]) for e in events)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(stack.server.url + "/oncall/nope.ics", timeout=10)
    assert info.value.code == 404
    info.value.close()


def test_handoff_reminders_and_user_group_exactly_once(engine: Engine, tmp_path: Path) -> None:
    """15 minutes before a turn the incoming person gets a DM; at the handoff the channel
    gets one message and the user group follows; nothing twice, also after a restart; a
    stale handoff after downtime is skipped; an override that changes nothing is silent."""
    with freeze_time("2026-11-24 08:44:00") as frozen:
        stack = start_stack(engine)
        stack.slack.add_channel("platform-oncall")
        group = stack.slack.add_usergroup("platform-oncall")
        try:
            apply(stack, tmp_path)
            deps = stack.runtime.deps
            assert send_due(deps) == []
            frozen.move_to("2026-11-24 08:45:00")  # London is on UTC in November
            assert send_due(deps) == ["oncall-remind:platform:20261124T090000Z:bob@example.com"]
            frozen.move_to("2026-11-24 09:00:00")
            assert send_due(deps) == ["oncall-handoff:platform:20261124T090000Z"]
            assert send_due(deps) == []
            assert stack.slack.usergroups[group]["users"] == [BOB]
            # an override for bob himself changes nothing: no reminder, no notice
            from bot.services.oncall import add_override

            add_override("platform", "bob@example.com", datetime(2026, 11, 24, 12, tzinfo=UTC),
                         datetime(2026, 11, 24, 13, tzinfo=UTC), created_by=None, uow=deps.uow,
                         now=datetime(2026, 11, 24, 9, tzinfo=UTC))
            frozen.move_to("2026-11-24 12:00:00")
            assert send_due(deps) == []
        finally:
            stack.close()
        restarted = start_stack(engine)
        try:
            frozen.move_to("2026-11-24 09:30:00")
            assert send_due(restarted.runtime.deps) == []
            frozen.move_to("2026-11-25 11:00:00")  # down through the 09:00 handoff: stale
            assert send_due(restarted.runtime.deps) == []
        finally:
            restarted.close()
    dms = [c.args["text"] for c in stack.slack.calls_of("chat.postMessage")
           if c.args["channel"] == BOB]
    assert len(dms) == 1 and "You're on call for *platform*" in dms[0]
    channel = stack.slack.channel_named("platform-oncall")
    notices = [m.text for m in channel.messages.values()]
    until = int(datetime(2026, 11, 25, 9, tzinfo=UTC).timestamp())
    assert notices == [f":pager: <@{BOB}> is on call for *platform* until "
                       f"<!date^{until}^{{date_short_pretty}} {{time}}|2026-11-25 09:00 UTC>."]


def test_declare_invites_whoever_is_on_call(engine: Engine, tmp_path: Path) -> None:
    """`oncall.invite_on_declare` brings the on-call person into new incidents."""
    stack = start_stack(engine, DebriefConfig(oncall=OncallConfig(invite_on_declare=("platform",))))
    try:
        apply(stack, tmp_path)
        with freeze_time("2026-11-24 12:00:00", tick=True):
            incident = declare(stack)
        assert BOB in stack.slack.channels[incident.channel_id].members
        card = stack.slack.channels[incident.channel_id].messages[incident.card_ts]
        assert f"*On call (platform)*\\n<@{BOB}>" in json.dumps(card.blocks)
        assert slash(stack, "ack", channel=incident.channel_id)
    finally:
        stack.close()


def test_override_and_cover_take_two_times_without_to(oncall_stack: Stack) -> None:
    """Two unambiguous times need no `to`: `<from> <to>` works like `<from> to <to>` for
    `/oncall override` and `/oncall cover`; two readings of the words ask for `to`."""
    stack = oncall_stack
    with freeze_time("2026-11-24 12:00:00", tick=True):
        reply = stack.client.reply_to(stack.client.slash(
            "override platform <@U02BOB|bob> 2026-11-26T18:00 2026-11-27T09:00", user=BOB,
            command="/oncall"))  # on the schedule: Bob may put himself on call
        assert "Override saved" in reply["text"], reply["text"]
        from bot.services.oncall import who_is_on_call

        at = who_is_on_call("platform", datetime(2026, 11, 26, 20, tzinfo=UTC),
                            stack.runtime.deps.uow)  # the stand-in's people are in UTC
        assert (at.answer.user, at.answer.source) == (BOB, "override")
        reply = stack.client.reply_to(stack.client.slash(
            "cover platform tomorrow 09:00 tomorrow 17:00", user=BOB, command="/oncall"))
        assert "Asked in #platform-oncall" in reply["text"], reply["text"]
        channel = stack.slack.channel_named("platform-oncall")
        [request] = [m for m in channel.messages.values() if "needs cover" in m.text]
        value = json.loads(request.blocks[1]["elements"][0]["value"])
        assert (value["start"][:16], value["end"][:16]) == ("2026-11-25T09:00", "2026-11-25T17:00")


def _dms(stack: Stack, user: str) -> list[str]:
    return [str(c.args["text"]) for c in stack.slack.calls_of("chat.postMessage")
            if c.args["channel"] == user]


@pytest.fixture
def oncall_admin_stack(engine: Engine, tmp_path: Path) -> Iterator[Stack]:
    """The on-call stack where Bob is an on-call admin (may put anyone on call)."""
    stack = start_stack(engine, parse_config({"permissions": {"oncall_admins": [BOB]}}))
    stack.slack.add_channel("platform-oncall")
    stack.slack.add_usergroup("platform-oncall")
    apply(stack, tmp_path)
    yield stack
    stack.close()
    assert stack.slack.violations == [], "the bot misused the Slack Web API"


def test_list_remove_and_shorten_overrides_with_direct_messages(
        oncall_admin_stack: Stack, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`/oncall overrides` lists overrides with Remove buttons; Remove, `/oncall override
    end` and `debrief oncall override --remove` change who is on call; the person covering
    and the person whose turn is covered get a direct message on create and remove."""
    stack = oncall_admin_stack
    with freeze_time("2026-11-24 12:00:00", tick=True):
        # 26 Nov is Alice's turn; Bob puts Carol on it for the afternoon.
        assert "Override saved" in stack.client.reply_to(stack.client.slash(
            "override platform <@U03CAROL|carol> 2026-11-26T12:00 2026-11-26T16:00", user=BOB,
            command="/oncall"))["text"]
        assert any("You now cover *platform*" in t for t in _dms(stack, CAROL))
        assert any("<@U03CAROL> covers your turn on *platform*" in t for t in _dms(stack, ALICE))
        assert _dms(stack, BOB) == []  # who made it is not told
        # Remove buttons only for those allowed: not Alice (neither the override's person
        # nor an on-call admin), but Bob (an on-call admin).
        listing = stack.client.reply_to(stack.client.slash("overrides platform", user=ALICE,
                                                           command="/oncall"))
        assert "<@U03CAROL>" in json.dumps(listing["blocks"])
        assert [b for b in listing["blocks"] if b.get("accessory")] == []
        listing = stack.client.reply_to(stack.client.slash("overrides platform", user=BOB,
                                                           command="/oncall"))
        [row] = [b for b in listing["blocks"] if b.get("accessory")]
        button = row["accessory"]
        assert button["action_id"] == Action.OVERRIDE_REMOVE and "<@U03CAROL>" in row["text"]["text"]
        override_id = int(button["value"])

        # Only the person the override puts on call (on the schedule) or an on-call admin
        # may shorten or remove it: Alice, whose turn it is, may not.
        refused = stack.client.reply_to(stack.client.slash(
            f"override end {override_id} 2026-11-26T14:00", user=ALICE, command="/oncall"))
        assert refused["text"].startswith(":no_entry: You can't put that person on call or "
                                          "change their overrides"), refused["text"]
        reply = stack.client.reply_to(stack.client.slash(
            f"override end {override_id} 2026-11-26T14:00", user=CAROL, command="/oncall"))
        assert f"Override {override_id} on *platform* now ends" in reply["text"]
        from bot.services.oncall import who_is_on_call

        def on_call(hour: int) -> str | None:
            return who_is_on_call("platform", datetime(2026, 11, 26, hour, tzinfo=UTC),
                                  stack.runtime.deps.uow).answer.user
        assert (on_call(13), on_call(15)) == (CAROL, ALICE)

        before = len(_dms(stack, CAROL))
        click = stack.client.click(Action.OVERRIDE_REMOVE, user=ALICE, channel=stack.general,
                                   message_ts="1.000001", value=str(override_id))
        assert stack.client.reply_to(click)["text"].startswith(":no_entry:")
        assert on_call(13) == CAROL  # refused: nothing changed
        click = stack.client.click(Action.OVERRIDE_REMOVE, user=BOB, channel=stack.general,
                                   message_ts="1.000001", value=str(override_id))
        assert click.status == 200
        stack.client.reply_to(click)
        stack.slack.wait_for(lambda: len(_dms(stack, CAROL)) > before)
        assert "Your override on *platform*" in _dms(stack, CAROL)[-1]
        assert on_call(13) == ALICE
        again = stack.client.reply_to(stack.client.slash(
            f"override remove {override_id}", user=ALICE, command="/oncall"))
        assert f"There is no override {override_id}" in again["text"]

        code, _ = cli(stack, monkeypatch, capsys, "oncall", "override", "platform", "U09ZED",
                      "--start", "2026-11-27T10:00:00Z", "--end", "2026-11-27T12:00:00Z")
        assert code == 0
        with stack.runtime.deps.uow() as tx:
            schedule = tx.schedules.get("platform")
        [added] = schedule.overrides
        code, out = cli(stack, monkeypatch, capsys, "oncall", "override", "--remove",
                        str(added.seq))
        assert code == 0 and f"override {added.seq} removed" in out
        with stack.runtime.deps.uow() as tx:
            assert tx.schedules.get("platform").overrides == ()
        code, _ = cli(stack, monkeypatch, capsys, "oncall", "override", "--remove",
                      str(added.seq))
        assert code != 0
