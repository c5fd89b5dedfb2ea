"""Pure parsers from Events API / history payloads to timeline values. Anything
malformed or not a person's message gives None: it is ignored, never an error."""

from __future__ import annotations

from typing import Any

from bot.domain.timeline import (
    ChatMessage,
    FileRef,
    MarkerChanged,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    PinChanged,
    TimelineChange,
    is_human,
)


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


def parse_message(raw: Any, channel_id: str, marker: str | None = None,
                  *, from_history: bool = False) -> ChatMessage | None:
    """A person's message (from an event, a message_changed, or history)."""
    if not isinstance(raw, dict) or not _is_ts(raw.get("ts")):
        return None
    subtype, user = _str(raw.get("subtype")), _str(raw.get("user"))
    if not is_human(subtype, _str(raw.get("bot_id")), user):
        return None
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
        channel_id=channel_id, ts=raw["ts"], user=str(user), text=text if isinstance(text, str) else "",
        thread_ts=thread_ts if thread_ts != raw["ts"] else None, files=_files(raw.get("files")),
        marked_by=marked_by, pinned=pinned,
        edited_ts=_str(edited.get("ts")) if isinstance(edited, dict) else None,
    )


def parse_timeline_change(event: Any, marker: str) -> TimelineChange | None:
    """What an Events API event means for the timeline, if anything."""
    if not isinstance(event, dict):
        return None
    kind = event.get("type")
    if kind == "message":
        channel = _str(event.get("channel"))
        if channel is None:
            return None
        subtype = event.get("subtype")
        if subtype == "message_changed":
            message = parse_message(event.get("message"), channel)
            previous = event.get("previous_message")
            previous_text = previous.get("text") if isinstance(previous, dict) else None
            return MessageEdited(message, previous_text if isinstance(previous_text, str)
                                 else None) if message else None
        if subtype == "message_deleted":
            ts = _ts(event.get("deleted_ts"))
            return MessageDeleted(channel, ts) if ts is not None else None
        message = parse_message(event, channel)
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
