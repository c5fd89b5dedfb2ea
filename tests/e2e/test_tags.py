"""Tags and services on incidents (`/incident tag`), end to end over signed HTTP: stored
normalised, told to the channel, in the timeline and `debrief incident show --json`;
bad tags refused in the ack with the reason, nothing changed."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from tests.conftest import Stack
from tests.helpers import BOB, declare, join, slash


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
