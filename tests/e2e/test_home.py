"""The Home tab end to end: `app_home_opened` as a signed event into the real endpoint,
views.publish answered by the stand-in over real HTTP (held to Slack's limits), and the
tab's buttons clicked as Slack sends them from a view (no response_url, no channel)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.action_items import ActionRequest
from bot.domain.incidents import Incident
from bot.slack.home import home_as_text
from bot.slack.ids import Action, Callback
from bot.slack.replies import WORKER
from bot.standin.limits import block_kit_problems
from tests.conftest import Stack
from tests.helpers import ALICE, BOB, CAROL, apply, declare, join, slash

NAMES = {ALICE: "alice", BOB: "bob", CAROL: "carol"}


@pytest.fixture
def oncall_stack(stack: Stack, tmp_path: Path) -> Stack:
    stack.slack.add_channel("platform-oncall")
    stack.slack.add_usergroup("platform-oncall")
    apply(stack, tmp_path)
    return stack


def opened(stack: Stack, user: str, *, after: str | None = None) -> dict[str, Any]:
    """`user` opens the Home tab; the view published for them (a newer one than `after`)."""
    reply = stack.client.open_home(user)
    assert reply.status == 200, reply.body
    return published(stack, user, after=after)


def published(stack: Stack, user: str, *, after: str | None = None,
              timeout: float = 10.0) -> dict[str, Any]:
    """The view last published to `user`, once it is not the one with id `after`."""
    def fresh() -> dict[str, Any] | None:
        view = stack.slack.homes.get(user)
        return view if view is not None and view["id"] != after else None
    view: dict[str, Any] = stack.slack.wait_for(fresh, timeout)
    return view


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def test_person_sees_their_shift_items_and_incidents(oncall_stack: Stack) -> None:
    """Bob opens Home: on call now and until when, his next turn, the incident he is part
    of (with its channel), his action item with Done / Change due, everyone's open
    incidents by severity; the view is within Slack's limits."""
    stack = oncall_stack
    with freeze_time("2026-11-24 12:00:00", tick=True):
        incident = declare(stack, "declare sev1 Checkout errors in EU")
        slash(stack, "action Validate configs in CI <@U02BOB|bob> due 2026-12-15",
              channel=incident.channel_id)
        other = declare(stack, "declare sev3 Slow search", user=CAROL)
        view = opened(stack, BOB)
    text = home_as_text(view, NAMES)
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    assert block_kit_problems(view["blocks"], 100) == []
    # Bob is on call for platform today (09:00 London = UTC in November) until tomorrow.
    assert "You are on call now for *platform* until 2026-11-25 09:00 UTC" in text
    assert "platform* from 2026-11-27 09:00 UTC to 2026-11-28 09:00 UTC  [Ask for cover]" in text
    mine = text.split("YOUR OPEN INCIDENTS")[1].split("YOUR OPEN ACTION ITEMS")[0]
    assert "#1* SEV1 · investigating · Checkout errors in EU · #" in mine
    assert "#2" not in mine  # Carol's incident: Bob has no part in it
    items = text.split("YOUR OPEN ACTION ITEMS")[1].split("POSTMORTEMS")[0]
    assert "Validate configs in CI" in items and "[Done] [Change due]" in items
    everyone = text.split("OPEN INCIDENTS")[-1]
    assert everyone.index("*SEV1* (1)") < everyone.index("*SEV3* (1)")
    assert f"<#{incident.channel_id}>" in json.dumps(view) and f"<#{other.channel_id}>" in \
        json.dumps(view)
    assert stack.slack.violations == []


def test_done_on_the_home_tab_works_and_the_tab_refreshes(stack: Stack) -> None:
    """Done on the Home tab closes the item (the same permission check as anywhere) and
    the clicker's tab is published again without it; someone who may not is refused by
    direct message and nothing changes."""
    incident = declare(stack)
    slash(stack, "action Add a canary <@U02BOB|bob>", channel=incident.channel_id)
    slash(stack, "action Alert on 5xx <@U02BOB|bob>", channel=incident.channel_id)
    with stack.runtime.deps.uow() as tx:
        canary, alert = tx.action_items.for_incident(incident.number)
    before = opened(stack, BOB)
    actions = block(before, f"home-item-actions-{canary.id}")
    done = next(e for e in actions["elements"] if e["action_id"] == Action.ITEM_DONE.value)
    reply = stack.client.click_home(Action.ITEM_DONE.value, user=BOB, value=done["value"])
    assert reply.status == 200, reply.body
    after = published(stack, BOB, after=before["id"])
    assert "Add a canary" not in json.dumps(after) and "Alert on 5xx" in json.dumps(after)
    with stack.runtime.deps.uow() as tx:
        assert tx.action_items.get(canary.id).status == "done"  # type: ignore[union-attr]
    # Carol has no part in the incident or the item: refused, told by DM, unchanged.
    opened(stack, CAROL)
    reply = stack.client.click_home(Action.ITEM_DONE.value, user=CAROL, value=str(alert.id))
    assert reply.status == 200
    refusal = stack.slack.wait_for(lambda: next(
        (c for c in stack.slack.calls_of("chat.postMessage") if c.args["channel"] == CAROL),
        None))
    assert "can't change, close or reopen this action item" in refusal.args["text"]
    with stack.runtime.deps.uow() as tx:
        assert tx.action_items.get(alert.id).status == "open"  # type: ignore[union-attr]


def test_change_due_and_declare_buttons_open_the_existing_forms(stack: Stack) -> None:
    """Change due opens the action item form (due date picker); submitting it changes
    the due date, and Bob's tab follows by itself. Declare opens the declare modal."""
    stack.runtime.deps.home.every = 0.2  # type: ignore[union-attr]
    incident = declare(stack)
    slash(stack, "action Add a canary <@U02BOB|bob> due 2026-12-15",
          channel=incident.channel_id)
    with stack.runtime.deps.uow() as tx:
        [item] = tx.action_items.for_incident(incident.number)
    first = opened(stack, BOB)
    assert stack.client.click_home(Action.ITEM_DUE.value, user=BOB,
                                   value=str(item.id)).status == 200
    form = stack.slack.wait_for(lambda: next(
        (v for v in stack.slack.views if v["callback_id"] == Callback.ITEM_EDIT.value), None))
    values = {"item-text": {"item_text": {"type": "plain_text_input", "value": item.text}},
              "item-due": {"item_due": {"type": "datepicker", "selected_date": "2027-01-08"}}}
    assert stack.client.submit(form, values, user=BOB).status == 200
    stack.slack.wait_for(lambda: (found := _item(stack, item.id)) is not None
                         and found.due_on == date(2027, 1, 8))
    refreshed = stack.slack.wait_for(lambda: (v := stack.slack.homes.get(BOB)) is not None
                                     and "08 Jan" in json.dumps(v) and v)
    assert refreshed["id"] != first["id"]
    assert stack.client.click_home(Action.HOME_DECLARE.value, user=BOB,
                                   value="declare").status == 200
    stack.slack.wait_for(lambda: any(v["callback_id"] == Callback.DECLARE.value
                                     for v in stack.slack.views))


def _item(stack: Stack, item_id: int) -> Any:
    with stack.runtime.deps.uow() as tx:
        return tx.action_items.get(item_id)


def test_ask_for_cover_from_the_home_tab(oncall_stack: Stack) -> None:
    """Ask for cover by one of Bob's turns posts the same request as `/oncall cover` in
    the schedule's channel, with its I'll cover button."""
    stack = oncall_stack
    with freeze_time("2026-11-24 12:00:00", tick=True):
        view = opened(stack, BOB)
        button = next(b["accessory"] for b in view["blocks"]
                      if (b.get("accessory") or {}).get("action_id") == Action.HOME_COVER.value)
        assert stack.client.click_home(Action.HOME_COVER.value, user=BOB,
                                       value=button["value"]).status == 200
        channel = stack.slack.channel_named("platform-oncall")
        assert channel is not None
        request = stack.slack.wait_for(lambda: next(
            (m for m in channel.messages.values() if "needs cover" in m.text), None))
    assert "<@U02BOB> needs cover for *platform*" in request.text
    assert request.blocks[1]["elements"][0]["action_id"] == Action.COVER.value


def test_private_incident_is_hidden_from_a_non_member(stack: Stack) -> None:
    """A private incident shows on its members' Home tabs only, nowhere on others'."""
    private = declare(stack, "declare --private sev1 Payroll export leaked")
    join(stack, private.channel_id, BOB)
    carol = json.dumps(opened(stack, CAROL))
    assert "Payroll" not in carol and private.channel_id not in carol
    assert "No open incidents" in carol
    bob = json.dumps(opened(stack, BOB))
    assert "Payroll export leaked" in bob and private.channel_id in bob
    # An item given to Carol is hers to see (as `/actions` shows it); the incident is not.
    slash(stack, f"action Rotate the export keys <@{CAROL}|carol>", channel=private.channel_id)
    WORKER.drain()
    carol = json.dumps(opened(stack, CAROL, after=stack.slack.homes[CAROL]["id"]))
    assert "Rotate the export keys" in carol and "Payroll" not in carol


def test_long_lists_stay_within_100_blocks_with_see_all_hints(stack: Stack) -> None:
    """60 open incidents and 25 action items: the tab keeps to Slack's 100 blocks and
    says what is left out and which command shows it."""
    now = datetime.now(UTC)
    with stack.runtime.deps.uow() as tx:
        for n in range(1, 61):
            tx.incidents.add(Incident(
                number=tx.incidents.allocate_number(), title=f"Incident {n} " + "x" * 120,
                severity=("SEV1", "SEV2", "SEV3", "SEV4")[n % 4], status="investigating",
                description="", declared_at=now, declared_by=BOB, channel_id=f"C{n:08d}",
                roles={"commander": BOB}))
        tx.commit()
    with stack.runtime.deps.uow() as tx:
        for n in range(25):
            tx.action_items.add(1 + n % 60, ActionRequest(f"Item {n} " + "y" * 400, BOB,
                                                          None, "prevent"), ALICE, now)
        tx.commit()
    view = opened(stack, BOB)
    assert len(view["blocks"]) <= 100
    assert block_kit_problems(view["blocks"], 100) == []
    text = home_as_text(view, NAMES)
    assert "…and 15 more: see all with `/actions`." in text
    assert "…and 50 more: see all with `/incident list`." in text  # his own: 10 shown
    assert "…and 30 more: see all with `/incident list`." in text  # everyone's: 30 shown
    assert stack.slack.violations == []


def test_changes_refresh_only_tabs_once_opened_and_coalesce(stack: Stack) -> None:
    """After Bob opened his tab, changes refresh it by themselves: several quick changes
    make at most a couple of publishes (at most one per `every` seconds), the last one
    showing the last change; Carol, who never opened hers, gets none."""
    home = stack.runtime.deps.home
    assert home is not None
    home.every = 1.0  # type: ignore[attr-defined]
    incident = declare(stack)
    first = opened(stack, BOB)
    count = len(stack.slack.calls_of("views.publish"))
    for n in range(5):
        slash(stack, f"action Follow-up {n} <@U02BOB|bob>", channel=incident.channel_id)
    last = stack.slack.wait_for(lambda: (v := stack.slack.homes.get(BOB)) is not None
                                and "Follow-up 4" in json.dumps(v) and v)
    assert last["id"] != first["id"]
    publishes = stack.slack.calls_of("views.publish")[count:]
    assert 1 <= len(publishes) <= 3, len(publishes)
    assert {c.args["user_id"] for c in stack.slack.calls_of("views.publish")} == {BOB}
    assert CAROL not in stack.slack.homes


def test_messages_tab_publishes_nothing(stack: Stack) -> None:
    """Opening the app's Messages tab sends the same event: no Home tab is published."""
    assert stack.client.open_home(BOB, tab="messages").status == 200
    assert WORKER.drain()
    assert BOB not in stack.slack.homes
    opened(stack, BOB)  # the Home tab itself, for contrast


def test_standin_refuses_views_publish_that_slack_would(stack: Stack) -> None:
    """views.publish over real HTTP: 101 blocks, a modal, an unknown user, a header over
    150 characters and duplicate block ids are refused, and recorded as violations."""
    client = WebClient(token=stack.slack.token, base_url=stack.slack.api_url)
    good = {"type": "home", "blocks": [{"type": "section", "text": {
        "type": "mrkdwn", "text": "hi"}}]}
    assert client.views_publish(user_id=BOB, view=good)["ok"]
    bad: list[tuple[str, dict[str, Any], str]] = [
        (BOB, {"type": "home", "blocks": [{"type": "divider"}] * 101}, "invalid_blocks"),
        (BOB, {**good, "type": "modal"}, "invalid_arguments"),
        ("U0NOBODY", good, "invalid_arguments"),
        (BOB, {"type": "home", "blocks": [{"type": "header", "text": {
            "type": "plain_text", "text": "h" * 151}}]}, "invalid_blocks"),
        (BOB, {"type": "home", "blocks": [{"type": "divider", "block_id": "a"}] * 2},
         "invalid_arguments"),
    ]
    for user, view, error in bad:
        with pytest.raises(SlackApiError) as refused:
            client.views_publish(user_id=user, view=view)
        assert refused.value.response["error"] == error, view
    assert len(stack.slack.violations) == len(bad)
    assert stack.slack.homes[BOB]["blocks"] == good["blocks"]
    stack.slack.violations.clear()  # seen: the fixture checks the bot made none


def test_postmortems_to_write_and_review_follow_the_review_steps(stack: Stack) -> None:
    """Alice commands a resolved incident: her tab says to write its postmortem and
    follows it from not drafted to draft to in review by itself. Carol, asked to review
    it, sees it on her tab until she approves; Bob (who holds a role but was not asked)
    never does; published, it leaves Alice's tab."""
    stack.runtime.deps.home.every = 0.2  # type: ignore[union-attr]
    incident = declare(stack)
    channel = incident.channel_id
    join(stack, channel, BOB)
    slash(stack, f"role comms <@{BOB}|bob>", channel=channel)
    slash(stack, "resolve fixed", channel=channel)

    def shows(user: str, words: str) -> None:
        stack.slack.wait_for(lambda: (v := stack.slack.homes.get(user)) is not None
                             and words in home_as_text(v))

    first = home_as_text(opened(stack, ALICE))
    assert "Write the postmortem of *#1* Checkout errors (not drafted)" in first
    opened(stack, BOB)
    assert "Nothing to write or review." in home_as_text(opened(stack, CAROL))
    slash(stack, "postmortem", channel=channel)
    shows(ALICE, "Write the postmortem of *#1* Checkout errors (draft)")
    slash(stack, f"postmortem review <@{CAROL}|carol>", channel=channel)
    shows(ALICE, "Write the postmortem of *#1* Checkout errors (in review)")
    shows(CAROL, "Review the postmortem of *#1* Checkout errors (in review)")
    dm = stack.slack.wait_for(lambda: next(
        (m for c in [stack.slack.channels.get("D03CAROL")] if c
         for m in c.messages.values() if "review" in m.text), None))
    approve = stack.client.click(Action.POSTMORTEM_APPROVE.value, user=CAROL,
                                 channel="D03CAROL", message_ts=dm.ts, value="1")
    assert approve.status == 200
    shows(CAROL, "Nothing to write or review.")
    slash(stack, "postmortem publish", channel=channel)
    shows(ALICE, "Nothing to write or review.")
    assert "Review the postmortem" not in json.dumps(stack.slack.homes[BOB])


def test_opening_again_at_once_publishes_only_after_a_change(stack: Stack) -> None:
    """Switching back to the tab within a few seconds re-publishes nothing (Slack keeps
    the view); after a change that concerns it, opening publishes the new state at once."""
    stack.runtime.deps.home.every = 100.0  # type: ignore[union-attr]  # no background refresh
    first = opened(stack, BOB)
    count = len(stack.slack.calls_of("views.publish"))
    assert stack.client.open_home(BOB).status == 200
    assert WORKER.drain()
    assert len(stack.slack.calls_of("views.publish")) == count
    declare(stack, "declare sev1 Queue backlog")
    assert "Queue backlog" in json.dumps(opened(stack, BOB, after=first["id"]))


def test_joining_an_incident_channel_puts_it_among_your_incidents(stack: Stack) -> None:
    """Carol joins an incident's channel: her tab, already open, lists it as hers."""
    stack.runtime.deps.home.every = 0.2  # type: ignore[union-attr]
    incident = declare(stack)
    before = home_as_text(opened(stack, CAROL))
    assert "None: you are not part of any open incident." in before
    join(stack, incident.channel_id, CAROL)
    stack.slack.wait_for(lambda: "YOUR OPEN INCIDENTS\n*#1*" in home_as_text(
        stack.slack.homes[CAROL]))


def test_with_many_open_the_newest_channels_are_the_ones_asked(stack: Stack) -> None:
    """55 open incidents; Carol holds no role and is only in #1's and #55's channels.
    Slack is asked about the 50 newest channels, so her newest incident is listed (the
    oldest, #1, is past the 50 and cannot be known without a role)."""
    now = datetime.now(UTC)
    with stack.runtime.deps.uow() as tx:
        for n in range(1, 56):
            members = (BOB, CAROL) if n in (1, 55) else (BOB,)
            channel = stack.slack.add_channel(f"bulk-{n}", members=members)
            tx.incidents.add(Incident(
                number=tx.incidents.allocate_number(), title=f"Bulk {n}", severity="SEV2",
                status="investigating", description="", declared_at=now, declared_by=BOB,
                channel_id=channel, roles={"commander": BOB}))
        tx.commit()
    text = home_as_text(opened(stack, CAROL))
    mine = text.split("YOUR OPEN INCIDENTS")[1].split("YOUR OPEN ACTION ITEMS")[0]
    assert "*#55*" in mine and "*#1*" not in mine
    assert len(stack.slack.calls_of("conversations.members")) <= 50  # one page each
