"""Every field people type is capped: over-long text gets a one-line reply and changes
nothing; text that is shown shortened (a card section, a timeline line) is cut with an
ellipsis, never through an escaped entity."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.slack.ids import Block, Field
from tests.conftest import Stack
from tests.helpers import ALICE, declare, mrkdwn_texts, slash


def entities_intact(text: str) -> bool:
    """Every `&` starts a whole `&amp;`, `&lt;` or `&gt;`."""
    return "&" not in re.sub(r"&(amp|lt|gt);", "", text)


@pytest.mark.parametrize("text, reply", [
    ("status monitoring " + "n" * 2901, "That status note is 2,901 characters; keep it to 2,900"),
    ("update " + "u" * 2901, "That update is 2,901 characters"),
    ("note " + "n" * 2901, "That note is 2,901 characters"),
    ("note at 14:05 " + "n" * 2950, "That note is 2,959 characters"),
    ("resolve " + "r" * 2901, "That summary is 2,901 characters"),
    ("action " + "a" * 501, "Keep an action item under 500 characters"),
    ("update " + "x " * 2100, "That command is 4,207 characters; keep it to 4,000"),
])
def test_over_long_text_gets_one_line_and_changes_nothing(stack: Stack, text: str,
                                                          reply: str) -> None:
    """Over-long status notes, updates, notes, summaries and items are refused in one line."""
    incident = declare(stack)
    def writes() -> int:  # reading the author's time zone (users.info) changes nothing
        return sum(c.method != "users.info" for c in stack.slack.calls)

    calls, events = writes(), len(stack.incident().events)
    message = slash(stack, text, channel=incident.channel_id)
    assert reply in message and "\n" not in message
    assert writes() == calls and len(stack.incident().events) == events
    assert stack.incident().status == "investigating"
    with stack.runtime.deps.uow() as tx:
        assert tx.action_items.for_incident(incident.number) == []


def test_a_status_note_at_the_cap_is_accepted(stack: Stack) -> None:
    """A status note of exactly 2,900 characters is recorded."""
    incident = declare(stack)
    assert "status recorded" in slash(stack, "status monitoring " + "n" * 2900,
                                      channel=incident.channel_id)


def test_over_long_oncall_text_is_refused(stack: Stack) -> None:
    """/oncall with more text than any of its commands needs gets a one-line reply."""
    reply = stack.client.slash("platform " + "x" * 600, user=ALICE, command="/oncall",
                               channel=stack.general)
    assert "500 characters at most" in reply.text and stack.slack.responses == []


def test_escaped_text_on_the_card_is_cut_whole(stack: Stack) -> None:
    """A description and a summary that escape past 3,000 characters are cut with an
    ellipsis between entities, never through one."""
    stack.client.slash("declare", user=ALICE, channel=stack.general)
    view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
    values: dict[str, dict[str, Any]] = {
        Block.TITLE: {Field.TITLE: {"type": "plain_text_input", "value": "&" * 150}},
        Block.SEVERITY: {Field.SEVERITY: {"type": "static_select",
                                          "selected_option": {"value": "SEV2"}}},
        Block.DESCRIPTION: {Field.DESCRIPTION: {"type": "plain_text_input",
                                                "value": "<>&" * 966}},
    }
    assert stack.client.submit(view, values, user=ALICE).status == 200
    stack.slack.wait_for(lambda: stack.slack.ephemerals)
    incident = stack.incident()
    slash(stack, "resolve " + "&amp;" * 700, channel=incident.channel_id)
    card = stack.slack.channels[incident.channel_id].messages[incident.card_ts]
    texts = mrkdwn_texts(card.blocks)
    long_ones = [t for t in texts if len(t) > 2000]
    assert len(long_ones) == 2 and all(t.endswith("…") and len(t) <= 3000 for t in long_ones)
    assert all(entities_intact(t) for t in texts)
    assert json.dumps(card.blocks[0]["text"]["text"]).count("&") <= 150
