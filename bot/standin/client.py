"""Sends requests to the bot's HTTP endpoint the way Slack does: form-encoded slash
commands and interactivity payloads, JSON Events API envelopes, each signed with
`v0=` HMAC-SHA256 of `v0:{timestamp}:{body}` using the signing secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlparse

from bot.standin.methods import manifest_events
from bot.standin.server import FakeSlack


@dataclass
class Reply:
    status: int
    body: str
    elapsed_ms: float
    response_url: str | None = None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def text(self) -> str:
        try:
            data = self.json()
        except ValueError:
            return self.body
        return str(data.get("text", "")) if isinstance(data, dict) else self.body


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackClient:
    """Plays Slack's side towards the bot: `slash`, `click`, `submit`, `event`."""

    def __init__(self, bot_url: str, signing_secret: str, slack: FakeSlack,
                 team_id: str = "T00000001") -> None:
        self.endpoint = bot_url.rstrip("/") + "/slack/events"
        self.secret = signing_secret
        self.slack = slack
        self.team_id = team_id
        self.events = manifest_events()

    def post(self, body: bytes, content_type: str, *, timestamp: int | None = None,
             secret: str | None = None, headers: dict[str, str] | None = None,
             signed: bool = True) -> Reply:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        all_headers = {"Content-Type": content_type}
        if signed:
            all_headers["X-Slack-Request-Timestamp"] = ts
            all_headers["X-Slack-Signature"] = sign(secret or self.secret, ts, body)
        all_headers.update(headers or {})
        request = urllib.request.Request(self.endpoint, data=body, headers=all_headers,
                                         method="POST")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read().decode()
                status = response.status
        except urllib.error.HTTPError as error:
            text, status = error.read().decode(), error.code
        if status == 200:
            self.slack.check_ack(text)
        return Reply(status, text, (time.perf_counter() - started) * 1000)

    def slash(self, text: str, *, user: str, channel: str = "C0GENERAL",
              command: str = "/incident", **kwargs: Any) -> Reply:
        payload = {
            "token": "", "team_id": self.team_id, "team_domain": "standin",
            "enterprise_id": "", "enterprise_name": "", "channel_id": channel,
            "channel_name": self.slack.name_of(channel), "user_id": user,
            "user_name": self.slack.users.get(user, {}).get("name", user),
            "command": command, "text": text, "api_app_id": "A00000001",
            "is_enterprise_install": "false",
            "response_url": self.slack.response_url(), "trigger_id": f"trig.{time.time_ns()}",
        }
        reply = self.post(urlencode(payload).encode(), "application/x-www-form-urlencoded",
                          **kwargs)
        reply.response_url = payload["response_url"]
        return reply

    def reply_to(self, reply: Reply, timeout: float = 10.0) -> dict[str, Any]:
        """What the bot sent to this request's response_url (it works after the ack)."""
        assert reply.response_url is not None
        path = urlparse(reply.response_url).path
        return self.slack.wait_for(lambda: next(
            (r for r in self.slack.responses if r["url"] == path), None), timeout)

    def interactive(self, payload: dict[str, Any], **kwargs: Any) -> Reply:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded", **kwargs)

    def message_shortcut(self, callback_id: str, *, user: str, channel: str, message_ts: str,
                         **kwargs: Any) -> Reply:
        """A person runs a message shortcut (the message's "More actions" menu)."""
        payload: dict[str, Any] = {
            "type": "message_action", "callback_id": callback_id,
            "team": {"id": self.team_id, "domain": "standin"},
            "user": {"id": user, "username": user, "name": user, "team_id": self.team_id},
            "api_app_id": "A00000001", "token": "", "action_ts": f"{time.time():.6f}",
            "trigger_id": f"trig.{time.time_ns()}",
            "channel": {"id": channel, "name": self.slack.name_of(channel)},
            "message_ts": message_ts,
            "message": {"type": "message", "ts": message_ts, "text": ""},
            "response_url": self.slack.response_url(),
        }
        reply = self.interactive(payload, **kwargs)
        reply.response_url = payload["response_url"]
        return reply

    def click(self, action_id: str, *, user: str, channel: str, message_ts: str,
              value: str | None = None, selected: str | None = None, **kwargs: Any) -> Reply:
        action: dict[str, Any] = {"action_id": action_id, "block_id": "card",
                                  "action_ts": f"{time.time():.6f}"}
        if selected is not None:
            action.update(type="static_select",
                          selected_option={"text": {"type": "plain_text", "text": selected},
                                           "value": selected})
        else:
            action.update(type="button", value=value or "")
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": self.team_id, "domain": "standin"},
            "user": {"id": user, "username": user, "name": user, "team_id": self.team_id},
            "api_app_id": "A00000001", "token": "",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel,
                          "is_ephemeral": False},
            "trigger_id": f"trig.{time.time_ns()}",
            "channel": {"id": channel, "name": self.slack.name_of(channel)},
            "message": {"type": "message", "ts": message_ts, "text": ""},
            "response_url": self.slack.response_url(),
            "actions": [action],
        }
        reply = self.interactive(payload, **kwargs)
        reply.response_url = payload["response_url"]
        return reply

    def open_home(self, user: str, *, tab: str = "home", **kwargs: Any) -> Reply:
        """A person opens the app's Home tab (or its Messages tab): `app_home_opened`,
        with the view last published to them, as Slack sends it."""
        event: dict[str, Any] = {"type": "app_home_opened", "user": user,
                                 "channel": "D" + user[1:], "tab": tab,
                                 "event_ts": f"{time.time():.6f}"}
        view = self.slack.homes.get(user)
        if view is not None and tab == "home":
            event["view"] = view
        return self.event(event, **kwargs)

    def click_home(self, action_id: str, *, user: str, value: str, **kwargs: Any) -> Reply:
        """A person clicks a button on their Home tab: block_actions from a view, with no
        response_url and no channel (Slack sends none for the Home tab)."""
        view = self.slack.homes[user]
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": self.team_id, "domain": "standin"},
            "user": {"id": user, "username": user, "name": user, "team_id": self.team_id},
            "api_app_id": "A00000001", "token": "",
            "container": {"type": "view", "view_id": view["id"]},
            "trigger_id": f"trig.{time.time_ns()}",
            "view": view,
            "actions": [{"action_id": action_id, "block_id": "home", "type": "button",
                         "value": value, "action_ts": f"{time.time():.6f}"}],
        }
        return self.interactive(payload, **kwargs)

    def submit(self, view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str,
               **kwargs: Any) -> Reply:
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "standin"},
            "user": {"id": user, "username": user, "name": user, "team_id": self.team_id},
            "api_app_id": "A00000001", "token": "", "trigger_id": f"trig.{time.time_ns()}",
            "view": {**view, "state": {"values": values}, "team_id": self.team_id,
                     "type": "modal", "hash": "h"},
            "response_urls": [],
        }
        return self.interactive(payload, **kwargs)

    # ----- people acting in a channel: change the stand-in, then deliver the event -----
    def say(self, channel: str, user: str, text: str, *, thread_ts: str | None = None,
            files: list[dict[str, str]] | None = None, deliver: bool = True) -> str:
        """A person posts; returns the message ts. `deliver=False`: the bot never hears
        of it (it was away), so only backfill can find it."""
        message = self.slack.human_message(channel, user, text, thread_ts=thread_ts, files=files)
        private = self.slack.channels[channel].is_private
        # Slack delivers a private channel's messages only to apps subscribed to
        # message.groups (a public one's: message.channels).
        if deliver and ("message.groups" if private else "message.channels") in self.events:
            event: dict[str, Any] = {"type": "message", "channel": channel, "user": user,
                                     "text": text, "ts": message.ts, "event_ts": message.ts,
                                     "channel_type": "group" if private else "channel"}
            if thread_ts:
                event.update(thread_ts=thread_ts, parent_user_id=user)
            if files:
                event.update(subtype="file_share", files=files)
            assert self.event(event).status == 200
        return message.ts

    def share_file(self, channel: str, user: str, name: str, data: bytes | str, *,
                   filetype: str = "markdown", mimetype: str = "text/plain",
                   **kwargs: Any) -> tuple[str, Reply]:
        """A person uploads a file to a channel: the message sharing it (a `file_share`
        message event) and Slack's `file_shared` event, both signed. Returns the file id
        and the answer to the `file_shared` event."""
        raw = data.encode() if isinstance(data, str) else data
        file_id, message = self.slack.human_file(channel, user, name, raw, filetype=filetype,
                                                 mimetype=mimetype)
        private = self.slack.channels[channel].is_private
        if ("message.groups" if private else "message.channels") in self.events:
            shown = message.files
            assert self.event({"type": "message", "subtype": "file_share", "channel": channel,
                               "user": user, "text": "", "ts": message.ts, "files": shown,
                               "event_ts": message.ts, "upload": True,
                               "channel_type": "group" if private else "channel"}).status == 200
        assert "file_shared" in self.events, "the manifest does not subscribe to file_shared"
        return file_id, self.event({"type": "file_shared", "file_id": file_id,
                                    "user_id": user, "file": {"id": file_id},
                                    "channel_id": channel, "event_ts": message.ts}, **kwargs)

    def edit(self, channel: str, ts: str, text: str, **kwargs: Any) -> Reply:
        message = self.slack.channels[channel].messages[ts]
        previous, message.text = message.text, text
        message.edited_ts = self.slack._next_ts()
        return self.event({
            "type": "message", "subtype": "message_changed", "channel": channel, "hidden": True,
            "ts": message.edited_ts, "event_ts": message.edited_ts, "channel_type": "channel",
            "message": {"type": "message", "user": message.user, "text": text, "ts": ts,
                        "edited": {"user": message.user, "ts": message.edited_ts}},
            "previous_message": {"type": "message", "user": message.user, "text": previous,
                                 "ts": ts},
        }, **kwargs)

    def delete(self, channel: str, ts: str, **kwargs: Any) -> Reply:
        message = self.slack.channels[channel].messages.pop(ts)
        now = self.slack._next_ts()
        return self.event({
            "type": "message", "subtype": "message_deleted", "channel": channel, "hidden": True,
            "deleted_ts": ts, "ts": now, "event_ts": now, "channel_type": "channel",
            "previous_message": {"type": "message", "user": message.user, "text": message.text,
                                 "ts": ts},
        }, **kwargs)

    def react(self, channel: str, ts: str, user: str, name: str, *, add: bool = True,
              **kwargs: Any) -> Reply:
        message = self.slack.channels[channel].messages[ts]
        users = message.reactions.setdefault(name, [])
        if add and user not in users:
            users.append(user)
        if not add and user in users:
            users.remove(user)
        return self.event({
            "type": "reaction_added" if add else "reaction_removed", "user": user,
            "reaction": name, "item_user": message.user, "event_ts": self.slack._next_ts(),
            "item": {"type": "message", "channel": channel, "ts": ts},
        }, **kwargs)

    def pin(self, channel: str, ts: str, user: str, *, add: bool = True, **kwargs: Any) -> Reply:
        room = self.slack.channels[channel]
        message = room.messages[ts]
        (room.pins.add if add else room.pins.discard)(ts)
        return self.event({
            "type": "pin_added" if add else "pin_removed", "user": user, "channel_id": channel,
            "event_ts": self.slack._next_ts(),
            "item": {"type": "message", "channel": channel, "created_by": user,
                     "message": {"type": "message", "user": message.user, "text": message.text,
                                 "ts": ts, "pinned_to": [channel] if add else []}},
        }, **kwargs)

    def event(self, event: dict[str, Any], *, event_id: str | None = None,
              **kwargs: Any) -> Reply:
        envelope = {
            "token": "", "team_id": self.team_id, "api_app_id": "A00000001",
            "event": event, "type": "event_callback",
            "event_id": event_id or f"Ev{time.time_ns()}", "event_time": int(time.time()),
            "event_context": f"4-standin-{time.time_ns()}",
            "authorizations": [{"team_id": self.team_id, "user_id": "UDEBRIEFBOT",
                                "is_bot": True}],
        }
        return self.post(json.dumps(envelope).encode(), "application/json", **kwargs)
