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
    ITEM_EDIT = "action-item-edit"  # a menu under an item list; option value: the item id
    PAGE_BACK = "page-back"  # list pages: value `kind:ref:page`
    PAGE_NEXT = "page-next"
    POSTMORTEM_WRITE = "postmortem-write"  # on the draft message; value: the incident number
    ALERT_ACK = "alert-acknowledge"  # on an alert group's message and DMs; value: the group id
    ALERT_RESOLVE = "alert-resolve"
    ALERT_SILENCE = "alert-silence"  # "Silence 1h"
    ALERT_DECLARE = "alert-declare"  # "Declare incident": the declare form, prefilled
    POSTMORTEM_APPROVE = "postmortem-approve"  # in a reviewer's DM; value: the incident number
    POSTMORTEM_CHANGES = "postmortem-changes"  # in a reviewer's DM; opens the comment modal
    ITEM_DUE = "action-item-due"  # "Change due" on the Home tab; value: the item id
    HOME_DECLARE = "home-declare"  # the Home tab's "Declare an incident"
    HOME_COVER = "home-cover"  # "Ask for cover" by a turn; value: JSON schedule, start, end
    FACTOR_ADD = "factor-add"  # "Add contributing factor" on the draft; value: the incident
    FACTOR_REMOVE = "factor-remove"  # "Remove" in the factor list; value: `<incident>:<factor>`


class Callback(StrEnum):
    DECLARE = "incident-declare"
    DECLARE_ALERT = "alert-declare"  # private_metadata: `<alert group>:<channel>`
    REPHRASE = "note-rephrase"  # private_metadata: `<incident>:<entry>:<channel>`
    ITEM_EDIT = "action-item-edit"  # private_metadata: `<incident>:<item>:<channel>`
    HIDE_MESSAGE = "timeline-hide"  # the message shortcut "Hide from postmortem"
    EDIT = "incident-edit"  # private_metadata: the incident number
    POSTMORTEM_WRITE = "postmortem-write"  # private_metadata: `<incident>:<channel>:<ts>`
    POSTMORTEM_CHANGES = "postmortem-changes"  # private_metadata: the incident number
    FACTOR_ADD = "factor-add"  # private_metadata: `<incident>:<channel>:<draft message ts>`


class Block(StrEnum):
    TITLE = "declare-title"
    SEVERITY = "declare-severity"
    DESCRIPTION = "declare-description"
    COMMANDER = "declare-commander"
    PRIVATE = "declare-private"
    NOTE_TEXT = "rephrase-text"
    ITEM_TEXT = "item-text"
    ITEM_OWNER = "item-owner"
    ITEM_DUE = "item-due"
    ITEM_TYPE = "item-type"
    ITEM_REMOVE = "item-remove"
    TEST = "declare-test"
    SUMMARY = "edit-summary"
    SECTION = "pm-section:"  # + the section's key: one input per postmortem section
    REVIEW_COMMENT = "review-comment"
    FACTOR_CATEGORY = "factor-category"
    FACTOR_TEXT = "factor-text"
    FACTOR_TIMELINE = "factor-timeline"
    FACTOR_ITEMS = "factor-items"


class Field(StrEnum):
    TITLE = "title"
    SEVERITY = "severity"
    DESCRIPTION = "description"
    COMMANDER = "commander"
    PRIVATE = "private"
    NOTE_TEXT = "note_text"
    ITEM_TEXT = "item_text"
    ITEM_OWNER = "item_owner"
    ITEM_DUE = "item_due"
    ITEM_TYPE = "item_type"
    ITEM_REMOVE = "item_remove"
    TEST = "test"
    SUMMARY = "summary"
    SECTION_TEXT = "section_text"
    REVIEW_COMMENT = "review_comment"
    FACTOR_CATEGORY = "factor_category"
    FACTOR_TEXT = "factor_text"
    FACTOR_TIMELINE = "factor_timeline"
    FACTOR_ITEMS = "factor_items"


# Events the app subscribes to (manifest.yaml's bot_events; tests keep them equal).
EVENTS: tuple[str, ...] = (
    "message.channels", "message.groups", "reaction_added", "reaction_removed", "pin_added",
    "pin_removed", "member_joined_channel", "member_left_channel", "subteam_members_changed",
    "app_home_opened", "file_shared",
)
