"""Related past incidents, suggested when an incident is declared: what makes a past
incident related to a new one, and how much.

A past incident is related by what it shares with the new one: each service
(`service:x`) counts 3, each other tag 2, and each word of the new title found in the
past incident's own text (its title, description, summary or tags, as a word prefix
when the word has 4 letters or more) counts 1. Words that say nothing about *what*
broke ("the", "errors", "outage"…) are left out. The score is a whole number, so both
databases rank alike; ties go to the most recent. Which incidents may be suggested at
all (not the new one, not private, cancelled or test ones) is the caller's rule
(bot/services/related.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.tags import SERVICE

MAX_RELATED = 3     # suggested at most
MAX_WORDS = 8       # title words looked for (the first ones)
MIN_PREFIX = 4      # shorter words match whole words only ("db" must not find "dbt")
SERVICE_WEIGHT, TAG_WEIGHT, WORD_WEIGHT = 3, 2, 1
_TOKEN = re.compile(r"[^\W_]+")  # as search.py: what both databases tokenise alike

# Function words, and words any incident title may use: they relate nothing.
STOP_WORDS = frozenset("""
a an and are as at be by for from has have in into is it its no not of off on or our
out over the their this to up was were with without after before during since while
all any some many more most less few very new still now again
error errors issue issues problem problems incident incidents outage outages failure
failures failing failed fail down degraded degradation broken slow high low elevated
increased spike spikes intermittent partial major minor customers users
""".split())


@dataclass(frozen=True)
class RelatedQuery:
    """What to look for: the new incident's title words (`prefix`: matched as a word
    prefix) and its tags, each with its weight."""

    number: int                            # the new incident: never suggested itself
    words: tuple[tuple[str, bool], ...]    # (word, prefix)
    tags: tuple[tuple[str, int], ...]      # (tag, weight)

    @property
    def empty(self) -> bool:
        return not (self.words or self.tags)


def related_query(number: int, title: str, tags: tuple[str, ...]) -> RelatedQuery:
    """The query for a new incident with this title and these (normalised) tags."""
    words = [w.lower() for w in _TOKEN.findall(title)]
    kept = [w for w in dict.fromkeys(words) if w not in STOP_WORDS and not w.isdigit()]
    return RelatedQuery(
        number,
        tuple((w, len(w) >= MIN_PREFIX) for w in kept[:MAX_WORDS]),
        tuple((t, SERVICE_WEIGHT if t.startswith(SERVICE) else TAG_WEIGHT)
              for t in dict.fromkeys(tags)),
    )


def shared_tags(new: tuple[str, ...], past: tuple[str, ...]) -> tuple[str, ...]:
    """The tags and services two incidents share, services first, as shown with a
    suggestion ("shares service:payments, database")."""
    both = [t for t in new if t in past]
    return tuple(sorted(both, key=lambda t: (not t.startswith(SERVICE), t)))
