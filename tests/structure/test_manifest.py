"""manifest.yaml is valid for Slack and in step with the code, both ways."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator

from bot.config import DebriefConfig
from bot.domain.incidents import Incident
from bot.services.reminders import send_due
from bot.slack.blocks import (
    build_action_items,
    build_changes_modal,
    build_declare_modal,
    build_edit_modal,
    build_item_form,
    build_rephrase_modal,
    build_summary_card,
)
from bot.slack.ids import EVENTS, Action, Callback, Command
from bot.standin.methods import SPECS_DIR
from tests.conftest import Stack
from tests.helpers import apply, declare, slash

ROOT = Path(__file__).resolve().parents[2]
MANIFEST: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yaml").read_text())
# Scopes no Web API method lists, each with the reason the bot needs it.
SCOPES_WITHOUT_METHOD = {
    "commands": "slash commands",
    "chat:write.public": "announcing in a public channel the bot has not joined",
}


def test_manifest_is_valid_against_slacks_schema() -> None:
    """Slack's official manifest schema accepts manifest.yaml."""
    schema = json.loads((ROOT / "tests/schemas/manifest.schema.1.0.0.json").read_text())
    errors = sorted(Draft7Validator(schema).iter_errors(MANIFEST), key=str)
    assert errors == []
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True


def test_slash_commands_match_both_ways(stack: Stack) -> None:
    """Every command in the manifest is handled by the app, and every handled one is declared."""
    declared = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    assert declared == {c.value for c in Command}
    for command in declared:
        reply = stack.client.slash("help", user="U01ALICE", command=command)
        assert reply.status == 200, command
        answer = reply.text or stack.client.reply_to(reply).get("text")
        assert answer, command
    unknown = stack.client.slash("help", user="U01ALICE", command="/not-ours")
    assert unknown.status == 404
    assert all(c["should_escape"] for c in MANIFEST["features"]["slash_commands"])


def test_action_and_callback_ids_are_all_used_and_handled(stack: Stack) -> None:
    """The card emits exactly the registered action ids, and each one is handled."""
    incident = declare(stack)
    _, blocks = build_summary_card(incident, DebriefConfig())
    emitted = {e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]}
    slash(stack, "action Add a canary", channel=incident.channel_id)
    with stack.runtime.deps.uow() as tx:
        items = tx.action_items.for_incident(1)
    _, open_list = build_action_items(items, "t")
    _, done_list = build_action_items([replace(items[0], status="done")], "t")
    emitted |= {b["accessory"]["action_id"] for b in open_list + done_list if "accessory" in b}
    _, middle_page = build_action_items(items * 81, "t", page=2)  # page buttons, both ways
    emitted |= {e["action_id"] for b in middle_page if b["type"] == "actions"
                for e in b["elements"]}
    # The cover button is emitted by /oncall cover and the override Remove button by
    # /oncall overrides (tests/e2e/test_oncall.py checks both); Rephrase under a flagged
    # note (tests/e2e/test_corrections.py); Write postmortem on the draft message
    # (tests/e2e/test_postmortem_sections.py); Change due, Declare and Ask for cover on the
    # Home tab (tests/e2e/test_home.py); Approve / Request changes in a reviewer's DM
    # (tests/e2e/test_postmortem_review.py); Acknowledge / Resolve / Silence on an alert group's
    # message (tests/e2e/test_alerts.py); Add contributing factor on the draft and the
    # factor list's Remove (tests/e2e/test_postmortem_factors.py).
    emitted |= {e["action_id"] for b in open_list if b["type"] == "actions"
                for e in b["elements"]}  # the item edit menu
    assert emitted | {Action.COVER.value, Action.OVERRIDE_REMOVE.value,
                      Action.NOTE_REPHRASE.value, Action.POSTMORTEM_WRITE.value,
                      Action.ITEM_DUE.value, Action.HOME_DECLARE.value,
                      Action.HOME_COVER.value, Action.POSTMORTEM_APPROVE.value,
                      Action.POSTMORTEM_CHANGES.value,
                      Action.ALERT_ACK.value, Action.ALERT_RESOLVE.value,
                      Action.ALERT_SILENCE.value, Action.ALERT_DECLARE.value,
                      Action.FACTOR_ADD.value, Action.FACTOR_REMOVE.value} == {a.value for a in Action}
    for action in (Action.ACKNOWLEDGE, Action.SET_STATUS, Action.RESOLVE):
        reply = stack.client.click(action, user="U01ALICE", channel=incident.channel_id,
                                   message_ts=incident.card_ts, value="1",
                                   selected="1:identified" if action is Action.SET_STATUS else None)
        assert reply.status == 200, action
        stack.client.reply_to(reply)
    for action in (Action.ITEM_DONE, Action.ITEM_REOPEN):
        reply = stack.client.click(action, user="U01ALICE", channel=incident.channel_id,
                                   message_ts=incident.card_ts, value=str(items[0].id))
        assert "Marked" in stack.client.reply_to(reply)["text"], action
    for action in (Action.PAGE_BACK, Action.PAGE_NEXT):  # tests/slack/test_limits.py pages
        reply = stack.client.click(action, user="U02BOB", channel=incident.channel_id,
                                   message_ts=incident.card_ts, value="items:1:1")
        assert "Action items of #1" in stack.client.reply_to(reply)["text"], action
    assert build_declare_modal(DebriefConfig(), None)["callback_id"] == Callback.DECLARE.value
    rephrase = build_rephrase_modal(1, 2, "C1", "text", [])
    assert rephrase["callback_id"] == Callback.REPHRASE.value
    assert build_item_form(1, items[0], "C1")["callback_id"] == Callback.ITEM_EDIT.value
    assert build_edit_modal(incident, DebriefConfig())["callback_id"] == Callback.EDIT.value
    assert build_changes_modal(1)["callback_id"] == Callback.POSTMORTEM_CHANGES.value
    shortcuts = {s["callback_id"] for s in MANIFEST["features"].get("shortcuts", [])}
    assert shortcuts == {Callback.HIDE_MESSAGE.value}
    assert {c.value for c in Callback} == {Callback.DECLARE.value, Callback.REPHRASE.value,
                                           Callback.ITEM_EDIT.value, Callback.EDIT.value,
                                           Callback.POSTMORTEM_WRITE.value,
                                           Callback.POSTMORTEM_CHANGES.value,
                                           # declaring from an alert: tests/e2e/test_alerts.py
                                           Callback.DECLARE_ALERT.value,
                                           # tests/e2e/test_postmortem_factors.py
                                           Callback.FACTOR_ADD.value, *shortcuts}


def test_bot_events_match_both_ways() -> None:
    """The events the code subscribes to are exactly the manifest's bot events."""
    subscriptions = MANIFEST.get("settings", {}).get("event_subscriptions", {})
    assert set(subscriptions.get("bot_events", [])) == set(EVENTS)


def test_scopes_are_exactly_what_the_code_uses(stack: Stack, tmp_path: Path) -> None:
    """Every Web API method the bot calls is covered by a manifest scope, and every scope
    in the manifest is needed by some call the bot makes."""
    incident: Incident = declare(stack)
    for text in ("ack", "role comms <@U03CAROL|c>", "status monitoring", "severity sev1",
                 "update all good", "note at 00:00 paged", "timeline rebuild", "resolve fixed",
                 "postmortem"):
        slash(stack, text, channel=incident.channel_id)
    # Removed from the incident channel, the bot joins back (conversations.join).
    stack.slack.channels[incident.channel_id].members.discard("UDEBRIEFBOT")
    slash(stack, "severity sev3", channel=incident.channel_id)  # the topic needs membership
    stack.client.slash("declare", user="U01ALICE")
    stack.slack.wait_for(lambda: stack.slack.views)
    # On call: a handoff notice resolves an e-mail member and syncs the user group.
    stack.slack.add_channel("platform-oncall")
    stack.slack.add_usergroup("platform-oncall")
    apply(stack, tmp_path)
    assert send_due(stack.runtime.deps, datetime(2026, 11, 24, 9, tzinfo=UTC))
    granted = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    used: set[str] = set()
    for method in {c.method for c in stack.slack.calls}:
        spec = json.loads((SPECS_DIR / f"{method}.json").read_text())
        options = set(spec.get("scope", {}).get("bot") or [])
        if options:
            assert options & granted, f"{method} needs one of {sorted(options)}"
            used |= options & granted
    events = {e["name"]: e for e in json.loads((ROOT / "tests/schemas/events.json").read_text())}
    for event in MANIFEST["settings"]["event_subscriptions"]["bot_events"]:
        options = set(events[event]["scopes"])
        if not options:  # app_home_opened: delivered to every app with a Home tab
            continue
        assert options & granted, f"event {event} needs one of {sorted(options)}"
        used |= options & granted
    assert granted - used == set(SCOPES_WITHOUT_METHOD)
