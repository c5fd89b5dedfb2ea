"""Corrections end to end (issue 12): edit or remove a note, hide a timeline entry from
the postmortem, and change or remove an action item; each allowed for the author (or
owner / creator) and the commander, refused for anyone else with nothing changed; the
timeline page, postmortem, card and stats follow."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from freezegun import freeze_time

from tests.conftest import Stack
from tests.helpers import ALICE, BOB, CAROL, declare, join, slash, uploaded


def _entries(stack: Stack, number: int = 1) -> list[Any]:
    with stack.runtime.deps.uow() as tx:
        return tx.timeline.entries(number)


def _note_id(reply: str) -> int:
    return int(reply.split("(note ", 1)[1].split(":", 1)[0])


def _postmortem(stack: Stack, channel: str) -> str:
    slash(stack, "postmortem", channel=channel)
    return str(uploaded(stack)[-1]["content"])


def test_edit_delete_and_hide_notes(stack: Stack) -> None:
    """Bob edits his own note, Carol may not; the commander (Alice) removes one and hides a
    pinned message from the postmortem, which then leaves them out; all kept for audit."""
    incident = declare(stack)  # Alice commands
    channel = incident.channel_id
    slash(stack, f"role comms <@{BOB}|bob>", channel=channel)
    first = _note_id(slash(stack, "note paged teh DB team", user=BOB, channel=channel))
    second = _note_id(slash(stack, "note wrong incident, ignore", user=BOB, channel=channel))
    clue = stack.client.say(channel, CAROL, "secret customer name in this message")
    stack.client.pin(channel, clue, CAROL)
    stack.slack.wait_for(lambda: any(e.pinned for e in _entries(stack)))
    pinned = next(e for e in _entries(stack) if e.pinned)

    refused = slash(stack, f"note edit {first} Carol was here", user=CAROL, channel=channel)
    assert refused.startswith(":no_entry: You can't change or hide that timeline entry: "
                              "only whoever wrote it (<@U02BOB>), its commander (<@U01ALICE>)")
    assert slash(stack, f"note edit {first} paged the DB team", user=BOB, channel=channel) == (
        f"Note {first} on *#1* now reads as you wrote it.")
    assert "Removed note" in slash(stack, f"note delete {second}", channel=channel)
    assert "hidden from *#1*'s postmortem" in slash(stack, f"hide {pinned.id}", channel=channel)
    assert "only whoever wrote it (<@U03CAROL>)" in slash(stack, f"unhide {pinned.id}",
                                                          user=BOB, channel=channel)
    assert "is a chat message" in slash(stack, f"note edit {pinned.id} x", channel=channel)
    assert "has no timeline entry 999" in slash(stack, "note delete 999", channel=channel)

    entries = {e.id: e for e in _entries(stack)}
    assert entries[first].text == "paged the DB team"
    assert entries[first].history[0]["text"] == "paged teh DB team"
    assert entries[second].deleted and entries[second].text == "wrong incident, ignore"
    assert entries[pinned.id].hidden and entries[pinned.id].history[-1]["by"] == ALICE

    page = json.dumps(stack.client.reply_to(stack.client.slash(
        "timeline", user=ALICE, channel=channel)))
    assert f"`{first}`" in page and "paged the DB team" in page and "teh" not in page
    assert "wrong incident" not in page and "_(hidden from the postmortem)_" in page

    content = _postmortem(stack, channel)
    assert "paged the DB team" in content and "teh DB" not in content
    assert "wrong incident" not in content and "secret customer name" not in content
    slash(stack, f"unhide {pinned.id}", channel=channel)
    assert "secret customer name" in _postmortem(stack, channel)


def test_change_and_remove_action_items(stack: Stack) -> None:
    """Owner, creator or commander may reassign, re-date, retype, reword or remove an item;
    each change is an event on the timeline and in the channel; the card, the item list,
    the postmortem and stats follow; anyone else is refused and nothing changes."""
    with freeze_time("2026-12-01 10:00:00", tick=True):
        incident = declare(stack)  # Alice commands
        channel, card_ts = incident.channel_id, incident.card_ts
        join(stack, channel, BOB)  # adding items is for the people in the channel
        added = slash(stack, "action Add a canary stage type detect", user=BOB, channel=channel)
        assert added.startswith("Action item 1 added:")
        slash(stack, f"action Page the DB team earlier <@{CAROL}|carol>", channel=channel)

        refused = slash(stack, "action delete 2", user=BOB, channel=channel)
        assert refused.startswith(":no_entry: You can't change, close or reopen this action "
                                  "item: only its owner (<@U03CAROL>), whoever created it")
        assert slash(stack, f"action owner 1 <@{CAROL}|carol>", user=BOB, channel=channel
                     ).startswith("Action item 1 reassigned on *#1*")
        slash(stack, "action due 1 2026-12-15", user=CAROL, channel=channel)  # now the owner
        slash(stack, "action type 1 prevent", channel=channel)  # the commander
        slash(stack, "action text 1 Add a canary stage to deploys", user=BOB, channel=channel)
        assert "removed on *#1*" in slash(stack, "action delete 2", user=CAROL, channel=channel)
        assert "has no action item 7" in slash(stack, "action type 7 detect", channel=channel)

        with stack.runtime.deps.uow() as tx:
            items = tx.action_items.for_incident(1)
        assert [(i.id, i.text, i.owner, i.due_on, i.type) for i in items] == [
            (1, "Add a canary stage to deploys", CAROL, date(2026, 12, 15), "prevent")]
        stored = stack.incident()
        changes = [(e.actor, e.detail["field"]) for e in stored.events
                   if e.kind == "action_item"]
        assert changes == [(BOB, "owner"), (CAROL, "due"), (ALICE, "type"), (BOB, "text"),
                           (CAROL, "deleted")]
        card = stack.slack.channels[channel].messages[card_ts]
        assert "*Action items*\\n1 open of 1" in json.dumps(card.blocks)
        said = [m.text for m in stack.slack.channels[channel].messages.values()]
        assert any("reassigned to <@U03CAROL>" in t for t in said)
        listing = json.dumps(stack.client.reply_to(stack.client.slash(
            "actions", user=ALICE, channel=channel)))
        assert "Page the DB team" not in listing and "`1`" in listing
        content = _postmortem(stack, channel)
        assert "Add a canary stage to deploys" in content and "Page the DB team" not in content
        stats = json.dumps(stack.client.reply_to(stack.client.slash(
            "stats all", user=ALICE, channel=channel)), ensure_ascii=False)
        assert "*Action items*\\n1 open · 0 overdue" in stats, stats


def test_rephrase_a_flagged_note(stack: Stack) -> None:
    """A note the blameless checker flags is answered with a Rephrase button; it opens a
    form prefilled with the note and the checker's advice, and saving edits the note. Only
    the author or commander may: anyone else clicking is refused and no form opens."""
    incident = declare(stack)
    channel = incident.channel_id
    slash(stack, f"role comms <@{BOB}|bob>", channel=channel)
    reply = stack.client.slash("note Carol forgot to run the config validator", user=BOB,
                               channel=channel)
    answer = stack.client.reply_to(reply)
    entry_id = _note_id(answer["text"])
    [button] = [e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["text"]["text"] == "Rephrase" and button["value"] == f"1:{entry_id}"

    refused = stack.client.click(button["action_id"], user=CAROL, channel=channel,
                                 message_ts="1.000001", value=button["value"])
    assert "only whoever wrote it (<@U02BOB>)" in stack.client.reply_to(refused)["text"]
    assert stack.slack.views == []

    stack.client.click(button["action_id"], user=BOB, channel=channel, message_ts="1.000001",
                       value=button["value"])
    view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
    field = view["blocks"][1]["element"]
    assert field["initial_value"] == "Carol forgot to run the config validator"
    assert "Blameless wording check" in view["blocks"][0]["text"]["text"]
    values = {view["blocks"][1]["block_id"]: {field["action_id"]: {
        "type": "plain_text_input", "value": "The config validator did not run before the push"}}}
    assert stack.client.submit(view, values, user=BOB).status == 200
    said = stack.slack.wait_for(lambda: stack.slack.ephemerals)
    assert f"Note {entry_id} on *#1* now reads as you wrote it." in said[-1]["text"]
    [entry] = [e for e in _entries(stack) if e.id == entry_id]
    assert entry.text == "The config validator did not run before the push"
    assert entry.history[0]["text"] == "Carol forgot to run the config validator"
    assert "forgot" not in _postmortem(stack, channel).split("## Timeline")[-1]


def test_edit_and_remove_an_item_through_the_form(stack: Stack) -> None:
    """The item list's "Edit or remove an item…" menu opens a form for that item (owner,
    creator or commander only); saving applies each changed field as its own recorded
    change; ticking Remove removes it."""
    with freeze_time("2026-12-01 10:00:00", tick=True):
        incident = declare(stack)
        channel = incident.channel_id
        for person in (BOB, CAROL):  # in the channel: the form's answer is posted there
            stack.slack.channels[channel].members.add(person)
        slash(stack, "action Add a canary stage", user=BOB, channel=channel)
        page = stack.client.reply_to(stack.client.slash("actions", user=BOB, channel=channel))
        [menu] = [e for b in page["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e["type"] == "static_select"]
        assert [o["value"] for o in menu["options"]] == ["1"]

        refused = stack.client.click(menu["action_id"], user=CAROL, channel=channel,
                                     message_ts="1.000001", selected="1")
        assert "You can't change, close or reopen this action item" in stack.client.reply_to(refused)["text"]
        assert stack.slack.views == []

        stack.client.click(menu["action_id"], user=BOB, channel=channel, message_ts="1.000001",
                           selected="1")
        view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
        blocks = {b["block_id"]: b["element"] for b in view["blocks"]}
        assert blocks["item-text"]["initial_value"] == "Add a canary stage"

        def value(block: str, **chosen: Any) -> dict[str, Any]:
            return {block: {blocks[block]["action_id"]: {"type": blocks[block]["type"], **chosen}}}

        values = {**value("item-text", value="Add a canary stage"),
                  **value("item-owner", selected_user=CAROL),
                  **value("item-due", selected_date="2026-12-20"),
                  **value("item-type", selected_option={"value": "detect"})}
        assert stack.client.submit(view, values, user=BOB).status == 200
        said = stack.slack.wait_for(lambda: stack.slack.ephemerals)
        assert "reassigned" in said[-1]["text"] and "retyped" in said[-1]["text"]
        with stack.runtime.deps.uow() as tx:
            [item] = tx.action_items.for_incident(1)
        assert (item.owner, item.due_on, item.type) == (CAROL, date(2026, 12, 20), "detect")
        assert [e.detail["field"] for e in stack.incident().events
                if e.kind == "action_item"] == ["owner", "due", "type"]

        stack.client.click(menu["action_id"], user=CAROL, channel=channel,
                           message_ts="1.000001", selected="1")  # the owner now
        view = stack.slack.wait_for(lambda: stack.slack.views[-1]
                                    if len(stack.slack.views) > 1 else None)
        values = {**value("item-text", value="Add a canary stage"),
                  **value("item-remove", selected_options=[{"value": "remove"}])}
        assert stack.client.submit(view, values, user=CAROL).status == 200
        stack.slack.wait_for(lambda: len(stack.slack.ephemerals) > 1)
        with stack.runtime.deps.uow() as tx:
            assert tx.action_items.for_incident(1) == []
        card = stack.slack.channels[channel].messages[incident.card_ts]
        assert "*Action items*" not in json.dumps(card.blocks)


def test_hide_a_message_with_the_shortcut(stack: Stack) -> None:
    """The "Hide from postmortem" message shortcut hides that message's timeline entry
    (its author or the commander); the postmortem leaves it out."""
    incident = declare(stack)
    channel = incident.channel_id
    ts = stack.client.say(channel, BOB, "customer ACME's card numbers were in the log")
    stack.client.pin(channel, ts, BOB)
    stack.slack.wait_for(lambda: any(e.pinned for e in _entries(stack)))
    refused = stack.client.message_shortcut("timeline-hide", user=CAROL, channel=channel,
                                            message_ts=ts)
    assert "only whoever wrote it (<@U02BOB>)" in stack.client.reply_to(refused)["text"]
    done = stack.client.message_shortcut("timeline-hide", user=BOB, channel=channel,
                                         message_ts=ts)
    assert "hidden from *#1*'s postmortem" in stack.client.reply_to(done)["text"]
    assert [e.hidden for e in _entries(stack) if e.ts == ts] == [True]
    assert "ACME" not in _postmortem(stack, channel)
    elsewhere = stack.client.message_shortcut("timeline-hide", user=BOB, channel=stack.general,
                                              message_ts="1.000001")
    assert "isn't in an incident channel" in stack.client.reply_to(elsewhere)["text"]
