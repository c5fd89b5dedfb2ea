"""The stand-in's workspace: channels, people, messages, files, user groups, and a record
of everything the bot did (Web API calls, response_url posts, views, ephemerals).

Web API handlers (`methods.py`) change it; tests and the demo set it up and inspect it.
Every change happens under `lock`, and `changed` wakes whoever waits in `wait_for`.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BOT_USER = "UDEBRIEFBOT"


class SlackFailure(Exception):
    """Slack's `{"ok": false, "error": ...}` answer (with an HTTP status and headers)."""

    def __init__(self, error: str, status: int = 200, headers: dict[str, str] | None = None):
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = headers or {}


@dataclass
class Message:
    ts: str
    user: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    edited: int = 0
    files: list[dict[str, str]] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    edited_ts: str | None = None
    metadata: dict[str, Any] | None = None  # chat.postMessage's `metadata`, as Slack keeps it

    def as_json(self, channel: Channel, *, with_metadata: bool = False) -> dict[str, Any]:
        """The message as conversations.history / replies return it (metadata only when
        asked with include_all_metadata, as Slack does)."""
        data: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text}
        if with_metadata and self.metadata is not None:
            data["metadata"] = self.metadata
        if self.user == BOT_USER:
            data.update(bot_id="B00000001", user=BOT_USER)
        else:
            data["user"] = self.user
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        replies = [m for m in channel.messages.values() if m.thread_ts == self.ts]
        if replies:
            data.update(thread_ts=self.ts, reply_count=len(replies))
        if self.files:
            data.update(subtype="file_share", files=self.files)
        if self.reactions:
            data["reactions"] = [{"name": n, "users": u, "count": len(u)}
                                 for n, u in self.reactions.items() if u]
        if self.ts in channel.pins:
            data["pinned_to"] = [channel.id]
        if self.edited_ts:
            data["edited"] = {"user": self.user, "ts": self.edited_ts}
        return data


@dataclass
class Channel:
    id: str
    name: str
    is_archived: bool = False
    is_private: bool = False
    topic: str = ""
    members: set[str] = field(default_factory=set)
    messages: dict[str, Message] = field(default_factory=dict)
    pins: set[str] = field(default_factory=set)
    creator: str = "U00000ADMIN"  # who made it: the bot for conversations.create
    created: int = 0


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    error: str | None


class Workspace:
    """One Slack workspace with the bot installed in it."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock  # seconds since the epoch; the demo passes a simulated clock
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.calls: list[Call] = []
        self.downloads: list[Call] = []  # GETs of files' url_private (not Web API calls)
        self.violations: list[str] = []
        self.responses: list[dict[str, Any]] = []  # posts to response_url
        self.views: list[dict[str, Any]] = []
        self.homes: dict[str, dict[str, Any]] = {}  # user -> their published Home tab
        self.used_triggers: set[str] = set()  # a trigger_id opens one view
        self.ephemerals: list[dict[str, Any]] = []
        self.files: dict[str, dict[str, Any]] = {}  # file id -> name, content, shared_in
        self.usergroups: dict[str, dict[str, Any]] = {}  # id -> handle, users
        self._ids = itertools.count(1)
        self._last_ts = 0.0
        self.add_user(BOT_USER, "debrief", is_bot=True)

    # ----- set-up and inspection (used by the demo and tests) -----
    def add_user(self, user_id: str, name: str, tz: str = "UTC", is_bot: bool = False) -> None:
        self.users[user_id] = {"id": user_id, "name": name, "real_name": name.title(),
                               "tz": tz, "is_bot": is_bot, "deleted": False,
                               "email": f"{name}@example.com"}

    def add_channel(self, name: str, *, bot_member: bool = True, archived: bool = False,
                    members: tuple[str, ...] = ()) -> str:
        with self.lock:
            channel = Channel(id=f"C{next(self._ids):08d}", name=name, is_archived=archived,
                              members=set(members))
            if bot_member:
                channel.members.add(BOT_USER)
            self.channels[channel.id] = channel
            return channel.id

    def add_usergroup(self, handle: str) -> str:
        group_id = f"S{next(self._ids):08d}"
        self.usergroups[group_id] = {"id": group_id, "handle": handle, "users": []}
        return group_id

    def channel_named(self, name: str) -> Channel | None:
        with self.lock:
            return next((c for c in self.channels.values() if c.name == name.lstrip("#")), None)

    def name_of(self, ref: Any) -> str:
        """A channel's name from its id or name; anything else as given."""
        channel = self.channels.get(str(ref)) or self.channel_named(str(ref))
        return channel.name if channel else str(ref)

    def messages_with_metadata(self, channel_id: str, event_type: str) -> list[Message]:
        """The messages in a channel carrying metadata of `event_type` (for tests)."""
        with self.lock:
            return [m for m in self.channels[channel_id].messages.values()
                    if (m.metadata or {}).get("event_type") == event_type]

    def calls_of(self, method: str, *, ok_only: bool = True) -> list[Call]:
        with self.lock:
            return [c for c in self.calls
                    if c.method == method and (c.error is None or not ok_only)]

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> Any:
        """Block until `predicate()` is truthy (re-checked whenever state changes)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the stand-in Slack never reached the expected state")
                self.changed.wait(min(remaining, 0.2))

    # ----- people acting in Slack (the client turns these into events) -----
    def human_message(self, channel_id: str, user: str, text: str, *,
                      thread_ts: str | None = None,
                      files: list[dict[str, str]] | None = None) -> Message:
        with self.changed:
            channel = self.channels[channel_id]
            message = Message(self._next_ts(), user, text, thread_ts=thread_ts,
                              files=files or [])
            channel.messages[message.ts] = message
            self.changed.notify_all()
            return message

    def human_file(self, channel_id: str, user: str, name: str, data: bytes, *,
                   filetype: str = "markdown", mimetype: str = "text/plain",
                   comment: str = "") -> tuple[str, Message]:
        """A person uploads a file into a channel: (file id, the message sharing it)."""
        with self.changed:
            file_id = f"F{next(self._ids):08d}"
            self.files[file_id] = {"name": name, "title": name, "length": len(data),
                                   "data": data, "content": None, "user": user,
                                   "filetype": filetype, "mimetype": mimetype,
                                   "shared_in": [channel_id]}
            shown = {"id": file_id, "name": name, "title": name,
                     "permalink": f"https://standin.slack.local/files/{file_id}"}
            message = self.human_message(channel_id, user, comment, files=[shown])
            return file_id, message

    # ----- lookups and ids for the Web API handlers -----
    def _next_ts(self) -> str:
        """A message ts from the clock, strictly increasing as Slack's are."""
        now = max(self.clock(), self._last_ts + 0.0001)
        self._last_ts = now
        return f"{now:.6f}"

    def _channel(self, ref: Any, *, writable: bool = False) -> Channel:
        ref = str(ref or "")
        channel = self.channels.get(ref) or self.channel_named(ref)
        if channel is None:
            raise SlackFailure("channel_not_found")
        if writable and channel.is_archived:
            raise SlackFailure("is_archived")
        return channel
