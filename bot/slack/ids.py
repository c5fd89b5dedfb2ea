"""Every id Slack echoes back to us, as string enums: a typo fails at import time,
and tests/structure/test_manifest.py checks the manifest against these."""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    INCIDENT = "/incident"
    ACTIONS = "/actions"
    ONCALL = "/oncall"


class Action(StrEnum):
    ACKNOWLEDGE = "incident-acknowledge"
    SET_STATUS = "incident-set-status"
    RESOLVE = "incident-resolve"
    ITEM_DONE = "action-item-done"
    ITEM_REOPEN = "action-item-reopen"
    COVER = "oncall-cover"
    PAGE_BACK = "page-back"  # list pages: value `kind:ref:page`
    PAGE_NEXT = "page-next"


class Callback(StrEnum):
    DECLARE = "incident-declare"
    EDIT = "incident-edit"  # private_metadata: the incident number


class Block(StrEnum):
    TITLE = "declare-title"
    SEVERITY = "declare-severity"
    DESCRIPTION = "declare-description"
    COMMANDER = "declare-commander"
    TEST = "declare-test"
    SUMMARY = "edit-summary"


class Field(StrEnum):
    TITLE = "title"
    SEVERITY = "severity"
    DESCRIPTION = "description"
    COMMANDER = "commander"
    TEST = "test"
    SUMMARY = "summary"


# Events the app subscribes to (manifest.yaml's bot_events; tests keep them equal).
EVENTS: tuple[str, ...] = (
    "message.channels", "reaction_added", "reaction_removed", "pin_added", "pin_removed",
    "member_joined_channel", "member_left_channel", "subteam_members_changed",
)
