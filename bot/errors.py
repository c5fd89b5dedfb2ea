"""The one error tree of Debrief.

    DebriefError
    ├── ConfigError        settings or debrief.yaml are missing or invalid (exit 2)
    ├── UserError          safe to show the person who asked: bad input, not found
    └── ChatError          Slack refused or failed a call (carries Slack's error code)

A `UserError` becomes an ephemeral reply; anything else is logged with context and
the person gets a short apology.
"""

from __future__ import annotations


class DebriefError(Exception):
    """Base of every error Debrief raises on purpose."""


class ConfigError(DebriefError):
    """Configuration is missing or invalid; the message says how to fix it."""


class UserError(DebriefError):
    """Input the person can correct; the message is shown to them as is."""


class ChatError(DebriefError):
    """A Slack Web API call failed; `code` is Slack's error string (e.g. `name_taken`)."""

    def __init__(self, method: str, code: str) -> None:
        super().__init__(f"Slack {method} failed: {code}")
        self.method = method
        self.code = code
