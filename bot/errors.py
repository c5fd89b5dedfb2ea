"""The one error tree of Debrief.

    DebriefError
    ├── ConfigError        settings or debrief.yaml are missing or invalid (exit 2)
    ├── UserError          safe to show the person who asked: bad input, not found
    └── ChatError          Slack refused or failed a call (carries Slack's error code)

A `UserError` becomes an ephemeral reply; anything else is logged with context and
the person gets a short apology.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


class DebriefError(Exception):
    """Base of every error Debrief raises on purpose."""


class ConfigError(DebriefError):
    """Configuration is missing or invalid; the message says how to fix it."""


@dataclass(frozen=True)
class Echo:
    """Words a person typed, quoted back inside a `UserError` message. They stay plain
    here; whoever shows the message makes them inert for its medium (Slack escapes
    them: `bot.slack.text.error_text`), so the rules raising the error need no markup."""

    text: str


@dataclass(frozen=True)
class Mention:
    """A person named inside a `UserError`, by chat user id: plain text says `@U1`; Slack
    renders a real mention (`bot.slack.text.error_text`), so the rules need no markup."""

    user_id: str


def _at(user_id: str) -> str:
    return f"@{user_id}"


class UserError(DebriefError):
    """Input the person can correct; the message is shown to them as is.

    Built from parts: plain message text, `Echo`es of what the person typed and
    `Mention`s of people. `str()` gives the plain message; `render` lets the medium
    escape the echoes and write the mentions its way."""

    def __init__(self, *parts: str | Echo | Mention) -> None:
        self.parts = parts
        super().__init__(self.render(lambda text: text))

    def render(self, inert: Callable[[str], str], mention: Callable[[str], str] = _at) -> str:
        return "".join(p if isinstance(p, str) else inert(p.text) if isinstance(p, Echo)
                       else mention(p.user_id) for p in self.parts)


EXPLANATIONS = {
    "is_archived": "the channel is archived",
    "channel_not_found": "the channel no longer exists",
    "not_in_channel": "Debrief is not in that channel",
    "invalid_auth": "Debrief's Slack token is not valid: a workspace admin needs to reinstall the app",
    "token_revoked": "Debrief's Slack token was revoked: a workspace admin needs to reinstall the app",
    "account_inactive": "Debrief's Slack app was deactivated: a workspace admin needs to reinstall it",
    "ratelimited": "Slack is rate-limiting Debrief; try again in a minute",
    "unreachable": "Slack could not be reached (timeout or network)",
    "restricted_action": "a workspace setting does not allow it",
    "name_taken": "every candidate channel name is taken",
}


def explain(code: str) -> str:
    """`code` plus a few words a person can act on."""
    reason = EXPLANATIONS.get(code) or (
        "Slack had an internal problem" if code.startswith("http_5") else "")
    return f"`{code}`" + (f" ({reason})" if reason else "")


class ChatError(DebriefError):
    """A Slack Web API call failed; `code` is Slack's error string (e.g. `name_taken`)."""

    def __init__(self, method: str, code: str) -> None:
        super().__init__(f"Slack {method} failed: {code}")
        self.method = method
        self.code = code

    @property
    def explained(self) -> str:
        return explain(self.code)
