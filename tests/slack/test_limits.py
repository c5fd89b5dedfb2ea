"""Slack's own limits on every surface: a response_url takes 5 responses, a message 50
blocks, a select menu 100 options. The stand-in enforces them (its `violations` must
stay empty, the `stack` fixture checks), and long lists page instead of dropping items."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from bot.config import DebriefConfig
from bot.domain.action_items import ActionRequest
from bot.domain.incidents import Incident
from bot.slack.ids import Action
from bot.standin.limits import MAX_BLOCKS_TEXT, block_kit_problems, blocks_text_length
from bot.standin.server import FakeSlack
from tests.conftest import Stack, start_stack
from tests.helpers import all_pages, declare, slash

ALICE, BOB = "U01ALICE", "U02BOB"


def post(url: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error)


def test_standin_refuses_a_sixth_response_within_30_minutes() -> None:
    """The stand-in answers a response_url's 6th post in 30 minutes with 404 used_url."""
    now = [1_000_000.0]
    slack = FakeSlack(clock=lambda: now[0]).start()
    try:
        url = slack.response_url()
        statuses = [post(url, {"text": f"reply {i}"})[0] for i in range(5)]
        assert statuses == [200] * 5
        assert post(url, {"text": "one too many"}) == (404, {"ok": False, "error": "used_url"})
        assert len(slack.responses) == 5 and "6th response" in slack.violations[0]
        now[0] += 30 * 60  # the oldest uses leave the window
        assert post(url, {"text": "later"})[0] == 200
    finally:
        slack.stop()


def test_standin_enforces_block_kit_limits_and_records_them() -> None:
    """Options, block counts and text lengths beyond Block Kit's limits are refused and recorded."""
    def select(kind: str, n: int) -> dict[str, Any]:
        return {"type": "actions", "elements": [{"type": kind, "action_id": "a", "options": [
            {"text": {"type": "plain_text", "text": str(i)}, "value": str(i)}
            for i in range(n)]}]}

    def button(text: str, value: str = "v") -> dict[str, Any]:
        return {"type": "actions", "elements": [{"type": "button", "action_id": "b",
                                                  "text": {"type": "plain_text", "text": text},
                                                  "value": value}]}

    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}
    groups = {"type": "actions", "elements": [{"type": "static_select", "action_id": "g",
                                                "option_groups": [{"options": []}] * 101}]}
    bad = [select("static_select", 101), select("multi_static_select", 101),
           select("overflow", 6), button("x" * 76), button("ok", "v" * 2001), header, section,
           groups]
    for block in bad:
        assert block_kit_problems([block]), block
    good = [select("static_select", 100), select("overflow", 5), button("x" * 75)]
    assert block_kit_problems(good) == []
    assert block_kit_problems([{"type": "divider"}] * 51) == ["51 blocks (at most 50)"]
    assert block_kit_problems([{"type": "divider"}] * 100, limit=100) == []

    slack = FakeSlack().start()
    try:
        channel = slack.add_channel("general")
        status, body = post(slack.api_url + "chat.postMessage", {
            "token": slack.token, "channel": channel, "text": "t", "blocks": [header]})
        assert body == {"ok": False, "error": "invalid_blocks"}
        status, body = post(slack.response_url(), {"text": "t", "blocks": [select(
            "static_select", 101)]})
        assert (status, body["error"]) == (400, "invalid_blocks")
        assert len(slack.violations) == 2
    finally:
        slack.stop()


def test_fit_never_cuts_an_escaped_entity_or_a_mention() -> None:
    """The one truncation helper cuts escaped text with an ellipsis, never inside `&amp;` or `<@U1>`."""
    from bot.slack.blocks import fit

    assert fit("short", 10) == "short"
    assert fit("abc&amp;def", 6) == "abc…"  # "abc&a" would leave a broken entity
    assert fit("abc&lt;def", 8) == "abc&lt;…"
    assert fit("hi <@U123ABC> there", 8) == "hi …"
    assert fit("&amp;" * 10, 12) == "&amp;&amp;…"
    assert fit("a & b" * 10, 4) == "a &…"  # a lone `&` in plain text is not an entity
    for n in range(1, 40):
        cut = fit("x&amp;y&lt;z&gt;<!date^1^{date}|d>" * 3, n)
        assert len(cut) <= n
        assert not re.search(r"&(a|am|amp|l|lt|g|gt)?…$", cut) and cut.count("<") == cut.count(">")


def test_long_timeline_is_paged_with_more_buttons_never_a_sixth_response(
        stack: Stack) -> None:
    """A timeline too long for 5 messages answers once, and More shows each next page."""
    incident = declare(stack)
    channel = incident.channel_id
    for i in range(260):  # each line escapes to ~2,500 characters: one section each
        ts = stack.client.say(channel, BOB, f"finding {i}: " + "&" * 500, deliver=False)
        stack.slack.channels[channel].messages[ts].reactions["pushpin"] = [BOB]
    slash(stack, "timeline rebuild", channel=channel)
    reply = stack.client.slash("timeline", user=ALICE, channel=channel)
    pages = all_pages(stack, reply, ALICE, channel)
    shown = json.dumps(pages)
    assert len(pages) >= 2 and all(f"finding {i}:" in shown for i in range(260))
    assert "(1/" in pages[0]["text"]
    assert stack.slack.violations == []


def _add_items(stack: Stack, number: int, count: int, owner: str) -> None:
    now = datetime.now(UTC)
    with stack.runtime.deps.uow() as tx:
        for i in range(count):
            tx.action_items.add(number, ActionRequest(f"chore {i} &", owner, None, "prevent"),
                           ALICE, now)
        tx.commit()


def _item_ids(pages: list[dict[str, Any]]) -> set[str]:
    return {str(block["accessory"]["value"]) for page in pages for block in page["blocks"]
            if block.get("accessory", {}).get("action_id") == Action.ITEM_DONE.value}


def test_300_action_items_are_all_reachable_through_pages(stack: Stack) -> None:
    """/incident actions and /actions with 300 items: every item's Done button on some page."""
    incident = declare(stack)
    _add_items(stack, incident.number, 300, BOB)
    with stack.runtime.deps.uow() as tx:
        expected = {str(i.id) for i in tx.action_items.for_incident(incident.number)}
    reply = stack.client.slash("actions", user=ALICE, channel=incident.channel_id)
    assert _item_ids(all_pages(stack, reply, ALICE, incident.channel_id)) == expected
    mine = stack.client.slash("", user=BOB, command="/actions", channel=stack.general)
    pages = all_pages(stack, mine, BOB, stack.general)
    assert _item_ids(pages) == expected and len(pages) == 8
    back = next(e for b in pages[1]["blocks"] for e in b.get("elements") or []
                if e.get("action_id") == Action.PAGE_BACK.value)
    click = stack.client.click(Action.PAGE_BACK, user=BOB, channel=stack.general,
                               message_ts="1.000001", value=back["value"])
    first = stack.client.reply_to(click)
    assert first["replace_original"] is True and _item_ids([first]) == _item_ids(pages[:1])


def test_201_open_incidents_are_all_listed_across_pages(stack: Stack) -> None:
    """/incident list with 201 open incidents (long escaped titles): all reachable, each page fits."""
    now = datetime.now(UTC)
    with stack.runtime.deps.uow() as tx:
        for _ in range(201):
            number = tx.incidents.allocate_number()
            tx.incidents.add(Incident(number=number, title=f"Outage {number} " + "&" * 130,
                                      severity="SEV3", status="investigating", description="",
                                      declared_at=now, declared_by=ALICE,
                                      channel_id=f"C{number:08d}"))
        tx.commit()
    reply = stack.client.slash("list", user=ALICE, channel=stack.general)
    pages = all_pages(stack, reply, ALICE, stack.general)
    shown = json.dumps(pages)
    assert all(f"<#C{n:08d}>" in shown for n in range(1, 202))
    assert "&amp;&amp;" in shown and "&&" not in shown


def test_a_status_menu_never_carries_more_than_100_options(engine: Engine) -> None:
    """With 120 configured statuses the card's menu has 100 options, the current one included."""
    statuses = tuple(f"step{i}" for i in range(119)) + ("resolved",)
    stack = start_stack(engine, DebriefConfig(statuses=statuses))
    try:
        incident = declare(stack)
        slash(stack, "status step110", channel=incident.channel_id)
        card = stack.slack.channels[incident.channel_id].messages[incident.card_ts]
        select = next(e for b in card.blocks if b["type"] == "actions" for e in b["elements"]
                      if e["type"] == "static_select")
        assert len(select["options"]) == 100
        assert select["initial_option"]["value"] == "1:step110"
        assert stack.slack.violations == []
    finally:
        stack.close()


def test_a_card_with_500_configured_roles_fits_50_blocks(engine: Engine) -> None:
    """500 configured roles, one filled far down the list: the card is posted (within
    50 blocks and 2,000 characters a field) and still names who holds it."""
    roles = ("commander", *(f"role{i:03d}-" + "r" * 20 for i in range(499)))
    stack = start_stack(engine, DebriefConfig(roles=roles))
    try:
        incident = declare(stack)
        assert incident.card_ts is not None
        slash(stack, f"role {roles[450]} <@{BOB}|bob>", channel=incident.channel_id)
        card = stack.slack.channels[incident.channel_id].messages[incident.card_ts]
        assert block_kit_problems(card.blocks) == []
        shown = json.dumps(card.blocks)
        assert f"{roles[450]}: <@{BOB}>" in shown and f"<@{ALICE}>" in shown
        assert stack.slack.violations == []
    finally:
        stack.close()


def test_a_digest_too_long_for_one_message_says_what_it_left_out(engine: Engine) -> None:
    """300 long overdue items: the Monday digest fits 50 blocks and the ~12,000 characters
    of text chat.postMessage takes in blocks, and counts the rest."""
    from datetime import date

    from freezegun import freeze_time

    from bot.services.reminders import send_due

    with freeze_time("2026-11-30 10:00:00"):  # a Monday
        stack = start_stack(engine)
        try:
            incident = declare(stack)
            with stack.runtime.deps.uow() as tx:
                for i in range(300):
                    tx.action_items.add(incident.number, ActionRequest(
                        f"chore {i} " + "&" * 400, BOB, date(2026, 11, 20), "prevent"),
                        ALICE, datetime.now(UTC))
                tx.commit()
            assert send_due(stack.runtime.deps) == ["digest:2026-W49"]
        finally:
            stack.close()
    [digest] = [c for c in stack.slack.calls_of("chat.postMessage")
                if "Overdue action items" in str(c.args.get("text"))]
    blocks = digest.args["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    shown = sum(json.dumps(blocks).count(f"chore {i} ") for i in range(300))
    assert len(blocks) <= 50 and block_kit_problems(blocks) == []
    assert blocks_text_length(blocks) <= MAX_BLOCKS_TEXT and shown > 0
    assert f"…and {300 - shown} more" in blocks[-1]["elements"][0]["text"]
    assert stack.slack.violations == []


def test_oncall_with_the_most_schedules_fits_one_message(stack: Stack, tmp_path: Any) -> None:
    """`/oncall` and an unknown `/oncall <name>` with the most long-named schedules a file
    may hold (200) answer within Slack's 40,000-character limit, listing 100 and saying how
    many were left out."""
    from tests.helpers import apply

    layer = """
    layers:
      - name: primary
        time_zone: UTC
        rotation: {unit: days, interval: 1, first_handoff: 2026-11-23T09:00, members: [U01ALICE]}
"""
    names = [f"s{n:04d}-" + "x" * 44 for n in range(200)]
    apply(stack, tmp_path, "schedules:\n" + "".join(f"  {n}:{layer}" for n in names))
    everyone = stack.client.reply_to(stack.client.slash("", user=ALICE, channel=stack.general,
                                                        command="/oncall"))
    assert len(everyone["text"]) <= 40_000 and names[0] in everyone["text"]
    assert "more" in everyone["text"]
    unknown = stack.client.slash("nosuch", user=ALICE, channel=stack.general, command="/oncall")
    answer = unknown.text or stack.client.reply_to(unknown)["text"]
    assert answer.startswith("There is no on-call schedule `nosuch`") and len(answer) <= 40_000


def test_help_and_errors_fit_a_message_with_a_thousand_statuses_and_roles(
        engine: Engine) -> None:
    """With 1,000 statuses and 1,000 roles configured, `/incident help` and the errors that
    list the choices still fit one message: they name some and count the rest."""
    statuses = tuple(f"status-{i:04d}-" + "s" * 18 for i in range(1000))
    roles = ("commander", *(f"role-{i:04d}-" + "r" * 20 for i in range(999)))
    stack = start_stack(engine, DebriefConfig(statuses=statuses, roles=roles))
    try:
        answers = [stack.client.slash(text, user=ALICE, channel=stack.general).text
                   for text in ("help", "status", "role", "status #1 nosuch",
                                "role #1 nosuch <@U02BOB|b>")]
        assert all(len(a) < 4000 for a in answers), [len(a) for a in answers]
        assert statuses[0] in answers[0] and "more" in answers[0]
        assert "nosuch" in answers[3] and statuses[0] in answers[3]
        assert stack.slack.violations == []
    finally:
        stack.close()
