"""Pure parsers from Events API / history payloads to timeline values. Anything
malformed or not a person's message gives None: it is ignored, never an error."""

from __future__ import annotations

import re
from typing import Any

from bot.domain.timeline import (
    MAX_BOT_NAME,
    ChatMessage,
    FileRef,
    MarkerChanged,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    PinChanged,
    TimelineChange,
    is_human,
    is_other_bot,
)

MAX_BOT_TEXT = 2000  # what is kept of another bot's message (blocks can be long)
_MAX_NODES = 300     # block elements read at most, however deeply a message nests them
_MASS_MENTION = re.compile(r"<!(channel|here|everyone|subteam\^[^|>]*)(?:\|([^>]*))?>")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _is_ts(value: Any) -> bool:
    try:
        return isinstance(value, str) and float(value) > 0
    except ValueError:
        return False


def _ts(value: Any) -> str | None:
    """`value` if it is a Slack message ts, typed as one."""
    return value if _is_ts(value) else None


def _files(raw: Any) -> tuple[FileRef, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(
        FileRef(str(f.get("name") or f.get("title") or "file"), str(f.get("permalink") or ""))
        for f in raw if isinstance(f, dict)
    )


def _block_texts(node: Any, out: list[str], budget: list[int]) -> None:
    """The words in Block Kit (sections, fields, headers, context, rich text), depth
    first, reading at most `_MAX_NODES` elements."""
    if budget[0] <= 0:
        return
    budget[0] -= 1
    if isinstance(node, list):
        for child in node:
            _block_texts(child, out, budget)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind in ("mrkdwn", "plain_text", "text") and isinstance(node.get("text"), str):
        out.append(node["text"])
    elif kind == "link" and isinstance(node.get("url"), str):
        out.append(str(node.get("text") or node["url"]))
    elif kind == "user" and isinstance(node.get("user_id"), str):
        out.append(f"<@{node['user_id']}>")
    elif kind == "emoji" and isinstance(node.get("name"), str):
        out.append(f":{node['name']}:")
    for key in ("text", "fields", "elements"):
        child = node.get(key)
        if isinstance(child, dict | list):
            _block_texts(child, out, budget)


def _attachment_texts(raw: Any) -> list[str]:
    out: list[str] = []
    for item in raw[:10] if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        parts = [str(item[k]) for k in ("pretext", "title", "text")
                 if isinstance(item.get(k), str) and item[k]]
        for fld in item.get("fields") or []:
            if isinstance(fld, dict) and (fld.get("title") or fld.get("value")):
                parts.append(f"{fld.get('title') or ''}: {fld.get('value') or ''}".strip(": "))
        if isinstance(item.get("blocks"), list):
            _block_texts(item["blocks"], parts, [_MAX_NODES])
        if not parts and isinstance(item.get("fallback"), str):
            parts.append(item["fallback"])
        out += parts
    return out


def bot_text(raw: dict[str, Any]) -> str:
    """What another bot's message says, readable and bounded: its `text`, else the words
    of its blocks, then its attachments (title, text, fields). Mass mentions (`<!here>`,
    `<!channel>`, user groups) become inert words."""
    text = raw.get("text") if isinstance(raw.get("text"), str) else ""
    parts = [text] if text else []
    if not parts and isinstance(raw.get("blocks"), list):
        _block_texts(raw["blocks"], parts, [_MAX_NODES])
    parts += _attachment_texts(raw.get("attachments"))
    joined = "\n".join(p.strip() for p in parts if p.strip())
    joined = _MASS_MENTION.sub(lambda m: m.group(2) or "@" + m.group(1).split("^")[0], joined)
    return joined[:MAX_BOT_TEXT]


def bot_name(raw: dict[str, Any]) -> str:
    """The name another bot posts under: its profile's name, else the username it set."""
    profile = raw.get("bot_profile")
    name = profile.get("name") if isinstance(profile, dict) else None
    name = name or raw.get("username")
    if not isinstance(name, str) or not name.strip():
        name = "a bot"
    return " ".join(_MASS_MENTION.sub("", name).split())[:MAX_BOT_NAME] or "a bot"


def parse_message(raw: Any, channel_id: str, marker: str | None = None,
                  *, from_history: bool = False, own: frozenset[str] = frozenset(),
                  ) -> ChatMessage | None:
    """A person's message, or another app's or bot's (from an event, a message_changed,
    or history); never one our own bot posted (`own`: its bot id and bot user id)."""
    if not isinstance(raw, dict) or not _is_ts(raw.get("ts")):
        return None
    subtype, user = _str(raw.get("subtype")), _str(raw.get("user"))
    bot_id = _str(raw.get("bot_id"))
    name: str | None = None
    if user is not None and user in own:
        return None
    if not is_human(subtype, bot_id, user):
        # Not knowing who we are, no bot message is taken: ours must never come back.
        if not own or not is_other_bot(subtype, bot_id, user, own):
            return None
        name, user = bot_name(raw), ""
    thread_ts = _str(raw.get("thread_ts"))
    edited = raw.get("edited")
    marked_by: tuple[str, ...] | None = None
    pinned: bool | None = None
    if from_history:
        marked_by = ()
        for reaction in raw.get("reactions") or []:
            if isinstance(reaction, dict) and reaction.get("name") == marker:
                marked_by = tuple(str(u) for u in reaction.get("users") or [])
        pinned = channel_id in (raw.get("pinned_to") or [])
    text = raw.get("text")
    return ChatMessage(
        channel_id=channel_id, ts=raw["ts"], user=str(user),
        text=bot_text(raw) if name is not None else text if isinstance(text, str) else "",
        thread_ts=thread_ts if thread_ts != raw["ts"] else None, files=_files(raw.get("files")),
        marked_by=marked_by, pinned=pinned,
        edited_ts=_str(edited.get("ts")) if isinstance(edited, dict) else None,
        bot_name=name,
    )


def parse_timeline_change(event: Any, marker: str, own: frozenset[str] = frozenset(),
                          ) -> TimelineChange | None:
    """What an Events API event means for the timeline, if anything (`own`: our bot's
    bot id and bot user id, whose messages are never captured)."""
    if not isinstance(event, dict):
        return None
    kind = event.get("type")
    if kind == "message":
        channel = _str(event.get("channel"))
        if channel is None:
            return None
        subtype = event.get("subtype")
        if subtype == "message_changed":
            message = parse_message(event.get("message"), channel, own=own)
            previous = event.get("previous_message")
            previous_text = previous.get("text") if isinstance(previous, dict) else None
            return MessageEdited(message, previous_text if isinstance(previous_text, str)
                                 else None) if message else None
        if subtype == "message_deleted":
            ts = _ts(event.get("deleted_ts"))
            return MessageDeleted(channel, ts) if ts is not None else None
        message = parse_message(event, channel, own=own)
        return MessagePosted(message) if message else None
    if kind in ("reaction_added", "reaction_removed"):
        item, user = event.get("item"), _str(event.get("user"))
        if event.get("reaction") != marker or not isinstance(item, dict) or user is None:
            return None
        channel, ts = _str(item.get("channel")), _ts(item.get("ts"))
        if item.get("type") != "message" or channel is None or ts is None:
            return None
        return MarkerChanged(channel, ts, user, kind == "reaction_added")
    if kind in ("pin_added", "pin_removed"):
        item = event.get("item")
        channel = _str(event.get("channel_id"))
        message = item.get("message") if isinstance(item, dict) else None
        ts = _ts(message.get("ts")) if isinstance(message, dict) else None
        if channel is None or ts is None:
            return None
        return PinChanged(channel, ts, kind == "pin_added")
    return None
