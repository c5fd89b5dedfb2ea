"""The permission table end to end (README, "Who may do what"): for every row, someone
allowed and someone refused, through the slash command (also with `#N` from another
channel) and through the buttons. A refusal is a private reply naming who may, changes
nothing in the database or in Slack, and is logged.

Cast: Alice declares (so commands); Bob joins the incident channel; Carol stays outside;
Dave is an on-call admin; Erin is in the `incident-admins` user group."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine

from bot.config import parse_config
from bot.slack.ids import Action, Block, Field
from tests.conftest import Stack, start_stack
from tests.helpers import ALICE, BOB, CAROL, apply, declare, join, leave, slash

DAVE, ERIN = "U04DAVE", "U05ERIN"
LEAD = "its commander (<@U01ALICE>) or incident admins (@incident-admins)"  # named in refusals
CONFIG = {"permissions": {"incident_admins": "@incident-admins", "oncall_admins": [DAVE]}}


@pytest.fixture
def team(engine: Engine) -> Iterator[Stack]:
    stack = start_stack(engine, parse_config(CONFIG))
    stack.slack.add_user(DAVE, "dave")
    stack.slack.add_user(ERIN, "erin")
    group = stack.slack.add_usergroup("incident-admins")
    stack.slack.usergroups[group]["users"] = [ERIN]
    yield stack
    stack.close()
    assert stack.slack.violations == [], "the bot misused the Slack Web API"


Snapshot = tuple[Any, ...]


def snapshot(stack: Stack) -> Snapshot:
    """The incident as stored (with its action items, timeline and postmortem), and last
    how many changes the bot made in Slack so far."""
    writes = sum(len(stack.slack.calls_of(m)) for m in (
        "chat.update", "chat.postMessage", "conversations.setTopic", "conversations.invite",
        "files.completeUploadExternal"))
    incident = stack.incident()
    with stack.runtime.deps.uow() as tx:
        items = tx.action_items.for_incident(1)
        entries = tx.timeline.entries(1) if incident else []
        postmortem = tx.postmortems.get(1)
    return incident, items, entries, postmortem, writes


def assert_refused(stack: Stack, reply: str, who: str, before: Snapshot,
                   caplog: pytest.LogCaptureFixture, act: str) -> None:
    assert reply.startswith(":no_entry: You can't") and f"only {who}" in reply, reply
    assert "Nothing was changed." in reply
    assert snapshot(stack) == before, "a refused action changed something"
    assert any(f"refused {act} to" in r.getMessage() for r in caplog.records), act


def incident_with_bob(stack: Stack) -> Any:
    incident = declare(stack)
    join(stack, incident.channel_id, BOB)
    return incident


# (row, command, someone refused, who the refusal names, someone allowed, logged act)
COMMAND_ROWS = [
    ("ack", "ack #1", CAROL, "people in the incident's channel", BOB, "ack"),
    ("update", "update #1 rolled back v42", CAROL, "people in the incident's channel", BOB,
     "update"),
    ("status", "status #1 monitoring", CAROL, "people in the incident's channel", BOB, "update"),
    ("note", "note #1 paged the DB team", CAROL, "people in the incident's channel", BOB, "note"),
    ("action item", "action #1 Add a canary", CAROL, "people in the incident's channel", BOB,
     "add_action_item"),
    ("postmortem draft", "postmortem #1", CAROL, "people in the incident's channel", BOB,
     "draft_postmortem"),
    ("severity", "severity #1 sev1", BOB, LEAD, ALICE, "severity"),
    ("role", "role #1 comms <@U02BOB|bob>", BOB, LEAD, ALICE,
     "role"),
    ("resolve", "resolve #1 fixed", BOB, LEAD, ALICE, "resolve"),
    ("cancel", "cancel #1 declared by mistake", BOB, LEAD, ALICE,
     "cancel"),
    ("title", "title #1 Checkout errors in EU", BOB, LEAD, ALICE,
     "edit"),
    ("admin", "severity #1 sev3", CAROL, LEAD, ERIN, "severity"),
]


@pytest.mark.parametrize("row, text, refused, who, allowed, act", COMMAND_ROWS,
                         ids=[r[0] for r in COMMAND_ROWS])
def test_command_row_refused_then_allowed(team: Stack, caplog: pytest.LogCaptureFixture,
                                          row: str, text: str, refused: str, who: str,
                                          allowed: str, act: str) -> None:
    """From another channel with `#N` (the hole the issue names) and from the incident
    channel alike: the refused person changes nothing; the allowed one does."""
    caplog.set_level(logging.WARNING)
    incident_with_bob(team)
    before = snapshot(team)
    assert_refused(team, slash(team, text, user=refused), who, before, caplog, act)
    reply = slash(team, text, user=allowed)
    assert not reply.startswith(":no_entry:"), reply
    assert snapshot(team)[:-1] != before[:-1], f"{row}: the allowed person changed nothing"


def test_reopen_is_the_commanders(team: Stack, caplog: pytest.LogCaptureFixture) -> None:
    """Leaving the resolved status reopens: a channel member may not, the commander may."""
    caplog.set_level(logging.WARNING)
    channel = incident_with_bob(team).channel_id
    slash(team, "resolve fixed", channel=channel)
    before = snapshot(team)
    assert_refused(team, slash(team, "status monitoring", user=BOB, channel=channel),
                   LEAD, before, caplog, "reopen")
    assert "Reopened *#1*" in slash(team, "status monitoring", channel=channel)
    assert team.incident().resolved_at is None


def test_publishing_the_postmortem_is_the_commanders(team: Stack,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    """A channel member drafts and asks for a review; only the reviewers, the commander
    or an admin publish or reopen it (named in the refusal)."""
    caplog.set_level(logging.WARNING)
    channel = incident_with_bob(team).channel_id
    slash(team, "resolve fixed", channel=channel)
    assert "Postmortem draft v1" in slash(team, "postmortem", user=BOB, channel=channel)
    assert "in review" in slash(team, "postmortem review <@U03CAROL|carol>", user=BOB,
                                channel=channel)
    approve = team.client.click(Action.POSTMORTEM_APPROVE, user=CAROL, channel="D03CAROL",
                                message_ts="1.0", value="1")
    assert "You approved" in team.client.reply_to(approve)["text"]
    reviewers = f"the postmortem's reviewers (<@{CAROL}>), " + LEAD
    before = snapshot(team)
    reply = slash(team, "postmortem publish", user=BOB, channel=channel)
    assert_refused(team, reply, reviewers, before, caplog, "publish_postmortem")
    assert "Published" in slash(team, "postmortem publish", user=ERIN, channel=channel)
    before = snapshot(team)
    assert_refused(team, slash(team, "postmortem reopen", user=BOB, channel=channel),
                   reviewers, before, caplog, "approve_postmortem")
    assert "Reopened" in slash(team, "postmortem reopen", user=CAROL, channel=channel)


def click_card(stack: Stack, action: Action, user: str, **kwargs: Any) -> str:
    incident = stack.incident()
    reply = stack.client.click(action, user=user, channel=incident.channel_id,
                               message_ts=incident.card_ts, **kwargs)
    assert reply.status == 200
    return str(stack.client.reply_to(reply)["text"])


def test_card_buttons_follow_the_same_rules(team: Stack, caplog: pytest.LogCaptureFixture) -> None:
    """Acknowledge (channel members), the status menu (channel members) and Resolve (the
    commander): the card's buttons are the commands, refused the same way."""
    caplog.set_level(logging.WARNING)
    incident_with_bob(team)
    before = snapshot(team)
    reply = click_card(team, Action.ACKNOWLEDGE, CAROL, value="1")
    assert_refused(team, reply, "people in the incident's channel", before, caplog, "ack")
    reply = click_card(team, Action.SET_STATUS, CAROL, selected="1:identified")
    assert_refused(team, reply, "people in the incident's channel", before, caplog, "update")
    reply = click_card(team, Action.RESOLVE, BOB, value="1")
    assert_refused(team, reply, LEAD, before, caplog, "resolve")
    assert "Acknowledged *#1*" in click_card(team, Action.ACKNOWLEDGE, BOB, value="1")
    assert "is now *identified*" in click_card(team, Action.SET_STATUS, BOB,
                                             selected="1:identified")
    assert "Resolved *#1*" in click_card(team, Action.RESOLVE, ALICE, value="1")
    stored = team.incident()
    assert stored.acknowledged_by == BOB and stored.resolved_at is not None


def test_action_item_buttons(team: Stack, caplog: pytest.LogCaptureFixture) -> None:
    """Done / Reopen: the owner, the creator, the commander or an admin; not another
    person in the channel."""
    caplog.set_level(logging.WARNING)
    channel = incident_with_bob(team).channel_id
    join(team, channel, DAVE)
    slash(team, "action Add a canary <@U03CAROL|carol>", user=BOB, channel=channel)
    with team.runtime.deps.uow() as tx:
        [item] = tx.action_items.for_incident(1)

    def click(action: Action, user: str) -> str:
        reply = team.client.click(action, user=user, channel=channel, message_ts="1.000001",
                                  value=str(item.id))
        return str(team.client.reply_to(reply)["text"])

    def status() -> str:
        with team.runtime.deps.uow() as tx:
            found = tx.action_items.get(item.id)
        assert found is not None
        return found.status

    before = snapshot(team)
    assert_refused(team, click(Action.ITEM_DONE, DAVE), "its owner (<@U03CAROL>), whoever created it "
                   "(<@U02BOB>), " + LEAD, before, caplog, "close_action_item")
    assert status() == "open"
    for action, user, expected in ((Action.ITEM_DONE, CAROL, "done"),     # the owner
                                   (Action.ITEM_REOPEN, BOB, "open"),     # the creator
                                   (Action.ITEM_DONE, ALICE, "done"),     # the commander
                                   (Action.ITEM_REOPEN, ERIN, "open")):   # an admin
        assert "Marked" in click(action, user), (action, user)
        assert status() == expected


def test_membership_follows_joins_and_leaves(team: Stack,
                                             caplog: pytest.LogCaptureFixture) -> None:
    """Membership is read from Slack and cached, but a join or a leave is seen at once."""
    caplog.set_level(logging.WARNING)
    channel = declare(team).channel_id
    assert slash(team, "note first", user=BOB, channel=channel).startswith(":no_entry:")
    join(team, channel, BOB)
    assert "Noted" in slash(team, "note second", user=BOB, channel=channel)
    leave(team, channel, BOB)
    assert slash(team, "note third", user=BOB, channel=channel).startswith(":no_entry:")
    assert len(team.slack.calls_of("conversations.members")) == 3  # one per change, cached


def test_declare_is_anyones_unless_configured(engine: Engine,
                                              caplog: pytest.LogCaptureFixture) -> None:
    """Anyone may declare by default (every other test); a team may narrow it."""
    caplog.set_level(logging.WARNING)
    stack = start_stack(engine, parse_config(
        {"permissions": {"incident_admins": [BOB], "rules": {"declare": ["incident_admins"]}}}))
    try:
        reply = slash(stack, "declare sev2 Checkout errors", user=ALICE)
        assert reply.startswith(":no_entry: You can't declare incidents: only incident admins")
        assert stack.incident() is None and not stack.slack.calls_of("conversations.create")
        assert slash(stack, "declare", user=ALICE).startswith(":no_entry:")  # no form either
        assert stack.slack.views == []
        # A form opened before the rule changed is refused on submission, by DM.
        stack.client.slash("declare", user=BOB)
        view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views
                                    else None)
        values = {Block.TITLE: {Field.TITLE: {"type": "plain_text_input", "value": "Sneaky"}}}
        assert stack.client.submit(view, values, user=ALICE).status == 200
        stack.slack.wait_for(lambda: any(m.text.startswith(":no_entry: You can't declare")
                                         for c in stack.slack.channels.values()
                                         for m in c.messages.values()))
        assert stack.incident() is None
        assert "Declared incident" in slash(stack, "declare sev2 Checkout errors", user=BOB)
    finally:
        stack.close()


@pytest.fixture
def oncall_team(team: Stack, tmp_path: Path) -> Stack:
    team.slack.add_channel("platform-oncall")
    team.slack.add_usergroup("platform-oncall")
    apply(team, tmp_path)  # Alice, Bob (by e-mail) and Carol rotate; Dave and Erin do not
    return team


def overrides(stack: Stack) -> list[tuple[str, str]]:
    with stack.runtime.deps.uow() as tx:
        schedule = tx.schedules.get("platform")
    assert schedule is not None
    return [(o.user, o.start.isoformat()) for o in schedule.overrides]


def test_oncall_overrides(oncall_team: Stack, caplog: pytest.LogCaptureFixture) -> None:
    """People on the schedule for themselves; on-call admins for anyone."""
    caplog.set_level(logging.WARNING)
    stack = oncall_team
    with freeze_time("2026-11-24 12:00:00", tick=True):
        def override(user: str, who: str) -> str:
            return str(stack.client.reply_to(stack.client.slash(
                f"override platform <@{who}|x> 2026-11-30T09:00 to 2026-11-30T17:00",
                user=user, command="/oncall"))["text"])

        for user, who in ((BOB, CAROL), (ERIN, ERIN)):  # for someone else; not on it
            reply = override(user, who)
            assert reply.startswith(":no_entry: You can't put that person on call or change "
                                    "their overrides: only "
                                    "people on the schedule, for themselves or on-call "
                                    "admins (<@U04DAVE>) can."), reply
            assert overrides(stack) == []
        assert "Override saved" in override(BOB, BOB)   # Bob is on it (by e-mail)
        assert "Override saved" in override(DAVE, CAROL)  # an on-call admin
        assert [u for u, _ in overrides(stack)] == [BOB, CAROL]
        assert any("refused oncall_override" in r.getMessage() for r in caplog.records)


def test_cover_request_once_and_not_by_the_requester(oncall_team: Stack,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    """The requester cannot accept their own request; once someone has, the message says
    "Covered by @x" without the button, and a second click changes nothing."""
    caplog.set_level(logging.WARNING)
    stack = oncall_team
    with freeze_time("2026-11-24 12:00:00", tick=True):
        stack.client.reply_to(stack.client.slash(
            "cover platform tomorrow 09:00 to tomorrow 17:00", user=BOB, command="/oncall"))
        channel = stack.slack.channel_named("platform-oncall")
        assert channel is not None
        [request] = [m for m in channel.messages.values() if "needs cover" in m.text]
        value = request.blocks[1]["elements"][0]["value"]

        def click(user: str) -> dict[str, Any]:
            reply = stack.client.click(Action.COVER, user=user, channel=channel.id,
                                       message_ts=request.ts, value=value)
            return stack.client.reply_to(reply)

        own = click(BOB)
        assert own["text"].startswith(":no_entry: You can't accept this cover request: only "
                                      "anyone but the person who asked or on-call admins "
                                      "(<@U04DAVE>)")
        assert own.get("replace_original") is False and overrides(stack) == []
        first = click(CAROL)
        assert "Covered by <@U03CAROL>" in first["text"] and first["replace_original"] is True
        assert "blocks" not in first or Action.COVER.value not in json.dumps(first["blocks"])
        for late in (CAROL, ALICE):
            again = click(late)
            assert again["text"] == "Already covered by <@U03CAROL>; nothing changed."
            assert again.get("replace_original") is False
        assert [u for u, _ in overrides(stack)] == [CAROL]


def test_membership_is_read_across_pages(team: Stack) -> None:
    """A big channel's members come a page at a time: someone on the last page is a
    member too (the stand-in pages conversations.members as Slack does)."""
    channel = declare(team).channel_id
    crowd = [f"U9{n:05d}" for n in range(450)]
    with team.slack.lock:
        for user in crowd:
            team.slack.add_user(user, f"person{user}")
    with team.slack.lock:
        team.slack.channels[channel].members.update(crowd)
    assert "Noted" in slash(team, "note from the back row", user=crowd[-1], channel=channel)
    pages = team.slack.calls_of("conversations.members")
    assert len(pages) >= 3 and all(int(c.args.get("limit", 0)) == 200 for c in pages)


def test_admin_group_changes_are_seen_when_slack_says_so(team: Stack) -> None:
    """User group members are cached (a minute); `subteam_members_changed` drops the cache,
    so someone added to the admins' group may act at once."""
    declare(team)
    assert slash(team, "severity #1 sev1", user=CAROL).startswith(":no_entry:")
    [group] = [g for g in team.slack.usergroups.values() if g["handle"] == "incident-admins"]
    with team.slack.lock:
        group["users"] = [ERIN, CAROL]
    assert slash(team, "severity #1 sev1", user=CAROL).startswith(":no_entry:")  # cached
    reply = team.client.event({"type": "subteam_members_changed", "subteam_id": group["id"],
                               "team_id": "T00000001", "added_users": [CAROL],
                               "added_users_count": "1", "event_ts": "1.000001"})
    assert reply.status == 200
    assert "*#1* is now *SEV1*" in slash(team, "severity #1 sev1", user=CAROL)
    assert team.incident().severity == "SEV1"


def test_corrections_follow_the_permission_model(team: Stack,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    """h12b's corrections ask the same model: a note or timeline entry (`change_entry`) and
    an action item (`close_action_item`) are changed by their author / owner or creator,
    the commander or an incident admin (Erin, through the user group); anyone else is
    refused, logged, and nothing changes."""
    caplog.set_level(logging.WARNING)
    channel = incident_with_bob(team).channel_id
    noted = slash(team, "note paged teh DB team", user=BOB, channel=channel)
    entry_id = int(noted.split("(note ", 1)[1].split(":", 1)[0])
    slash(team, "action Add a canary stage", user=BOB, channel=channel)
    join(team, channel, CAROL)
    before = snapshot(team)
    assert_refused(team, slash(team, f"note edit {entry_id} Carol was here", user=CAROL,
                               channel=channel),
                   "whoever wrote it (<@U02BOB>), its commander (<@U01ALICE>) or incident "
                   "admins (@incident-admins)", before, caplog, "change_entry")
    assert_refused(team, slash(team, f"hide {entry_id}", user=CAROL, channel=channel),
                   "whoever wrote it", before, caplog, "change_entry")
    assert_refused(team, slash(team, f"action owner 1 <@{CAROL}|carol>", user=CAROL,
                               channel=channel),
                   "its owner", before, caplog, "close_action_item")
    assert "now reads as you wrote it" in slash(team, f"note edit {entry_id} paged the DB team",
                                                user=ERIN, channel=channel)
    assert "hidden from" in slash(team, f"hide {entry_id}", user=ERIN, channel=channel)
    assert "reassigned" in slash(team, f"action owner 1 <@{CAROL}|carol>", user=ERIN,
                                 channel=channel)
    with team.runtime.deps.uow() as tx:
        [entry] = [e for e in tx.timeline.entries(1) if e.id == entry_id]
        [item] = tx.action_items.for_incident(1)
    assert (entry.text, entry.hidden, item.owner) == ("paged the DB team", True, CAROL)
