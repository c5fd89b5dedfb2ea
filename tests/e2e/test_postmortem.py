"""Postmortems, action items, reminders and stats, end to end over the real endpoint."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine

from bot.cli import main
from bot.config import parse_config
from bot.services.reminders import send_due
from bot.slack.ids import Action
from tests.conftest import Stack, start_stack
from tests.helpers import ALICE, BOB, custom_stack, declare, scripted_incident, slash, uploaded


def test_postmortem_draft_is_rendered_stored_and_posted(stack: Stack) -> None:
    """The draft covers the incident, is uploaded as Markdown, and the checker's findings
    reach only the drafter."""
    incident = scripted_incident(stack)
    reply = stack.client.slash("postmortem", user=ALICE, channel=incident.channel_id)
    private = stack.client.reply_to(reply, timeout=20)
    assert private["response_type"] == "ephemeral"
    assert "Postmortem draft v1" in private["text"] and "posted in the channel" in private["text"]
    assert "Blameless wording check" in private["text"] and "forgot" in private["text"]
    [document] = uploaded(stack)
    assert document["name"] == "postmortem-1-v1.md"
    assert document["shared_in"] == [incident.channel_id]
    content = document["content"]
    for expected in ("# Postmortem: #1 Checkout errors in EU", "SEV1", "## Contributing factors",
                     "What conditions allowed this to happen?", "Why were we surprised?",
                     "## What went well", "## Where we got lucky", "## Action items",
                     "| Validate configs in CI | prevent | Bob | 2026-12-15 | open |",
                     "| Alert on EU checkout 5xx | detect | unassigned | no due date | open |",
                     "5xx started right after the config push",
                     "https://standin.slack.local/archives/"):
        assert expected in content, content
    assert "root cause" not in content.lower().replace("there is rarely a single root cause", "")
    public = [m.text for m in stack.slack.channels[incident.channel_id].messages.values()
              if "Postmortem draft v1" in m.text]
    assert len(public) == 1 and "forgot" not in json.dumps(public)
    summary_call = [c for c in stack.slack.calls_of("chat.postMessage")
                    if "Postmortem draft" in str(c.args.get("text"))][0]
    blocks = json.dumps(summary_call.args["blocks"])
    assert "1 open of 2" not in blocks and "2 open of 2" in blocks
    assert "sent privately to the drafter" in blocks


def test_every_draft_is_a_new_stored_version(stack: Stack) -> None:
    """Running the command again stores and posts version 2; version 1 is kept."""
    incident = scripted_incident(stack)
    for _ in range(2):
        stack.client.reply_to(stack.client.slash("postmortem", user=ALICE,
                                                 channel=incident.channel_id), timeout=20)
    with stack.runtime.deps.uow() as tx:
        postmortem = tx.postmortems.get(1)
    assert [v.version for v in postmortem.versions] == [1, 2]
    assert all(v.file_id for v in postmortem.versions)
    assert sorted(f["name"] for f in uploaded(stack)) == ["postmortem-1-v1.md",
                                                          "postmortem-1-v2.md"]


def test_review_lifecycle(stack: Stack) -> None:
    """draft → in review → published; out-of-order steps are explained and change nothing
    (tests/e2e/test_postmortem_review.py has reviewers and approvals in full)."""
    incident = scripted_incident(stack)
    channel = incident.channel_id
    assert "no postmortem yet" in slash(stack, "postmortem publish", channel=channel)
    stack.client.reply_to(stack.client.slash("postmortem", user=ALICE, channel=channel),
                          timeout=20)
    assert "needs 1 more approval" in slash(stack, "postmortem publish", channel=channel)
    assert "Who should review it?" in slash(stack, "postmortem review", channel=channel)
    assert "*in review*" in slash(stack, "postmortem review <@U02BOB|bob>", channel=channel)
    approve = stack.client.click("postmortem-approve", user=BOB, channel="D02BOB",
                                 message_ts="1.0", value="1")
    assert "You approved" in stack.client.reply_to(approve)["text"]
    assert "Published the postmortem" in slash(stack, "postmortem publish", channel=channel)
    with stack.runtime.deps.uow() as tx:
        postmortem = tx.postmortems.get(1)
    assert postmortem.status == "published" and postmortem.published_at is not None


def test_team_template_by_severity(engine: Engine, tmp_path: Path) -> None:
    """A team's own template, chosen for SEV1, renders with the same data."""
    stack = custom_stack(engine, tmp_path, "OUR FORMAT {{ incident.title }} / "
                          "{{ durations.to_resolve }} / {{ action_items | length }} items\n")
    try:
        incident = scripted_incident(stack)
        stack.client.reply_to(stack.client.slash("postmortem", user=ALICE,
                                                 channel=incident.channel_id), timeout=20)
        [document] = uploaded(stack)
        assert document["content"].startswith("OUR FORMAT Checkout errors in EU / ")
        assert document["content"].endswith("/ 2 items\n")
    finally:
        stack.close()


@pytest.mark.parametrize("template, error", [
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "SecurityError"),
    ("{{ incident.__init__.__globals__ }}", "SecurityError"),
    ("{{ incident.titel }}", "UndefinedError"),
    ("{% include 'missing.j2' %}", "TemplateNotFound"),
])
def test_unsafe_or_broken_templates_fail_safely(engine: Engine, tmp_path: Path, template: str,
                                                error: str) -> None:
    """A template reaching for Python internals, or a misspelt variable, fails with a clear
    message; nothing is stored or posted."""
    stack = custom_stack(engine, tmp_path, template)
    try:
        incident = scripted_incident(stack)
        message = slash(stack, "postmortem", channel=incident.channel_id)
        assert "could not be rendered" in message and error in message
        with stack.runtime.deps.uow() as tx:
            assert tx.postmortems.get(1) is None
        assert uploaded(stack) == []
    finally:
        stack.close()


def test_postmortem_render_command(stack: Stack, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`debrief postmortem render N -o FILE` renders from the database without Slack."""
    scripted_incident(stack)
    monkeypatch.setenv("DATABASE_URL", str(stack.runtime.engine.url.render_as_string(
        hide_password=False)))
    monkeypatch.chdir(tmp_path)
    calls = len(stack.slack.calls)
    assert main(["postmortem", "render", "1", "-o", "pm.md"]) == 0
    text = (tmp_path / "pm.md").read_text()
    assert "# Postmortem: #1 Checkout errors in EU" in text
    assert len(stack.slack.calls) == calls
    assert main(["postmortem", "render", "7"]) == 2  # a user error: one line, exit 2
    assert "no incident #7" in capsys.readouterr().err


def test_action_items_lifecycle(stack: Stack) -> None:
    """Add with owner, due date and type; list with buttons; done and reopen; /actions."""
    with freeze_time("2026-11-26 10:00:00", tick=True):  # a Thursday
        incident = declare(stack)
        channel = incident.channel_id
        reply = slash(stack, "action Add a canary stage <@U02BOB|bob> due friday type process",
                      channel=channel)
        assert "Add a canary stage · process · <@U02BOB> · due Fri 27 Nov" in reply
        slash(stack, "action Document the rollback in 2 weeks", channel=channel)
        for text, error in (("action Fix it type blame", "isn't one I know"),
                            ("action Fix it due", "Due when?"),
                            ("action Fix it due 2020-01-01", "in the past")):
            assert error in slash(stack, text, channel=channel)
    with stack.runtime.deps.uow() as tx:
        items = tx.action_items.for_incident(1)
    assert [(i.text, i.owner, i.due_on, i.type) for i in items] == [
        ("Add a canary stage", BOB, date(2026, 11, 27), "process"),
        ("Document the rollback in 2 weeks", None, None, "prevent")]
    listing = stack.client.reply_to(stack.client.slash("actions", user=ALICE, channel=channel))
    buttons = [b["accessory"] for b in listing["blocks"] if "accessory" in b]
    assert [b["action_id"] for b in buttons] == [Action.ITEM_DONE] * 2
    done = stack.client.click(Action.ITEM_DONE, user=BOB, channel=channel, message_ts="1.0",
                              value=buttons[0]["value"])
    assert "Marked done" in stack.client.reply_to(done)["text"]
    mine = stack.client.reply_to(stack.client.slash("", user=BOB, command="/actions"))
    assert "No action items" in json.dumps(mine["blocks"])
    reopen = stack.client.click(Action.ITEM_REOPEN, user=BOB, channel=channel, message_ts="1.0",
                                value=buttons[0]["value"])
    stack.client.reply_to(reopen)
    mine = stack.client.reply_to(stack.client.slash("", user=BOB, command="/actions"))
    assert "Add a canary stage" in json.dumps(mine["blocks"])
    card = stack.slack.channels[channel].messages[incident.card_ts]
    assert "*Action items*\\n2 open of 2" in json.dumps(card.blocks)


def _dms(stack: Stack, user: str) -> list[str]:
    return [str(c.args.get("text")) for c in stack.slack.calls_of("chat.postMessage")
            if c.args.get("channel") == user]


def test_action_item_reminder_in_the_owners_zone_exactly_once(engine: Engine) -> None:
    """The owner is reminded at 09:00 on the due date in their own zone, once, even after
    a restart; a stale window after downtime is skipped."""
    # Nudges off: the open SEV2 would be nudged every hour (tests/e2e/test_nudges.py).
    quiet = parse_config({"nudges": {"update_after": "none", "open_after": "none"}})
    with freeze_time("2026-12-01 12:00:00") as frozen:
        stack = start_stack(engine, quiet)
        stack.slack.users[BOB]["tz"] = "America/New_York"
        try:
            incident = declare(stack)
            slash(stack, "action Rotate the keys <@U02BOB|bob> due 2026-12-04",
                  channel=incident.channel_id)
            slash(stack, "action Old chore <@U02BOB|bob> due 2026-12-02",
                  channel=incident.channel_id)
            frozen.move_to("2026-12-04 13:59:00")  # 08:59 in New York
            assert send_due(stack.runtime.deps) == []
            frozen.move_to("2026-12-04 14:00:00")  # 09:00 in New York
            sent = send_due(stack.runtime.deps)
            assert sent == ["action-due:1:2026-12-04"]  # 2026-12-02's window has passed
            assert send_due(stack.runtime.deps) == []
        finally:
            stack.close()
        restarted = start_stack(engine, quiet)  # a restart: new process state, same database
        try:
            frozen.move_to("2026-12-04 18:00:00")
            assert send_due(restarted.runtime.deps) == []
        finally:
            restarted.close()
    [dm] = _dms(stack, BOB)
    assert "Rotate the keys" in dm and "due today" in dm


def test_weekly_digest_and_postmortem_reminders(engine: Engine) -> None:
    """Monday's digest lists overdue items once; the commander hears when the SEV1
    postmortem is due (3 days after resolve) and when it is overdue, once each."""
    with freeze_time("2026-11-26 10:00:00") as frozen:  # Thursday
        stack = start_stack(engine)
        try:
            incident = declare(stack, "declare sev1 Payments down")
            slash(stack, "action Add idempotency keys due tomorrow", channel=incident.channel_id)
            slash(stack, "resolve fixed", channel=incident.channel_id)
            frozen.move_to("2026-11-29 10:00:00")
            assert send_due(stack.runtime.deps) == ["pm-due:1:2026-11-29"]
            frozen.move_to("2026-11-30 10:30:00")  # Monday: digest + overdue notice
            assert sorted(send_due(stack.runtime.deps)) == ["digest:2026-W49",
                                                            "pm-overdue:1:2026-11-29"]
            assert send_due(stack.runtime.deps) == []
            frozen.move_to("2026-12-07 09:30:00")  # next Monday, still overdue
            assert send_due(stack.runtime.deps) == ["digest:2026-W50"]
        finally:
            stack.close()
    digests = [c for c in stack.slack.calls_of("chat.postMessage")
               if "Overdue action items" in str(c.args.get("text"))]
    assert len(digests) == 2 and "Add idempotency keys" in json.dumps(digests[0].args["blocks"])
    assert len(_dms(stack, ALICE)) == 2


def test_two_schedulers_send_each_notice_once(engine: Engine) -> None:
    """Two replicas ticking at the same instant on one database send each notice once."""
    with freeze_time("2026-12-04 09:00:00"):
        first, second = start_stack(engine), start_stack(engine)
        try:
            incident = declare(first)
            for i in range(20):
                slash(first, f"action Item {i} <@U02BOB|bob> due today",
                      channel=incident.channel_id)
            # both replicas talk to the first stand-in, as they would to one Slack
            second.runtime.deps.chat.client.base_url = first.slack.api_url  # type: ignore[attr-defined]
            results: list[list[str]] = []
            barrier = threading.Barrier(2)

            def tick(stack: Stack) -> None:
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
    keys = [k for r in results for k in r]
    assert len(keys) == 20 and len(set(keys)) == 20
    assert len(_dms(first, BOB)) == 20


def test_failed_send_is_retried_next_tick(engine: Engine) -> None:
    """If Slack refuses a reminder, the claim is released and the next tick sends it."""
    with freeze_time("2026-12-04 09:00:00"):
        stack = start_stack(engine)
        try:
            incident = declare(stack)
            slash(stack, "action Patch <@U02BOB|bob> due today", channel=incident.channel_id)
            stack.slack.fail("chat.postMessage", "internal_error")
            assert send_due(stack.runtime.deps) == []
            assert send_due(stack.runtime.deps) == ["action-due:1:2026-12-04"]
        finally:
            stack.close()


def test_note_with_blameful_wording_gets_a_private_suggestion(stack: Stack) -> None:
    """The checker's findings on a note go to its author only."""
    incident = declare(stack)
    reply = slash(stack, "note Dave should have checked the replica lag", channel=incident.channel_id)
    assert "Noted" in reply and "Blameless wording check" in reply and "should have" in reply
    assert "Blameless" not in json.dumps([c.args for c in stack.slack.calls_of("chat.postMessage")])


def test_a_note_recognises_the_incidents_people_by_their_stored_names(stack: Stack) -> None:
    """The note check gets the incident's people's names from storage (no Slack call per
    note), so a lowercase name the checker does not know is still a person."""
    with stack.runtime.deps.uow() as tx:
        tx.people.remember(ALICE, "Zephyrine Okafor", None, datetime.now(UTC))
        tx.commit()
    incident = declare(stack)
    calls = len(stack.slack.calls_of("users.info"))
    channel = incident.channel_id
    reply = slash(stack, "note search went down when zephyrine took down the index", channel=channel)
    assert "Noted" in reply and "Blameless wording check" in reply and "took down" in reply
    assert len(stack.slack.calls_of("users.info")) == calls
    reply = slash(stack, "note search went down when quillon took down the index", channel=channel)
    assert "Noted" in reply and "Blameless wording check" not in reply


def test_stats_from_the_recorded_lifecycle(stack: Stack, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """/incident stats and `debrief stats --json` count incidents and time the lifecycle."""
    with freeze_time("2026-11-26 10:00:00", tick=True) as frozen:
        incident = declare(stack, "declare sev1 A")
        frozen.move_to("2026-11-26 10:04:00")
        slash(stack, "ack", channel=incident.channel_id)
        frozen.move_to("2026-11-26 10:30:00")
        slash(stack, "status monitoring", channel=incident.channel_id)
        frozen.move_to("2026-11-26 11:00:00")
        slash(stack, "resolve", channel=incident.channel_id)
        declare(stack, "declare sev3 B")
        reply = stack.client.reply_to(stack.client.slash("stats all", user=ALICE))
        monkeypatch.setenv("DATABASE_URL", stack.runtime.engine.url.render_as_string(
            hide_password=False))
        assert main(["stats", "--period", "all", "--json"]) == 0
    text = json.dumps(reply["blocks"])
    assert "2 (SEV1: 1, SEV3: 1)" in text and "median 4m" in text
    data = json.loads(capsys.readouterr().out)
    assert data["incidents_by_severity"] == {"SEV1": 1, "SEV3": 1}
    assert abs(data["seconds_to"]["acknowledge"]["median"] - 240) < 2
    assert abs(data["seconds_to"]["mitigate"]["median"] - 1800) < 2
    assert abs(data["seconds_to"]["resolve"]["median"] - 3600) < 2
    assert data["postmortems"] == {"due": 1, "published_on_time": 0, "published": 0}
    assert "Give a period" in slash(stack, "stats forever")


def test_postmortem_config_is_validated(tmp_path: Path) -> None:
    """Bad postmortem settings name the key."""
    from bot.errors import ConfigError

    for raw, key in (({"postmortem": {"template": "nope.md.j2"}}, "postmortem.template"),
                     ({"postmortem": {"templates_dir": str(tmp_path / "x")}},
                      "postmortem.templates_dir"),
                     ({"postmortem": {"due": {"SEV1": "soon"}}}, "postmortem.due.SEV1"),
                     ({"postmortem": {"colour": "red"}}, "postmortem.colour")):
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            parse_config(raw)
    assert parse_config({"postmortem": {"due": {"sev3": "2 business days"}}}).postmortem \
        .due_policy("SEV3") is not None


def test_business_day_postmortem_due_across_a_weekend(engine: Engine) -> None:
    """SEV2 resolved on a Friday is due five business days later (the next Friday); the
    scheduler still finds it although it only loads recently resolved incidents."""
    with freeze_time("2026-11-27 10:00:00") as frozen:  # Friday
        stack = start_stack(engine)
        try:
            incident = declare(stack, "declare sev2 Search slow")
            slash(stack, "resolve tuned the index", channel=incident.channel_id)
            frozen.move_to("2026-12-04 09:59:00")
            assert send_due(stack.runtime.deps) == []
            frozen.move_to("2026-12-04 10:00:00")
            assert send_due(stack.runtime.deps) == ["pm-due:1:2026-12-04"]
            frozen.move_to("2026-12-05 10:30:00")
            assert send_due(stack.runtime.deps) == ["pm-overdue:1:2026-12-04"]
            frozen.move_to("2026-12-20 10:30:00")  # long past: nothing, and nothing late
            assert send_due(stack.runtime.deps) == []
        finally:
            stack.close()
