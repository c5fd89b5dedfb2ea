"""Tags on incidents, and services as tags: `service:payments` is the service
`payments` (one list, one filter syntax, one column; the prefix is what makes it a
service). Tags are normalised so `DB`, `db` and `#db` are one tag and a filter matches."""

from __future__ import annotations

import re

from bot.errors import Echo, UserError

MAX_TAG = 30        # characters in a tag (the `service:` prefix not counted)
MAX_TAGS = 20       # tags on one incident
SERVICE = "service:"
_TAG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def normalise_tag(raw: str) -> str:
    """`raw` as a stored tag (lowercase, [a-z0-9-], at most 30 characters; a leading `#`
    dropped); `UserError` saying why it cannot be one."""
    word = raw.strip().lower().lstrip("#")
    prefix = ""
    if word.startswith(SERVICE):
        prefix, word = SERVICE, word[len(SERVICE):]
    if not word:
        raise UserError("A tag needs at least one letter or digit, e.g. `database`.")
    if len(word) > MAX_TAG:
        raise UserError("Tag ", Echo(raw[:40]), f" is too long: at most {MAX_TAG} characters.")
    if not _TAG.match(word):
        raise UserError("Tag ", Echo(raw[:40]), " can only use letters, digits and `-` "
                        "(e.g. `database`, `eu-west-1`, `service:payments`).")
    return prefix + word


def with_tags(current: tuple[str, ...], added: list[str]) -> tuple[str, ...]:
    """`current` plus `added` (normalised, no duplicates, sorted); `UserError` past 20."""
    tags = sorted(set(current) | {normalise_tag(t) for t in added})
    if len(tags) > MAX_TAGS:
        raise UserError(f"An incident can have at most {MAX_TAGS} tags; "
                        "remove one first with `/incident tag remove <tag>`.")
    return tuple(tags)


def services(tags: tuple[str, ...]) -> tuple[str, ...]:
    """The services among `tags` (without their prefix)."""
    return tuple(t[len(SERVICE):] for t in tags if t.startswith(SERVICE))


def valid_tag(tag: str) -> bool:
    """Whether `tag` is already in stored form (for checking imported records)."""
    try:
        return normalise_tag(tag) == tag
    except UserError:
        return False
