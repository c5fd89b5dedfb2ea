"""Parsing `/incident` text into a command value. Pure: the listener acks with the
`UserError` message before any I/O when the text is malformed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from bot.domain.incidents import (
    normalise_role,
    normalise_severity,
    normalise_status,
    validate_title,
)
from bot.domain.text import parse_user_ref, plain_from_slack, some
from bot.errors import UserError

SUBCOMMANDS = (
    "help", "declare", "ack", "status", "severity", "role", "update", "resolve", "list", "retry",
    "note", "timeline", "postmortem", "action", "actions", "stats",
)
ALIASES = {"sev": "severity", "acknowledge": "ack", "new": "declare", "open": "declare",
           "pm": "postmortem", "ai": "action", "todo": "action"}
# Commands where a bare number can only be an incident reference; elsewhere use `#N`.
_BARE_NUMBER_REF = {"ack", "status", "severity", "role", "retry"}
_SEV_LIKE = re.compile(r"^sev\d+$", re.IGNORECASE)
# Caps on what people type, checked here so an over-long text is refused before any
# I/O with a one-line reply. Free text (updates, notes, status notes, resolution
# summaries) fits one Slack section with room to spare; a whole command is bounded too.
MAX_TEXT = 2900
MAX_COMMAND = 4000


def capped(text: str, what: str, limit: int = MAX_TEXT) -> str:
    """`text` unchanged, or a `UserError` saying how long it is and what fits."""
    if len(text) > limit:
        raise UserError(f"That {what} is {len(text):,} characters; keep it to {limit:,} or fewer.")
    return text


class Vocabulary(Protocol):
    """The configured words a command may use (`DebriefConfig` is one): the parser needs
    only these, so it does not depend on how configuration is loaded."""

    @property
    def severity_names(self) -> tuple[str, ...]: ...
    @property
    def statuses(self) -> tuple[str, ...]: ...
    @property
    def roles(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class IncidentCommand:
    action: str
    ref: int | None = None
    title: str = ""
    severity: str | None = None
    status: str | None = None
    role: str | None = None
    user_id: str | None = None
    text: str = ""
    unknown: str | None = None


def _take_ref(action: str, words: list[str]) -> tuple[int | None, list[str]]:
    if words:
        first = words[0]
        if re.fullmatch(r"#\d{1,9}", first) or (
            action in _BARE_NUMBER_REF and re.fullmatch(r"\d{1,9}", first)
        ):
            return int(first.lstrip("#")), words[1:]
    return None, words


def _plain_word(word: str) -> str:
    """A word as plain text. A mention typed out literally (`<@U1>`, which Slack sends as
    `&lt;@U1&gt;`) becomes its inert label (`@U1`): it must not pass for a real mention."""
    plain = plain_from_slack(word)
    return plain_from_slack(plain) if plain.startswith("<") and parse_user_ref(plain) else plain


def parse_incident_command(raw_text: str, config: Vocabulary) -> IncidentCommand:
    """Raise `UserError` (with an example) for anything malformed; change nothing."""
    capped(raw_text or "", "command", MAX_COMMAND)
    words = (raw_text or "").split()
    if not words:
        return IncidentCommand("help")
    head = words[0].lower()
    action = ALIASES.get(head, head)
    if action not in SUBCOMMANDS:
        return IncidentCommand("help", unknown=plain_from_slack(words[0])[:40])
    ref, rest = _take_ref(action, words[1:])

    def text_of(parts: list[str]) -> str:
        return plain_from_slack(" ".join(parts)).strip()

    if action == "declare":
        severity = None
        if rest and (_SEV_LIKE.match(rest[0]) or rest[0].upper() in config.severity_names):
            severity = normalise_severity(rest[0], config.severity_names)
            rest = rest[1:]
        title = text_of(rest)
        return IncidentCommand("declare", title=validate_title(title) if title else "",
                               severity=severity)
    if action == "status":
        if not rest:
            raise UserError(
                f"Which status? e.g. `/incident status monitoring Fix deployed`. "
                f"Statuses: {some(config.statuses)}."
            )
        status = normalise_status(rest[0], config.statuses)
        return IncidentCommand("status", ref=ref, status=status,
                               text=capped(text_of(rest[1:]), "status note"))
    if action == "severity":
        if not rest:
            raise UserError(f"Which severity? e.g. `/incident severity {config.severity_names[0]}`.")
        return IncidentCommand(
            "severity", ref=ref, severity=normalise_severity(rest[0], config.severity_names)
        )
    if action == "role":
        if not rest:
            raise UserError(f"Usage: `/incident role <role> @person`. Roles: {some(config.roles)}.")
        role = normalise_role(rest[0], config.roles)
        user_id = parse_user_ref(rest[1]) if len(rest) > 1 else None
        if user_id is None:
            raise UserError(f"Who should be {role}? Mention them: `/incident role {role} @person`.")
        return IncidentCommand("role", ref=ref, role=role, user_id=user_id)
    if action == "update":
        text = text_of(rest)
        if not text:
            raise UserError("What's the update? e.g. `/incident update Rolled back to v41`.")
        return IncidentCommand("update", ref=ref, text=capped(text, "update"))
    if action == "note":
        text = text_of(rest)
        if not text:
            raise UserError("What should the note say? e.g. `/incident note Paged the DB team` "
                            "or `/incident note at 14:05 Paged the DB team`.")
        return IncidentCommand("note", ref=ref, text=capped(text, "note"))
    if action == "timeline":
        sub = rest[0].lower() if rest else ""
        if sub not in ("", "rebuild"):
            raise UserError("Use `/incident timeline` to see key events, or "
                            "`/incident timeline rebuild` to re-read the channel history.")
        return IncidentCommand("timeline", ref=ref, text=sub)
    if action == "postmortem":
        sub = rest[0].lower() if rest else ""
        if sub not in ("", "review", "publish", "reopen"):
            raise UserError("Use `/incident postmortem` to draft (again), then "
                            "`/incident postmortem review` and `/incident postmortem publish`.")
        return IncidentCommand("postmortem", ref=ref, text=sub)
    if action == "action":
        if not rest:
            raise UserError("What needs doing? e.g. `/incident action Add an alert on replication "
                            "lag @alice due friday type detect`.")
        # Keep Slack's escaped mentions intact for the owner; the rest becomes plain text.
        return IncidentCommand("action", ref=ref, text=" ".join(
            w if w.startswith("<@") and parse_user_ref(w) else _plain_word(w) for w in rest))
    if action == "stats":
        return IncidentCommand("stats", text=rest[0] if rest else "")
    if action == "resolve":
        return IncidentCommand("resolve", ref=ref, text=capped(text_of(rest), "summary"))
    return IncidentCommand(action, ref=ref)
