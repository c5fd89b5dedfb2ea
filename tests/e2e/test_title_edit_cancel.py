"""Corrections end to end: `/incident title`, the edit form, `/incident cancel` and test
incidents (`declare --test`, the form's checkbox). Each shows the pinned card, the channel
topic, the announcement, the timeline (who and when), the postmortem and the stats follow."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from freezegun import freeze_time
from sqlalchemy import Engine

from bot.cli.incidents import format_incident_list
from bot.config import parse_config
from bot.services.reminders import send_due
from bot.services.reports import incident_list
from bot.services.stats import incident_stats
from bot.slack.ids import Block, Callback, Field
from tests.conftest import Stack, start_stack
from tests.helpers import ALICE, BOB, declare, join, slash


def card(stack: Stack, number: int = 1) -> str:
    incident = stack.incident(number)
    return json.dumps(stack.slack.channels[incident.channel_id].messages[incident.card_ts].blocks)


def announcement(stack: Stack, number: int = 1) -> str:
    incident = stack.incident(number)
    return stack.slack.channels[stack.announce].messages[incident.announce_ts].text


def topic(stack: Stack, number: int = 1) -> str:
    return stack.slack.channels[stack.incident(number).channel_id].topic


def timeline(stack: Stack, number: int = 1) -> str:
    reply = stack.client.slash(f"timeline #{number}", user=ALICE)
    return json.dumps(stack.client.reply_to(reply))


def stats(stack: Stack) -> Any:
    deps = stack.runtime.deps
    return incident_stats("all", uow=deps.uow, config=deps.config, now=deps.now())


def listing(stack: Stack) -> str:
    return json.dumps(stack.client.reply_to(stack.client.slash("list", user=ALICE)))


def test_title_follows_everywhere(stack: Stack) -> None:
    """`/incident title`: the card's header, the announcement, the timeline (who, when)
    and the postmortem draft all show the new title; the channel hears of it."""
    with freeze_time("2026-11-26 10:00:00", tick=True):
        channel = declare(stack).channel_id
        reply = slash(stack, "title Checkout errors in EU only", channel=channel)
        assert "#1" in reply and not reply.startswith(":no_entry:")
    stored = stack.incident()
    assert stored.title == "Checkout errors in EU only"
    [edited] = [e for e in stored.events if e.kind == "edited"]
    assert (edited.actor, edited.detail) == (ALICE, {"title": "Checkout errors in EU only",
                                                     "title_was": "Checkout errors"})
    assert edited.at.date() == datetime(2026, 11, 26, tzinfo=UTC).date()
    assert "#1 Checkout errors in EU only" in card(stack)
    assert "*Checkout errors in EU only*" in announcement(stack)
    assert "Corrected title: Checkout errors \\u2192 Checkout errors in EU only" in \
        timeline(stack)
    said = [m.text for m in stack.slack.channels[channel].messages.values()]
    assert any("corrected the incident: title *Checkout errors* → *Checkout errors in EU "
               "only*" in t for t in said)
    slash(stack, "resolve fixed", channel=channel)
    slash(stack, "postmortem", channel=channel)
    [upload] = [f for f in stack.slack.files.values() if f["shared_in"]]
    assert "Checkout errors in EU only" in upload["content"]
    assert "Corrected title" in upload["content"]
    # The channel keeps its name unless `rename_channel` is set.
    assert stack.slack.channels[channel].name == "inc-20261126-1-checkout-errors"
    assert not stack.slack.calls_of("conversations.rename", ok_only=False)
    # The same title again is not a correction: nothing recorded.
    assert "already says that" in slash(stack, "title Checkout errors in EU only",
                                        channel=channel)


def test_rename_channel_follows_the_title_when_configured(engine: Engine) -> None:
    """`rename_channel: true`: the channel takes the corrected title's name, `-2` when
    that name is taken, and the stored channel name follows."""
    with freeze_time("2026-11-26 10:00:00", tick=True):
        stack = start_stack(engine, parse_config({"rename_channel": True}))
        try:
            channel = declare(stack).channel_id
            stack.slack.add_channel("inc-20261126-1-payments-down")  # someone else's
            slash(stack, "title Payments down", channel=channel)
            assert stack.slack.channels[channel].name == "inc-20261126-1-payments-down-2"
            assert stack.incident().channel_name == "inc-20261126-1-payments-down-2"
            assert "Payments down" in card(stack) and len(stack.slack.channels) == 4
        finally:
            stack.close()


def test_edit_form_prefilled_and_followed(stack: Stack) -> None:
    """`/incident edit` opens the form filled in with what the incident says; saving it
    records one correction, and card, topic, announcement, timeline and stats follow."""
    channel = declare(stack, "declare sev3 Slow search").channel_id
    stack.client.slash("edit", user=ALICE, channel=channel)
    view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
    assert view["callback_id"] == Callback.EDIT and view["private_metadata"] == "1"
    blocks = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert blocks[Block.TITLE]["initial_value"] == "Slow search"
    assert blocks[Block.SEVERITY]["initial_option"]["value"] == "SEV3"
    assert stats(stack).by_severity.get("SEV3") == 1
    values = {
        Block.TITLE: {Field.TITLE: {"type": "plain_text_input", "value": "Search is down"}},
        Block.SEVERITY: {Field.SEVERITY: {"type": "static_select",
                                          "selected_option": {"value": "SEV1"}}},
        Block.DESCRIPTION: {Field.DESCRIPTION: {"type": "plain_text_input",
                                                "value": "No results for anyone"}},
        Block.SUMMARY: {Field.SUMMARY: {"type": "plain_text_input", "value": ""}},
    }
    submitted = stack.client.submit(view, values, user=ALICE)
    assert submitted.status == 200 and submitted.body == ""
    stack.slack.wait_for(lambda: stack.incident().title == "Search is down")
    stack.slack.wait_for(lambda: stack.slack.ephemerals)
    stored = stack.incident()
    assert (stored.severity, stored.description) == ("SEV1", "No results for anyone")
    [edited] = [e for e in stored.events if e.kind == "edited"]
    assert edited.actor == ALICE and edited.detail["severity_was"] == "SEV3"
    stack.slack.wait_for(lambda: topic(stack).startswith("SEV1 ·"))
    stack.slack.wait_for(lambda: "*SEV1*" in announcement(stack))
    assert "Search is down" in card(stack) and "*Severity*\\nSEV1" in card(stack)
    assert "No results for anyone" in card(stack)
    assert "Corrected title: Slow search" in timeline(stack)
    assert stats(stack).by_severity.get("SEV1") == 1 and "SEV3" not in stats(stack).by_severity


def test_edit_form_is_refused_to_others(stack: Stack) -> None:
    """Only the commander (or an admin) gets the form; a submission from anyone else (a
    form opened before the commander changed) is refused privately and changes nothing."""
    channel = declare(stack).channel_id
    join(stack, channel, BOB)
    assert slash(stack, "edit", user=BOB, channel=channel).startswith(":no_entry:")
    assert stack.slack.views == []
    stack.client.slash("edit", user=ALICE, channel=channel)
    view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
    values = {Block.TITLE: {Field.TITLE: {"type": "plain_text_input", "value": "Renamed"}}}
    assert stack.client.submit(view, values, user=BOB).status == 200
    dm = stack.slack.wait_for(lambda: [m for c in stack.slack.channels.values()
                                       for m in c.messages.values()
                                       if m.text.startswith(":no_entry:")])
    assert "correct this incident" in dm[0].text
    assert stack.incident().title == "Checkout errors"


def test_cancel_keeps_it_for_audit_but_out_of_lists_and_stats(stack: Stack) -> None:
    """`/incident cancel`: closed, marked CANCELLED on card, topic and announcement, the
    reason in the timeline, no longer listed nor counted; still readable."""
    channel = declare(stack, "declare sev1 Oops wrong button").channel_id
    declare(stack, "declare sev2 Real outage")
    assert stats(stack).by_severity == {"SEV1": 1, "SEV2": 1}
    assert "Oops wrong button" in listing(stack)
    slash(stack, "cancel declared by mistake", channel=channel)
    stored = stack.incident()
    assert stored.is_cancelled and stored.resolved_at is not None
    assert "[CANCELLED] #1 Oops wrong button" in card(stack)
    assert topic(stack).startswith("CANCELLED · SEV1 · resolved")
    assert "[CANCELLED]" in announcement(stack)
    assert "Cancelled (declared by mistake): declared by mistake" in timeline(stack)
    assert "Oops wrong button" not in listing(stack) and "Real outage" in listing(stack)
    assert stats(stack).by_severity == {"SEV2": 1}
    assert "already cancelled" in slash(stack, "cancel", channel=channel)
    # Kept for audit: the CLI still lists it, marked.
    rows = incident_list(uow=stack.runtime.deps.uow)
    assert [(r["number"], r["cancelled"], r["test"]) for r in rows] == [(1, True, False),
                                                                         (2, False, False)]
    assert "[CANCELLED] Oops wrong button" in format_incident_list(rows)
    # A cancelled incident reopened is counted again.
    slash(stack, "status investigating back after all", channel=channel)
    assert stats(stack).by_severity == {"SEV1": 1, "SEV2": 1}


def test_test_incidents_are_drills(engine: Engine) -> None:
    """`declare --test` and the form's checkbox: announced and carded as TEST, left out of
    `/incident list`, stats and reminders."""
    with freeze_time("2026-11-26 10:00:00", tick=True):
        stack = start_stack(engine)
        try:
            drill = declare(stack, "declare --test sev1 Failover drill")
            assert drill.is_test
            assert "[TEST] #1 Failover drill" in card(stack)
            assert "[TEST]" in announcement(stack) and topic(stack).startswith("TEST ·")
            stack.client.slash("declare", user=ALICE, channel=stack.general)
            view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views
                                        else None)
            values = {
                Block.TITLE: {Field.TITLE: {"type": "plain_text_input", "value": "Form drill"}},
                Block.TEST: {Field.TEST: {"type": "checkboxes",
                                          "selected_options": [{"value": "test"}]}},
            }
            assert stack.client.submit(view, values, user=ALICE).status == 200
            stack.slack.wait_for(lambda: stack.incident(2) and stack.incident(2).announce_ts)
            assert stack.incident(2).is_test
            declare(stack, "declare sev2 Real outage")
            text = listing(stack)
            assert "Real outage" in text and "drill" not in text
            assert stats(stack).by_severity == {"SEV2": 1}
            # An action item of a drill due today reminds nobody; a real one does.
            for number, what in ((1, "Drill item"), (3, "Real item")):
                channel = stack.incident(number).channel_id
                slash(stack, f"action {what} <@U01ALICE|alice> due 2026-11-27", channel=channel)
            sent = send_due(stack.runtime.deps, datetime(2026, 11, 27, 9, 1, tzinfo=UTC))
            reminded = [k for k in sent if k.startswith("action-due")]
            assert len(reminded) == 1
            with stack.runtime.deps.uow() as tx:
                [real] = tx.action_items.for_incident(3)
            assert reminded == [f"action-due:{real.id}:2026-11-27"]
        finally:
            stack.close()


def test_edit_form_keeps_what_it_did_not_send(stack: Stack) -> None:
    """A submission whose state lacks a field (Slack sends only the blocks it has) leaves
    that field alone: no silent fall-back to the default severity."""
    channel = declare(stack, "declare sev1 Payments down").channel_id
    stack.client.slash("edit", user=ALICE, channel=channel)
    view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
    values = {Block.TITLE: {Field.TITLE: {"type": "plain_text_input", "value": "Payments slow"}}}
    assert stack.client.submit(view, values, user=ALICE).status == 200
    stack.slack.wait_for(lambda: stack.incident().title == "Payments slow")
    stored = stack.incident()
    assert stored.severity == "SEV1"
    [edited] = [e for e in stored.events if e.kind == "edited"]
    assert set(edited.detail) == {"title", "title_was"}
