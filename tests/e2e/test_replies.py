"""Issue 12's "also fix" list, end to end: help lists every command, replies read as
sentences with times in each reader's zone, a resolved card offers no Acknowledge,
a role for someone already in the channel invites nobody, `update #N` works from
anywhere, and the stand-in refuses a call whose scope the manifest lacks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.slack.ids import Action
from bot.standin.methods import manifest_scopes
from bot.standin.state import BOT_USER
from tests.conftest import Stack
from tests.helpers import ALICE, BOB, CAROL, declare, join, slash

ROOT = Path(__file__).resolve().parents[2]
SLACK_DATE = re.compile(r"<!date\^(\d+)\^\{date_short_pretty\} \{time\}\|[^>]+ UTC>")


def test_help_lists_every_command(stack: Stack) -> None:
    """`/incident help` names every subcommand and the other two slash commands."""
    text = slash(stack, "help")
    for command in ("declare", "ack", "status", "severity", "role", "update", "resolve",
                    "note", "timeline", "action", "actions", "postmortem", "list", "stats",
                    "retry"):
        assert f"`/incident {command}" in text, command
    assert "`/actions`" in text and "`/oncall" in text


def test_replies_read_as_sentences(stack: Stack) -> None:
    """Each change answers with a sentence, not "<kind> recorded."."""
    incident = declare(stack)
    channel = incident.channel_id
    assert slash(stack, "ack", channel=channel) == "Acknowledged *#1*."
    assert slash(stack, "status identified", channel=channel) == "*#1* is now *identified*."
    assert slash(stack, "severity sev1", channel=channel) == "*#1* is now *SEV1*."
    assert slash(stack, f"role comms <@{BOB}|bob>", channel=channel) == (
        f"<@{BOB}> is now *comms* of *#1*.")
    assert slash(stack, "update rolled back", channel=channel) == "Update posted on *#1*."
    assert slash(stack, "resolve fixed", channel=channel) == "Resolved *#1*."
    assert "recorded." not in json.dumps(stack.slack.responses)


def test_times_in_replies_use_slacks_date_formatting(stack: Stack) -> None:
    """A note's reply and a refused second ack show times each reader sees in their zone."""
    incident = declare(stack)
    channel = incident.channel_id
    noted = slash(stack, "note paged the DB team", channel=channel)
    with stack.runtime.deps.uow() as tx:
        entry = [e for e in tx.timeline.entries(1) if e.text == "paged the DB team"][0]
    found = SLACK_DATE.search(noted)
    assert found and int(found.group(1)) == int(entry.at.timestamp()), noted
    slash(stack, "ack", channel=channel)
    join(stack, channel, BOB)  # acknowledging is for the people in the channel
    again = slash(stack, "ack", user=BOB, channel=channel)
    assert SLACK_DATE.search(again) and f"<@{ALICE}>" in again, again


def test_a_resolved_card_has_no_acknowledge_button(stack: Stack) -> None:
    """Resolved without anyone acknowledging: the card no longer offers Acknowledge."""
    incident = declare(stack)
    card = stack.slack.channels[incident.channel_id].messages[incident.card_ts]
    assert Action.ACKNOWLEDGE.value in json.dumps(card.blocks)
    slash(stack, "resolve false alarm", channel=incident.channel_id)
    card = stack.slack.channels[incident.channel_id].messages[incident.card_ts]
    assert Action.ACKNOWLEDGE.value not in json.dumps(card.blocks)


def test_a_role_for_a_member_makes_no_invite(stack: Stack) -> None:
    """Someone already in the channel gets the role without a conversations.invite."""
    incident = declare(stack)
    channel = incident.channel_id
    invites = lambda: [c for c in stack.slack.calls  # noqa: E731
                       if c.method == "conversations.invite" and c.args.get("channel") == channel]
    before = len(invites())
    slash(stack, f"role comms <@{ALICE}|alice>", channel=channel)
    assert len(invites()) == before
    slash(stack, f"role scribe <@{CAROL}|carol>", channel=channel)
    assert len(invites()) == before + 1 and CAROL in stack.slack.channels[channel].members


def test_update_by_number_from_outside_the_channel(stack: Stack) -> None:
    """`/incident update #1 text` from #general posts the update on incident 1."""
    incident = declare(stack)
    join(stack, incident.channel_id, BOB)  # updates are for the people in the channel
    reply = slash(stack, "update #1 rolling back v42", user=BOB)
    assert reply == "Update posted on *#1*."
    stored = stack.incident()
    assert stored.events[-1].kind == "update" and stored.events[-1].detail["text"] == (
        "rolling back v42")
    posted = [m.text for m in stack.slack.channels[stored.channel_id].messages.values()]
    assert any("rolling back v42" in t for t in posted)


def test_the_standin_grants_only_the_manifests_scopes(stack: Stack) -> None:
    """A call whose scope the manifest lacks is refused (`missing_scope`) and recorded as
    a violation, so a scope missing from manifest.yaml fails a test."""
    assert "channels:join" in manifest_scopes()
    stack.slack.scopes = frozenset(s for s in stack.slack.scopes if s != "channels:join")
    channel = stack.slack.add_channel("elsewhere", bot_member=False)
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(token=stack.slack.token, base_url=stack.slack.api_url)
    with pytest.raises(SlackApiError) as refused:
        client.conversations_join(channel=channel)
    assert refused.value.response["error"] == "missing_scope"
    assert BOT_USER not in stack.slack.channels[channel].members
    assert stack.slack.violations and "conversations.join" in stack.slack.violations[0]
    stack.slack.violations.clear()  # expected here; the fixture checks for no others
