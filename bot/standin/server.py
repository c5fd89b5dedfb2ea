"""A stateful fake of Slack's Web API, served over real HTTP on 127.0.0.1.

It is strict where Slack is: a method Slack does not have answers `unknown_method`, a
call without a required argument (per Slack's own method descriptions in `specs/`)
answers `invalid_arguments`, and both are kept in `violations` so tests can fail on
them. It keeps channels, members, messages, pins, topics and views, answers with
Slack's real error codes, and can be told to fail or rate-limit (HTTP 429 with
Retry-After) on demand.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

METHODS_DIR = Path(__file__).parent / "specs"
CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")
BOT_USER = "UDEBRIEFBOT"
BOT_TOKEN = "xoxb-standin-token"
APP_TOKEN = "xapp-standin-token"
RESPONSE_USES, RESPONSE_WINDOW = 5, 30 * 60  # a response_url: 5 responses in 30 minutes
MAX_MESSAGE_TEXT = 40_000
# Block Kit's documented limits (api.slack.com/reference/block-kit).
TEXT_LIMITS = {"section": 3000, "header": 150, "input": 2000}  # the block's `text`/label
ELEMENT_TEXT = {"button": 75}
MAX_OPTIONS = {"static_select": 100, "multi_static_select": 100, "overflow": 5,
               "radio_buttons": 10, "checkboxes": 10}
MAX_ELEMENTS = {"actions": 25, "context": 10}


class SlackFailure(Exception):
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


def _load_specs() -> tuple[set[str], dict[str, dict[str, Any]]]:
    index = json.loads((METHODS_DIR / "methods.json").read_text())
    known = {entry["name"] for entry in index}
    specs = {
        path.stem: json.loads(path.read_text())
        for path in METHODS_DIR.glob("*.json") if path.stem != "methods"
    }
    return known, specs


class FakeSlack:
    """Start with `FakeSlack().start()`; point the bot's SLACK_API_URL at `api_url`."""

    def __init__(self, token: str = BOT_TOKEN, clock: Any = time.time) -> None:
        self.token = token
        self.clock = clock  # seconds since the epoch; the demo passes a simulated clock
        self.known_methods, self.specs = _load_specs()
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.revoked: set[str] = set()  # tokens Slack answers token_revoked for
        self.responses: list[dict[str, Any]] = []  # posts to response_url
        self.views: list[dict[str, Any]] = []
        self.ephemerals: list[dict[str, Any]] = []
        self.files: dict[str, dict[str, Any]] = {}  # file id -> name, content, shared_in
        self._faults: dict[str, list[tuple[str, int, float]]] = {}
        self.usergroups: dict[str, dict[str, Any]] = {}  # id -> handle, users
        self._delays: dict[str, list[float]] = {}
        self._response_uses: dict[str, list[float]] = {}  # response_url path -> times used
        self._ids = itertools.count(1)
        self._last_ts = 0.0
        self._httpd: ThreadingHTTPServer | None = None
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

    def channel_named(self, name: str) -> Channel | None:
        with self.lock:
            return next((c for c in self.channels.values() if c.name == name.lstrip("#")), None)

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

    def fail(self, method: str, error: str, times: int = 1, status: int = 200) -> None:
        """The next `times` calls of `method` answer `{"ok": false, "error": error}` (with
        HTTP `status`, e.g. 500 for a server error)."""
        with self.lock:
            self._faults.setdefault(method, []).extend([(error, status, 0.0)] * times)

    def delay(self, method: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls of `method` are answered after `seconds` (they still
        take effect, as a slow Slack would)."""
        with self.lock:
            self._delays.setdefault(method, []).extend([seconds] * times)

    def rate_limit(self, method: str, retry_after: float = 1, times: int = 1) -> None:
        """The next `times` calls of `method` answer HTTP 429 with Retry-After."""
        with self.lock:
            self._faults.setdefault(method, []).extend([("ratelimited", 429, retry_after)] * times)

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

    # ----- HTTP -----
    @property
    def url(self) -> str:
        assert self._httpd is not None, "call start() first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self) -> str:
        return f"{self.url}/response/{next(self._ids)}"

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                self._handle()

            def do_POST(self) -> None:  # noqa: N802
                self._handle()

            def _handle(self) -> None:
                parsed = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, headers, body = fake.handle(
                    parsed.path, parsed.query, raw, dict(self.headers.items()))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                data = json.dumps(body).encode()
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, name="fake-slack", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def handle(self, path: str, query: str, raw: bytes,
               headers: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        lowered = {k.lower(): v for k, v in headers.items()}
        if path.startswith("/upload/"):
            file_id = path.removeprefix("/upload/")
            with self.changed:
                if file_id not in self.files:
                    return 404, {}, {"ok": False, "error": "unknown_upload"}
                self.files[file_id]["content"] = raw.decode("utf-8")
                self.changed.notify_all()
            return 200, {}, {"ok": True}
        if path.startswith("/response/"):
            payload = json.loads(raw or b"{}")
            with self.changed:
                refused = self._check_response(path, payload)
                if refused is not None:
                    self.changed.notify_all()
                    return refused
                self.responses.append({"url": path, **payload})
                self.changed.notify_all()
            return 200, {}, {"ok": True}
        if not path.startswith("/api/"):
            return 404, {}, {"ok": False, "error": "not_found"}
        method = path[len("/api/"):]
        args: dict[str, Any] = dict(parse_qsl(query))
        content_type = lowered.get("content-type", "")
        if raw:
            if "json" in content_type:
                args.update(json.loads(raw))
            else:
                args.update(parse_qsl(raw.decode()))
        auth = lowered.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth else args.get("token")
        with self.lock:
            pause = self._delays[method].pop(0) if self._delays.get(method) else 0.0
        if pause:
            time.sleep(pause)  # simulating a slow Slack, outside the lock
        with self.changed:
            try:
                result = self._dispatch(method, args, token)
                self.calls.append(Call(method, args, None))
                return 200, {}, {"ok": True, **result}
            except SlackFailure as failure:
                self.calls.append(Call(method, args, failure.error))
                return failure.status, failure.headers, {"ok": False, "error": failure.error}
            finally:
                self.changed.notify_all()

    # ----- the Web API -----
    def _dispatch(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if method not in self.known_methods:
            self.violations.append(f"{method}: Slack has no such method")
            raise SlackFailure("unknown_method")
        spec = self.specs.get(method)
        if spec is None:
            self.violations.append(f"{method}: no description copied into standin/specs")
            raise SlackFailure("not_implemented_in_standin")
        missing = [a for a in spec["args"].get("required", [])
                   if a != "token" and args.get(a) in (None, "")]
        if missing:
            self.violations.append(f"{method}: missing required {', '.join(missing)}")
            raise SlackFailure("invalid_arguments")
        expected = APP_TOKEN if method == "apps.connections.open" else self.token
        if token and token in self.revoked:
            raise SlackFailure("token_revoked")
        if method == "apps.connections.open" and token and not token.startswith("xapp-"):
            raise SlackFailure("not_allowed_token_type")
        if token != expected:
            raise SlackFailure("invalid_auth" if token else "not_authed")
        faults = self._faults.get(method)
        if faults:
            error, status, retry_after = faults.pop(0)
            headers = {"Retry-After": str(int(retry_after))} if status == 429 else {}
            raise SlackFailure(error, status, headers)
        self._enforce_text(method, args)
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            self.violations.append(f"{method}: the stand-in does not implement it yet")
            raise SlackFailure("not_implemented_in_standin")
        return handler(args)

    def _next_ts(self) -> str:
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

    def _check_blocks(self, blocks: Any, *, limit: int = 50) -> list[dict[str, Any]]:
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        blocks = blocks or []
        self._enforce_block_kit(blocks, limit)
        if len(blocks) > limit:
            raise SlackFailure("invalid_blocks")
        for block in blocks:
            text = block.get("text") or {}
            max_len = 150 if block.get("type") == "header" else 3000
            if isinstance(text, dict) and len(text.get("text", "")) > max_len:
                raise SlackFailure("invalid_blocks")
            if len(block.get("fields") or []) > 10:
                raise SlackFailure("invalid_blocks")
        return list(blocks)

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": "https://standin.slack.local/", "team": "Stand-in", "user": "debrief",
                "team_id": "T00000001", "user_id": BOT_USER, "bot_id": "B00000001"}

    def _conversations_create(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args["name"])
        if len(name) > 80:
            raise SlackFailure("invalid_name_maxlength")
        if not CHANNEL_NAME.match(name):
            raise SlackFailure("invalid_name_specials")
        if self.channel_named(name):
            raise SlackFailure("name_taken")
        channel_id = self.add_channel(name)
        self.channels[channel_id].creator = BOT_USER
        self.channels[channel_id].created = int(self.clock())
        return {"channel": self._channel_json(self.channels[channel_id])}

    def _channel_json(self, channel: Channel) -> dict[str, Any]:
        return {"id": channel.id, "name": channel.name, "is_channel": True,
                "is_archived": channel.is_archived, "is_private": channel.is_private,
                "is_member": BOT_USER in channel.members,
                "topic": {"value": channel.topic}, "num_members": len(channel.members),
                "creator": channel.creator, "created": channel.created}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channel": self._channel_json(self._channel(args["channel"]))}

    def _conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args["channel"], writable=True)
        channel.members.add(BOT_USER)
        return {"channel": self._channel_json(channel)}

    def _conversations_unarchive(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args["channel"])
        if not channel.is_archived:
            raise SlackFailure("not_archived")
        channel.is_archived = False
        return {}

    def _conversations_invite(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args["channel"], writable=True)
        if BOT_USER not in channel.members:
            raise SlackFailure("not_in_channel")
        users = [u for u in str(args["users"]).split(",") if u]
        for user in users:
            if user == BOT_USER:
                raise SlackFailure("cant_invite_self")
            if user not in self.users:
                raise SlackFailure("user_not_found")
        if all(u in channel.members for u in users):
            raise SlackFailure("already_in_channel")
        channel.members.update(users)
        return {"channel": self._channel_json(channel)}

    def _conversations_setTopic(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = self._channel(args["channel"], writable=True)
        if BOT_USER not in channel.members:
            raise SlackFailure("not_in_channel")
        if len(str(args["topic"])) > 250:
            raise SlackFailure("too_long")
        channel.topic = str(args["topic"])
        return {"channel": self._channel_json(channel)}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = self._resolve_post_target(args["channel"])
        if not args.get("text") and not args.get("blocks"):
            raise SlackFailure("no_text")
        blocks = self._check_blocks(args.get("blocks"))
        thread_ts = args.get("thread_ts")
        if thread_ts and thread_ts not in channel.messages:
            raise SlackFailure("thread_not_found")
        message = Message(self._next_ts(), BOT_USER, str(args.get("text") or ""), blocks,
                          thread_ts, metadata=_metadata(args.get("metadata")))
        channel.messages[message.ts] = message
        return {"channel": channel.id, "ts": message.ts,
                "message": {"type": "message", "user": BOT_USER, "text": message.text,
                            "ts": message.ts, "bot_id": "B00000001"}}

    def _resolve_post_target(self, ref: Any) -> Channel:
        ref = str(ref)
        if ref in self.users:  # a DM: open one on the fly
            channel = self.channels.get("D" + ref[1:])
            if channel is None:
                channel = Channel(id="D" + ref[1:], name=f"dm-{ref}",
                                  members={BOT_USER, ref})
                self.channels[channel.id] = channel
            return channel
        # chat:write.public lets the bot post in public channels it has not joined.
        return self._channel(ref, writable=True)

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args["channel"], writable=True)
        message = channel.messages.get(str(args["ts"]))
        if message is None:
            raise SlackFailure("message_not_found")
        if message.user != BOT_USER:
            raise SlackFailure("cant_update_message")
        message.blocks = self._check_blocks(args.get("blocks"))
        message.text = str(args.get("text") or message.text)
        message.edited += 1
        return {"channel": channel.id, "ts": message.ts, "text": message.text}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = self._channel(args["channel"])
        if args["user"] not in channel.members:
            raise SlackFailure("user_not_in_channel")
        self._check_blocks(args.get("blocks"))
        self.ephemerals.append(dict(args))
        return {"message_ts": self._next_ts()}

    def _chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = self._channel(args["channel"])
        ts = str(args["message_ts"])
        if ts not in channel.messages:
            raise SlackFailure("message_not_found")
        return {"channel": channel.id,
                "permalink": f"https://standin.slack.local/archives/{channel.id}/p{ts.replace('.', '')}"}

    def _pins_add(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args["channel"], writable=True)
        ts = str(args.get("timestamp") or "")
        if ts not in channel.messages:
            raise SlackFailure("message_not_found")
        if ts in channel.pins:
            raise SlackFailure("already_pinned")
        channel.pins.add(ts)
        return {}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args["view"]
        if isinstance(view, str):
            view = json.loads(view)
        title = (view.get("title") or {}).get("text", "")
        if len(title) > 24 or len(view.get("private_metadata") or "") > 3000:
            raise SlackFailure("invalid_arguments")
        self._check_blocks(view.get("blocks"), limit=100)
        view = {**view, "id": f"V{next(self._ids):08d}"}
        self.views.append(view)
        return {"view": view}

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        # No WebSocket server here: the URL refuses connections. Enough to show that a
        # Socket Mode start goes through SLACK_API_URL with the app token.
        return {"url": "ws://127.0.0.1:9/socket-mode-standin"}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        if str(args["channel"]) not in self.channels:
            raise SlackFailure("channel_not_found")  # a conversation id, never a name
        channel = self._channel(args["channel"])
        if BOT_USER not in channel.members:
            raise SlackFailure("not_in_channel")
        top = [m for m in channel.messages.values() if not m.thread_ts or m.thread_ts == m.ts]
        top = [m for m in top if _in_window(m.ts, args)]
        top.sort(key=lambda m: float(m.ts), reverse=True)  # Slack: newest first
        metadata = _flag(args.get("include_all_metadata"))
        return self._page([m.as_json(channel, with_metadata=metadata) for m in top], args)

    def _conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """Public channels (the only type the stand-in keeps besides DMs), paged by cursor."""
        limit = int(args.get("limit") or 100)
        if not 1 <= limit < 1000:
            raise SlackFailure("invalid_limit")
        types = {t.strip() for t in str(args.get("types") or "public_channel").split(",")}
        if not types <= {"public_channel", "private_channel", "mpim", "im"}:
            raise SlackFailure("invalid_types")
        wanted = [c for c in self.channels.values()
                  if not c.id.startswith("D")
                  and ("private_channel" if c.is_private else "public_channel") in types
                  and not (_flag(args.get("exclude_archived")) and c.is_archived)]
        start = int(str(args.get("cursor") or "0").removeprefix("page:") or 0)
        more = start + limit < len(wanted)
        return {"channels": [self._channel_json(c) for c in wanted[start:start + limit]],
                "response_metadata": {"next_cursor": f"page:{start + limit}" if more else ""}}

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args["channel"])
        parent = channel.messages.get(str(args["ts"]))
        if parent is None:
            raise SlackFailure("thread_not_found")
        replies = sorted((m for m in channel.messages.values() if m.thread_ts == parent.ts),
                         key=lambda m: float(m.ts))
        page = self._page([m.as_json(channel) for m in replies], args)
        page["messages"].insert(0, parent.as_json(channel))  # the parent heads every page
        return page

    def _page(self, items: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
        limit = max(1, min(int(args.get("limit") or 100), 999))
        start = int(str(args.get("cursor") or "0").removeprefix("page:") or 0)
        chunk = items[start:start + limit]
        more = start + limit < len(items)
        return {"messages": chunk, "has_more": more,
                "response_metadata": {"next_cursor": f"page:{start + limit}" if more else ""}}

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        if int(args.get("length") or 0) <= 0:
            raise SlackFailure("invalid_arguments")
        file_id = f"F{next(self._ids):08d}"
        self.files[file_id] = {"name": str(args["filename"]), "length": int(args["length"]),
                               "content": None, "shared_in": []}
        return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        files = args["files"]
        if isinstance(files, str):
            files = json.loads(files)
        channel = self._channel(args["channel_id"], writable=True) if args.get("channel_id") \
            else None
        done = []
        for entry in files:
            stored = self.files.get(str(entry.get("id")))
            if stored is None or stored["content"] is None:
                raise SlackFailure("file_not_found")
            if len(stored["content"].encode()) != stored["length"]:
                raise SlackFailure("file_upload_size_mismatch")
            stored["title"] = entry.get("title") or stored["name"]
            done.append({"id": entry["id"], "name": stored["name"], "title": stored["title"],
                         "permalink": f"https://standin.slack.local/files/{entry['id']}"})
        if channel is not None:
            message = Message(self._next_ts(), BOT_USER, str(args.get("initial_comment") or ""),
                              files=done)
            channel.messages[message.ts] = message
            for entry in files:
                self.files[str(entry["id"])]["shared_in"].append(channel.id)
        return {"files": done}

    def messages_with_metadata(self, channel_id: str, event_type: str) -> list[Message]:
        """The messages in a channel carrying metadata of `event_type` (for tests)."""
        with self.lock:
            return [m for m in self.channels[channel_id].messages.values()
                    if (m.metadata or {}).get("event_type") == event_type]

    def add_usergroup(self, handle: str) -> str:
        group_id = f"S{next(self._ids):08d}"
        self.usergroups[group_id] = {"id": group_id, "handle": handle, "users": []}
        return group_id

    def _usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"usergroups": [{"id": g["id"], "handle": g["handle"]}
                               for g in self.usergroups.values()]}

    def _usergroups_users_update(self, args: dict[str, Any]) -> dict[str, Any]:
        group = self.usergroups.get(str(args["usergroup"]))
        if group is None:
            raise SlackFailure("no_such_subteam")
        users = [u for u in str(args["users"]).split(",") if u]
        if not users:
            raise SlackFailure("invalid_users")
        group["users"] = users
        return {"usergroup": {**group}}

    def _users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        for user in self.users.values():
            if user.get("email") == args["email"]:
                return {"user": user}
        raise SlackFailure("users_not_found")

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args["user"]))
        if user is None:
            raise SlackFailure("user_not_found")
        return {"user": user}

    # ----- Slack's own limits (Block Kit counts, response_url uses) -----
    def _check_response(self, path: str, payload: dict[str, Any]
                        ) -> tuple[int, dict[str, str], dict[str, Any]] | None:
        """A response_url takes at most 5 responses within 30 minutes (Slack answers the
        sixth with 404 `used_url`), and what it gets is held to Block Kit's limits."""
        now = self.clock()
        uses = [t for t in self._response_uses.setdefault(path, []) if now - t < RESPONSE_WINDOW]
        if len(uses) >= RESPONSE_USES:
            self.violations.append(f"{path}: a 6th response within 30 minutes")
            return 404, {}, {"ok": False, "error": "used_url"}
        uses.append(now)
        self._response_uses[path] = uses
        try:
            self._enforce_text(path, payload)
            self._check_blocks(payload.get("blocks"))
        except SlackFailure as failure:
            return 400, {}, {"ok": False, "error": failure.error}
        return None

    def _enforce_text(self, where: str, args: dict[str, Any]) -> None:
        """A message's `text` is at most 40,000 characters (`msg_too_long`)."""
        text = args.get("text")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            self.violations.append(f"{where}: text of {len(text)} characters")
            raise SlackFailure("msg_too_long")

    def _enforce_block_kit(self, blocks: list[Any], limit: int) -> None:
        """Records every Block Kit limit the blocks break, then refuses them."""
        found = block_kit_problems(blocks, limit)
        if found:
            self.violations.extend(found)
            raise SlackFailure("invalid_blocks")

    # ----- a readable account of what the bot did (for the demo) -----
    def describe(self, call: Call) -> str | None:
        a = call.args
        name = lambda ref: "#" + (self._name_of(ref))  # noqa: E731
        if call.error:
            return f"{call.method} -> error {call.error}"
        match call.method:
            case "conversations.create":
                return f"created channel #{a['name']}"
            case "conversations.invite":
                return f"invited {a['users']} to {name(a['channel'])}"
            case "conversations.setTopic":
                return f"set topic of {name(a['channel'])}: {a['topic']}"
            case "chat.postMessage":
                where = name(a["channel"]) + (" (thread)" if a.get("thread_ts") else "")
                if str(a["channel"]) in self.users:
                    where = f"a DM to {self.users[str(a['channel'])]['name']}"
                return f"posted in {where}: {str(a.get('text', '')).splitlines()[0][:110]}"
            case "chat.update":
                return f"updated the summary card in {name(a['channel'])}: {a.get('text', '')}"
            case "pins.add":
                return f"pinned the summary card in {name(a['channel'])}"
            case "views.open":
                return "opened the declare form"
            case "usergroups.users.update":
                handle = self.usergroups.get(str(a["usergroup"]), {}).get("handle")
                return f"set @{handle} to {a['users']}"
            case "files.completeUploadExternal":
                names = ", ".join(self.files[f["id"]]["name"] for f in json.loads(a["files"])
                                  ) if isinstance(a.get("files"), str) else "a file"
                return f"uploaded {names} to {name(a.get('channel_id'))}"
        return None

    def _name_of(self, ref: Any) -> str:
        channel = self.channels.get(str(ref)) or self.channel_named(str(ref))
        return channel.name if channel else str(ref)


def _flag(value: Any) -> bool:
    """A boolean argument as the Web API takes it: true/1 (JSON true, "true" or "1")."""
    return value is True or str(value).lower() in ("true", "1")


def _in_window(ts: str, args: dict[str, Any]) -> bool:
    """conversations.history's `oldest` / `latest` bounds (exclusive unless `inclusive`)."""
    inclusive = _flag(args.get("inclusive"))
    for key, error, after in (("oldest", "invalid_ts_oldest", True),
                              ("latest", "invalid_ts_latest", False)):
        raw = args.get(key)
        if raw in (None, ""):
            continue
        try:
            bound = float(str(raw))
        except ValueError:
            raise SlackFailure(error) from None
        value = float(ts)
        if value == bound and not inclusive:
            return False
        if (value < bound) if after else (value > bound):
            return False
    return True


def _metadata(raw: Any) -> dict[str, Any] | None:
    """chat.postMessage's `metadata`: a JSON object (or its URL-encoded string) with a
    string `event_type` and an object `event_payload`, else Slack's error codes."""
    if raw in (None, ""):
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise SlackFailure("invalid_metadata_format") from None
    if not isinstance(raw, dict):
        raise SlackFailure("invalid_metadata_format")
    if not isinstance(raw.get("event_type"), str) or not raw["event_type"] \
            or not isinstance(raw.get("event_payload"), dict):
        raise SlackFailure("invalid_metadata_schema")
    return {"event_type": raw["event_type"], "event_payload": raw["event_payload"]}


def _text_of(obj: Any) -> str:
    return str(obj.get("text") or "") if isinstance(obj, dict) else ""


def _element_problems(element: Any, where: str) -> list[str]:
    """Limits of one interactive element (button, select, overflow ...)."""
    if not isinstance(element, dict):
        return [f"{where}: not an object"]
    found: list[str] = []
    kind = str(element.get("type"))
    if kind in ELEMENT_TEXT and len(_text_of(element.get("text"))) > ELEMENT_TEXT[kind]:
        found.append(f"{where}: {kind} text over {ELEMENT_TEXT[kind]} characters")
    if len(str(element.get("value") or "")) > 2000:
        found.append(f"{where}: {kind} value over 2000 characters")
    if len(str(element.get("action_id") or "")) > 255:
        found.append(f"{where}: action_id over 255 characters")
    options = element.get("options") or []
    groups = element.get("option_groups") or []
    if kind in MAX_OPTIONS and len(options) > MAX_OPTIONS[kind]:
        found.append(f"{where}: {kind} with {len(options)} options (at most {MAX_OPTIONS[kind]})")
    if len(groups) > 100:
        found.append(f"{where}: {len(groups)} option groups (at most 100)")
    for group in groups:
        group_options = group.get("options") or [] if isinstance(group, dict) else []
        if len(group_options) > 100:
            found.append(f"{where}: an option group with {len(group_options)} options")
        options = [*options, *group_options]
    for option in options:
        if not isinstance(option, dict):
            found.append(f"{where}: an option that is not an object")
        elif len(_text_of(option.get("text"))) > 75 or len(str(option.get("value") or "")) > 150:
            found.append(f"{where}: an option over 75 characters of text or 150 of value")
    return found


def block_kit_problems(blocks: list[Any], limit: int = 50) -> list[str]:
    """Every documented Block Kit limit the blocks break (empty when they fit)."""
    found = [f"{len(blocks)} blocks (at most {limit})"] if len(blocks) > limit else []
    for index, block in enumerate(blocks):
        where = f"block {index}"
        if not isinstance(block, dict):
            found.append(f"{where}: not an object")
            continue
        kind = str(block.get("type"))
        text = _text_of(block.get("text") or block.get("label"))
        if kind in TEXT_LIMITS and len(text) > TEXT_LIMITS[kind]:
            found.append(f"{where}: {kind} text of {len(text)} characters "
                         f"(at most {TEXT_LIMITS[kind]})")
        fields = block.get("fields") or []
        if len(fields) > 10 or any(len(_text_of(f)) > 2000 for f in fields):
            found.append(f"{where}: more than 10 fields or a field over 2000 characters")
        elements = block.get("elements") or []
        if kind in MAX_ELEMENTS and len(elements) > MAX_ELEMENTS[kind]:
            found.append(f"{where}: {kind} with {len(elements)} elements")
        if len(str(block.get("block_id") or "")) > 255:
            found.append(f"{where}: block_id over 255 characters")
        interactive = [block.get("accessory"), block.get("element")]
        interactive += elements if kind == "actions" else []
        for element in filter(None, interactive):
            found += _element_problems(element, where)
    return found
