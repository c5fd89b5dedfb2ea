"""End to end: a malformed note time or due date is refused in the slash command's ack
itself, over real HTTP, before the bot looks anything up (no incident, no time zone)."""

from __future__ import annotations

import pytest

from tests.conftest import Stack

ALICE = "U01ALICE"


@pytest.mark.parametrize("text, message", [
    ("note at 25:99 Paged the DB team", "I couldn't read `25:99` as a time"),
    ("note at 14:05", "What happened at 14:05?"),
    ("action Add an alert due blorp", "I couldn't read `blorp` as a date"),
])
def test_text_only_refusals_are_answered_in_the_ack(stack: Stack, text: str,
                                                     message: str) -> None:
    """Refused in the ack, from the text alone: no channel lookup, no Web API call."""
    before = len(stack.slack.calls)  # start-up's own calls (auth.test)
    reply = stack.client.slash(text, user=ALICE, channel=stack.general)
    assert reply.status == 200
    assert reply.json()["response_type"] == "ephemeral"
    assert message in reply.text
    assert stack.slack.calls[before:] == []
    assert stack.slack.responses == []
