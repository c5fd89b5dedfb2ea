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
    OVERRIDE_REMOVE = "oncall-override-remove"  # value: the override's number
    NOTE_REPHRASE = "note-rephrase"  # value: `<incident>:<entry>`
    PAGE_BACK = "page-back"  # list pages: value `kind:ref:page`
    PAGE_NEXT = "page-next"


class Callback(StrEnum):
    DECLARE = "incident-declare"
    REPHRASE = "note-rephrase"  # private_metadata: `<incident>:<entry>:<channel>`


class Block(StrEnum):
    TITLE = "declare-title"
    SEVERITY = "declare-severity"
    DESCRIPTION = "declare-description"
    COMMANDER = "declare-commander"
    PRIVATE = "declare-private"
    NOTE_TEXT = "rephrase-text"


class Field(StrEnum):
    TITLE = "title"
    SEVERITY = "severity"
    DESCRIPTION = "description"
    COMMANDER = "commander"
    PRIVATE = "private"
    NOTE_TEXT = "note_text"


# Events the app subscribes to (manifest.yaml's bot_events; tests keep them equal).
EVENTS: tuple[str, ...] = (
    "message.channels", "message.groups", "reaction_added", "reaction_removed", "pin_added", "pin_removed",
    "member_joined_channel",
)
