"""Property-based tests: whatever arrives (random unicode, huge strings, missing fields,
wrong types), the endpoint answers without a 5xx, the person gets words back, and the
database stays consistent."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.commands import Declare, parse_incident_command
from bot.errors import UserError
from bot.slack.ids import Action, Block, Callback, Field
from tests.conftest import Stack
from tests.helpers import FUZZ, JSON

WORDS = st.sampled_from(["declare", "ack", "status", "severity", "role", "update", "resolve",
                         "list", "retry", "note", "timeline", "postmortem", "action",
                         "actions", "stats", "help", "sev1", "#1", "#999999999", "at",
                         "<!channel>", "<@U02BOB|bob>", "due", "type", "review", "rebuild",
                         "monitoring", "commander", "yesterday", "25:99", "\u0000", "🔥"])
TEXT = st.one_of(
    st.text(max_size=300),
    st.lists(WORDS | st.text(min_size=1, max_size=12), max_size=12).map(" ".join),
    st.text(alphabet="ab <>&!@#:", min_size=3000, max_size=6000),
)
def consistent(stack: Stack) -> None:
    """Every stored incident has a number, a declared event and a valid status."""
    with stack.runtime.deps.uow() as tx:
        incidents = tx.incidents.list()
    numbers = [i.number for i in incidents]
    assert numbers == list(range(1, len(numbers) + 1))
    for incident in incidents:
        assert incident.events and incident.events[0].kind == "declared"
        assert incident.status in stack.runtime.deps.config.statuses
        assert incident.roles.get("commander")


@FUZZ
@given(text=TEXT)
def test_slash_command_text(stack: Stack, text: str) -> None:
    """Any /incident text gets a 200 and words back (in the ack or the reply)."""
    views = len(stack.slack.views)
    reply = stack.client.slash(text, user="U01ALICE", channel=stack.general)
    assert reply.status == 200
    try:
        command = parse_incident_command(text, stack.runtime.deps.config)
    except UserError:
        command = None
    if isinstance(command, Declare) and not command.title:
        stack.slack.wait_for(lambda: len(stack.slack.views) > views)  # the form opens
    else:
        answer = reply.text or str(stack.client.reply_to(reply, timeout=20).get("text") or "")
        assert answer.strip()
    consistent(stack)


@FUZZ
@given(title=st.one_of(st.none(), st.text(max_size=400), JSON), severity=JSON,
       description=st.one_of(st.none(), st.text(max_size=4000)), commander=JSON)
def test_modal_submissions(stack: Stack, title: Any, severity: Any, description: Any,
                           commander: Any) -> None:
    """Odd form values get field errors or a declared incident, never a 5xx."""
    values = {Block.TITLE: {Field.TITLE: {"value": title}},
              Block.SEVERITY: {Field.SEVERITY: {"selected_option": severity}},
              Block.DESCRIPTION: {Field.DESCRIPTION: {"value": description}},
              Block.COMMANDER: {Field.COMMANDER: {"selected_user": commander}}}
    view = {"id": "V1", "callback_id": Callback.DECLARE, "private_metadata": ""}
    reply = stack.client.submit(view, values, user="U01ALICE")
    assert reply.status < 500
    if reply.body:
        assert reply.json()["response_action"] == "errors"
    consistent(stack)


@FUZZ
@given(event=JSON, kind=st.sampled_from(["message", "reaction_added", "pin_added",
                                         "member_joined_channel", "reaction_removed"]))
def test_event_payloads(stack: Stack, event: Any, kind: str) -> None:
    """Malformed events are acknowledged and ignored (an envelope Bolt cannot even read,
    such as `"event": null`, is refused with 400)."""
    payload = {**event, "type": kind} if isinstance(event, dict) else event
    reply = stack.client.event(payload)  # type: ignore[arg-type]
    assert reply.status == (200 if isinstance(payload, dict) else 400)
    consistent(stack)


@FUZZ
@given(payload=JSON, action=st.sampled_from([a.value for a in Action]), value=JSON)
def test_interactivity_payloads(stack: Stack, payload: Any, action: str, value: Any) -> None:
    """Random block_actions and garbage payloads never produce a 5xx."""
    body = {"type": "block_actions", "actions": [{"action_id": action, "value": value}],
            "user": {"id": "U01ALICE"}, "response_url": stack.slack.response_url()}
    if isinstance(payload, dict):
        body.update(payload)
    assert stack.client.interactive(body).status < 500
    assert stack.client.interactive(payload if isinstance(payload, dict) else {"x": payload}
                                    ).status < 500
    assert json.dumps(stack.slack.violations) == "[]"
    consistent(stack)
