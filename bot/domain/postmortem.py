"""Postmortems: review states, due dates, and the plain-data context a template renders.
Pure: the template engine lives in bot/templating.py."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.action_items import ActionItem
from bot.domain.factors import Factor, factor_bullet, group_factors, links_text
from bot.domain.incidents import Incident
from bot.domain.timeline import Durations, TimelineItem, format_duration

STATUSES = ("draft", "in_review", "published")


@dataclass(frozen=True)
class PostmortemVersion:
    version: int
    template: str
    content: str
    created_at: datetime
    created_by: str
    file_id: str | None = None
    message_ts: str | None = None  # the summary message posted with this version


@dataclass(frozen=True)
class Postmortem:
    incident_number: int
    status: str
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    versions: tuple[PostmortemVersion, ...] = ()

    @property
    def latest(self) -> PostmortemVersion | None:
        return self.versions[-1] if self.versions else None


@dataclass(frozen=True)
class SectionSpec:
    """A narrative section a template declares: the team writes it, the template shows it
    as `sections.<key>` under `heading` (the heading also names it in the Slack modal)."""

    key: str
    heading: str


@dataclass(frozen=True)
class SectionText:
    """The current text of one section, with who last changed it and when (the version
    counts that section's own edits: 1, 2, ...)."""

    key: str
    text: str
    version: int
    author: str
    written_at: datetime


@dataclass(frozen=True)
class SectionForm:
    """What the "Write postmortem" modal shows: the template's declared sections (or the
    one asked for) with their current text and who last wrote each."""

    number: int
    template: str
    sections: tuple[SectionSpec, ...]
    current: dict[str, SectionText]
    names: dict[str, str] = field(default_factory=dict)  # authors' display names by user id


SECTION_TEXT_LIMIT = 3000  # Slack's plain_text_input max_length; the modal is the way in
_DECLARATION = re.compile(r"\{#-?\s*sections:[^\n]*\n(?P<body>.*?)-?#\}", re.DOTALL)
_DECLARED = re.compile(r"^\s*(?P<key>[a-z][a-z0-9_]{0,39})\s*:\s*(?P<heading>\S.{0,74}?)\s*$")


def declared_sections(source: str) -> tuple[SectionSpec, ...]:
    """The sections a template's source declares in a `{# sections: ... #}` comment, one
    `key: Heading` per line (other lines there are prose and skipped). A template without
    the comment declares none: its text is all generated or prompts."""
    match = _DECLARATION.search(source)
    if match is None:
        return ()
    found: dict[str, SectionSpec] = {}
    for line in match.group("body").splitlines():
        declared = _DECLARED.match(line)
        if declared and declared.group("key") not in found:
            found[declared.group("key")] = SectionSpec(declared.group("key"),
                                                       declared.group("heading"))
    return tuple(found.values())


@dataclass(frozen=True)
class DuePolicy:
    """How long after resolution the postmortem is due: N calendar or business days."""

    days: int
    business: bool

    def due_at(self, resolved_at: datetime) -> datetime:
        if not self.business:
            return resolved_at + timedelta(days=self.days)
        due, left = resolved_at, self.days
        while left:
            due += timedelta(days=1)
            if due.weekday() < 5:
                left -= 1
        return due

    def __str__(self) -> str:
        return f"{self.days} {'business ' if self.business else ''}day{'s' * (self.days != 1)}"


_USER_ID = re.compile(r"\b[UW][A-Z0-9]{2,}\b")  # replaced only when the name is known
_POLICY = re.compile(r"^(\d{1,3})\s+(business\s+)?days?$", re.IGNORECASE)


def parse_due_policy(text: str) -> DuePolicy | None:
    """`3 days`, `5 business days`, or `none`."""
    if text.strip().lower() == "none":
        return None
    match = _POLICY.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not like '3 days' or '5 business days'")
    return DuePolicy(int(match.group(1)), bool(match.group(2)))


def _utc(at: datetime | None) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if at else "not yet"


def permalink(workspace_url: str | None, channel_id: str | None, ts: str | None) -> str | None:
    """Slack's permalink shape, built without an API call per timeline entry."""
    if not (workspace_url and channel_id and ts):
        return None
    return f"{workspace_url.rstrip('/')}/archives/{channel_id}/p{ts.replace('.', '')}"


def _timeline_rows(items: list[TimelineItem], names: dict[str, str],
                   readable: Callable[[str], str], link_base: str | None) -> list[dict[str, Any]]:
    """The timeline as the template sees it. A long incident has thousands of key
    entries, most sharing their minute with the one before: the date and time strings
    are formatted once per minute, links share their prefix (`.../p` + ts), and only a
    text that could hold a user id (an upper-case U or W) goes through the regex."""
    prefix = link_base[:-1] if link_base else None  # permalink(..., "0") ends in "p0"
    minutes: dict[int, tuple[str, str]] = {}
    rows = []
    for i in items:
        minute = int(i.at.timestamp()) // 60
        shown = minutes.get(minute)
        if shown is None:
            at = i.at.astimezone(UTC)
            shown = minutes[minute] = (f"{at:%H:%M}", f"{at:%Y-%m-%d}")
        text = i.text
        if "U" in text or "W" in text:
            text = readable(text)
        rows.append({"at": shown[0], "date": shown[1], "kind": i.kind,
                     "author": names.get(i.author, i.author) if i.author else "", "text": text,
                     "link": prefix + i.source_ts.replace(".", "")
                     if prefix is not None and i.source_ts else None})
    return rows


def postmortem_context(
    incident: Incident, *, timeline: list[TimelineItem], actions: list[ActionItem],
    spans: Durations, names: dict[str, str], severity_description: str,
    document_status: str, version: int, generated_at: datetime, due_at: datetime | None,
    workspace_url: str | None, roles: tuple[str, ...],
    sections: dict[str, str] | None = None,
    factors: list[Factor] | None = None, factor_categories: tuple[str, ...] = (),
    factor_labels: dict[int, str] | None = None,
) -> dict[str, object]:
    """Everything a postmortem template may use, as plain strings, lists and dicts, so
    user templates in the sandbox need nothing but data."""

    def name(user: str | None) -> str:
        return names.get(user or "", user or "unassigned") if user else "unassigned"

    def readable(text: str) -> str:
        """User ids inside recorded texts ("Commander: U123") become names."""
        return _USER_ID.sub(lambda m: names.get(m.group(0), m.group(0)), text)

    key_events = [i for i in timeline if i.key and not i.deleted]
    detected = incident.declared_at
    mitigated = incident.declared_at + spans.to_mitigate if spans.to_mitigate else None
    first_signal = min((i.at for i in key_events), default=incident.declared_at)
    return {
        "incident": {
            "number": incident.number, "title": incident.title, "severity": incident.severity,
            "severity_description": severity_description, "status": incident.status,
            "description": incident.description, "summary": incident.summary,
            "channel_name": incident.channel_name or "", "commander": name(incident.commander),
            "roles": {role: name(incident.roles.get(role)) for role in roles},
            "declared_at": _utc(incident.declared_at),
            "acknowledged_at": _utc(incident.acknowledged_at),
            "resolved_at": _utc(incident.resolved_at),
        },
        "document": {"status": document_status.replace("_", " "), "version": version,
                     "generated_at": _utc(generated_at), "due": _utc(due_at) if due_at else
                     "no due date for this severity"},
        "impact": {"start": _utc(min(first_signal, detected)), "detected": _utc(detected),
                   "mitigated": _utc(mitigated), "resolved": _utc(incident.resolved_at)},
        "durations": {
            "to_acknowledge": format_duration(spans.to_acknowledge),
            "to_mitigate": format_duration(spans.to_mitigate),
            "to_resolve": format_duration(spans.to_resolve),
            "detection": format_duration(detected - first_signal)
            if first_signal < detected else "0m",
        },
        "timeline": _timeline_rows(key_events, names, readable,
                                   permalink(workspace_url, incident.channel_id, "0")),
        # The team's words, by the keys the template declares ("" until written).
        "sections": dict(sections or {}),
        # Structured contributing factors, grouped by category (configured order).
        "factors": factor_groups(factors or [], factor_categories, factor_labels or {}, name),
        "action_items": [
            {"text": a.text, "owner": name(a.owner), "type": a.type, "status": a.status,
             "due": a.due_on.isoformat() if a.due_on else "no due date"}
            for a in actions
        ],
    }


def factor_groups(factors: list[Factor], categories: tuple[str, ...], labels: dict[int, str],
                  name: Callable[[str | None], str]) -> list[dict[str, object]]:
    """The template's `factors`: one dict per category that has standing factors, in the
    configured order: `category`, `title`, `items` — each item's `description`, `links`
    ("timeline: 14:02 UTC; action items: #2", or ""), `timeline` (labels), `action_items`
    (numbers), `author` (a name), `added_at` and `bullet` (the item as its Markdown bullet,
    the way bot/domain/factors.py reads it back)."""
    return [
        {"category": group.category, "title": group.title, "items": [
            {"description": f.description, "links": links_text(f, labels),
             "timeline": [labels.get(i, f"entry {i}") for i in f.timeline],
             "action_items": list(f.action_items), "author": name(f.added_by),
             "added_at": _utc(f.added_at), "bullet": factor_bullet(f, labels)}
            for f in group.factors]}
        for group in group_factors(factors, categories)
    ]
