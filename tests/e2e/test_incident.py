"""End to end: signed HTTP requests into the real Bolt endpoint (waitress), Web API calls
answered by the stateful Slack stand-in over real HTTP, outcomes read back from the
stand-in and the database."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine, text

from bot.server import HttpServer, make_wsgi_app
from bot.slack.ids import Action, Block, Callback, Field
from storage.db import is_reachable, make_engine
from tests.conftest import Stack, start_stack
from tests.helpers import ALICE, BOB, CAROL, all_text, declare, join, mrkdwn_texts, slash


def test_declare_creates_channel_card_topic_and_announcement(stack: Stack) -> None:
    """/incident declare: channel named by date/number/title, declarer invited, pinned card, announcement."""
    incident = declare(stack)
    channel = stack.slack.channels[incident.channel_id]
    assert channel.name == f"inc-{datetime.now(UTC):%Y%m%d}-1-checkout-errors"
    assert ALICE in channel.members
    assert channel.topic == f"SEV2 · investigating · Commander: <@{ALICE}>"
    card = channel.messages[incident.card_ts]
    assert incident.card_ts in channel.pins
    assert card.blocks[0] == {"type": "header", "text": {
        "type": "plain_text", "text": "#1 Checkout errors", "emoji": True}}
    announcement = stack.slack.channels[stack.announce].messages[incident.announce_ts]
    assert f"<#{incident.channel_id}>" in announcement.text and "SEV2" in announcement.text
    assert incident.roles == {"commander": ALICE}


def test_full_lifecycle_updates_card_in_place(stack: Stack) -> None:
    """Every change is recorded and shown on the same pinned card, topic and announcement thread."""
    incident = declare(stack)
    channel_id, card_ts = incident.channel_id, incident.card_ts
    join(stack, channel_id, BOB)
    click = stack.client.click(Action.ACKNOWLEDGE, user=BOB, channel=channel_id,
                               message_ts=card_ts, value="1")
    assert click.status == 200
    assert stack.client.reply_to(click)["text"] == "Acknowledged *#1*."
    assert "comms recorded" not in slash(stack, "role comms <@U03CAROL|carol>", channel=channel_id)
    slash(stack, "status identified bad deploy", channel=channel_id)
    slash(stack, "severity SEV1", channel=channel_id)  # the commander's call
    slash(stack, "update rolling back v42", user=CAROL, channel=channel_id)
    select = stack.client.click(Action.SET_STATUS, user=ALICE, channel=channel_id,
                                message_ts=card_ts, selected="1:monitoring")
    stack.client.reply_to(select)
    resolve = stack.client.click(Action.RESOLVE, user=ALICE, channel=channel_id,
                                 message_ts=card_ts, value="1")
    stack.client.reply_to(resolve)

    stored = stack.incident()
    assert [e.kind for e in stored.events] == [
        "declared", "role", "acknowledged", "role", "status", "severity", "update", "status",
        "resolved"]
    assert stored.acknowledged_by == BOB and stored.resolved_at is not None
    assert stored.roles == {"commander": ALICE, "comms": CAROL}
    channel = stack.slack.channels[channel_id]
    assert CAROL in channel.members
    card = channel.messages[card_ts]
    assert card.edited == 6  # one chat.update per change the card shows (not the update)
    fields = json.dumps(card.blocks)
    assert "*Status*\\nresolved" in fields and "*Severity*\\nSEV1" in fields
    assert Action.ACKNOWLEDGE.value not in fields and Action.RESOLVE.value not in fields
    assert channel.topic == f"SEV1 · resolved · Commander: <@{ALICE}>"
    thread = [m.text for m in stack.slack.channels[stack.announce].messages.values()
              if m.thread_ts == stored.announce_ts]
    assert len(thread) == 5 and "rolling back v42" in thread[2] and "Resolved" in thread[4]
    assert len(channel.pins) == 1


def test_help_and_unknown_subcommands(stack: Stack) -> None:
    """help and unknown words answer with usage, privately, in the ack itself."""
    reply = stack.client.slash("help", user=ALICE, channel=stack.general)
    assert reply.json()["response_type"] == "ephemeral"
    assert "/incident declare" in reply.text and "SEV1, SEV2" in reply.text
    reply = stack.client.slash("dance <!here>", user=ALICE, channel=stack.general)
    assert reply.text.startswith("I don't know `dance`")
    assert stack.slack.calls_of("chat.postMessage") == []


def test_list_shows_open_incidents_only(stack: Stack) -> None:
    """/incident list answers privately with the open incidents and their channels."""
    first = declare(stack, "declare sev1 Payments down")
    declare(stack, "declare sev3 Slow reports")
    slash(stack, "resolve #2 fixed")
    reply = stack.client.slash("list", user=BOB, channel=stack.general)
    listing = stack.client.reply_to(reply)
    assert listing["response_type"] == "ephemeral"
    body = json.dumps(listing["blocks"])
    assert "Payments down" in body and f"<#{first.channel_id}>" in body
    assert "Slow reports" not in body


def test_modal_declare_with_description_and_commander(stack: Stack) -> None:
    """/incident declare with no title opens a form; submitting it declares the incident."""
    reply = stack.client.slash("declare", user=ALICE, channel=stack.general)
    assert reply.status == 200
    view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
    assert view["callback_id"] == Callback.DECLARE
    values = {
        Block.TITLE: {Field.TITLE: {"type": "plain_text_input", "value": "Search is empty"}},
        Block.SEVERITY: {Field.SEVERITY: {"type": "static_select",
                                          "selected_option": {"value": "SEV2"}}},
        Block.DESCRIPTION: {Field.DESCRIPTION: {"type": "plain_text_input",
                                                "value": "Index <!here> lost"}},
        Block.COMMANDER: {Field.COMMANDER: {"type": "users_select", "selected_user": BOB}},
    }
    submitted = stack.client.submit(view, values, user=ALICE)
    assert submitted.status == 200 and submitted.body == ""
    ephemeral = stack.slack.wait_for(lambda: stack.slack.ephemerals)
    assert "Declared incident *#1*" in ephemeral[0]["text"]
    incident = stack.incident()
    assert (incident.title, incident.severity, incident.roles) == (
        "Search is empty", "SEV2", {"commander": BOB})
    assert incident.description == "Index <!here> lost"
    assert {ALICE, BOB} <= stack.slack.channels[incident.channel_id].members
    assert "<!here>" not in all_text(stack)


def test_modal_with_empty_title_shows_field_error(stack: Stack) -> None:
    """A form without a title is answered with a field error; nothing is declared."""
    stack.client.slash("declare", user=ALICE, channel=stack.general)
    view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
    reply = stack.client.submit(view, {Block.TITLE: {Field.TITLE: {"value": "   "}}}, user=ALICE)
    assert reply.json() == {"response_action": "errors",
                            "errors": {Block.TITLE: "Give the incident a title."}}
    assert stack.incident() is None


@pytest.mark.parametrize("text, fragment", [
    ("declare sev9 Broken", "I don't know severity"),
    ("declare " + "x" * 200, "keep it under 151"),
    ("status #1 exploding", "I don't know status"),
    ("role #1 comms", "Who should be comms?"),
    ("ack", "isn't an incident channel"),
    ("severity #7 sev1", "There is no incident #7"),
])
def test_bad_input_gets_a_private_explanation_and_changes_nothing(
    stack: Stack, text: str, fragment: str
) -> None:
    """Bad input: a friendly ephemeral reply; the database and Slack are untouched."""
    declare(stack, "declare sev3 Baseline")
    calls_before = len(stack.slack.calls)
    events_before = len(stack.incident().events)
    message = slash(stack, text)
    assert fragment in message
    assert len(stack.incident().events) == events_before
    assert stack.incident(2) is None
    assert len(stack.slack.calls) == calls_before


def test_mass_mentions_and_markup_are_neutralised(stack: Stack) -> None:
    """A title or update with <!channel>, <!here> or markup never reaches Slack as a ping."""
    incident = declare(stack, "declare <!channel> db &lt;b&gt;down&lt;/b&gt; &amp; <!here>")
    assert incident.title == "@channel db <b>down</b> & @here"
    slash(stack, "update <!everyone> still down <https://evil.example|click>",
          channel=incident.channel_id)
    sent = all_text(stack)
    for forbidden in ("<!channel>", "<!here>", "<!everyone>", "<https://evil"):
        assert forbidden not in sent
    markup = mrkdwn_texts([c.args for c in stack.slack.calls])
    assert markup and not any("<b>" in t for t in markup)  # plain_text headers may show it
    assert any("@channel db &lt;b&gt;down&lt;/b&gt; &amp; @here" in t for t in markup)
    assert not any("&amp;amp;" in t for t in markup)  # escaped once, not twice


def test_requests_with_bad_signatures_are_rejected(stack: Stack) -> None:
    """Wrong secret, stale timestamp or missing headers: 401 and nothing happens."""
    client = stack.client
    assert client.slash("declare sev1 x", user=ALICE, secret="wrong").status == 401
    assert client.slash("declare sev1 x", user=ALICE,
                        timestamp=int(time.time()) - 6 * 60).status == 401
    assert client.slash("declare sev1 x", user=ALICE, signed=False).status == 401
    future = client.slash("declare sev1 x", user=ALICE, timestamp=int(time.time()) + 6 * 60)
    assert future.status == 401
    assert stack.slack.calls_of("conversations.create", ok_only=False) == []
    assert stack.incident() is None


def test_replayed_body_with_a_new_timestamp_is_rejected(stack: Stack) -> None:
    """A captured signature does not validate the same body under another timestamp."""
    from urllib.parse import urlencode

    from bot.standin.client import sign

    body = urlencode({"command": "/incident", "text": "declare x", "user_id": ALICE}).encode()
    old = str(int(time.time()) - 10)
    headers = {"X-Slack-Signature": sign(stack.client.secret, old, body),
               "X-Slack-Request-Timestamp": str(int(time.time()))}
    reply = stack.client.post(body, "application/x-www-form-urlencoded", signed=False,
                              headers=headers)
    assert reply.status == 401 and stack.incident() is None


def test_channel_creation_failure_then_retry(stack: Stack) -> None:
    """Slack refusing the channel: the incident is kept, the user is told, retry finishes it."""
    stack.slack.fail("conversations.create", "restricted_action")
    message = slash(stack, "declare sev1 Login broken")
    assert "stopped at creating its channel" in message and "restricted_action" in message
    incident = stack.incident()
    assert incident is not None and incident.channel_id is None
    assert stack.slack.calls_of("chat.postMessage") == []
    message = slash(stack, "retry #1")
    assert "Declared incident *#1*" in message
    incident = stack.incident()
    assert incident.channel_id in stack.slack.channels
    assert len(stack.slack.calls_of("conversations.create")) == 1


def test_name_taken_gets_a_suffix(stack: Stack) -> None:
    """An existing channel with the planned name makes the bot pick `-2`."""
    taken = f"inc-{datetime.now(UTC):%Y%m%d}-1-dns"
    stack.slack.add_channel(taken)
    incident = declare(stack, "declare DNS")
    assert incident.channel_name == taken + "-2"


def test_rate_limited_announcement_is_retried_once(stack: Stack) -> None:
    """HTTP 429 with Retry-After is waited out; the announcement is posted exactly once."""
    stack.slack.rate_limit("chat.postMessage", retry_after=1, times=1)
    incident = declare(stack)
    assert incident.card_ts is not None and incident.announce_ts is not None
    posted = stack.slack.calls_of("chat.postMessage")
    assert len(posted) == 2  # the card and the announcement, each once
    assert len(stack.slack.calls_of("chat.postMessage", ok_only=False)) == 3


def test_concurrent_declares_get_distinct_numbers_and_channels(stack: Stack) -> None:
    """Eight people declaring at the same moment get incidents 1..8, each with its own channel."""
    barrier = threading.Barrier(8)
    messages: list[str] = []

    def one(i: int) -> None:
        barrier.wait(timeout=10)
        messages.append(slash(stack, f"declare sev2 Outage {i}", user=ALICE))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(messages) == 8 and all("Declared incident" in m for m in messages)
    with stack.runtime.deps.uow() as tx:
        incidents = tx.incidents.list()
    assert sorted(i.number for i in incidents) == list(range(1, 9))
    assert len({i.channel_id for i in incidents}) == 8


def test_declare_under_a_frozen_clock(engine: Engine) -> None:
    """Times come from the one clock: a frozen 'now' names the channel and stamps the record."""
    with freeze_time("2026-03-29 00:59:58", tick=True):
        stack = start_stack(engine)
        try:
            incident = declare(stack, "declare sev1 Clocks changed")
            assert incident.channel_name == "inc-20260329-1-clocks-changed"
            assert abs((incident.declared_at - datetime(2026, 3, 29, 0, 59, 58, tzinfo=UTC))
                       .total_seconds()) < 30
        finally:
            stack.close()


def test_database_failure_is_apologised_for_and_nothing_half_written(stack: Stack) -> None:
    """If the database breaks mid-command, the person gets an apology and Slack sees nothing."""
    incident = declare(stack)
    calls_before = len(stack.slack.calls)
    with stack.runtime.engine.begin() as conn:
        conn.execute(text("DROP TABLE incident_events"))
    reply = stack.client.slash("status monitoring", user=ALICE, channel=incident.channel_id)
    assert reply.status == 200
    assert "Sorry, something went wrong" in stack.client.reply_to(reply)["text"]
    with stack.runtime.engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM incidents")).scalar_one()
    assert status == "investigating"
    assert len(stack.slack.calls) == calls_before


def test_malformed_payloads_never_crash(stack: Stack) -> None:
    """Garbage interactivity payloads and odd events are answered, never a 5xx."""
    client = stack.client
    for payload in ({"type": "block_actions", "actions": [{"action_id": Action.RESOLVE}]},
                    {"type": "block_actions", "user": {"id": ALICE},
                     "actions": [{"action_id": Action.SET_STATUS, "selected_option": {
                         "value": "1:flying"}}], "response_url": stack.slack.response_url()},
                    {"type": "view_submission", "view": {"callback_id": Callback.DECLARE}}):
        assert client.interactive(payload).status < 500
    body = b"payload=%7Bnot-json"
    assert client.post(body, "application/x-www-form-urlencoded").status < 500
    reply = client.event({"type": "reaction_added", "user": ALICE, "reaction": "eyes"})
    assert reply.status == 200
    assert stack.incident() is None


def test_url_verification_and_healthz(stack: Stack) -> None:
    """Slack's URL check is echoed; /healthz answers 200 while the database is reachable."""
    reply = stack.client.post(
        json.dumps({"type": "url_verification", "challenge": "c-123", "token": ""}).encode(),
        "application/json")
    assert reply.status == 200 and "c-123" in reply.body
    with urllib.request.urlopen(stack.server.url + "/healthz", timeout=5) as response:
        assert response.status == 200 and json.load(response)["ok"] is True


def test_healthz_reports_an_unreachable_database(stack: Stack, tmp_path: Any) -> None:
    """With the database gone, /healthz answers 503."""
    broken = make_engine(f"sqlite:///{tmp_path}/missing/dir/x.db")
    server = HttpServer(make_wsgi_app(stack.runtime.app, lambda: is_reachable(broken))).start()
    try:
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(server.url + "/healthz", timeout=5)
        assert info.value.code == 503
        assert json.load(info.value)["database"] == "unreachable"
        info.value.close()
    finally:
        server.stop()
        broken.dispose()


def test_missing_announcement_channel_is_reported_not_fatal(engine: Engine) -> None:
    """If the announcement channel does not exist, the incident still opens and the reply says why."""
    from bot.config import DebriefConfig

    stack = start_stack(engine, DebriefConfig(announce_channel="#does-not-exist"))
    try:
        message = slash(stack, "declare sev2 Queue stuck")
        assert "Declared incident *#1*" in message
        assert "announcement in #does-not-exist: `channel_not_found`" in message
        incident = stack.incident()
        assert incident.card_ts is not None and incident.announce_ts is None
    finally:
        stack.close()


def test_an_archived_incident_channel_is_unarchived_for_a_change(stack: Stack) -> None:
    """Someone archived the incident channel: a change unarchives it and is posted."""
    incident = declare(stack)
    stack.slack.channels[incident.channel_id].is_archived = True
    message = slash(stack, "status #1 monitoring")
    assert message == "*#1* is now *monitoring*."
    assert stack.incident().status == "monitoring"
    assert stack.slack.channels[incident.channel_id].is_archived is False
    assert stack.slack.calls_of("conversations.unarchive")


def test_update_posts_the_update_but_leaves_an_unchanged_card_alone(stack: Stack) -> None:
    """`/incident update` shows nothing new on the summary card: no chat.update for
    nothing. A change the card shows (status) still updates it, once."""
    incident = declare(stack)
    channel = stack.slack.channels[incident.channel_id]
    card_before = channel.messages[incident.card_ts].blocks
    join(stack, incident.channel_id, CAROL)  # people in the channel may post updates
    updates = len(stack.slack.calls_of("chat.update"))
    assert "Update posted" in slash(stack, "update rolling back v42", user=CAROL,
                               channel=incident.channel_id)
    assert len(stack.slack.calls_of("chat.update")) == updates
    assert channel.messages[incident.card_ts].blocks == card_before
    assert any("rolling back v42" in m.text for m in channel.messages.values())
    slash(stack, "status identified bad deploy", channel=incident.channel_id)
    assert len(stack.slack.calls_of("chat.update")) == updates + 1
    assert channel.messages[incident.card_ts].text.endswith("SEV2, identified")


def test_retry_brings_a_card_left_stale_by_a_failed_update_up_to_date(stack: Stack) -> None:
    """A change whose card update Slack refused says to retry; the retry updates the card
    (later `/incident update`s would not: they leave an unchanged card alone)."""
    incident = declare(stack)
    channel = stack.slack.channels[incident.channel_id]
    stack.slack.fail("chat.update", "restricted_action")
    reply = slash(stack, "status identified bad deploy", channel=incident.channel_id)
    assert "Saved, but Slack didn't take every change" in reply and "retry" in reply
    assert channel.messages[incident.card_ts].text.endswith("SEV2, investigating")
    slash(stack, "update still rolling back", channel=incident.channel_id)
    assert channel.messages[incident.card_ts].text.endswith("SEV2, investigating")
    assert "failed" not in slash(stack, "retry", channel=incident.channel_id)
    assert channel.messages[incident.card_ts].text.endswith("SEV2, identified")
