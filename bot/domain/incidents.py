"""Incident rules: naming, validation, state changes. Plain values in, plain values out.

A state change (`acknowledge`, `set_status`, `resolve`, `set_severity`, `assign_role`,
`post_update`) takes the current incident and returns the changed incident plus the
event to record, or raises `UserError`; the service applies it under a row lock."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from bot.domain.action_items import ActionItem
from bot.domain.tags import SERVICE, services, with_tags
from bot.domain.text import plain_from_slack, some
from bot.errors import Echo, Mention, Moment, UserError

MAX_TITLE = 150  # Block Kit header limit: the title is the summary card's header
MAX_CHANNEL_NAME = 80


@dataclass(frozen=True)
class Severity:
    """A severity level as configured: its name (`SEV1`) and what it means."""

    name: str
    description: str


class EventKind(StrEnum):
    """What happened to an incident: the kind of each recorded lifecycle event. Each kind
    has one plain-text wording (`bot.domain.timeline.lifecycle_text`: timeline, postmortem,
    CLI) and one Slack wording (`bot.slack.messages.event_text`), both exhaustive."""

    DECLARED = "declared"
    ACKNOWLEDGED = "acknowledged"
    STATUS = "status"
    REOPENED = "reopened"
    SEVERITY = "severity"
    ROLE = "role"
    UPDATE = "update"
    ONCALL = "oncall"
    RESOLVED = "resolved"
    ACTION_ITEM = "action_item"  # an action item corrected: text, owner, due, type, removed
    EDITED = "edited"        # a correction: detail has `<field>` (new) and `<field>_was`
    CANCELLED = "cancelled"  # declared by mistake: closed, kept for audit, out of stats
    TAGGED = "tagged"        # tags/services changed: detail `added` / `removed` (space-separated)
    # A postmortem review step (bot/domain/reviews.py): detail `step` (a ReviewKind value),
    # `reviewers` (space-separated, for `requested`), `version`, `comment`.
    POSTMORTEM = "postmortem"


@dataclass(frozen=True)
class EventRecord:
    at: datetime
    kind: EventKind
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
    private: bool = False
    tags: tuple[str, ...] = ()  # normalised (bot/domain/tags.py); `service:x` is a service
    roles: dict[str, str] = field(default_factory=dict)
    events: tuple[EventRecord, ...] = ()
    action_items: tuple[ActionItem, ...] = ()

    @property
    def commander(self) -> str | None:
        return self.roles.get("commander")

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def is_cancelled(self) -> bool:
        """Cancelled (declared by mistake), unless reopened since."""
        for event in reversed(self.events):
            if event.kind is EventKind.CANCELLED:
                return True
            if event.kind is EventKind.REOPENED:
                return False
        return False

    @property
    def is_test(self) -> bool:
        """A drill (`/incident declare --test`): its declaration says so."""
        return any(e.kind is EventKind.DECLARED and e.detail.get("test") == "yes"
                   for e in self.events)

    @property
    def counts(self) -> bool:
        """Whether it belongs in stats, lists and reminders: real and not cancelled."""
        return not (self.is_test or self.is_cancelled)


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


def _echo(word: str) -> Echo:
    """User text quoted back in an error: short, and made inert by whoever shows it."""
    return Echo(plain_from_slack(word)[:30])


def normalise_severity(word: str, severities: tuple[str, ...]) -> str:
    for name in severities:
        if name.lower() == word.lower():
            return name
    raise UserError("I don't know severity `", _echo(word),
                    f"`. Choose one of: {some(severities)}.")


def normalise_status(word: str, statuses: tuple[str, ...]) -> str:
    for name in statuses:
        if name == word.lower():
            return name
    raise UserError("I don't know status `", _echo(word),
                    f"`. Choose one of: {some(statuses)}.")


def normalise_role(word: str, roles: tuple[str, ...]) -> str:
    for name in roles:
        if name == word.lower():
            return name
    raise UserError("I don't know role `", _echo(word), f"`. Choose one of: {some(roles)}.")


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
        "cancelled": incident.is_cancelled,  # kept for audit; not counted in stats
        "test": incident.is_test,
        "tags": [t for t in incident.tags if not t.startswith(SERVICE)],
        "services": list(services(incident.tags)),
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


Change = tuple[Incident, EventRecord]


def acknowledge(incident: Incident, user: str, now: datetime) -> Change:
    if incident.acknowledged_at is not None:
        raise UserError(
            f"Incident #{incident.number} was already acknowledged by ",
            Mention(incident.acknowledged_by or ""),
            " at ", Moment(incident.acknowledged_at), ".")
    return (replace(incident, acknowledged_at=now, acknowledged_by=user),
            EventRecord(now, EventKind.ACKNOWLEDGED, user, {}))


def set_status(incident: Incident, status: str, note: str, user: str, now: datetime, *,
               resolved_status: str) -> Change:
    """Moving to `resolved_status` resolves; leaving it after resolution reopens."""
    if status == resolved_status:
        return resolve(incident, note, user, now, resolved_status=resolved_status)
    if status == incident.status:
        raise UserError(f"Incident #{incident.number} is already `{status}`.")
    detail = {"from": incident.status, "to": status}
    if note:
        detail["note"] = note
    if incident.resolved_at is not None:
        return (replace(incident, status=status, resolved_at=None),
                EventRecord(now, EventKind.REOPENED, user, detail))
    return replace(incident, status=status), EventRecord(now, EventKind.STATUS, user, detail)


def resolve(incident: Incident, summary: str, user: str, now: datetime, *,
            resolved_status: str) -> Change:
    if incident.resolved_at is not None:
        raise UserError(f"Incident #{incident.number} is already resolved.")
    detail = {"from": incident.status, "to": resolved_status}
    if summary:
        detail["summary"] = summary
    return (
        replace(incident, status=resolved_status, resolved_at=now,
                summary=summary or incident.summary),
        EventRecord(now, EventKind.RESOLVED, user, detail),
    )


def set_severity(incident: Incident, severity: str, user: str, now: datetime) -> Change:
    if severity == incident.severity:
        raise UserError(f"Incident #{incident.number} is already {severity}.")
    return (replace(incident, severity=severity),
            EventRecord(now, EventKind.SEVERITY, user, {"from": incident.severity, "to": severity}))


def assign_role(incident: Incident, role: str, assignee: str, user: str, now: datetime) -> Change:
    if incident.roles.get(role) == assignee:
        raise UserError(Mention(assignee), f" is already {role} of #{incident.number}.")
    detail = {"role": role, "user": assignee}
    if role in incident.roles:
        detail["previous"] = incident.roles[role]
    return (replace(incident, roles={**incident.roles, role: assignee}),
            EventRecord(now, EventKind.ROLE, user, detail))


def post_update(incident: Incident, text: str, user: str, now: datetime) -> Change:
    return incident, EventRecord(now, EventKind.UPDATE, user, {"text": text})


EDITABLE = ("title", "description", "severity", "summary")


def edit(incident: Incident, changes: dict[str, str], user: str, now: datetime, *,
         severities: tuple[str, ...]) -> Change:
    """A correction of any of `EDITABLE`; the event keeps each old value (`<field>_was`).
    Nothing changed is a `UserError`, so the timeline records only real corrections."""
    unknown = set(changes) - set(EDITABLE)
    assert not unknown, unknown
    clean = dict(changes)
    if "title" in clean:
        clean["title"] = validate_title(clean["title"])
    if "severity" in clean:
        clean["severity"] = normalise_severity(clean["severity"], severities)
    detail: dict[str, str] = {}
    for name, value in clean.items():
        old = str(getattr(incident, name))
        if value != old:
            detail[name], detail[f"{name}_was"] = value, old
    if not detail:
        raise UserError(f"Incident #{incident.number} already says that: nothing changed.")
    updated = replace(incident, title=detail.get("title", incident.title),
                      description=detail.get("description", incident.description),
                      severity=detail.get("severity", incident.severity),
                      summary=detail.get("summary", incident.summary))
    return updated, EventRecord(now, EventKind.EDITED, user, detail)


def cancel(incident: Incident, reason: str, user: str, now: datetime, *,
           resolved_status: str) -> Change:
    """Declared by mistake: closed now (so it leaves open lists and reminders), kept with
    its timeline for audit, and left out of stats (`Incident.counts`). Moving it to an
    open status again reopens it, counted again."""
    if incident.is_cancelled:
        raise UserError(f"Incident #{incident.number} is already cancelled.")
    detail = {"from": incident.status, "to": resolved_status}
    if reason:
        detail["reason"] = reason
    return (replace(incident, status=resolved_status, resolved_at=incident.resolved_at or now),
            EventRecord(now, EventKind.CANCELLED, user, detail))


def retag(incident: Incident, add: tuple[str, ...], remove: tuple[str, ...], user: str,
          now: datetime) -> Change:
    """Tags added and/or removed (already normalised by the parser); a change that changes
    nothing is a `UserError`, so the timeline records only real ones."""
    missing = [t for t in remove if t not in incident.tags]
    if missing:
        raise UserError(f"Incident #{incident.number} has no tag ", Echo(missing[0]), ".")
    kept = tuple(t for t in incident.tags if t not in remove)
    tags = with_tags(kept, list(add))
    added = [t for t in tags if t not in incident.tags]
    removed = [t for t in incident.tags if t not in tags]
    if not added and not removed:
        raise UserError(f"Incident #{incident.number} already has those tags: nothing changed.")
    detail = {"added": " ".join(added), "removed": " ".join(removed)}
    return replace(incident, tags=tags), EventRecord(now, EventKind.TAGGED, user, detail)
