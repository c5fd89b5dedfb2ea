"""Review and publish with named people, end to end: signed HTTP into the bot, Web API
calls answered by the stand-in. Reviewers get a DM with Approve / Request changes;
publishing needs the required approvals, posts a summary to the announcement thread and
the publish channel, and archives the channel once every open action item has an owner
and a due date; a published postmortem is not drafted again until reopened."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.cli import main
from bot.config import parse_config
from bot.slack.ids import Action, Block, Field
from tests.conftest import Stack, start_stack
from tests.helpers import ALICE, BOB, CAROL, scripted_incident, slash

FACTORS = ("- The config validator is a manual step.\n- Nothing alerted on EU checkout 5xx.\n"
           "- One push reached every region at once.\n- A fourth factor, left out.")


@pytest.fixture
def team(engine: Engine) -> Iterator[Stack]:
    stack = start_stack(engine, parse_config({"postmortem": {
        "publish_channel": "#postmortems", "required_approvals": 1}}))
    stack.slack.add_channel("postmortems")
    yield stack
    stack.close()
    assert stack.slack.violations == [], "the bot misused the Slack Web API"


def _dm(stack: Stack, user: str) -> Any:
    """The review request in `user`'s DM with the bot (the stand-in opens `D…`)."""
    channel = "D" + user[1:]
    return stack.slack.wait_for(lambda: next(
        (m for m in stack.slack.channels[channel].messages.values()
         if any(e.get("action_id") == Action.POSTMORTEM_APPROVE.value
                for b in m.blocks if b["type"] == "actions" for e in b["elements"])),
        None) if channel in stack.slack.channels else None)


def _click(stack: Stack, action: Action, user: str, channel: str, ts: str) -> str:
    reply = stack.client.click(action.value, user=user, channel=channel, message_ts=ts,
                               value="1")
    assert reply.status == 200
    return str(stack.client.reply_to(reply).get("text", ""))


def _report(stack: Stack, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    monkeypatch.setenv("DATABASE_URL", stack.runtime.engine.url.render_as_string(
        hide_password=False))
    capsys.readouterr()
    assert main(["postmortem", "show", "1", "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def _draft(stack: Stack, channel: str, user: str = ALICE) -> str:
    return str(stack.client.reply_to(stack.client.slash("postmortem", user=user,
                                                        channel=channel), timeout=20)["text"])


def test_review_approve_publish_archive_and_reopen(
        team: Stack, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Two reviewers are asked; a non-reviewer's approval and an early publish are refused;
    Carol asks for changes through the modal, Bob and then Carol approve from their DMs;
    Bob publishes: the summary reaches the announcement thread and #postmortems; the
    channel is archived once the last action item gets an owner and a due date. Drafting
    after publishing is refused until Alice reopens, and `show --json` has it all."""
    stack = team
    incident = scripted_incident(stack)
    channel = incident.channel_id
    with stack.runtime.deps.uow() as tx:
        tx.postmortems.write_sections(1, {"contributing_factors": FACTORS}, author=CAROL,
                                      now=datetime(2026, 12, 1, 9, tzinfo=UTC))
        tx.commit()
    assert "Postmortem draft v1" in _draft(stack, channel)
    assert slash(stack, "postmortem publish", channel=channel) == (
        "The postmortem needs 1 more approval; nobody is reviewing it yet: "
        "`/incident postmortem review @someone`.")

    asked = slash(stack, "postmortem review <@U02BOB|bob> <@U03CAROL|carol>", channel=channel)
    assert asked.startswith(f"Asked <@{BOB}>, <@{CAROL}> to review the postmortem of *#1*")
    assert asked.endswith("The postmortem is *in review*.")
    bob_dm, carol_dm = _dm(stack, BOB), _dm(stack, CAROL)
    draft_ts = next(m.ts for m in stack.slack.channels[channel].messages.values()
                    if "Postmortem draft" in m.text)
    assert f"/archives/{channel}/p{draft_ts.replace('.', '')}|Read it here." in bob_dm.text
    assert f"<@{ALICE}> asked you to review" in carol_dm.text
    assert slash(stack, "postmortem review <@U02BOB|bob>", channel=channel) == (
        f"<@{BOB}> had been asked already. The postmortem is *in review*.")
    assert len([m for m in stack.slack.channels["D02BOB"].messages.values()]) == 1

    # Not a reviewer: the commander's forged click on an Approve button is refused.
    refused = _click(stack, Action.POSTMORTEM_APPROVE, ALICE, "D01ALICE", bob_dm.ts)
    assert "Only the postmortem's requested reviewers can approve" in refused
    assert f"<@{BOB}>, <@{CAROL}>" in refused
    assert slash(stack, "postmortem publish", channel=channel) == (
        f"The postmortem needs 1 more approval; reviewers: <@{BOB}>, <@{CAROL}>.")

    # Carol requests changes through the modal; the channel hears her comment.
    views = len(stack.slack.views)
    stack.client.click(Action.POSTMORTEM_CHANGES.value, user=CAROL, channel="D03CAROL",
                       message_ts=carol_dm.ts, value="1")
    view = stack.slack.wait_for(lambda: stack.slack.views[-1]
                                if len(stack.slack.views) > views else None)
    sent = len(stack.slack.channels["D03CAROL"].messages)
    stack.client.submit(view, {Block.REVIEW_COMMENT.value: {Field.REVIEW_COMMENT.value: {
        "type": "plain_text_input", "value": "Name the <!channel> timeout value"}}}, user=CAROL)
    told = stack.slack.wait_for(lambda: list(stack.slack.channels["D03CAROL"].messages
                                             .values())[sent:])
    assert "You requested changes to the postmortem of *#1*" in told[-1].text
    said = [m.text for m in stack.slack.channels[channel].messages.values()]
    assert f":memo: <@{CAROL}> requested changes to the postmortem (v1): Name the " \
        "&lt;!channel&gt; timeout value" in said

    assert "You approved the postmortem of *#1* (1 approval; 1 needed). It can be " \
        "published" in _click(stack, Action.POSTMORTEM_APPROVE, BOB, "D02BOB", bob_dm.ts)
    assert slash(stack, "postmortem publish", channel=channel) == (
        f"<@{CAROL}> asked for changes; their approval is needed before publishing.")
    _click(stack, Action.POSTMORTEM_APPROVE, CAROL, "D03CAROL", carol_dm.ts)

    published = slash(stack, "postmortem publish", user=BOB, channel=channel)
    assert published.startswith("Published the postmortem of *#1* (v1). The summary is posted "
                                "in the announcement's thread and #postmortems.")
    assert "action item 2 (_Alert on EU checkout 5xx_) needs an owner and a due date" \
        in published
    assert not stack.slack.channels[channel].is_archived
    [top] = [m for m in stack.slack.channels[stack.slack.channel_named("postmortems").id]
             .messages.values()]
    thread = [m for m in stack.slack.channels[stack.announce].messages.values()
              if m.thread_ts == incident.announce_ts and "Postmortem published" in m.text]
    assert len(thread) == 1 and thread[0].text == top.text
    assert top.text.startswith(":books: *Postmortem published (v1): #1 Checkout errors in EU*\n"
                               "Severity *SEV1* · duration ")
    assert f"approved by <@{BOB}>, <@{CAROL}>" in top.text
    assert ("*Top contributing factors*\n• The config validator is a manual step.\n"
            "• Nothing alerted on EU checkout 5xx.\n• One push reached every region at once.\n"
            "*Action items (2)*\n• Validate configs in CI") in top.text
    assert "fourth" not in top.text and "|Read the postmortem>" in top.text

    # Published: drafting and writing are refused until reopened.
    for text in ("postmortem", "postmortem edit"):
        assert "The postmortem is published, so it can't be changed: `/incident postmortem " \
            "reopen` first" in slash(stack, text, channel=channel)
    assert "published" in _click(stack, Action.POSTMORTEM_WRITE, ALICE, channel, draft_ts)

    # The last item gets its owner, then its due date: the channel is archived.
    slash(stack, "action owner 2 <@U03CAROL|carol>", channel=channel)
    assert not stack.slack.channels[channel].is_archived
    dated = slash(stack, "action due 2 2026-12-20", channel=channel)
    assert dated.endswith("so the incident channel is archived.")
    assert stack.slack.channels[channel].is_archived

    report = _report(stack, monkeypatch, capsys)
    assert report["status"] == "published" and report["archived"] is True
    assert [(r["user"], r["requested_by"]) for r in report["reviewers"]] == [
        (BOB, ALICE), (CAROL, ALICE)]
    assert [(r["kind"], r["by"]) for r in report["reviews"]] == [
        ("changes_requested", CAROL), ("approved", BOB), ("approved", CAROL)]
    assert report["reviews"][0]["comment"] == "Name the <!channel> timeout value"
    assert [(s["kind"], s["by"], s["version"]) for s in report["state_changes"]] == [
        ("published", BOB, 1), ("archived", ALICE, None)]
    assert all(r["at"] for r in report["reviews"] + report["state_changes"])
    assert report["approved_by"] == [BOB, CAROL] and report["required_approvals"] == 1

    # Reopen: recorded, the channel is back (the bot posts the reopening there), and the
    # postmortem can be drafted again; the approvals still count.
    assert slash(stack, "postmortem reopen", user=CAROL, channel=channel).startswith(
        "Reopened the postmortem of *#1*")
    assert not stack.slack.channels[channel].is_archived
    assert "Postmortem draft v2" in _draft(stack, channel)
    report = _report(stack, monkeypatch, capsys)
    assert [s["kind"] for s in report["state_changes"]] == ["published", "archived", "reopened"]
    assert report["state_changes"][-1]["by"] == CAROL and report["status"] == "draft"
    assert report["approved_by"] == [BOB, CAROL] and report["archived"] is False
    with stack.runtime.deps.uow() as tx:
        steps = [e.detail["step"] for e in tx.incidents.get(1).events
                 if e.kind == "postmortem"]
    assert steps == ["requested", "changes_requested", "approved", "approved", "published",
                     "archived", "reopened"]


def test_without_required_approvals_publish_needs_no_review(engine: Engine) -> None:
    """`required_approvals: 0`, `archive_on_publish: false`: the commander publishes the
    draft at once, the summary goes to the thread only, the channel stays; a channel
    member who is neither commander nor reviewer may not publish or reopen."""
    stack = start_stack(engine, parse_config({"postmortem": {
        "required_approvals": 0, "archive_on_publish": False}}))
    try:
        incident = scripted_incident(stack)
        channel = incident.channel_id
        assert "no postmortem yet" in slash(stack, "postmortem publish", channel=channel)
        _draft(stack, channel)
        refused = slash(stack, "postmortem publish", user=BOB, channel=channel)
        assert refused.startswith(":no_entry: You can't publish this postmortem")
        published = slash(stack, "postmortem publish", channel=channel)
        assert published == ("Published the postmortem of *#1* (v1). The summary is posted "
                             "in the announcement's thread.")
        assert not stack.slack.channels[channel].is_archived
        assert stack.slack.calls_of("conversations.archive") == []
        assert "published" in slash(stack, "postmortem publish", channel=channel)
        assert "You can't approve or reopen" in slash(stack, "postmortem reopen", user=BOB,
                                                      channel=channel)
        assert "not published" not in slash(stack, "postmortem reopen", channel=channel)
        assert "is not published" in slash(stack, "postmortem reopen", channel=channel)
    finally:
        stack.close()
    assert stack.slack.violations == []


def test_the_stand_in_archives_as_slack_does(team: Stack) -> None:
    """conversations.archive: a member's channel once; never twice, never #general."""
    stack = team
    client = stack.runtime.deps.chat
    incident = scripted_incident(stack)
    client.archive_channel(incident.channel_id)
    assert stack.slack.channels[incident.channel_id].is_archived
    from bot.errors import ChatError

    with pytest.raises(ChatError) as twice:
        client.archive_channel(incident.channel_id)
    assert twice.value.code == "already_archived"
    with pytest.raises(ChatError) as general:
        client.archive_channel(stack.general)
    assert general.value.code == "cant_archive_general"


def test_a_refused_archive_is_reported_and_the_publish_stands(engine: Engine) -> None:
    """Every item has an owner and a due date, but Slack refuses to archive: the person is
    told why, the postmortem stays published, and nothing is recorded as archived."""
    stack = start_stack(engine, parse_config({"postmortem": {"required_approvals": 0}}))
    try:
        channel = scripted_incident(stack).channel_id
        slash(stack, "action owner 2 <@U03CAROL|carol>", channel=channel)
        slash(stack, "action due 2 2026-12-20", channel=channel)
        _draft(stack, channel)
        stack.slack.faults.fail("conversations.archive", "restricted_action")
        published = slash(stack, "postmortem publish", channel=channel)
        assert published.startswith("Published the postmortem of *#1*")
        assert "Slack refused to archive the channel" in published
        assert not stack.slack.channels[channel].is_archived
        with stack.runtime.deps.uow() as tx:
            assert tx.postmortems.get(1).status == "published"
            assert [r.kind.value for r in tx.postmortems.reviews(1)] == ["published"]
    finally:
        stack.close()


def test_marking_the_last_incomplete_item_done_archives(engine: Engine) -> None:
    """Published while item 2 has neither owner nor due date: the channel waits; the
    item's Done button settles it, and the channel is archived."""
    stack = start_stack(engine, parse_config({"postmortem": {"required_approvals": 0}}))
    try:
        channel = scripted_incident(stack).channel_id
        _draft(stack, channel)
        assert "needs an owner and a due date" in slash(stack, "postmortem publish",
                                                        channel=channel)
        assert not stack.slack.channels[channel].is_archived
        done = stack.client.click(Action.ITEM_DONE.value, user=ALICE, channel=channel,
                                  message_ts="1.0", value="2")
        assert "Marked done" in stack.client.reply_to(done)["text"]
        stack.slack.wait_for(lambda: stack.slack.channels[channel].is_archived or None)
    finally:
        stack.close()
    assert stack.slack.violations == []
