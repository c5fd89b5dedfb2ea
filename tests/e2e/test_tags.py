"""Tags and services on incidents (`/incident tag`, and on declare: trailing `tag:x` /
`service:x` words, the declare form's field), end to end over signed HTTP: stored
normalised, told to the channel, in the timeline and `debrief incident show --json`;
bad tags refused in the ack (or next to the form's field) with the reason, nothing
changed."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from bot.slack.ids import Block, Field
from tests.conftest import Stack
from tests.helpers import ALICE, BOB, declare, join, slash


def test_tags_are_stored_told_and_shown(stack: Stack, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    channel = declare(stack).channel_id
    reply = slash(stack, "tag Database service:Payments #eu-west-1", channel=channel)
    assert "Tagged database, eu-west-1, service:payments" in reply
    assert stack.incident().tags == ("database", "eu-west-1", "service:payments")
    said = [m.text for m in stack.slack.channels[channel].messages.values()]
    assert any(":label:" in t and "service:payments" in t for t in said)

    reply = slash(stack, "tag remove eu-west-1", channel=channel)
    assert "Untagged eu-west-1" in reply
    assert stack.incident().tags == ("database", "service:payments")

    monkeypatch.setenv("DATABASE_URL", stack.runtime.settings.database_url)
    capsys.readouterr()
    assert main(["incident", "show", "1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["tags"] == ["database"] and shown["services"] == ["payments"]
    assert [e["detail"] for e in shown["events"] if e["kind"] == "tagged"] == [
        {"added": "database eu-west-1 service:payments", "removed": ""},
        {"added": "", "removed": "eu-west-1"}]


@pytest.mark.parametrize(("text", "fragment"), [
    ("tag data_base", "can only use letters, digits and `-`"),
    ("tag " + "x" * 31, "at most 30 characters"),
    ("tag remove network", "has no tag"),
    ("tag database", "already has those tags"),
])
def test_bad_tags_are_refused_and_change_nothing(stack: Stack, text: str,
                                                 fragment: str) -> None:
    channel = declare(stack).channel_id
    slash(stack, "tag database", channel=channel)
    events = len(stack.incident().events)
    assert fragment in slash(stack, text, channel=channel)
    assert stack.incident().tags == ("database",) and len(stack.incident().events) == events


def test_twenty_tags_at_most(stack: Stack) -> None:
    channel = declare(stack).channel_id
    slash(stack, "tag " + " ".join(f"t{n}" for n in range(15)), channel=channel)
    reply = slash(stack, "tag " + " ".join(f"u{n}" for n in range(6)), channel=channel)
    assert "at most 20 tags" in reply and len(stack.incident().tags) == 15


def test_only_those_who_may_edit_may_tag(stack: Stack) -> None:
    channel = declare(stack).channel_id
    join(stack, channel, BOB)
    reply = slash(stack, "tag database", user=BOB, channel=channel)
    assert stack.incident().tags == () and "database" not in reply


def test_declare_with_tags_and_services(stack: Stack) -> None:
    """`/incident declare sev2 <title> tag:x service:y`: stored on declare, recorded on the
    declaration, told in the reply."""
    reply = slash(stack, "declare sev2 Checkout errors tag:Database service:Payments")
    assert "Declared incident *#1*" in reply and "Tagged `database service:payments`" in reply
    incident = stack.incident()
    assert (incident.title, incident.tags) == ("Checkout errors", ("database", "service:payments"))
    assert incident.events[0].detail["tags"] == "database service:payments"
    refused = slash(stack, "declare sev2 Checkout errors tag:data_base")
    assert "can only use letters, digits and `-`" in refused and stack.incident(2) is None


def _declare_form(stack: Stack, tags: str) -> tuple[dict[str, object], object]:
    stack.client.slash("declare", user=ALICE, channel=stack.general)
    view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
    assert any(b["block_id"] == Block.TAGS.value for b in view["blocks"])
    values = {
        Block.TITLE: {Field.TITLE: {"type": "plain_text_input", "value": "Search is empty"}},
        Block.SEVERITY: {Field.SEVERITY: {"type": "static_select",
                                          "selected_option": {"value": "SEV2"}}},
        Block.TAGS: {Field.TAGS: {"type": "plain_text_input", "value": tags}},
    }
    return view, stack.client.submit(view, values, user=ALICE)


def test_declare_form_takes_tags_and_services(stack: Stack) -> None:
    """The declare form's "Tags and services" field: commas or spaces, normalised."""
    _, submitted = _declare_form(stack, "Search, #EU-west-1 service:Elastic")
    assert submitted.status == 200 and submitted.body == ""  # type: ignore[attr-defined]
    ephemeral = stack.slack.wait_for(lambda: stack.slack.ephemerals)
    assert "Declared incident *#1*" in ephemeral[0]["text"]
    assert stack.incident().tags == ("eu-west-1", "search", "service:elastic")


@pytest.mark.parametrize(("tags", "fragment"), [
    ("data_base", "can only use letters, digits and `-`"),
    ("service:" + "x" * 31, "too long: at most 30 characters"),
    (" ".join(f"t{n}" for n in range(21)), "at most 20 tags"),
])
def test_declare_form_refuses_bad_tags_next_to_the_field(stack: Stack, tags: str,
                                                          fragment: str) -> None:
    """A bad tag in the form is a field error (the modal stays open); nothing declared."""
    _, submitted = _declare_form(stack, tags)
    answer = submitted.json()  # type: ignore[attr-defined]
    assert answer["response_action"] == "errors", answer
    assert list(answer["errors"]) == [Block.TAGS.value]
    assert fragment in answer["errors"][Block.TAGS.value]
    assert stack.incident() is None
    assert not [c for c in stack.slack.calls if c.method == "conversations.create"]
