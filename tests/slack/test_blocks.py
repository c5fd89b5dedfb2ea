"""The pure Block Kit builders: the incident card, the incident and action-item list
pages, timeline pages and the overdue digest. Structure, escaping, paging and Slack's
limits (checked with the stand-in's `block_kit_problems`). Explicit values; no Slack."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.config import DebriefConfig
from bot.domain.action_items import ActionItem
from bot.domain.incidents import EventRecord, Incident
from bot.domain.timeline import TimelineItem
from bot.slack.blocks import (
    MAX_POSTED_TEXT,
    build_action_items,
    build_digest,
    build_incident_list,
    build_summary_card,
    build_timeline_page,
)
from bot.slack.ids import Action
from bot.standin.limits import block_kit_problems

ALICE, BOB = "U01ALICE", "U02BOB"
DECLARED = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
OPEN = Incident(number=1, title="Checkout errors", severity="SEV2", status="investigating",
                description="", declared_at=DECLARED, declared_by=ALICE,
                channel_id="C0INC1", roles={"commander": ALICE})


def texts(blocks: list[dict[str, Any]]) -> str:
    """Every text in the blocks, joined, to look for what a reader would see."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(found)


def buttons(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """action_id → value of every button in `actions` blocks."""
    return {e["action_id"]: e.get("value", "") for b in blocks if b["type"] == "actions"
            for e in b["elements"] if e["type"] == "button"}


def item(id_: int, text: str = "Add an alert", *, status: str = "open",
         due: date | None = date(2026, 11, 20), owner: str | None = BOB) -> ActionItem:
    return ActionItem(id=id_, text=text, owner=owner, due_on=due, type="detect", status=status,
                      created_at=DECLARED, created_by=ALICE, incident_number=1)


# --- the incident card ------------------------------------------------------------------

def test_card_of_an_open_incident_has_ack_status_and_resolve() -> None:
    """Header, people and dates as fields, then Acknowledge, a status menu on the current
    status, and Resolve with a confirmation."""
    text, blocks = build_summary_card(OPEN, DebriefConfig())
    assert text == "#1 Checkout errors — SEV2, investigating"
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text",
                                                    "text": "#1 Checkout errors", "emoji": True}}
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert fields[:5] == ["*Severity*\nSEV2", "*Status*\ninvestigating",
                          f"*Commander*\n<@{ALICE}>", "*Comms*\n_unassigned_",
                          "*Scribe*\n_unassigned_"]
    actions = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert [e["action_id"] for e in actions] == [
        Action.ACKNOWLEDGE.value, Action.SET_STATUS.value, Action.RESOLVE.value]
    menu = actions[1]
    assert [o["value"] for o in menu["options"]] == [
        "1:investigating", "1:identified", "1:monitoring", "1:resolved"]
    assert menu["initial_option"]["value"] == "1:investigating"
    assert actions[2]["confirm"]["text"]["text"] == "Mark #1 as resolved."
    assert blocks[-1]["type"] == "context" and f"<@{ALICE}>" in blocks[-1]["elements"][0]["text"]
    assert block_kit_problems(blocks) == []


def test_card_of_a_resolved_incident_shows_durations_and_no_buttons_to_act() -> None:
    """Resolved: no Acknowledge or Resolve, the times to acknowledge/mitigate/resolve,
    the resolution and the action-item count."""
    resolved = replace(
        OPEN, status="resolved", acknowledged_at=DECLARED + timedelta(minutes=5),
        resolved_at=DECLARED + timedelta(hours=2), summary="rolled back",
        events=(EventRecord(DECLARED + timedelta(minutes=40), "status", ALICE,
                            {"from": "investigating", "to": "monitoring"}),),
        action_items=(item(1), item(2, status="done")))
    _, blocks = build_summary_card(resolved, DebriefConfig())
    fields = [f["text"] for b in blocks if b["type"] == "section" for f in b.get("fields", [])]
    assert "*Action items*\n1 open of 2" in fields
    assert fields[-3:] == ["*Time to acknowledge*\n5m", "*Time to mitigate*\n40m",
                           "*Time to resolve*\n2h 0m"]
    assert "*Resolution*\nrolled back" in texts(blocks)
    actions = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert [e["action_id"] for e in actions] == [Action.SET_STATUS.value]
    assert actions[0]["initial_option"]["value"] == "1:resolved"
    assert block_kit_problems(blocks) == []


def test_card_escapes_what_people_typed_and_caps_the_header() -> None:
    """Titles and descriptions cannot ping or inject markup in mrkdwn; a long title is
    cut to the header's 150 characters with an ellipsis."""
    hostile = replace(OPEN, title="<!channel> & " + "x" * 300, description="<@U9> <#C9> & co")
    text, blocks = build_summary_card(hostile, DebriefConfig())
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp; " in text
    header = blocks[0]["text"]["text"]
    assert len(header) == 150 and header.endswith("…")
    assert "&lt;@U9&gt; &lt;#C9&gt; &amp; co" in texts(blocks)
    assert block_kit_problems(blocks) == []


def test_card_with_many_roles_keeps_ten_fields_a_section() -> None:
    """25 roles: 19 fields of their own, the rest in one "Other roles" field naming the
    filled ones; no section holds more than 10 fields."""
    roles = ("commander", *(f"role{n:02}" for n in range(1, 25)))
    config = replace(DebriefConfig(), roles=roles)
    _, blocks = build_summary_card(replace(OPEN, roles={"commander": ALICE, "role24": BOB}),
                                   config)
    fields = [f["text"] for b in blocks if b["type"] == "section" for f in b.get("fields", [])]
    assert all(len(b.get("fields", [])) <= 10 for b in blocks)
    assert "*Other roles (6)*\nrole24: <@U02BOB>" in fields
    assert "*Role19*\n_unassigned_" not in fields and "*Role18*\n_unassigned_" in fields
    assert block_kit_problems(blocks) == []


# --- list pages -------------------------------------------------------------------------

def incidents(count: int) -> list[Incident]:
    return [replace(OPEN, number=n, title=f"Incident {n}", channel_id=f"C{n:06}")
            for n in range(1, count + 1)]


def listed(blocks: list[dict[str, Any]]) -> list[int]:
    return [int(n) for n in re.findall(r"\*#(\d+)\*", texts(blocks))]


def test_incident_list_when_nothing_is_open() -> None:
    """No open incidents: one friendly section and no pager."""
    text, blocks = build_incident_list([])
    assert text == "No open incidents. :tada:"
    assert blocks == [{"type": "section", "text": {"type": "mrkdwn",
                                                   "text": "No open incidents. :tada:"}}]


def test_incident_list_pages_by_fifty_with_previous_and_next() -> None:
    """120 incidents: three pages of 50, 50 and 20, each listing its own, with Previous
    and Next where there is somewhere to go; out-of-range pages are clamped."""
    everything = incidents(120)
    text, first = build_incident_list(everything)
    assert text == "120 open incident(s), page 1 of 3"
    assert first[0]["text"]["text"] == "Open incidents (120)"
    assert listed(first) == list(range(1, 51))
    assert buttons(first) == {Action.PAGE_NEXT.value: "incidents::2"}
    assert "Page 1 of 3" in texts(first)
    _, middle = build_incident_list(everything, page=2)
    assert listed(middle) == list(range(51, 101))
    assert buttons(middle) == {Action.PAGE_BACK.value: "incidents::1",
                               Action.PAGE_NEXT.value: "incidents::3"}
    _, last = build_incident_list(everything, page=99)
    assert listed(last) == list(range(101, 121))
    assert buttons(last) == {Action.PAGE_BACK.value: "incidents::2"}
    for page in (first, middle, last):
        assert block_kit_problems(page) == []


def test_incident_list_of_one_page_has_no_pager() -> None:
    """Up to 50 incidents fit one page, with no page line and no buttons."""
    _, blocks = build_incident_list(incidents(50))
    assert listed(blocks) == list(range(1, 51))
    assert buttons(blocks) == {} and "Page 1" not in texts(blocks)
    assert "<#C000007>" in texts(blocks)


def test_action_item_list_has_a_button_per_item_and_pages_by_forty() -> None:
    """Done for open items, Reopen for closed ones; 81 items page as 40, 40 and 1."""
    items = [item(n, status="done" if n % 2 else "open") for n in range(1, 82)]
    text, first = build_action_items(items, "Action items of #1", pager=("items", "1"))
    assert text == "Action items of #1: 40 open"
    rows = [b for b in first if b.get("block_id", "").startswith("item-")]
    assert len(rows) == 40
    assert rows[0]["accessory"]["action_id"] == Action.ITEM_REOPEN.value
    assert rows[1]["accessory"] == {"type": "button", "value": "2",
                                    "action_id": Action.ITEM_DONE.value, "style": "primary",
                                    "text": {"type": "plain_text", "text": "Done", "emoji": True}}
    assert buttons(first) == {Action.PAGE_NEXT.value: "items:1:2"}
    _, last = build_action_items(items, "Action items of #1", page=3, pager=("items", "1"))
    assert [b["block_id"] for b in last if b.get("block_id", "").startswith("item-")] == ["item-81"]
    assert block_kit_problems(first) == [] and block_kit_problems(last) == []
    _, empty = build_action_items([], "Mine")
    assert "No action items." in texts(empty)


# --- timeline pages ---------------------------------------------------------------------

def entry(minute: int, text: str, *, key: bool = True, deleted: bool = False) -> TimelineItem:
    return TimelineItem(DECLARED + timedelta(minutes=minute), "message", BOB, text, key=key,
                        deleted=deleted)


def test_timeline_page_shows_key_undeleted_entries() -> None:
    """Key entries only by default (all with key_only=False); deleted ones never; user
    text escaped; one page, so no button."""
    items = [entry(1, "rollback <!here>"), entry(2, "chit-chat", key=False),
             entry(3, "gone", deleted=True)]
    text, blocks = build_timeline_page(OPEN, items)
    assert text == "Timeline of #1 Checkout errors: 1 key events"
    assert blocks[0]["text"]["text"] == "Timeline of #1 Checkout errors"
    shown = texts(blocks[1:])
    assert "rollback &lt;!here&gt;" in shown and f"<@{BOB}>" in shown
    assert "chit-chat" not in shown and "gone" not in shown and buttons(blocks) == {}
    _, everything = build_timeline_page(OPEN, items, key_only=False)
    assert "chit-chat" in texts(everything) and "gone" not in texts(everything)


def test_empty_timeline_says_how_to_add_entries() -> None:
    """Nothing key yet: a header and how to mark an entry."""
    _, blocks = build_timeline_page(OPEN, [entry(1, "chit-chat", key=False)])
    assert len(blocks) == 2 and "React with the marker emoji" in blocks[1]["text"]["text"]


def test_long_timeline_pages_forward_with_more_and_loses_nothing() -> None:
    """400 long entries: numbered pages within Block Kit's limits, each with a "More"
    button to the next (never back: a response_url takes 5 answers), every entry on
    exactly one page, each cut at 500 characters."""
    items = [entry(n, f"entry-{n:03} " + "y" * 800) for n in range(400)]
    _, first = build_timeline_page(OPEN, items)
    pages = int(first[0]["text"]["text"].split("/", 1)[1].split(")", 1)[0])
    assert pages > 2
    seen: list[str] = []
    for number in range(1, pages + 1):
        text, blocks = build_timeline_page(OPEN, items, page=number)
        assert block_kit_problems(blocks) == []
        assert blocks[0]["text"]["text"].startswith(f"({number}/{pages}) Timeline of #1")
        assert text == f"Timeline of #1 Checkout errors ({number}/{pages}): 400 key events"
        more = {Action.PAGE_NEXT.value: f"timeline:1:{number + 1}"} if number < pages else {}
        assert buttons(blocks) == more
        assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
        seen += re.findall(r"entry-\d{3}", texts(blocks))
    assert seen == [f"entry-{n:03}" for n in range(400)]
    assert "y" * 501 not in texts(first) and "…" in texts(first)


# --- the overdue digest -----------------------------------------------------------------

def test_digest_lists_each_overdue_item_with_its_lateness() -> None:
    """One line per item with a due date: what, type, owner, due, incident, days late."""
    title, blocks = build_digest([item(1, due=date(2026, 11, 20)),
                                  item(2, "Fix <it> & ship", due=date(2026, 11, 24)),
                                  item(3, due=None)], TODAY)
    assert title == "Overdue action items (3)"
    assert blocks[0]["text"]["text"] == title
    assert blocks[1]["text"]["text"] == (
        f"• Add an alert · detect · <@{BOB}> · due Fri 20 Nov · #1 — 5d late\n"
        f"• Fix &lt;it&gt; &amp; ship · detect · <@{BOB}> · due Tue 24 Nov · #1 — 1d late")
    assert len(blocks) == 2


def test_digest_too_long_for_one_message_counts_what_it_left_out() -> None:
    """3,000 long items: within 50 blocks and chat.postMessage's block text, the rest
    counted in a closing line so nothing is dropped silently."""
    items = [item(n, f"item-{n:04} " + "z" * 300) for n in range(3000)]
    _, blocks = build_digest(items, TODAY)
    assert block_kit_problems(blocks) == []
    assert sum(len(texts([b])) for b in blocks) <= MAX_POSTED_TEXT
    shown = re.findall(r"item-\d{4}", texts(blocks))
    assert shown == [f"item-{n:04}" for n in range(len(shown))]
    closing = blocks[-1]
    assert closing["type"] == "context"
    assert closing["elements"][0]["text"] == (
        f"…and {3000 - len(shown)} more: each owner sees theirs with `/actions`.")
