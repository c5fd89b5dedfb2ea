"""Slack's mrkdwn on the way out: escaping user text, mentions, one-line renderings.

The domain stores and returns plain text; whatever is shown in Slack is made inert
here, at the edge, so nothing a person typed can ping a channel or inject markup.
Standard library only: the services' remaining reply texts use it too (see the
layering test), so it must stay free of the Slack SDK.
"""

from __future__ import annotations

from bot.domain.action_items import ActionItem
from bot.errors import UserError


def escape_mrkdwn(text: str) -> str:
    """Escape only what Slack's mrkdwn parses (`&`, `<`, `>`): full HTML escaping leaks
    entities such as `&#39;` into messages."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quote(text: str, limit: int = 40) -> str:
    """User text quoted back in a reply or an error: shortened first, then escaped, so it
    is inert (`<!channel>` cannot ping) and no escaped entity is cut in half."""
    return escape_mrkdwn(text[:limit])


def user_mention(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else "_unassigned_"


def error_text(error: UserError) -> str:
    """A `UserError` as Slack text: the words it quotes back (its `Echo` parts) escaped,
    the people it names (its `Mention` parts) as mentions."""
    return error.render(escape_mrkdwn, user_mention)


def describe(item: ActionItem) -> str:
    """One line of Slack mrkdwn for lists, replies and digests (user text escaped)."""
    owner = f"<@{item.owner}>" if item.owner else "_no owner_"
    due = f"due {item.due_on:%a %d %b}" if item.due_on else "no due date"
    done = "~" if not item.is_open else ""
    return (f"{done}{escape_mrkdwn(item.text)}{done} · {item.type} · {owner} · {due} · "
            f"#{item.incident_number}")
