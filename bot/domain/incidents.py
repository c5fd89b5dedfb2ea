"""Incident rules: naming, validation, state changes. Plain values in, plain values out."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.actions import ActionItem
from bot.domain.text import escape_mrkdwn, plain_from_slack, some
from bot.errors import UserError

MAX_TITLE = 150  # Block Kit header limit: the title is the summary card's header
MAX_CHANNEL_NAME = 80


@dataclass(frozen=True)
class EventRecord:
    at: datetime
    kind: str
    actor: str | None
    detail: dict[str, str]


@dataclass(frozen=True)
class Incident:
    """A read-only snapshot of an incident, safe to use after its transaction ended."""

    number: int
    title: str
    severity: str
    status: str
    description: str
    declared_at: datetime
    declared_by: str
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    summary: str = ""
    channel_id: str | None = None
    channel_name: str | None = None
    card_ts: str | None = None
    announce_channel_id: str | None = None
    announce_ts: str | None = None
    roles: dict[str, str] = field(default_factory=dict)
    events: tuple[EventRecord, ...] = ()
    action_items: tuple[ActionItem, ...] = ()

    @property
    def commander(self) -> str | None:
        return self.roles.get("commander")

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


def validate_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise UserError("An incident needs a title, e.g. `/incident declare sev2 Checkout errors`.")
    if len(title) > MAX_TITLE:
        raise UserError(
            f"That title is {len(title)} characters; keep it under {MAX_TITLE + 1} "
            "(put details in `/incident update`)."
        )
    return title


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def channel_name(prefix: str, declared_at: datetime, number: int, title: str, attempt: int = 0) -> str:
    """`<prefix>-<yyyymmdd>-<number>-<slug>`, always a valid Slack channel name.

    `attempt` > 0 (after `name_taken`) appends `-<attempt + 1>`, cutting the slug so the
    name stays within 80 characters: the same inputs always give the same name.
    """
    base = f"{slugify(prefix) or 'inc'}-{declared_at:%Y%m%d}-{number}"
    suffix = f"-{attempt + 1}" if attempt else ""
    room = MAX_CHANNEL_NAME - len(base) - len(suffix) - 1
    slug = slugify(title)[: max(room, 0)].strip("-")
    name = f"{base}-{slug}" if slug else base
    return (name + suffix)[:MAX_CHANNEL_NAME]


def topic(incident: Incident) -> str:
    commander = f"<@{incident.commander}>" if incident.commander else "no commander"
    return f"{incident.severity} · {incident.status} · Commander: {commander}"


def _echo(word: str) -> str:
    """User text quoted back in an error: inert and short."""
    return escape_mrkdwn(plain_from_slack(word)[:30])


def normalise_severity(word: str, severities: tuple[str, ...]) -> str:
    for name in severities:
        if name.lower() == word.lower():
            return name
    raise UserError(f"I don't know severity `{_echo(word)}`. Choose one of: {some(severities)}.")


def normalise_status(word: str, statuses: tuple[str, ...]) -> str:
    for name in statuses:
        if name == word.lower():
            return name
    raise UserError(f"I don't know status `{_echo(word)}`. Choose one of: {some(statuses)}.")


def normalise_role(word: str, roles: tuple[str, ...]) -> str:
    for name in roles:
        if name == word.lower():
            return name
    raise UserError(f"I don't know role `{_echo(word)}`. Choose one of: {some(roles)}.")


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None


def as_dict(incident: Incident) -> dict[str, object]:
    """The stable JSON shape of `debrief incident show --json`."""
    return {
        "number": incident.number,
        "title": incident.title,
        "description": incident.description,
        "severity": incident.severity,
        "status": incident.status,
        "channel_id": incident.channel_id,
        "channel_name": incident.channel_name,
        "declared_at": _iso(incident.declared_at),
        "declared_by": incident.declared_by,
        "acknowledged_at": _iso(incident.acknowledged_at),
        "acknowledged_by": incident.acknowledged_by,
        "resolved_at": _iso(incident.resolved_at),
        "summary": incident.summary,
        "roles": dict(incident.roles),
        "events": [
            {"at": _iso(e.at), "kind": e.kind, "actor": e.actor, "detail": dict(e.detail)}
            for e in incident.events
        ],
        "action_items": [
            {"id": a.id, "text": a.text, "owner": a.owner,
             "due": a.due_on.isoformat() if a.due_on else None, "type": a.type,
             "status": a.status, "created_at": _iso(a.created_at),
             "closed_at": _iso(a.closed_at)}
            for a in incident.action_items
        ],
    }
