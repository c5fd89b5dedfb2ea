"""User text is escaped wherever it is echoed: ephemeral replies, acks, `text`
fallbacks and channel messages alike. Hostile text goes in over signed HTTP, in both
forms Slack sends it: as Slack markup (`<!here>`, what typing @here sends) and as
literal characters (`&lt;!channel&gt;`, what typing `<!channel>` sends)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.slack.ids import Action
from tests.conftest import Stack
from tests.helpers import ALICE, BOB, apply, declare, mrkdwn_texts

TYPED_CHANNEL = "&lt;!channel&gt;"
TYPED_USER = "&lt;@U0EVIL&gt;"
TYPED_LINK = "&lt;https://x.example|y&gt;"
MARKUP_HERE = "<!here>"
MARKUP_LINK = "<https://x.example|y>"
FORBIDDEN = ("<!channel", "<!here", "<@U0EVIL", "<https://x.example", "<@UEVIL", "<@UTF8")
HOSTILE = f"{TYPED_CHANNEL} {MARKUP_HERE} {TYPED_USER} {TYPED_LINK} {MARKUP_LINK}"


def answer(stack: Stack, text: str, *, command: str = "/incident", channel: str,
           user: str = ALICE) -> Any:
    """The ack body, or what the command later sent to its response_url."""
    reply = stack.client.slash(text, user=user, channel=channel, command=command)
    assert reply.status == 200, reply.body
    return reply.json() if reply.body else stack.client.reply_to(reply)


def assert_inert(where: str, node: Any) -> None:
    for text in mrkdwn_texts(node):
        for forbidden in FORBIDDEN:
            assert forbidden not in text, f"{where}: {text!r}"


def test_hostile_text_is_never_echoed_raw_on_any_surface(stack: Stack, tmp_path: Path) -> None:
    """Every slash command, button and message echoes hostile user text only escaped."""
    stack.slack.add_channel("platform-oncall")
    stack.slack.add_usergroup("platform-oncall")
    apply(stack, tmp_path)
    incident = declare(stack, f"declare sev2 {HOSTILE}")
    room = incident.channel_id
    seen: list[tuple[str, Any]] = []
    for text in (
        f"action Fix it type {TYPED_CHANNEL}", f"action Fix it due {TYPED_USER}",
        f"action Fix it due {TYPED_CHANNEL} soon now", f"action Fix {HOSTILE} type detect",
        "action Fix UEVIL0 handling", "action Fix UTF8 handling <@U02BOB|bob>", "action Fix it due UEVIL1",
        f"status {TYPED_CHANNEL}", f"status monitoring {HOSTILE}",
        f"role {TYPED_USER} <@U02BOB|bob>", f"role comms {TYPED_USER}",
        f"severity {TYPED_CHANNEL}", f"update {HOSTILE}", f"note {HOSTILE}",
        f"note at {TYPED_CHANNEL} x", "timeline", "actions", "list", f"stats {TYPED_CHANNEL}",
        TYPED_CHANNEL, f"postmortem {TYPED_CHANNEL}", f"timeline {TYPED_USER}",
        f"declare {TYPED_CHANNEL}", f"resolve {HOSTILE}",
    ):
        seen.append((f"/incident {text}", answer(stack, text, channel=room)))
    for text in (
        TYPED_CHANNEL, MARKUP_HERE, f"override platform <@U02BOB|bob> {TYPED_CHANNEL} to tomorrow",
        f"override platform <@U02BOB|bob> today 18:00 to {TYPED_USER}",
        f"override platform <@U02BOB|bob> {MARKUP_HERE} to tomorrow",
        f"cover platform today 18:00 to {MARKUP_HERE}",
        f"override {TYPED_CHANNEL} <@U02BOB|bob> today 18:00 to tomorrow 09:00",
        f"cover platform {TYPED_USER} to tomorrow",
        f"cover {TYPED_CHANNEL} today 18:00 to tomorrow 09:00",
    ):
        seen.append((f"/oncall {text}", answer(stack, text, command="/oncall",
                                                channel=stack.general)))
    seen.append(("/actions", answer(stack, "", command="/actions", channel=stack.general)))
    with stack.runtime.deps.uow() as tx:
        items = tx.action_items.for_incident(incident.number)
    assert items and any("x.example" in i.text for i in items)
    assert {i.text: i.owner for i in items if "UTF8" in i.text or "UEVIL0" in i.text} == {
        "Fix UTF8 handling": BOB, "Fix UEVIL0 handling": None}
    for item in items:
        click = stack.client.click(Action.ITEM_DONE, user=BOB, channel=room,
                                   message_ts=str(incident.card_ts), value=str(item.id))
        seen.append((f"done {item.id}", stack.client.reply_to(click)))
    for where, body in seen:
        assert_inert(where, body)
    assert_inert("Web API calls", [c.args for c in stack.slack.calls])
    assert_inert("ephemerals", stack.slack.ephemerals)
    # and the person still sees what they typed, escaped once
    echoed = json.dumps([body for _, body in seen])
    assert "&lt;!channel&gt;" in echoed and "&amp;lt;" not in echoed


@pytest.mark.parametrize("text, limit, expected", [
    ("<!channel>", 40, "&lt;!channel&gt;"),
    ("a&b" * 20, 5, "a&amp;ba&amp;"),
    ("<@U1>", 3, "&lt;@U"),
])
def test_quote_cuts_before_escaping(text: str, limit: int, expected: str) -> None:
    """quote() shortens user text first and escapes after, so no entity is ever cut."""
    from bot.slack.text import quote

    assert quote(text, limit) == expected


def test_bidi_overrides_cannot_reorder_what_debrief_writes(stack: Stack) -> None:
    """A right-to-left override typed into a title, an update or the declare form is
    dropped, so it cannot make Slack show the channel link or names after it reversed."""
    from bot.slack.ids import Block, Field

    rlo, isolate = "\u202e", "\u2067"
    incident = declare(stack, f"declare sev2 Checkout {rlo}srorre")
    assert incident.title == "Checkout srorre"
    answer(stack, f"update rolled {isolate}back", channel=str(incident.channel_id))
    stack.client.slash("declare", user=ALICE, channel=stack.general)
    view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
    values = {Block.TITLE: {Field.TITLE: {"type": "plain_text_input", "value": f"Search {rlo}x"}},
              Block.DESCRIPTION: {Field.DESCRIPTION: {"type": "plain_text_input",
                                                      "value": f"Index {isolate}lost"}}}
    assert stack.client.submit(view, values, user=ALICE).status == 200
    second = stack.slack.wait_for(lambda: stack.incident(2))
    assert (second.title, second.description) == ("Search x", "Index lost")
    sent = json.dumps([c.args for c in stack.slack.calls], ensure_ascii=False)
    assert rlo not in sent and isolate not in sent


def test_escape_mrkdwn_only_touches_what_slack_parses() -> None:
    """&, < and > are escaped; apostrophes and quotes are left alone."""
    from bot.slack.text import escape_mrkdwn

    assert escape_mrkdwn("<!channel> & it's \"fine\"") == "&lt;!channel&gt; &amp; it's \"fine\""
