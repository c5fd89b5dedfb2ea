"""Contributing factors, structured: each has a category (technical, process,
organisational by default; `postmortem.factor_categories`), a description, and optionally
links to timeline entries and action items. Pure: plain values in and out.

The Markdown form (what the default template renders and an uploaded edit is read from):

    ## Contributing factors

    ### Technical

    - The pool had no limit on waiting requests (timeline: 14:02 UTC; action items: #2, #5)
    - A second line of a description is indented
      under its bullet.

    ### Notes

    Prose the team wrote in the free-text section (`sections.contributing_factors`).

One `### <Category title>` per category that has factors, in the configured order; each
factor a `- ` bullet, its links (if any) in one parenthesised group at its very end.
`### Notes` holds the free-text section when there are structured factors too (prose
alone is written straight under the `##` heading, as before factors were structured).

Reading it back (`parse_factors_markdown`) is forgiving — `*`, `+`, `1.` bullets, any
heading case, `Organizational` for `organisational`, a paragraph instead of a bullet —
but it never drops text: anything under a category heading becomes a factor, anything
before the first category heading (or under `### Notes`) is prose, and a heading that
is not a category is an error naming it, with the line, for the caller to show."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.errors import Echo, UserError

DEFAULT_CATEGORIES: tuple[str, ...] = ("technical", "process", "organisational")
SECTION_HEADING = "Contributing factors"
NOTES_HEADING = "Notes"     # the free-text section, below the structured factors
FACTOR_TEXT_LIMIT = 1000    # characters in one description
MAX_LINKS = 20              # timeline entries, and action items, one factor may link
MAX_FACTORS = 40            # factors standing on one incident (a list message holds 50 blocks)
MAX_CATEGORIES = 20
MAX_CATEGORY = 40           # characters in a category's name
_CATEGORY = re.compile(r"^[^\W\d_][\w &/'-]*$")


@dataclass(frozen=True)
class Factor:
    """One contributing factor. `timeline` and `action_items` are stored ids (a timeline
    entry's number as `/incident hide 7` names it, an action item's number). A removed
    factor is kept with who removed it and when; only standing ones are rendered."""

    category: str
    description: str
    timeline: tuple[int, ...] = ()
    action_items: tuple[int, ...] = ()
    id: int | None = None
    added_by: str = ""
    added_at: datetime | None = None
    removed_by: str | None = None
    removed_at: datetime | None = None

    @property
    def removed(self) -> bool:
        return self.removed_at is not None


# Categories --------------------------------------------------------------------------


def category_title(category: str) -> str:
    """How a category is headed: its name with the first letter capitalised."""
    return category[:1].upper() + category[1:]


def _fold(word: str) -> str:
    """A category name as compared: case, spaces, punctuation and a trailing colon
    ignored, and `organizational` read as `organisational`."""
    return re.sub(r"[\W_]+", "", word.casefold()).replace("iz", "is")


def check_categories(names: Iterable[object]) -> tuple[str, ...]:
    """The configured categories, lowercased, in order; `ValueError` saying what is wrong
    (the configuration names the key)."""
    found: list[str] = []
    for raw in names:
        if not isinstance(raw, str) or not raw.strip():
            raise ValueError("each category must be a word or a few, e.g. technical")
        name = " ".join(raw.split()).lower()
        if len(name) > MAX_CATEGORY:
            raise ValueError(f"{raw!r} is longer than {MAX_CATEGORY} characters")
        if not _CATEGORY.match(name):
            raise ValueError(f"{raw!r} must start with a letter and use letters, digits, "
                             "spaces, &, /, ' or -")
        if _fold(name) == _fold(NOTES_HEADING):
            raise ValueError(f"{raw!r} is taken: “### {NOTES_HEADING}” holds the prose "
                             "written with the factors")
        if any(_fold(name) == _fold(other) for other in found):
            raise ValueError(f"{raw!r} is listed twice")
        found.append(name)
    if not found:
        raise ValueError("list at least one category, e.g. [technical, process, organisational]")
    if len(found) > MAX_CATEGORIES:
        raise ValueError(f"at most {MAX_CATEGORIES} categories")
    return tuple(found)


def find_category(word: str, categories: Sequence[str]) -> str | None:
    """The configured category `word` names (any case, `Organizational:` too), or None."""
    folded = _fold(word)
    return next((c for c in categories if _fold(c) == folded), None) if folded else None


# Validation ---------------------------------------------------------------------------


def normalise_description(text: str) -> str:
    """A description as stored: each line trimmed, blank lines dropped (a factor is one
    bullet in the document)."""
    return "\n".join(line.strip() for line in text.strip().splitlines() if line.strip())


def check_factor(category: str, description: str, categories: Sequence[str], *,
                 timeline: Iterable[int] = (), action_items: Iterable[int] = (),
                 known_timeline: Collection[int] | None = None,
                 known_action_items: Collection[int] | None = None) -> Factor:
    """A new factor from what a person gave, or a `UserError` saying what to fix: the
    category must be configured, the description non-empty, at most FACTOR_TEXT_LIMIT
    characters, and not end in something the document would read as links; the links
    (when `known_*` are given) must be the incident's own."""
    chosen = find_category(category, categories)
    if chosen is None:
        raise UserError("“", Echo(category[:MAX_CATEGORY + 10]), "” is not a contributing-"
                        "factor category; the categories are " + ", ".join(categories) + ".")
    text = normalise_description(description)
    if not text:
        raise UserError("Describe the contributing factor: a condition in the system, the "
                        "process or the organisation that made the incident possible.")
    if len(text) > FACTOR_TEXT_LIMIT:
        raise UserError(f"A contributing factor is at most {FACTOR_TEXT_LIMIT:,} characters "
                        f"(this is {len(text):,}); shorten it or split it in two.")
    if _split_links(text)[1] is not None:
        raise UserError("End the description with something other than a “(timeline: …)” or "
                        "“(action items: …)” note: choose links in the form instead.")
    timeline_ids = tuple(dict.fromkeys(timeline))
    item_ids = tuple(dict.fromkeys(action_items))
    if len(timeline_ids) > MAX_LINKS or len(item_ids) > MAX_LINKS:
        raise UserError(f"A contributing factor links at most {MAX_LINKS} timeline entries "
                        f"and {MAX_LINKS} action items.")
    if known_timeline is not None:
        stray = [i for i in timeline_ids if i not in known_timeline]
        if stray:
            raise UserError(f"Timeline entry {stray[0]} is not in this incident's timeline.")
    if known_action_items is not None:
        stray = [i for i in item_ids if i not in known_action_items]
        if stray:
            raise UserError(f"Action item {stray[0]} is not one of this incident's.")
    return Factor(chosen, text, timeline_ids, item_ids)


def check_room(standing: int) -> None:
    """Refuse a factor beyond MAX_FACTORS standing ones (the document and the modal's
    lists stay readable)."""
    if standing >= MAX_FACTORS:
        raise UserError(f"This incident already has {MAX_FACTORS} contributing factors; "
                        "remove one (`/incident postmortem factors`) before adding another.")


@dataclass(frozen=True)
class FactorForm:
    """What the "Add contributing factor" modal offers: the categories, the incident's
    key timeline entries (id, label, text) and its action items (id, text) to link, and
    what to prefill."""

    number: int
    categories: tuple[str, ...]
    timeline: tuple[tuple[int, str, str], ...] = ()
    action_items: tuple[tuple[int, str], ...] = ()
    category: str | None = None
    description: str = ""


# Grouping and links ----------------------------------------------------------------------


@dataclass(frozen=True)
class FactorGroup:
    category: str
    title: str
    factors: tuple[Factor, ...]


def group_factors(factors: Iterable[Factor], categories: Sequence[str]) -> list[FactorGroup]:
    """Standing factors grouped by category in the configured order, each group in the
    order its factors were added; a stored category no longer configured comes last
    under its own title (never dropped)."""
    standing = [f for f in factors if not f.removed]
    order = list(categories) + sorted({f.category for f in standing} - set(categories))
    return [FactorGroup(c, category_title(c), tuple(f for f in standing if f.category == c))
            for c in order if any(f.category == c for f in standing)]


def top_factor_lines(factors: Iterable[Factor], categories: Sequence[str], limit: int = 3,
                     width: int = 200) -> tuple[str, ...]:
    """The first standing factors in document order, as `Technical: <first line>` (each
    shortened to `width`): the published summary's "top contributing factors"."""
    lines = [f"{group.title}: {f.description.splitlines()[0]}"
             for group in group_factors(factors, categories) for f in group.factors]
    return tuple(line if len(line) <= width else line[:width - 1].rstrip() + "…"
                 for line in lines[:limit])


def timeline_labels(entries: Iterable[tuple[int, datetime]]) -> dict[int, str]:
    """How a factor names the timeline entries it links, by entry id: `14:02 UTC`; with
    the date when the entries span days; with seconds, then `entry <id>`, only where that
    is needed to tell two entries apart (so a label always reads back to one entry)."""
    listed = [(i, at.astimezone(UTC)) for i, at in entries]
    dated = len({at.date() for _, at in listed}) > 1
    day = "%Y-%m-%d " if dated else ""

    def label(fmt: str, at: datetime) -> str:
        return f"{at.strftime(day + fmt)} UTC"

    minutes: dict[str, int] = {}
    seconds: dict[str, int] = {}
    for _, at in listed:
        minutes[label("%H:%M", at)] = minutes.get(label("%H:%M", at), 0) + 1
        seconds[label("%H:%M:%S", at)] = seconds.get(label("%H:%M:%S", at), 0) + 1
    labels: dict[int, str] = {}
    for i, at in listed:
        if minutes[label("%H:%M", at)] == 1:
            labels[i] = label("%H:%M", at)
        elif seconds[label("%H:%M:%S", at)] == 1:
            labels[i] = label("%H:%M:%S", at)
        else:
            labels[i] = f"{label('%H:%M:%S', at)} entry {i}"
    return labels


def links_text(factor: Factor, labels: Mapping[int, str]) -> str:
    """`timeline: 14:02 UTC; action items: #2, #5` ("" without links). A timeline entry
    without a label (hidden since) is named `entry <id>`."""
    parts = []
    if factor.timeline:
        parts.append("timeline: "
                     + ", ".join(labels.get(i, f"entry {i}") for i in factor.timeline))
    if factor.action_items:
        noun = "action item" if len(factor.action_items) == 1 else "action items"
        parts.append(f"{noun}: " + ", ".join(f"#{i}" for i in factor.action_items))
    return "; ".join(parts)


def factor_bullet(factor: Factor, labels: Mapping[int, str]) -> str:
    """One factor as its Markdown bullet: `- ` and the description (later lines indented
    under it), the links in parentheses at the end."""
    links = links_text(factor, labels)
    text = factor.description + (f" ({links})" if links else "")
    return "- " + text.replace("\n", "\n  ")


def render_factors_markdown(factors: Iterable[Factor], categories: Sequence[str], *,
                            labels: Mapping[int, str] | None = None, prose: str = "",
                            heading: bool = True) -> str:
    """The `## Contributing factors` section (without `heading`: its body) in the format
    the module docstring shows: one `### Title` per category with factors, bullets, then
    the free-text `prose` under `### Notes` (or alone, straight under the heading)."""
    groups = group_factors(factors, categories)
    blocks = [f"## {SECTION_HEADING}"] if heading else []
    for group in groups:
        blocks.append(f"### {group.title}")
        blocks.append("\n".join(factor_bullet(f, labels or {}) for f in group.factors))
    if prose.strip():
        if groups:
            blocks.append(f"### {NOTES_HEADING}")
        blocks.append(prose.strip())
    return "\n\n".join(blocks) + "\n"


# Reading the Markdown back ------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedFactor:
    """A factor as the document gives it: the timeline links as written (labels, for
    `resolve_factor` to turn into ids) and the action items' numbers; `line` is where its
    bullet starts (1-based, in the text given)."""

    category: str
    description: str
    timeline: tuple[str, ...] = ()
    action_items: tuple[int, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class ParsedFactors:
    """What the section says: its factors in document order and its prose (the free-text
    section); `found` is False when the text has `##` headings but none for contributing
    factors (nothing to read)."""

    factors: tuple[ParsedFactor, ...]
    prose: str
    found: bool = True


_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(?:[-*+•]|\d{1,3}[.)])\s+")
_LINK_KEYS = {"timeline": "timeline", "timelineentry": "timeline",
              "timelineentries": "timeline", "actionitem": "action_items",
              "actionitems": "action_items", "actions": "action_items", "action": "action_items"}
_ITEM = re.compile(r"^#?\s*(\d{1,9})$")
_ENTRY = re.compile(r"^(?:#|entry\s+)(\d{1,9})$", re.IGNORECASE)


def _split_links(text: str) -> tuple[str, str | None]:
    """(description, the trailing link group's inside) when `text` ends in a parenthesised
    group whose every `;` part starts with `timeline:` or `action items:`; else (text, None)."""
    if not text.endswith(")"):
        return text, None
    depth = 0
    for at in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[at], 0)
        if depth == 0:
            inside = text[at + 1:-1]
            parts = [p.strip() for p in inside.split(";") if p.strip()]
            keys = [_fold(p.partition(":")[0]) if ":" in p else "" for p in parts]
            if parts and all(k in _LINK_KEYS for k in keys):
                return text[:at].rstrip(), inside
            return text, None
    return text, None


def _read_links(inside: str, line: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
    timeline: list[str] = []
    items: list[int] = []
    for part in (p.strip() for p in inside.split(";") if p.strip()):
        key, _, values = part.partition(":")
        words = [v.strip() for v in values.split(",") if v.strip()]
        if _LINK_KEYS[_fold(key)] == "timeline":
            timeline += words
            continue
        for word in words:
            match = _ITEM.match(word)
            if match is None:
                raise UserError(f"Line {line}: “", Echo(word[:40]), "” is not an action item "
                                "number; write them like `action items: #2, #5`.")
            items.append(int(match.group(1)))
    return tuple(dict.fromkeys(timeline)), tuple(dict.fromkeys(items))


def _section(lines: list[str]) -> tuple[int, int] | None:
    """The [start, end) lines of the contributing-factors section's body; the whole text
    when it has no `#`/`##` heading at all; None when it has some but not that one."""
    top = [(n, m) for n, m in ((n, _HEADING.match(line)) for n, line in enumerate(lines))
           if m and len(m.group("hashes")) <= 2]
    if not top:
        return 0, len(lines)
    for pos, (n, match) in enumerate(top):
        if _fold(match.group("title")) == _fold(SECTION_HEADING):
            end = top[pos + 1][0] if pos + 1 < len(top) else len(lines)
            return n + 1, end
    return None


def parse_factors_markdown(text: str, categories: Sequence[str] = DEFAULT_CATEGORIES, *,
                           skip: Collection[str] = ()) -> ParsedFactors:
    """Read the contributing factors back from a document (or just the section's body).
    Lines equal to one of `skip` (a template's guidance, stripped) are ignored. A
    `###` heading that names no category (nor `Notes`) is a `UserError` with its line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    span = _section(lines)
    if span is None:
        return ParsedFactors((), "", found=False)
    skipped = {s.strip() for s in skip if s.strip()}
    prose: list[str] = []
    factors: list[ParsedFactor] = []
    category: str | None = None  # None: prose (before any category, or under Notes)
    current: list[str] = []      # the factor being read: its lines
    start = 0
    fence = False

    def close() -> None:
        if category is None or not current:
            current.clear()
            return
        joined = normalise_description("\n".join(current))
        current.clear()
        if not joined:
            return
        description, inside = _split_links(joined)
        timeline, items = _read_links(inside, start) if inside is not None else ((), ())
        factors.append(ParsedFactor(category, normalise_description(description), timeline,
                                    items, start))

    for n in range(*span):
        raw = lines[n]
        line_no = n + 1
        stripped = raw.strip()
        if stripped.startswith("```") or stripped.startswith("~~~"):
            fence = not fence
        heading = None if fence else _HEADING.match(raw)
        if heading is not None and not raw[:1].isspace():
            close()
            title = heading.group("title").rstrip(":").strip()
            if _fold(title) == _fold(NOTES_HEADING):
                category = None
                continue
            found = find_category(title, categories)
            if found is None:
                raise UserError(f"Line {line_no}: “", Echo(stripped[:80]), "” is not a "
                                "contributing-factor category. Use one of: "
                                + ", ".join(f"### {category_title(c)}" for c in categories)
                                + f" (or ### {NOTES_HEADING} for prose).")
            category = found
            continue
        if stripped in skipped:
            continue
        if category is None:
            prose.append(raw.rstrip())
            continue
        if not stripped:
            close()
            continue
        bullet = _BULLET.match(stripped)
        if bullet and not raw[:1].isspace() and not fence:
            close()
            start = line_no
            current.append(stripped[bullet.end():])
        else:
            if not current:
                start = line_no
            current.append(stripped)
    close()
    return ParsedFactors(tuple(factors), "\n".join(prose).strip())


def _fold_label(label: str) -> str:
    return " ".join(label.casefold().replace("utc", " ").split())


def resolve_factor(parsed: ParsedFactor, labels: Mapping[int, str],
                   action_items: Collection[int],
                   timeline_ids: Collection[int] = ()) -> Factor:
    """A parsed factor with its links as ids: each timeline label must read back to one
    of `labels` (`14:02 UTC`, `14:02`, `entry 7` or `#7` — an id in `labels` or `timeline_ids`, the
    incident's other entries, which the document names that way), each action item be
    the incident's; a `UserError` names the line and the link otherwise."""
    by_label: dict[str, list[int]] = {}
    for entry, label in labels.items():
        by_label.setdefault(_fold_label(label), []).append(entry)
    timeline: list[int] = []
    for word in parsed.timeline:
        number = _ENTRY.match(word.strip())
        found = by_label.get(_fold_label(word), [])
        if number and not found and (int(number.group(1)) in labels
                                     or int(number.group(1)) in timeline_ids):
            found = [int(number.group(1))]
        if len(found) != 1:
            raise UserError(f"Line {parsed.line}: the timeline has no entry at “", Echo(word[:40]),
                            "”" + (" that is one entry only" if found else "")
                            + "; name one as the draft does (e.g. `timeline: 14:02 UTC`).")
        timeline.append(found[0])
    for item in parsed.action_items:
        if item not in action_items:
            raise UserError(f"Line {parsed.line}: action item #{item} is not one of this "
                            "incident's.")
    return Factor(parsed.category, parsed.description, tuple(dict.fromkeys(timeline)),
                  parsed.action_items)


def factor_key(factor: Factor) -> tuple[str, str, tuple[int, ...], tuple[int, ...]]:
    """What makes two factors the same one when a document is read back: category,
    description (whitespace and case aside) and links."""
    return (factor.category, " ".join(factor.description.casefold().split()),
            tuple(sorted(factor.timeline)), tuple(sorted(factor.action_items)))


def diff_factors(standing: Sequence[Factor], wanted: Sequence[Factor]
                 ) -> tuple[list[Factor], list[Factor]]:
    """(to add, to remove) so that `standing` becomes `wanted`: a factor in both (by
    `factor_key`) is left alone, keeping who added it; a changed one is removed and added."""
    left = [f for f in standing if not f.removed]
    unmatched = list(range(len(left)))
    added: list[Factor] = []
    for factor in wanted:
        key = factor_key(factor)
        match = next((i for i in unmatched if factor_key(left[i]) == key), None)
        if match is None:
            added.append(factor)
        else:
            unmatched.remove(match)
    return added, [left[i] for i in unmatched]
