"""The Web API side of the adapter: the one place that calls Slack for the services.

Every call goes through a `WebClient` whose base URL is `SLACK_API_URL` when set, with
retry handlers for rate limits (HTTP 429 + Retry-After), server errors and dropped
connections: slack-sdk retries only connection errors unless told otherwise.
Slack's error codes become `ChatError`s the services can reason about.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import DebriefConfig
from bot.domain.incidents import EventRecord, Incident
from bot.errors import ChatError
from bot.slack.blocks import (
    build_announcement,
    build_event_text,
    build_summary_card,
    build_thread_text,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
# Events worth telling the whole announcement channel about (in the incident's thread).
ANNOUNCED = {"status", "severity", "update", "resolved", "reopened"}


def make_web_client(token: str | None, base_url: str | None, timeout: int = 10) -> WebClient:
    client = WebClient(token=token, base_url=base_url or WebClient.BASE_URL, timeout=timeout)
    client.retry_handlers.extend([
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2),
    ])
    if not any(isinstance(h, ConnectionErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(ConnectionErrorRetryHandler(max_retry_count=2))
    return client


def call(method: str, fn: Callable[[], T], *, ignore: Sequence[str] = ()) -> T | None:
    """Run one Web API call; Slack's error code becomes a `ChatError` (or is ignored)."""
    try:
        return fn()
    except SlackApiError as exc:
        code = str(exc.response.get("error") or f"http_{exc.response.status_code}")
        if code in ignore:
            return None
        raise ChatError(method, code) from exc
    except (SlackClientError, OSError) as exc:
        raise ChatError(method, "unreachable") from exc


class SlackGateway:
    """Implements `bot.services.ports.Chat` over the Web API."""

    def __init__(self, client: WebClient, config: DebriefConfig) -> None:
        self.client = client
        self.config = config

    def create_channel(self, name: str) -> str:
        response: Any = call("conversations.create",
                             lambda: self.client.conversations_create(name=name))
        return str(response["channel"]["id"])

    def invite(self, channel_id: str, user_ids: Sequence[str]) -> None:
        if user_ids:
            call("conversations.invite",
                 lambda: self.client.conversations_invite(channel=channel_id, users=list(user_ids)),
                 ignore=("already_in_channel", "cant_invite_self"))

    def set_topic(self, channel_id: str, topic: str) -> None:
        call("conversations.setTopic",
             lambda: self.client.conversations_setTopic(channel=channel_id, topic=topic[:250]))

    def post_card(self, channel_id: str, incident: Incident) -> str:
        text, blocks = build_summary_card(incident, self.config)
        response: Any = call("chat.postMessage", lambda: self.client.chat_postMessage(
            channel=channel_id, text=text, blocks=blocks, unfurl_links=False))
        return str(response["ts"])

    def update_card(self, incident: Incident) -> None:
        if incident.channel_id and incident.card_ts:
            text, blocks = build_summary_card(incident, self.config)
            call("chat.update", lambda: self.client.chat_update(
                channel=incident.channel_id, ts=incident.card_ts, text=text, blocks=blocks))

    def pin(self, channel_id: str, ts: str) -> None:
        call("pins.add", lambda: self.client.pins_add(channel=channel_id, timestamp=ts),
             ignore=("already_pinned",))

    def announce(self, channel: str, incident: Incident) -> tuple[str, str]:
        text, blocks = build_announcement(incident)
        response: Any = call("chat.postMessage", lambda: self.client.chat_postMessage(
            channel=channel, text=text, blocks=blocks, unfurl_links=False))
        return str(response["channel"]), str(response["ts"])

    def post_event(self, incident: Incident, event: EventRecord, *, announce: bool) -> None:
        if incident.channel_id:
            text = build_event_text(incident, event)
            call("chat.postMessage", lambda: self.client.chat_postMessage(
                channel=incident.channel_id, text=text, unfurl_links=False))
        if announce and event.kind in ANNOUNCED and incident.announce_ts:
            thread = build_thread_text(incident, event)
            call("chat.postMessage", lambda: self.client.chat_postMessage(
                channel=incident.announce_channel_id, thread_ts=incident.announce_ts,
                text=thread, unfurl_links=False))
