"""The postmortem library (`debrief postmortem export --to DIR`): where each postmortem's
file goes and what its front matter says, as plain values. The YAML serialisation and
the file writing live in the CLI; this module decides names and fields, so that the same
incident always gives the same path and the same data (re-exporting rewrites nothing).

A file is `<yyyy>/<number>-<slug>.md` (the year it was declared; the slug is the title's,
so a corrected title moves the file and the number finds the old one)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.domain.factors import Factor
from bot.domain.incidents import Incident, slugify
from bot.domain.tags import SERVICE, services
from bot.domain.timeline import Durations, format_duration

MAX_SLUG = 60
# A file the library owns: `<number>-<slug>.md` in a `<yyyy>` folder. Anything else in
# DIR (a README, an index the team wrote) is never touched.
LIBRARY_FILE = re.compile(r"^(?P<number>[1-9][0-9]*)-[a-z0-9-]*\.md$")
LIBRARY_YEAR = re.compile(r"^[0-9]{4}$")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


@dataclass(frozen=True)
class LibraryEntry:
    """One postmortem as the library holds it: its path under DIR, its front matter
    (plain, ordered data) and its Markdown body."""

    number: int
    path: str
    front_matter: dict[str, object]
    body: str


def library_slug(title: str) -> str:
    """The title as a file-name slug: lowercase ASCII letters, digits and `-`, at most
    60 characters, never empty."""
    return slugify(title)[:MAX_SLUG].rstrip("-") or "incident"


def library_path(incident: Incident) -> str:
    """`<yyyy>/<number>-<slug>.md`, `/`-separated, relative to the library's folder."""
    return f"{incident.declared_at.astimezone(UTC):%Y}/{incident.number}-" \
           f"{library_slug(incident.title)}.md"


def library_number(name: str) -> int | None:
    """The incident number of a file name the library owns (`12-checkout-errors.md`),
    else None."""
    match = LIBRARY_FILE.match(name)
    return int(match.group("number")) if match else None


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


def _seconds(delta: timedelta | None) -> int | None:
    return int(delta.total_seconds()) if delta is not None else None


def factor_list(text: str) -> list[str]:
    """The contributing-factors section as a list: one entry per bullet (`-`, `*`, `•`,
    `1.`) with its continuation lines, else one per paragraph."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    if any(_BULLET.match(line) for line in lines):
        items: list[str] = []
        for line in lines:
            if _BULLET.match(line):
                items.append(_BULLET.sub("", line, count=1).strip())
            elif line.strip() and items:
                items[-1] = f"{items[-1]} {line.strip()}"
            elif line.strip():
                items.append(line.strip())
        return [i for i in items if i]
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def front_matter(incident: Incident, *, postmortem_status: str, version: int,
                 updated_at: datetime, published_at: datetime | None, spans: Durations,
                 contributing_factors: str = "",
                 factors: Sequence[Factor] = ()) -> dict[str, object]:
    """What the library's front matter says about one postmortem, in a fixed order. Only
    stored facts (no "generated at"), so an unchanged incident gives the same data."""
    tags = [t for t in incident.tags if not t.startswith(SERVICE)]
    data: dict[str, object] = {
        "number": incident.number,
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "declared_at": _iso(incident.declared_at),
        "resolved_at": _iso(incident.resolved_at),
        "durations": {
            "to_acknowledge": format_duration(spans.to_acknowledge)
            if spans.to_acknowledge is not None else None,
            "to_mitigate": format_duration(spans.to_mitigate)
            if spans.to_mitigate is not None else None,
            "to_resolve": format_duration(spans.to_resolve)
            if spans.to_resolve is not None else None,
            "to_acknowledge_seconds": _seconds(spans.to_acknowledge),
            "to_mitigate_seconds": _seconds(spans.to_mitigate),
            "to_resolve_seconds": _seconds(spans.to_resolve),
        },
        "tags": tags,
        "services": list(services(incident.tags)),
        "postmortem": {"status": postmortem_status, "version": version,
                       "updated_at": _iso(updated_at), "published_at": _iso(published_at)},
    }
    if incident.private:
        data["private"] = True
    written = factor_list(contributing_factors) if contributing_factors.strip() else []
    # Structured factors first ({category, description, action_items linked}), then the
    # items of the prose section, as text.
    listed: list[object] = [
        {"category": f.category, "description": f.description,
         **({"action_items": list(f.action_items)} if f.action_items else {})}
        for f in factors if not f.removed]
    listed += written
    if listed:
        data["contributing_factors"] = listed
    data["action_items"] = [
        {"text": a.text, "owner": a.owner, "type": a.type, "status": a.status,
         "due": a.due_on.isoformat() if a.due_on else None}
        for a in incident.action_items
    ]
    return data


def library_document(front: str, body: str) -> str:
    """A Markdown file with YAML front matter: `front` (already serialised YAML) between
    `---` lines, a blank line, then `body`, ending in exactly one newline."""
    return f"---\n{front.rstrip()}\n---\n\n{body.strip()}\n"
