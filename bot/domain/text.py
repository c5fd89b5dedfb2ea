"""Reading what a person typed into plain values.

Slack sends slash-command text with control sequences (`<!channel>`, `<@U123|bob>`)
and `&`, `<`, `>` escaped. We store what the person meant as plain text; the Slack
layer (`bot.slack.text`) escapes it again on the way out, so nothing a user types can
ping a channel or inject markup.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"<([^<>]*)>")
# Bidi embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069): typed
# into a title or a note they make Slack show the rest of a line Debrief builds around
# that text (a channel link, a person, a status) reversed or reordered, a way to spoof
# it. No incident text needs them; the marks (U+200E, U+200F) are kept.
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def strip_bidi(text: str) -> str:
    return text.translate(_BIDI_CONTROLS)


def _label(inner: str) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("!"):
        # <!channel>, <!here>, <!everyone>, <!subteam^S1|@team>, <!date^...|fallback>
        return label or "@" + target[1:].split("^")[0]
    if target.startswith("@"):
        return "@" + (label or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    return label or target


def plain_from_slack(text: str) -> str:
    """Slack-formatted text -> what the person typed, with mentions as inert labels."""
    text = _CONTROL.sub(lambda m: _label(m.group(1)), strip_bidi(text))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def some(words: tuple[str, ...] | list[str], limit: int = 20) -> str:
    """Choices listed in a reply: the first `limit`, then how many more. Configured lists
    (statuses, roles, severities) have no fixed size, a message does."""
    shown = ", ".join(words[:limit])
    return shown + (f" and {len(words) - limit} more" if len(words) > limit else "")


_USER_REF = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def parse_user_ref(token: str) -> str | None:
    """`<@U123|bob>` (Slack's escaped mention) or a bare `U123` id -> the user id."""
    match = _USER_REF.match(token)
    if match:
        return match.group(1)
    if re.fullmatch(r"[UW][A-Z0-9]{2,}", token):
        return token
    return None
