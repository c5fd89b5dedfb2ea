"""Private incidents end to end: `/incident declare --private` and the form's checkbox
make a private channel (groups:* scopes, enforced by the stand-in), announce only a
redacted line (or nothing, configured), stay out of `/incident list` and stats for
people not in the channel, and still collect the timeline (message.groups)."""

from __future__ import annotations

import json

from sqlalchemy import Engine

from bot.config import DebriefConfig
from bot.slack.ids import Block, Field
from tests.conftest import Stack, start_stack
from tests.helpers import ALICE, BOB, CAROL, declare, slash


def test_private_declare_lists_stats_and_timeline(stack: Stack) -> None:
    """A private incident: private channel, redacted announcement, listed and counted only
    for members; a message in its channel reaches the timeline; a public one is unaffected."""
    incident = declare(stack, "declare --private sev1 Payroll data exposed")
    assert incident.private and incident.title == "Payroll data exposed"
    channel = stack.slack.channels[incident.channel_id]
    assert channel.is_private and ALICE in channel.members and BOB not in channel.members
    announcement = stack.slack.channels[stack.announce].messages[incident.announce_ts]
    assert "private *SEV1*" in announcement.text
    assert "Payroll" not in json.dumps(announcement.blocks) + announcement.text
    assert incident.channel_id not in announcement.text
    public = declare(stack, "declare sev3 Slow search", user=BOB)

    slash(stack, "list")
    listing = json.dumps(stack.slack.responses[-1])
    assert "Payroll" in listing and "Slow search" in listing
    slash(stack, "list", user=BOB)
    listing = json.dumps(stack.slack.responses[-1])
    assert "Payroll" not in listing and "Slow search" in listing

    slash(stack, "stats", user=BOB)
    bob_stats = json.dumps(stack.slack.responses[-1])
    slash(stack, "stats", user=ALICE)
    alice_stats = json.dumps(stack.slack.responses[-1])
    assert "SEV1" in alice_stats and "SEV1" not in bob_stats, (alice_stats, bob_stats)

    # Updates are not threaded under the redacted announcement.
    slash(stack, "update payroll exports stopped", channel=incident.channel_id)
    thread = [m for m in stack.slack.channels[stack.announce].messages.values()
              if m.thread_ts == incident.announce_ts]
    assert thread == []
    stack.client.say(incident.channel_id, ALICE, "rotating the export credentials")
    stack.slack.wait_for(lambda: any(
        e.text == "rotating the export credentials"
        for e in _entries(stack, incident.number)))
    # Named by number from outside, it does not exist for Bob; nothing is changed.
    assert slash(stack, "timeline #1", user=BOB).startswith("There is no incident #1.")
    assert slash(stack, "severity #1 sev3", user=BOB).startswith("There is no incident #1.")
    assert stack.incident().severity == "SEV1"
    # Once Bob is invited (a role), he sees it too.
    slash(stack, f"role comms <@{BOB}|bob>", channel=incident.channel_id)
    slash(stack, "list", user=BOB)
    assert "Payroll" in json.dumps(stack.slack.responses[-1])
    assert public.private is False and not stack.slack.channels[public.channel_id].is_private


def _entries(stack: Stack, number: int):  # type: ignore[no-untyped-def]
    with stack.runtime.deps.uow() as tx:
        return tx.timeline.entries(number)


def test_private_checkbox_in_the_declare_form(stack: Stack) -> None:
    """The form's "Private incident" checkbox declares a private incident."""
    stack.client.slash("declare", user=ALICE, channel=stack.general)
    view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
    values = {
        Block.TITLE: {Field.TITLE: {"type": "plain_text_input", "value": "HR system leak"}},
        Block.SEVERITY: {Field.SEVERITY: {"type": "static_select",
                                          "selected_option": {"value": "SEV2"}}},
        Block.PRIVATE: {Field.PRIVATE: {"type": "checkboxes",
                                        "selected_options": [{"value": "private"}]}},
    }
    assert stack.client.submit(view, values, user=ALICE).status == 200
    stack.slack.wait_for(lambda: stack.slack.ephemerals)
    incident = stack.incident()
    assert incident.private and stack.slack.channels[incident.channel_id].is_private


def test_no_announcement_when_configured(engine: Engine) -> None:
    """`private_announcement: none`: a private incident is not announced at all."""
    stack = start_stack(engine, DebriefConfig(private_announcement="none"))
    try:
        incident = declare(stack, "declare --private Legal hold", user=CAROL)
        assert incident.announce_ts is None
        assert stack.slack.channels[stack.announce].messages == {}
        assert stack.slack.violations == []
    finally:
        stack.close()


def test_private_needs_the_groups_scopes(stack: Stack) -> None:
    """Without groups:write the private channel cannot be made: the stand-in refuses it
    (missing_scope) and the declarer is told; so the manifest must carry it."""
    stack.slack.scopes = frozenset(s for s in stack.slack.scopes if s != "groups:write")
    reply = slash(stack, "declare --private Vault sealed")
    assert "missing_scope" in reply and stack.incident().channel_id is None
    assert any("conversations.create" in v for v in stack.slack.violations)
    stack.slack.violations.clear()  # expected here
