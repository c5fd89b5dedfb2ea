"""The Web API methods the bot calls, answered as Slack answers them.

A call is first held to Slack's own method descriptions (`specs/`, copied verbatim from
Slack): a method Slack does not have answers `unknown_method`, one without a required
argument `invalid_arguments`, and both are kept in `violations`. Then the token is
checked, injected faults fire, and the method's handler (`_<method with _ for .>`)
changes the workspace and returns Slack's answer, or raises Slack's real error code.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.standin.faults import Faults
from bot.standin.images import png_problem
from bot.standin.limits import MAX_BLOCKS_TEXT, blocks_text_length, check_blocks, enforce_text
from bot.standin.state import BOT_USER, Call, Channel, Message, SlackFailure, Workspace

SPECS_DIR = Path(__file__).parent / "specs"

def _manifest_path() -> Path:
    """The app's manifest: the checkout's top-level `manifest.yaml`, or the copy a wheel
    carries beside this module (`debrief demo` runs the stand-in from an installed wheel)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "manifest.yaml", here.parents[1] / "manifest.yaml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("Debrief's manifest.yaml is missing from this installation")


MANIFEST = _manifest_path()
# Scopes granted per kind of conversation: a method's spec lists one per kind it works on.
_KIND_PREFIXES = ("channels:", "groups:", "im:", "mpim:")
CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")
BOT_TOKEN = "xoxb-standin-token"
APP_TOKEN = "xapp-standin-token"


def _manifest(path: Path) -> dict[str, Any]:
    import yaml  # only the stand-in reads the manifest

    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def manifest_scopes(path: Path = MANIFEST) -> frozenset[str]:
    """The bot scopes the app's manifest asks for: all the stand-in grants."""
    return frozenset(_manifest(path)["oauth_config"]["scopes"]["bot"])


def manifest_events(path: Path = MANIFEST) -> frozenset[str]:
    """The bot events the manifest subscribes to: all the stand-in delivers."""
    return frozenset(_manifest(path)["settings"]["event_subscriptions"]["bot_events"])


def manifest_home_tab(path: Path = MANIFEST) -> bool:
    """Whether the manifest enables the Home tab (views.publish answers `not_enabled`
    for a home view otherwise)."""
    features = _manifest(path).get("features") or {}
    return bool((features.get("app_home") or {}).get("home_tab_enabled"))


def load_specs() -> tuple[set[str], dict[str, dict[str, Any]]]:
    """Every method Slack has (from its index), and the descriptions copied here."""
    index = json.loads((SPECS_DIR / "methods.json").read_text())
    known = {entry["name"] for entry in index}
    specs = {
        path.stem: json.loads(path.read_text())
        for path in SPECS_DIR.glob("*.json") if path.stem != "methods"
    }
    return known, specs


class WebApi(Workspace):
    """The workspace as the Web API shows it to a bot holding `token`."""

    def __init__(self, token: str = BOT_TOKEN, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        self.token = token
        self.known_methods, self.specs = load_specs()
        self.faults = Faults(self.lock)
        self.scopes: frozenset[str] = manifest_scopes()
        self.home_tab = manifest_home_tab()

    @property
    def url(self) -> str:
        """Where the stand-in is served (upload URLs point there); the server knows."""
        raise NotImplementedError

    def call(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        """Slack's answer to one call (without `ok`), or SlackFailure. Hold `lock`."""
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
        self.faults.check_token(token)
        if method == "apps.connections.open" and token and not token.startswith("xapp-"):
            raise SlackFailure("not_allowed_token_type")
        if token != expected:
            raise SlackFailure("invalid_auth" if token else "not_authed")
        self._check_scope(method, spec, args)
        self.faults.raise_injected(method)
        enforce_text(self.violations, method, args)
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            self.violations.append(f"{method}: the stand-in does not implement it yet")
            raise SlackFailure("not_implemented_in_standin")
        result: dict[str, Any] = handler(args)
        return result

    def _check_scope(self, method: str, spec: dict[str, Any], args: dict[str, Any]) -> None:
        """Slack answers `missing_scope` when the token lacks every scope the method
        accepts for this kind of conversation (a private channel needs `groups:*`, a
        public one `channels:*`). The app's token holds exactly the manifest's scopes, so
        a scope missing from the manifest fails a test here, as it would fail in Slack."""
        accepted = list((spec.get("scope") or {}).get("bot") or [])
        if not accepted:
            return
        if any(s.startswith(_KIND_PREFIXES) for s in accepted):
            kind = "channels:"
            channel = self.channels.get(str(args.get("channel") or ""))
            if (channel is not None and channel.is_private) or (
                    method == "conversations.create" and _flag(args.get("is_private"))):
                kind = "groups:"
            elif str(args.get("channel") or "").startswith("D"):
                kind = "im:"
            accepted = [s for s in accepted if s.startswith(kind)
                        or not s.startswith(_KIND_PREFIXES)] or accepted
        if not self.scopes.intersection(accepted):
            self.violations.append(f"{method}: needs one of {', '.join(accepted)}; "
                                   "the manifest grants none")
            raise SlackFailure("missing_scope")

    # ----- one handler per method -----
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
        self.channels[channel_id].is_private = _flag(args.get("is_private"))
        self.channels[channel_id].creator = BOT_USER
        self.channels[channel_id].created = int(self.clock())
        return {"channel": self._channel_json(self.channels[channel_id])}

    def _conversations_rename(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args["channel"], writable=True)
        if BOT_USER not in channel.members:
            raise SlackFailure("not_in_channel")
        name = str(args["name"])
        if len(name) > 80:
            raise SlackFailure("invalid_name_maxlength")
        if not CHANNEL_NAME.match(name):
            raise SlackFailure("invalid_name_specials")
        taken = self.channel_named(name)
        if taken is not None and taken is not channel:
            raise SlackFailure("name_taken")
        channel.name = name
        return {"channel": self._channel_json(channel)}

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

    def _conversations_archive(self, args: dict[str, Any]) -> dict[str, Any]:
        """As Slack: only a member archives; never #general, never twice, never a DM
        (the scope, `channels:manage` or `groups:write` by the channel's kind, is checked
        for every method in `_check_scope`)."""
        channel = self._channel(args["channel"])
        if channel.id.startswith("D"):
            raise SlackFailure("method_not_supported_for_channel_type")
        if channel.name == "general":
            raise SlackFailure("cant_archive_general")
        if channel.is_archived:
            raise SlackFailure("already_archived")
        if BOT_USER not in channel.members:
            raise SlackFailure("not_in_channel")
        channel.is_archived = True
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
        blocks = check_blocks(self.violations, args.get("blocks"))
        if (total := blocks_text_length(blocks)) > MAX_BLOCKS_TEXT:
            self.violations.append(f"chat.postMessage: blocks with {total} characters of text")
            raise SlackFailure("msg_blocks_too_long")
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
        message.blocks = check_blocks(self.violations, args.get("blocks"))
        message.text = str(args.get("text") or message.text)
        message.edited += 1
        return {"channel": channel.id, "ts": message.ts, "text": message.text}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = self._channel(args["channel"])
        if args["user"] not in channel.members:
            raise SlackFailure("user_not_in_channel")
        check_blocks(self.violations, args.get("blocks"))
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
        trigger = str(args.get("trigger_id") or "")
        if not trigger.startswith("trig.") or trigger in self.used_triggers:
            # Slack's trigger_ids come from an interaction and open one view, once.
            raise SlackFailure("invalid_trigger_id" if not trigger else "trigger_exchanged")
        title = (view.get("title") or {}).get("text", "")
        if len(title) > 24 or len(view.get("private_metadata") or "") > 3000:
            raise SlackFailure("invalid_arguments")
        check_blocks(self.violations, view.get("blocks"), limit=100)
        block_ids = [b.get("block_id") for b in view.get("blocks") or [] if b.get("block_id")]
        if len(block_ids) != len(set(block_ids)):
            raise SlackFailure("invalid_arguments")  # duplicate block_id
        for block in view.get("blocks") or []:
            element = block.get("element") or {}
            if block.get("type") == "input" and element.get("type") == "plain_text_input":
                # Slack: max_length is at most 3000, and an initial_value must fit in it.
                longest = element.get("max_length", 3000)
                if not 1 <= longest <= 3000 or \
                        len(element.get("initial_value") or "") > longest:
                    raise SlackFailure("invalid_arguments")
        self.used_triggers.add(trigger)
        view = {**view, "id": f"V{next(self._ids):08d}"}
        self.views.append(view)
        return {"view": view}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        """A Home tab, held to Slack's limits: a known person, a `home` view of at most 100
        blocks (each within Block Kit's lengths), unique block ids, private_metadata at
        most 3,000 characters, callback_id and external_id at most 255, 250 kB in all."""
        view = args["view"]
        raw = view if isinstance(view, str) else json.dumps(view)
        try:
            view = json.loads(view) if isinstance(view, str) else view
        except ValueError:
            view = None
        user = self.users.get(str(args["user_id"]))
        problem = None
        if user is None or user.get("is_bot") or user.get("deleted"):
            problem, error = f"views.publish: invalid user_id {args['user_id']!r}", \
                "invalid_arguments"
        elif not isinstance(view, dict) or view.get("type") not in ("home",):
            problem, error = "views.publish: the view is not a JSON object of type home", \
                "invalid_arguments"
        elif not self.home_tab:
            problem, error = "views.publish: the manifest does not enable the Home tab", \
                "not_enabled"
        elif len(raw.encode()) > 250_000:
            problem, error = f"views.publish: a view of {len(raw.encode())} bytes", \
                "view_too_large"
        elif len(str(view.get("private_metadata") or "")) > 3000 or any(
                len(str(view.get(k) or "")) > 255 for k in ("callback_id", "external_id")):
            problem, error = "views.publish: private_metadata, callback_id or external_id " \
                "too long", "invalid_arguments"
        if problem is not None:
            self.violations.append(problem)
            raise SlackFailure(error)
        assert isinstance(view, dict)
        blocks = view.get("blocks")
        if not isinstance(blocks, list):
            self.violations.append("views.publish: no blocks list")
            raise SlackFailure("invalid_arguments")
        check_blocks(self.violations, blocks, limit=100)
        block_ids = [b.get("block_id") for b in blocks if b.get("block_id")]
        if len(block_ids) != len(set(block_ids)):
            self.violations.append("views.publish: duplicate block_id")
            raise SlackFailure("invalid_arguments")
        with self.changed:
            published = {**view, "id": f"V{next(self._ids):08d}",
                         "hash": f"{self.clock():.6f}", "team_id": "T00000001"}
            self.homes[str(args["user_id"])] = published
            self.changed.notify_all()
        return {"view": published}

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
                               "content": None, "data": None, "shared_in": [],
                               "alt_txt": args.get("alt_txt")}
        if len(str(args.get("alt_txt") or "")) > 1000:
            raise SlackFailure("alt_txt_too_large")
        return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        files = args["files"]
        if isinstance(files, str):
            files = json.loads(files)
        if args.get("channel_id") and str(args["channel_id"]) not in self.channels:
            raise SlackFailure("channel_not_found")  # an id, as Slack wants: not a name
        channel = self._channel(args["channel_id"], writable=True) if args.get("channel_id") \
            else None
        done = []
        for entry in files:
            stored = self.files.get(str(entry.get("id")))
            if stored is None or stored["data"] is None:
                raise SlackFailure("file_not_found")
            if len(stored["data"]) != stored["length"]:
                raise SlackFailure("file_upload_size_mismatch")
            if stored["name"].lower().endswith(".png") and (
                    problem := png_problem(stored["data"])) is not None:
                self.violations.append(f"files.completeUploadExternal: {stored['name']} "
                                       f"is not a valid PNG ({problem})")
                raise SlackFailure("invalid_file_type")
            stored["title"] = entry.get("title") or stored["name"]
            done.append({"id": entry["id"], "name": stored["name"], "title": stored["title"],
                         "permalink": f"https://standin.slack.local/files/{entry['id']}"})
        thread_ts = str(args.get("thread_ts") or "") or None
        if thread_ts and (channel is None or thread_ts not in channel.messages):
            raise SlackFailure("invalid_thread_ts")  # Slack: a thread needs its channel
        if channel is not None:
            message = Message(self._next_ts(), BOT_USER, str(args.get("initial_comment") or ""),
                              thread_ts=thread_ts, files=done)
            channel.messages[message.ts] = message
            for entry in files:
                self.files[str(entry["id"])]["shared_in"].append(channel.id)
        return {"files": done}

    def _files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """A file the bot can see: shared in a public channel or in one it is a member of
        (`files:read`, checked against the manifest before this runs)."""
        stored = self.files.get(str(args["file"]))
        if stored is None or not self._visible_file(stored):
            raise SlackFailure("file_not_found")
        return {"file": self.file_json(str(args["file"]))}

    def _visible_file(self, stored: dict[str, Any]) -> bool:
        return any(not self.channels[c].is_private or BOT_USER in self.channels[c].members
                   for c in stored["shared_in"] if c in self.channels)

    def file_json(self, file_id: str) -> dict[str, Any]:
        """A file object as files.info returns it (url_private needs the bot token)."""
        stored = self.files[file_id]
        name = stored["name"]
        shared = [c for c in stored["shared_in"] if c in self.channels]
        return {
            "id": file_id, "name": name, "title": stored.get("title") or name,
            "user": stored.get("user") or BOT_USER,
            "filetype": stored.get("filetype") or "text",
            "mimetype": stored.get("mimetype") or "text/plain",
            "size": len(self.file_bytes(file_id)),
            "url_private": f"{self.url}/files-pri/T00000001-{file_id}/{name}",
            "url_private_download": f"{self.url}/files-pri/T00000001-{file_id}/download/{name}",
            "permalink": f"https://standin.slack.local/files/{file_id}",
            "channels": [c for c in shared if not self.channels[c].is_private],
            "groups": [c for c in shared if self.channels[c].is_private],
            "ims": [], "is_public": any(not self.channels[c].is_private for c in shared),
        }

    def file_bytes(self, file_id: str) -> bytes:
        stored = self.files[file_id]
        data = stored.get("data")
        if isinstance(data, bytes):
            return data
        return str(stored.get("content") or "").encode()

    def download(self, path: str, token: str | None) -> tuple[int, dict[str, str], bytes]:
        """GET url_private: the file's bytes for a token holding `files:read`. As Slack
        does, anything else is redirected to the sign-in page (an HTML page, status 200,
        for whoever follows redirects), never an error a careless client would notice."""
        match = re.match(r"^/files-pri/T00000001-(F\w+)/(?:download/)?(.+)$", path)
        signin = (302, {"Location": f"{self.url}/signin?redir={path}"}, b"")
        if match is None or match.group(1) not in self.files:
            return 404, {}, b"Not found"
        if token != self.token or self.faults.revoked.intersection({token or ""}):
            self.downloads.append(Call("url_private", {"file": match.group(1)}, "not_authed"))
            return signin
        if "files:read" not in self.scopes:
            self.violations.append("url_private download: needs files:read; the manifest "
                                   "grants none")
            self.downloads.append(Call("url_private", {"file": match.group(1)}, "missing_scope"))
            return signin
        stored = self.files[match.group(1)]
        if not self._visible_file(stored):
            self.downloads.append(Call("url_private", {"file": match.group(1)}, "not_visible"))
            return signin
        self.downloads.append(Call("url_private", {"file": match.group(1)}, None))
        return 200, {"Content-Type": stored.get("mimetype") or "text/plain"}, \
            self.file_bytes(match.group(1))

    def _usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"usergroups": [{"id": g["id"], "handle": g["handle"]}
                               for g in self.usergroups.values()]}

    def _conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        """Member ids, paged by cursor as Slack pages them (limit 1-1000, default 100). A
        private channel the bot is not in does not exist for it."""
        channel = self.channels.get(str(args["channel"]))  # an id, never a name
        if channel is None or (channel.is_private and BOT_USER not in channel.members):
            raise SlackFailure("channel_not_found")
        limit = int(args.get("limit") or 100)
        if not 1 <= limit <= 1000:
            raise SlackFailure("invalid_limit")
        cursor = str(args.get("cursor") or "")
        if cursor and not re.fullmatch(r"page:\d+", cursor):
            raise SlackFailure("invalid_cursor")
        members = sorted(channel.members)
        start = int(cursor.removeprefix("page:") or 0)
        more = start + limit < len(members)
        return {"members": members[start:start + limit],
                "response_metadata": {"next_cursor": f"page:{start + limit}" if more else ""}}

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = self.usergroups.get(str(args["usergroup"]))  # an id, never a handle
        if group is None:
            raise SlackFailure("no_such_subteam")
        return {"users": list(group["users"])}

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
