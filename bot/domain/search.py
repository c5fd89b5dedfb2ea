"""Reading a search (`/incident search`, `debrief search`): words to find, and filters
`tag:x`, `service:x`, `sev:SEV1`, `after:2026-01-01`. The words become plain lowercase
tokens (letters and digits) that both databases tokenise the same way, each matched as a
prefix (`timeout` finds `timeouts`), all of them required somewhere in the incident."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot.domain.tags import SERVICE, normalise_tag
from bot.errors import Echo, UserError

MAX_TERMS = 8
_TOKEN = re.compile(r"[^\W_]+")
USAGE = "/incident search checkout timeout tag:database sev:SEV1 after:2026-01-01"


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    severity: str | None = None
    after: datetime | None = None
    text: str = ""  # as typed, for the reply and the next page

    @property
    def empty(self) -> bool:
        return not (self.terms or self.tags or self.severity or self.after)


def parse_search(text: str, severities: tuple[str, ...]) -> SearchQuery:
    """`text` as a query; `UserError` for an empty one or a filter that cannot be read."""
    terms: list[str] = []
    tags: list[str] = []
    severity: str | None = None
    after: datetime | None = None
    for word in text.split():
        key, colon, value = word.partition(":")
        key = key.lower()
        if colon and key in ("tag", "service", "sev", "severity", "after"):
            if not value:
                raise UserError("Filter ", Echo(word[:40]), " needs a value, e.g. "
                                "`tag:database`, `sev:SEV1`, `after:2026-01-01`.")
            if key == "tag":
                tags.append(normalise_tag(value))
            elif key == "service":
                tags.append(normalise_tag(SERVICE + value))
            elif key == "after":
                try:
                    after = datetime.combine(date.fromisoformat(value), datetime.min.time(),
                                             tzinfo=UTC)
                except ValueError:
                    raise UserError("I couldn't read ", Echo(value[:40]), " as a date; use "
                                    "`after:2026-01-01`.") from None
            else:
                match = [s for s in severities if s.lower() == value.lower()]
                if not match:
                    raise UserError("I don't know severity ", Echo(value[:40]),
                                    f"; use one of {', '.join(severities)}.")
                severity = match[0]
            continue
        terms.extend(t.lower() for t in _TOKEN.findall(word))
    terms = list(dict.fromkeys(terms))
    if len(terms) > MAX_TERMS:
        raise UserError(f"Search for at most {MAX_TERMS} words at a time.")
    query = SearchQuery(tuple(terms), tuple(dict.fromkeys(tags)), severity, after,
                        " ".join(text.split()))
    if query.empty:
        raise UserError(f"What should I look for? e.g. `{USAGE}`.")
    return query
