"""`/incident retry` never duplicates: whatever step of the declare failed (Slack refusing,
or the database failing between Slack's answer and saving it), a retry over signed HTTP
finishes the incident with exactly one channel, card, pin and announcement, found in
Slack itself by name and message metadata when their ids never reached the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

from bot.domain.incidents import Incident
from bot.slack.gateway import ANNOUNCEMENT_EVENT, CARD_EVENT
from bot.standin.server import FakeSlack
from bot.standin.state import BOT_USER
from tests.conftest import Stack
from tests.helpers import ALICE, slash


class DatabaseCut:
    """Makes the database fail once, on the first UPDATE of `incidents` that writes
    `column`: the moment between Slack answering and Debrief saving what it answered."""

    def __init__(self, engine: Engine, column: str) -> None:
        self.engine, self.column, self.fired = engine, column, False
        event.listen(engine, "before_cursor_execute", self._maybe_fail)

    def _maybe_fail(self, conn: Any, cursor: Any, statement: str, parameters: Any,
                    context: Any, executemany: bool) -> None:
        head = statement.lstrip().upper()
        if (not self.fired and head.startswith("UPDATE INCIDENTS SET")
                and self.column.upper() in head.split(" WHERE ")[0]):
            self.fired = True
            raise OperationalError(statement, parameters, ConnectionError("database cut"))

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._maybe_fail)


@pytest.fixture
def cut(engine: Engine) -> Iterator[list[Any]]:
    """Database cuts a test installs; removed from the engine afterwards."""
    cuts: list[Any] = []
    yield cuts
    for c in cuts:
        c.remove()


def incident_channels(slack: FakeSlack) -> list[str]:
    with slack.lock:
        return [c.id for c in slack.channels.values() if c.name.startswith("inc-")]


def assert_finished_once(stack: Stack) -> Incident:
    """One channel, one card (pinned once), one announcement; the database has their ids."""
    slack = stack.slack
    incident = stack.incident()
    assert incident is not None
    assert incident_channels(slack) == [incident.channel_id]
    channel = slack.channels[incident.channel_id]
    assert channel.name == incident.channel_name
    cards = slack.messages_with_metadata(incident.channel_id, CARD_EVENT)
    assert [m.ts for m in cards] == [incident.card_ts]
    assert channel.pins == {incident.card_ts}
    assert len(slack.calls_of("pins.add")) == 1  # exactly one pin ever made
    announcements = slack.messages_with_metadata(stack.announce, ANNOUNCEMENT_EVENT)
    assert [m.ts for m in announcements] == [incident.announce_ts]
    assert incident.announce_channel_id == stack.announce
    assert ALICE in channel.members
    assert channel.topic.startswith("SEV2 · investigating")
    assert len(slack.calls_of("conversations.create")) == 1
    return incident


DB_STEPS = {
    "channel": ("channel_id", "saving its channel"),
    "card": ("card_ts", "saving the summary card"),
    "announcement": ("announce_ts", "saving the announcement"),
}


@pytest.mark.parametrize("step", list(DB_STEPS))
def test_database_cut_after_each_slack_step_then_retry_finishes_once(
        stack: Stack, engine: Engine, cut: list[DatabaseCut], step: str) -> None:
    """The database failing right after Slack made a piece: the declarer gets the number and
    the retry command; the retry adopts the piece instead of making a second one."""
    column, words = DB_STEPS[step]
    cut.append(DatabaseCut(engine, column))
    message = slash(stack, "declare sev2 Checkout errors")
    assert cut[0].fired
    assert message.startswith("Incident *#1* was recorded, but setting it up in Slack "
                              f"stopped at {words} (the database didn't save it: "
                              "`OperationalError`)."), message
    assert message.endswith("Run `/incident retry #1` to finish it.")
    assert getattr(stack.incident(), column) is None
    reply = slash(stack, "retry 1")
    assert reply.startswith("Declared incident *#1*"), reply
    assert "failed" not in reply
    assert_finished_once(stack)
    # A second retry finds nothing to do and makes nothing new.
    slash(stack, "retry 1")
    assert_finished_once(stack)


class AfterDeclareCut:
    """Makes the first statement on `incidents` after the new incident's INSERT fail once:
    the database going away right after the declaration was committed. (Set-up no longer
    reads the incident back, so that statement is the one saving its channel.)"""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.armed, self.fired = engine, False, False
        event.listen(engine, "before_cursor_execute", self._maybe_fail)

    def _maybe_fail(self, conn: Any, cursor: Any, statement: str, parameters: Any,
                    context: Any, executemany: bool) -> None:
        head = " ".join(statement.upper().split())
        if head.startswith("INSERT INTO INCIDENTS "):
            self.armed = True
        elif self.armed and not self.fired and " INCIDENTS " in f"{head} " \
                and not head.startswith("INSERT"):
            self.fired = True
            raise OperationalError(statement, parameters, ConnectionError("database cut"))

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._maybe_fail)


def test_database_gone_right_after_the_declaration_still_tells_the_number(
        stack: Stack, engine: Engine, cut: list[Any]) -> None:
    """The database failing right after the declaration was committed: #1 and the retry
    are still named (no generic apology), and the retry sets everything up once."""
    cut.append(AfterDeclareCut(engine))
    message = slash(stack, "declare sev2 Checkout errors")
    assert cut[0].fired
    assert message == ("Incident *#1* was recorded, but setting it up in Slack stopped at "
                       "saving its channel (the database didn't save it: `OperationalError`). "
                       "Run `/incident retry #1` to finish it.")
    slash(stack, "retry #1")
    assert_finished_once(stack)


SLACK_STEPS = {
    "channel": ("conversations.create", "restricted_action"),
    "invite": ("conversations.invite", "restricted_action"),
    "topic": ("conversations.setTopic", "restricted_action"),
    "card": ("chat.postMessage", "restricted_action"),
    "pin": ("pins.add", "restricted_action"),
}


@pytest.mark.parametrize("step", list(SLACK_STEPS))
def test_slack_failure_at_each_step_then_retry_finishes_once(stack: Stack, step: str) -> None:
    """Slack refusing any one set-up step: the reply names #1 and the retry; the retry
    completes it with one of everything."""
    method, code = SLACK_STEPS[step]
    stack.slack.fail(method, code)
    message = slash(stack, "declare sev2 Checkout errors")
    assert "#1" in message and "`/incident retry #1`" in message and code in message
    slash(stack, "retry #1")
    incident = stack.incident()
    if step == "pin":  # pins.add failed once, then the retry pinned it: two calls, one pin
        assert stack.slack.channels[incident.channel_id].pins == {incident.card_ts}
        assert len(stack.slack.calls_of("pins.add")) == 1
    assert_finished_once(stack)


def test_announcement_refused_then_retry_announces_once(stack: Stack) -> None:
    """The announcement refused (#incidents renamed away): the retry, once fixed, posts it once."""
    stack.slack.channels[stack.announce].name = "incidents-old"
    message = slash(stack, "declare sev2 Checkout errors")
    assert "announcement in #incidents: `channel_not_found`" in message
    assert "`/incident retry #1`" in message
    stack.slack.channels[stack.announce].name = "incidents"
    slash(stack, "retry #1")
    assert_finished_once(stack)


def test_channel_creation_refused_reply_names_the_step_and_retry(stack: Stack) -> None:
    """Slack refusing the channel: the declarer is told #N, the step, the reason, the retry."""
    stack.slack.fail("conversations.create", "restricted_action")
    message = slash(stack, "declare sev2 Checkout errors")
    assert message == (
        "Incident *#1* was recorded, but setting it up in Slack stopped at creating its "
        "channel (Slack said `restricted_action` (a workspace setting does not allow it)). "
        "Run `/incident retry #1` to finish it.")


def test_retry_does_not_adopt_someone_elses_channel_of_the_same_name(
        stack: Stack, engine: Engine, cut: list[DatabaseCut]) -> None:
    """A same-named channel made by a person stays theirs: the retry adopts only the bot's `-2`."""
    taken = f"inc-{datetime.now(UTC):%Y%m%d}-1-checkout-errors"
    theirs = stack.slack.add_channel(taken)
    cut.append(DatabaseCut(engine, "channel_id"))
    slash(stack, "declare sev2 Checkout errors")
    slash(stack, "retry #1")
    incident = stack.incident()
    assert incident.channel_name == taken + "-2" and incident.channel_id != theirs
    assert stack.slack.channels[theirs].messages == {}
    assert stack.slack.channel_named(taken + "-3") is None
    assert len(stack.slack.calls_of("conversations.create")) == 1


def test_retry_does_not_adopt_a_bot_channel_holding_another_incidents_card(
        stack: Stack, engine: Engine, cut: list[DatabaseCut]) -> None:
    """A bot-made channel of the same name with an older incident #1's card (a database
    restored from backup) is not this incident's: the retry moves on to `-2`."""
    taken = f"inc-{datetime.now(UTC):%Y%m%d}-1-checkout-errors"
    old = stack.slack.add_channel(taken)
    stack.slack.channels[old].creator = BOT_USER
    client = WebClient(token=stack.slack.token, base_url=stack.slack.api_url)
    client.chat_postMessage(channel=old, text="old card", metadata={
        "event_type": CARD_EVENT, "event_payload": {"incident": 1, "declared": "1.000000"}})
    cut.append(DatabaseCut(engine, "channel_id"))
    slash(stack, "declare sev2 Checkout errors")
    slash(stack, "retry #1")
    assert stack.incident().channel_name == taken + "-2"
    assert len(stack.slack.channels[old].messages) == 1


def test_announcement_look_up_is_bounded_by_the_declaration(
        stack: Stack, engine: Engine, cut: list[DatabaseCut]) -> None:
    """The busy announcement channel is read only since the declaration, with metadata."""
    for n in range(30):
        stack.slack.human_message(stack.announce, "U02BOB", f"older chatter {n}")
    cut.append(DatabaseCut(engine, "announce_ts"))
    slash(stack, "declare sev2 Checkout errors")
    for n in range(30):
        stack.slack.human_message(stack.announce, "U02BOB", f"later chatter {n}")
    slash(stack, "retry #1")
    incident = assert_finished_once(stack)
    reads = [c.args for c in stack.slack.calls_of("conversations.history")
             if c.args["channel"] == stack.announce]
    assert reads and all(str(a.get("include_all_metadata")).lower() in ("1", "true")
                         for a in reads)
    oldest = float(reads[0]["oldest"])
    assert oldest <= incident.declared_at.timestamp() <= oldest + 600


def test_standin_returns_metadata_only_when_asked(stack: Stack) -> None:
    """Like Slack, conversations.history shows message metadata only with include_all_metadata."""
    client = WebClient(token=stack.slack.token, base_url=stack.slack.api_url)
    meta = {"event_type": "x_made", "event_payload": {"id": 7}}
    posted = client.chat_postMessage(channel=stack.general, text="hi", metadata=meta)
    plain = client.conversations_history(channel=stack.general)["messages"]
    assert "metadata" not in plain[0]
    full = client.conversations_history(channel=stack.general, include_all_metadata=True)
    assert full["messages"][0]["metadata"] == meta and full["messages"][0]["ts"] == posted["ts"]
    later = client.conversations_history(channel=stack.general, oldest=posted["ts"])
    assert later["messages"] == []  # `oldest` is exclusive unless `inclusive`
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel=stack.general, text="x", metadata={"event_type": "x"})
    assert refused.value.response["error"] == "invalid_metadata_schema"


def test_two_concurrent_retries_make_one_of_everything(stack: Stack) -> None:
    """`/incident retry` sent twice at once (a double submit) still finishes with one
    channel, one card, one pin and one announcement; the second says it is under way."""
    stack.slack.fail("conversations.create", "restricted_action")
    assert "`/incident retry #1`" in slash(stack, "declare sev2 Checkout errors")
    # Both retries in flight together: each one's posts take a moment to land.
    stack.slack.delay("conversations.create", 0.3, times=2)
    stack.slack.delay("chat.postMessage", 0.5, times=4)
    replies = [stack.client.slash("retry #1", user=ALICE, channel=stack.general)
               for _ in range(2)]
    answers = sorted(str(stack.client.reply_to(r).get("text", "")) for r in replies)
    assert answers[0].startswith("Declared incident *#1*"), answers
    assert answers[1].startswith("Incident *#1* is being set up right now."), answers
    assert_finished_once(stack)


def test_retry_finds_the_announcement_in_a_channel_the_bot_never_joined(
        stack: Stack, engine: Engine, cut: list[DatabaseCut]) -> None:
    """The bot announces in #incidents without joining it (chat:write.public); after the
    database lost the announcement's ts, the retry still finds it instead of posting twice."""
    stack.slack.channels[stack.announce].members.discard(BOT_USER)
    cut.append(DatabaseCut(engine, "announce_ts"))
    assert "`/incident retry #1`" in slash(stack, "declare sev2 Checkout errors")
    slash(stack, "retry #1")
    assert_finished_once(stack)


def test_form_declare_from_a_channel_the_bot_cannot_see_still_tells_the_number(
        stack: Stack) -> None:
    """The declare form opened in a DM the bot is not in, and the channel refused: the
    declarer still gets #1 and the retry command (in the app's DM), not silence."""
    from bot.slack.ids import Block, Field

    stack.slack.fail("conversations.create", "restricted_action")
    stack.client.slash("declare", user=ALICE, channel="D0ELSEWHERE")
    view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
    values = {Block.TITLE: {Field.TITLE: {"type": "plain_text_input", "value": "Search down"}},
              Block.SEVERITY: {Field.SEVERITY: {"type": "static_select",
                                                "selected_option": {"value": "SEV2"}}}}
    assert stack.client.submit(view, values, user=ALICE).status == 200
    told = stack.slack.wait_for(lambda: [
        c.args for c in stack.slack.calls_of("chat.postMessage")
        if c.args.get("channel") == ALICE and "#1" in str(c.args.get("text"))], timeout=5)
    assert "`/incident retry #1`" in told[0]["text"]


@pytest.mark.parametrize("posts_before", [0, 1])
def test_slack_failing_after_posting_does_not_make_a_second_post(
        stack: Stack, posts_before: int) -> None:
    """Slack posts the card (0) or the announcement (1) and then answers HTTP 500: the
    post is not blindly sent again (the SDK retries 5xx); it is found by its metadata."""
    stack.slack.lose_answer("chat.postMessage", after=posts_before)
    message = slash(stack, "declare sev2 Checkout errors")
    assert message.startswith("Declared incident *#1*"), message
    assert_finished_once(stack)
    slash(stack, "retry #1")
    assert_finished_once(stack)


def test_slack_failing_after_creating_the_channel_does_not_make_a_second(stack: Stack) -> None:
    """Slack creates the channel and then answers HTTP 500: the declare adopts that
    channel (made by the bot, no other incident's card) instead of making `…-2`."""
    stack.slack.lose_answer("conversations.create")
    message = slash(stack, "declare sev2 Checkout errors")
    assert message.startswith("Declared incident *#1*"), message
    assert_finished_once(stack)


def test_declare_moves_on_when_a_same_named_bot_channel_cannot_be_read(stack: Stack) -> None:
    """A bot-made channel of the same name the bot was since removed from (an old incident
    #1, a restored database) cannot be checked: the declare makes `…-2` instead of failing."""
    taken = f"inc-{datetime.now(UTC):%Y%m%d}-1-checkout-errors"
    old = stack.slack.add_channel(taken, bot_member=False)
    stack.slack.channels[old].creator = BOT_USER
    message = slash(stack, "declare sev2 Checkout errors")
    assert message.startswith("Declared incident *#1*"), message
    assert stack.incident().channel_name == taken + "-2"
