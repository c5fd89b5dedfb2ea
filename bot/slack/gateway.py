"""The Web API side of the adapter: the one place that calls Slack for the services.

Every call goes through a `WebClient` whose base URL is `SLACK_API_URL` when set, with
retry handlers for rate limits (HTTP 429 + Retry-After), server errors and dropped
connections: slack-sdk retries only connection errors unless told otherwise.
Slack's error codes become `ChatError`s the services can reason about.
"""

from __future__ import annotations

import logging
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlparse

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.charts import chart_alt_text, render_trends_png
from bot.config import DebriefConfig, Settings
from bot.domain.action_items import ActionItem
from bot.domain.alerts import AlertGroup
from bot.domain.factors import FactorForm
from bot.domain.home import Home, people_of
from bot.domain.incidents import EventKind, EventRecord, Incident
from bot.domain.nudges import Nudge
from bot.domain.postmortem import Postmortem, SectionForm
from bot.domain.timeline import ChatMessage
from bot.domain.trends import Trends
from bot.errors import ChatError, ConfigError
from bot.observability import SLACK_CALLS
from bot.services.ports import (
    DirectNotice,
    OverrideNotice,
    PostmortemSummary,
    PublishedSummary,
    RelatedIncident,
    ReviewRequest,
    SharedFile,
    TurnsMoved,
)
from bot.slack.blocks import (
    ALERT_EVENT,
    build_alert_message,
    build_announcement,
    build_attach_modal,
    build_changes_modal,
    build_cover_request,
    build_declare_modal,
    build_digest,
    build_edit_modal,
    build_factor_modal,
    build_item_form,
    build_nudge,
    build_postmortem_summary,
    build_published_summary,
    build_related_incidents,
    build_rephrase_modal,
    build_review_request,
    build_sections_modal,
    build_summary_card,
    build_update_modal,
)
from bot.slack.events import parse_message
from bot.slack.home import build_home
from bot.slack.messages import (
    alert_line_text,
    event_text,
    handoff_text,
    notice_text,
    nudge_text,
    override_notice_text,
    shift_reminder_text,
    thread_text,
    topic_text,
    weekly_report_text,
)
from bot.slack.pacing import ChannelPacer

log = logging.getLogger(__name__)
T = TypeVar("T")
# Told of what Slack is shown to change, so Home tabs can follow: (people the change
# concerns directly, whether the part every Home tab shows may have changed).
ChangeWatcher = Callable[[frozenset[str], bool], None]
USER_CACHE_SECONDS = 3600
# Channel members and user groups, for permission checks: a minute old at most, and a
# channel's entry is dropped when someone joins or leaves it (member_joined_channel /
# member_left_channel), so a newcomer may act at once and a leaver is refused at once.
MEMBERS_CACHE_SECONDS = 60
MAX_PAGES = 500  # 100,000 messages at 200 a page: a runaway cursor cannot loop forever
# Events worth telling the whole announcement channel about (in the incident's thread).
ANNOUNCED = {EventKind.STATUS, EventKind.SEVERITY, EventKind.UPDATE, EventKind.RESOLVED,
             EventKind.REOPENED, EventKind.EDITED, EventKind.CANCELLED}
# Message metadata (event_type) on the bot's set-up posts: a retry finds them in Slack
# itself, so a post whose ts never reached the database is not made a second time.
CARD_EVENT = "debrief_incident_card"
ANNOUNCEMENT_EVENT = "debrief_incident_announcement"
LOOKBACK_SECONDS = 300  # clock skew allowance before the declaration, for history look-ups
MAX_LOOKUP_PAGES = 20  # conversations.history / .list pages one look-up may read
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
# Answers after which Slack may have done the work anyway (it failed, or the answer was
# lost, after posting): a set-up post is looked up by its metadata, never re-sent blindly.
MAYBE_DONE = {"unreachable", "fatal_error", "internal_error", "service_unavailable",
              "request_timeout", "http_500", "http_502", "http_503", "http_504"}


def incident_metadata(event_type: str, incident: Incident) -> dict[str, Any]:
    """The metadata a set-up post carries: the number plus the declaration instant, so an
    incident of the same number from another database (a restore) is not mistaken for it."""
    return {"event_type": event_type,
            "event_payload": {"incident": incident.number, "declared": _marker(incident)}}


def _marker(incident: Incident) -> str:
    return f"{incident.declared_at.timestamp():.6f}"


def _is_for(message: dict[str, Any], event_type: str, incident: Incident) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return (metadata.get("event_type") == event_type
            and payload.get("incident") == incident.number
            and payload.get("declared") == _marker(incident))


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
        result = fn()
    except SlackApiError as exc:
        code = str(exc.response.get("error") or f"http_{exc.response.status_code}")
        SLACK_CALLS.labels(method, code).inc()
        if code in ignore:
            return None
        raise ChatError(method, code) from exc
    except (SlackClientError, OSError) as exc:
        SLACK_CALLS.labels(method, "unreachable").inc()
        raise ChatError(method, "unreachable") from exc
    SLACK_CALLS.labels(method, "ok").inc()
    return result


def check_tokens(settings: Settings) -> None:
    """At start-up, before anything changes: Slack accepts the bot token and, in Socket
    Mode, the app token. No retries and a silent client logger: a wrong token fails at once
    as one `ConfigError` line saying what to fix."""
    quiet = logging.getLogger("debrief.start-up-check")  # the one line below says it all
    quiet.propagate = False
    quiet.handlers[:] = [logging.NullHandler()]
    slack = WebClient(token=settings.bot_token, base_url=settings.api_url or WebClient.BASE_URL,
                      timeout=10, retry_handlers=[], logger=quiet)
    where = settings.api_url or "Slack"
    checks: list[tuple[str, Callable[[], Any], str]] = [
        ("SLACK_BOT_TOKEN", slack.auth_test,
         "copy the current Bot User OAuth Token (xoxb-...) from your Slack app's "
         "'OAuth & Permissions' page")]
    if settings.socket_mode:
        checks.append(("SLACK_APP_TOKEN",
                       lambda: slack.apps_connections_open(app_token=settings.app_token or ""),
                       "create an app-level token (xapp-...) with the connections:write scope "
                       "under 'Basic Information' and enable Socket Mode"))
    for name, check, fix in checks:
        try:
            check()
        except SlackApiError as exc:
            code = exc.response.get("error") if exc.response is not None else None
            if code in ("ratelimited", "fatal_error", "internal_error", "service_unavailable",
                        "request_timeout") or (exc.response is not None
                                               and exc.response.status_code >= 500):
                raise ConfigError(f"Slack could not check {name} just now ({code}): "
                                  "try again in a minute.") from None
            raise ConfigError(f"Slack refused {name} ({code or 'error'}): {fix}.") from None
        except (SlackClientError, OSError) as exc:
            raise ConfigError(f"cannot reach Slack at {where} to check {name} "
                              f"({type(exc).__name__}): check the network or SLACK_API_URL."
                              ) from None

class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx reaches the caller as an HTTPError


def _slack_host(url: str, api_url: str) -> bool:
    """Whether `url` is Slack's (https on slack.com) or on the API's own host."""
    target, api = urlparse(url), urlparse(api_url)
    if target.scheme == "https" and (target.hostname or "").endswith(".slack.com"):
        return True
    return (target.scheme, target.netloc) == (api.scheme, api.netloc) and bool(api.netloc)


class SlackGateway:
    """Implements `bot.services.ports.Chat` over the Web API."""

    def __init__(self, client: WebClient, config: DebriefConfig,
                 pacer: ChannelPacer | None = None,
                 watchers: list[ChangeWatcher] | None = None) -> None:
        self.client = client
        # The composition root adds the Home tabs' refresher here once it is built.
        self._watchers = watchers if watchers is not None else []
        self.config = config
        self.pacer = pacer or ChannelPacer()
        self._users: dict[str, tuple[float, dict[str, Any]]] = {}
        self._workspace_url: str | None = None
        self._emails: dict[str, str | None] = {}
        self._usergroups: dict[str, str] = {}
        self._bot_user: str | None = None
        self._bot_id: str | None = None
        self._once_client: WebClient | None = None
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    def _in_channel(self, method: str, channel: str, fn: Callable[[], T],
                    *, ignore: Sequence[str] = ()) -> T | None:
        """A call on a channel, handling what can be fixed: the bot not being in a public
        channel (join it) or the incident channel having been archived (unarchive it),
        then one retry. Anything else is the caller's to report."""
        try:
            return call(method, fn, ignore=ignore)
        except ChatError as exc:
            if exc.code == "not_in_channel":
                call("conversations.join", lambda: self.client.conversations_join(channel=channel))
            elif exc.code == "is_archived":
                log.info("unarchiving %s to %s", channel, method)
                call("conversations.unarchive",
                     lambda: self.client.conversations_unarchive(channel=channel))
            else:
                raise
            return call(method, fn, ignore=ignore)

    def _changed(self, users: frozenset[str] = frozenset(), everyone: bool = False) -> None:
        for watcher in self._watchers:
            try:
                watcher(users, everyone)
            except Exception:  # noqa: BLE001 - a Home tab must never break the change itself
                log.exception("a change watcher failed")

    def _post(self, channel: str, *, once: bool = False, **kwargs: Any) -> Any:
        """chat.postMessage, paced per channel (about one a second, short bursts allowed).
        `once`: without the SDK's re-sends after server or connection errors."""
        self.pacer.wait(channel)
        client = self._client_without_resends() if once else self.client
        return self._in_channel("chat.postMessage", channel, lambda: client.chat_postMessage(
            channel=channel, unfurl_links=False, **kwargs))

    def _client_without_resends(self) -> WebClient:
        """The same client, retrying only rate limits (a 429 means Slack did nothing)."""
        if self._once_client is None:
            c = self.client
            self._once_client = WebClient(
                token=c.token, base_url=c.base_url, timeout=c.timeout, ssl=c.ssl, proxy=c.proxy,
                headers=c.headers,
                retry_handlers=[h for h in c.retry_handlers
                                if isinstance(h, RateLimitErrorRetryHandler)])
        return self._once_client

    def _post_set_up(self, channel: str, event_type: str, incident: Incident, text: str,
                     blocks: list[dict[str, Any]]) -> tuple[str, str]:
        """(channel id, ts) of a set-up post (card, announcement) made at most once: when
        Slack fails in a way that may come after posting, look for the post by its
        metadata and post again only if it is not there."""
        metadata = incident_metadata(event_type, incident)
        for attempt in range(2):
            try:
                response = self._post(channel, once=True, text=text, blocks=blocks,
                                      metadata=metadata)
                return str(response["channel"]), str(response["ts"])
            except ChatError as exc:
                if exc.code not in MAYBE_DONE or attempt:
                    raise
            found = self._find_post(channel, event_type, incident)
            if found is not None:
                return found
        raise AssertionError("unreachable")

    def create_channel(self, name: str, *, private: bool = False) -> str:
        response: Any = call("conversations.create",
                             lambda: self.client.conversations_create(name=name,
                                                                      is_private=private))
        return str(response["channel"]["id"])

    def invite(self, channel_id: str, user_ids: Sequence[str]) -> None:
        if user_ids:
            self._in_channel("conversations.invite", channel_id,
                             lambda: self.client.conversations_invite(channel=channel_id,
                                                                      users=list(user_ids)),
                             ignore=("already_in_channel", "cant_invite_self"))
            self.forget_members(channel_id)  # whoever was invited may act at once
            self._changed(frozenset(user_ids))

    def set_topic(self, channel_id: str, incident: Incident) -> None:
        topic = topic_text(incident)
        self._in_channel("conversations.setTopic", channel_id,
                         lambda: self.client.conversations_setTopic(channel=channel_id,
                                                                    topic=topic[:250]))

    def post_card(self, channel_id: str, incident: Incident) -> str:
        text, blocks = build_summary_card(incident, self.config)
        ts = self._post_set_up(channel_id, CARD_EVENT, incident, text, blocks)[1]
        self._changed(people_of(incident), everyone=True)
        return ts

    def update_card(self, incident: Incident, before: Incident | None = None) -> None:
        # Action items and roles change Home tabs even where the card looks the same.
        self._changed(people_of(incident) | (people_of(before) if before else frozenset()),
                      everyone=True)
        if incident.channel_id and incident.card_ts:
            text, blocks = build_summary_card(incident, self.config)
            if before is not None and build_summary_card(before, self.config) == (text, blocks):
                return  # the card would look the same: no chat.update for nothing
            channel, ts = incident.channel_id, incident.card_ts
            self._in_channel("chat.update", channel, lambda: self.client.chat_update(
                channel=channel, ts=ts, text=text, blocks=blocks))

    def pin(self, channel_id: str, ts: str) -> None:
        self._in_channel("pins.add", channel_id,
                         lambda: self.client.pins_add(channel=channel_id, timestamp=ts),
                         ignore=("already_pinned",))

    def announce(self, channel: str, incident: Incident) -> tuple[str, str]:
        text, blocks = build_announcement(incident)
        return self._post_set_up(channel, ANNOUNCEMENT_EVENT, incident, text, blocks)

    def find_incident_channel(self, name: str, incident: Incident) -> str | None:
        """The id of the channel called `name` if it is this incident's: created by this bot
        and holding no other incident's card. conversations.info takes ids only, so the
        name is looked up in conversations.list (Tier 2; only asked after `name_taken`)."""
        channel = self._channel_named(name)
        if channel is None or channel.get("creator") != self._bot_user_id():
            return None
        channel_id = str(channel["id"])
        try:
            recent = self._recent(channel_id, incident)
        except ChatError as exc:  # e.g. the bot was removed from it: cannot tell, leave it
            log.info("not adopting #%s: cannot read it (%s)", name, exc.code)
            return None
        for message in recent:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == CARD_EVENT and not _is_for(
                    message, CARD_EVENT, incident):
                return None  # another incident's channel that happens to share the name
        return channel_id

    def find_card(self, channel_id: str, incident: Incident) -> str | None:
        """The ts of this incident's card if the bot already posted it in `channel_id`."""
        return next((str(m["ts"]) for m in self._recent(channel_id, incident)
                     if _is_for(m, CARD_EVENT, incident)), None)

    def find_announcement(self, channel: str, incident: Incident) -> tuple[str, str] | None:
        """(channel id, ts) of this incident's announcement if it was already posted."""
        return self._find_post(channel, ANNOUNCEMENT_EVENT, incident)

    def _find_post(self, channel: str, event_type: str,
                   incident: Incident) -> tuple[str, str] | None:
        """(channel id, ts) of this incident's post of `event_type` in `channel` (an id or
        a public channel's name), if the bot already made it."""
        channel_id = channel if CHANNEL_ID.match(channel) else None
        if channel_id is None:
            found = self._channel_named(channel.lstrip("#"))
            if found is None:
                return None  # posting will answer channel_not_found with the reason
            channel_id = str(found["id"])
        try:
            recent = self._recent(channel_id, incident)
        except ChatError as exc:
            if exc.code != "not_in_channel":
                raise
            # chat:write.public posts without membership, but history needs it: join the
            # (public) channel, else a post whose ts was lost would be made a second time.
            try:
                call("conversations.join",
                     lambda: self.client.conversations_join(channel=channel_id))
                recent = self._recent(channel_id, incident)
            except ChatError as joined:
                log.warning("cannot check %s for an earlier post (%s)", channel,
                            joined.code)
                return None
        ts = next((str(m["ts"]) for m in recent if _is_for(m, event_type, incident)), None)
        return (channel_id, ts) if ts else None

    def _recent(self, channel_id: str, incident: Incident) -> list[dict[str, Any]]:
        """Top-level messages (with metadata) since just before the declaration, at most
        MAX_LOOKUP_PAGES pages of 200: a busy channel cannot make a look-up unbounded."""
        oldest = f"{incident.declared_at.timestamp() - LOOKBACK_SECONDS:.6f}"
        return self._pages("conversations.history", lambda cursor: self.client
                           .conversations_history(channel=channel_id, cursor=cursor, limit=200,
                                                  oldest=oldest, include_all_metadata=True),
                           max_pages=MAX_LOOKUP_PAGES)

    def _channel_named(self, name: str) -> dict[str, Any] | None:
        """A public channel by exact name, archived ones included (their names stay taken)."""
        cursor: str | None = None
        for _ in range(MAX_LOOKUP_PAGES):
            response: Any = call("conversations.list", partial(
                self.client.conversations_list, cursor=cursor, limit=999,
                types="public_channel"))
            for channel in response.get("channels") or []:
                if isinstance(channel, dict) and channel.get("name") == name:
                    return channel
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return None

    def _bot_user_id(self) -> str | None:
        if self._bot_user is None:
            response: Any = call("auth.test", lambda: self.client.auth_test())
            self._bot_user = str(response.get("user_id") or "")
            self._bot_id = str(response.get("bot_id") or "")
            self._workspace_url = str(response.get("url") or "")
        return self._bot_user or None

    def _own_ids(self) -> frozenset[str]:
        """Our bot user's id and bot id (auth.test, asked once): messages carrying
        either are ours and never captured."""
        self._bot_user_id()
        return frozenset(i for i in (self._bot_user, self._bot_id) if i)

    def post_event(self, incident: Incident, event: EventRecord, *, announce: bool) -> None:
        self._changed(people_of(incident), everyone=True)
        if incident.channel_id:
            text = event_text(incident, event)
            self._post(incident.channel_id, text=text)
        if announce and event.kind in ANNOUNCED and incident.announce_ts and not incident.private:
            thread = thread_text(incident, event)
            self._post(str(incident.announce_channel_id), thread_ts=incident.announce_ts,
                       text=thread)

    def _user(self, user_id: str) -> dict[str, Any]:
        """users.info, cached for an hour: time zones and names change rarely."""
        cached = self._users.get(user_id)
        if cached and time.monotonic() - cached[0] < USER_CACHE_SECONDS:
            return cached[1]
        response: Any = call("users.info", lambda: self.client.users_info(user=user_id))
        user = dict(response["user"]) if response else {}
        self._users[user_id] = (time.monotonic(), user)
        return user

    def user_time_zone(self, user_id: str) -> str | None:
        return self._user(user_id).get("tz")

    def user_name(self, user_id: str) -> str | None:
        user = self._user(user_id)
        profile = user.get("profile") or {}
        return (profile.get("display_name") or user.get("real_name") or user.get("name")
                or None)

    def workspace_url(self) -> str | None:
        """The workspace's URL from auth.test (asked once), for message permalinks."""
        if self._workspace_url is None:
            response: Any = call("auth.test", lambda: self.client.auth_test())
            self._workspace_url = str(response.get("url") or "")
        return self._workspace_url or None

    def post_postmortem(self, incident: Incident, postmortem: Postmortem, content: str,
                        summary: PostmortemSummary,
                        replace_ts: str | None = None) -> tuple[str, str]:
        """The summary message, then the document as a Markdown file (files_upload_v2:
        files.getUploadURLExternal + files.completeUploadExternal); (file id, message ts).
        With `replace_ts` the summary message there is updated (chat.update) and the new
        document goes into its thread, so re-drafts from the modal don't flood the
        channel."""
        assert incident.channel_id is not None
        self._changed(people_of(incident))  # its commander's "postmortems waiting on you"
        channel = incident.channel_id
        text, blocks = build_postmortem_summary(
            incident, postmortem, summary.durations, summary.open_actions, summary.total_actions,
            summary.findings)
        if replace_ts:
            self._in_channel("chat.update", channel, lambda: self.client.chat_update(
                channel=channel, ts=replace_ts, text=text, blocks=blocks))
            ts = replace_ts
        else:
            ts = str(self._post(channel, text=text, blocks=blocks)["ts"])
        version = postmortem.latest.version if postmortem.latest else 1
        name = f"postmortem-{incident.number}-v{version}.md"
        response: Any = call("files.completeUploadExternal", lambda: self.client.files_upload_v2(
            channel=channel, content=content, filename=name,
            title=f"Postmortem #{incident.number} v{version}: {incident.title}"[:250],
            thread_ts=replace_ts))
        files = response.get("files") or [response.get("file") or {}]
        return str(files[0].get("id") or ""), ts

    def open_sections_form(self, trigger_id: str, form: SectionForm, channel_id: str,
                           message_ts: str | None) -> None:
        """The "Write postmortem" modal, prefilled with the sections' current text."""
        view = build_sections_modal(form, channel_id, message_ts)
        call("views.open", lambda: self.client.views_open(trigger_id=trigger_id, view=view))

    def open_factor_form(self, trigger_id: str, form: FactorForm, channel_id: str,
                         message_ts: str | None) -> None:
        """The "Add contributing factor" modal."""
        view = build_factor_modal(form, channel_id, message_ts)
        call("views.open", lambda: self.client.views_open(trigger_id=trigger_id, view=view))

    def send_direct(self, user_id: str, text: str) -> None:
        self._post(user_id, text=text)

    def send_notice(self, user_id: str, notice: DirectNotice) -> None:
        self.send_direct(user_id, notice_text(notice))
        if isinstance(notice, TurnsMoved):
            self._changed(frozenset({user_id}))

    def post_digest(self, channel: str, items: list[ActionItem], today: date) -> None:
        text, blocks = build_digest(items, today)
        self._post(channel, text=text, blocks=blocks)

    def post_weekly_report(self, channel: str, trends: Trends) -> None:
        """One message: the report's text with the trends chart attached as a PNG
        (files_upload_v2, the road the postmortem documents take, with the text as
        its comment). Nothing is shared until files.completeUploadExternal succeeds,
        so a failure before it leaves no half-posted report to duplicate on retry."""
        channel_id = self._channel_id(channel)
        text = weekly_report_text(trends)
        png = render_trends_png(trends)  # Pillow is imported here, not at start-up
        name = f"debrief-weekly-{trends.end:%Y-%m-%d}.png"
        self.pacer.wait(channel_id)
        self._in_channel("files.completeUploadExternal", channel_id,
                         lambda: self.client.files_upload_v2(
                             channel=channel_id, content=png, filename=name,
                             title=f"Incident trends, 12 weeks to {trends.end:%d %b %Y}",
                             alt_txt=chart_alt_text(trends), initial_comment=text))

    def _channel_id(self, channel: str) -> str:
        """A channel id for a configured `#name` (uploads take ids only)."""
        if CHANNEL_ID.match(channel):
            return channel
        found = self._channel_named(channel.removeprefix("#"))
        if found is None:
            raise ChatError("conversations.list", "channel_not_found")
        return str(found["id"])

    def channel_messages(self, channel_id: str) -> list[ChatMessage]:
        """Every person's message in the channel, thread replies included, oldest first.
        Follows pagination cursors; HTTP 429s are waited out by the retry handler."""
        marker = self.config.timeline.marker_emoji
        own = self._own_ids()
        found: list[ChatMessage] = []
        for raw in self._pages("conversations.history", lambda cursor: self.client
                               .conversations_history(channel=channel_id, cursor=cursor,
                                                      limit=200)):
            message = parse_message(raw, channel_id, marker, from_history=True, own=own)
            if message:
                found.append(message)
            if raw.get("reply_count") and raw.get("thread_ts") == raw.get("ts"):
                for reply in self._pages("conversations.replies",
                                         partial(self._replies_page, channel_id, raw["ts"])):
                    if reply.get("ts") == raw["ts"]:
                        continue  # the parent comes first in every page of replies
                    parsed = parse_message(reply, channel_id, marker, from_history=True,
                                           own=own)
                    if parsed:
                        found.append(parsed)
        return sorted(found, key=lambda m: float(m.ts))

    def _replies_page(self, channel_id: str, ts: str, cursor: str | None) -> Any:
        return self.client.conversations_replies(channel=channel_id, ts=ts, cursor=cursor,
                                                 limit=200)

    def _pages(self, method: str, fetch: Callable[[str | None], Any],
               max_pages: int = MAX_PAGES) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(max_pages):
            response: Any = call(method, partial(fetch, cursor))
            messages += [m for m in response.get("messages") or [] if isinstance(m, dict)]
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return messages

    def resolve_user(self, member: str) -> str | None:
        """Schedules name people by Slack id or e-mail; e-mails are looked up once."""
        if "@" not in member:
            return member
        if member not in self._emails:
            try:
                response: Any = call("users.lookupByEmail",
                                     lambda: self.client.users_lookupByEmail(email=member))
                self._emails[member] = str(response["user"]["id"])
            except ChatError as exc:
                if exc.code != "users_not_found":
                    raise
                self._emails[member] = None
        return self._emails[member]

    def remind_shift(self, user_id: str, schedule: str, start: datetime,
                     end: datetime | None) -> None:
        self.send_direct(user_id, shift_reminder_text(schedule, start, end))

    def tell_override(self, user_id: str, notice: OverrideNotice) -> None:
        self._changed(frozenset({user_id, notice.override_user}))
        self.send_direct(user_id, override_notice_text(notice))

    def post_handoff(self, channel: str, schedule: str, user_id: str | None,
                     until: datetime | None) -> None:
        self._changed(frozenset({user_id} if user_id else ()), everyone=True)
        self._post(channel, text=handoff_text(schedule, user_id, until))

    def set_usergroup(self, handle: str, user_ids: list[str]) -> None:
        if handle not in self._usergroups:
            response: Any = call("usergroups.list", lambda: self.client.usergroups_list())
            for group in response.get("usergroups") or []:
                self._usergroups[str(group.get("handle"))] = str(group.get("id"))
        group_id = self._usergroups.get(handle)
        if group_id is None:
            raise ChatError("usergroups.list", "no_such_usergroup")
        call("usergroups.users.update", lambda: self.client.usergroups_users_update(
            usergroup=group_id, users=user_ids))

    def _group_id(self, group: str) -> str | None:
        """A user group's id from its id or handle (usergroups.list, asked once per handle)."""
        group = group.lstrip("@")
        if re.fullmatch(r"S[A-Z0-9]{2,}", group):
            return group
        if group not in self._usergroups:
            response: Any = call("usergroups.list", lambda: self.client.usergroups_list())
            for found in response.get("usergroups") or []:
                self._usergroups[str(found.get("handle"))] = str(found.get("id"))
        return self._usergroups.get(group)

    def _cached_members(self, key: str, fetch: Callable[[], frozenset[str]]) -> frozenset[str]:
        cached = self._members.get(key)
        if cached and time.monotonic() - cached[0] < MEMBERS_CACHE_SECONDS:
            return cached[1]
        members = fetch()
        self._members[key] = (time.monotonic(), members)
        return members

    def channel_members(self, channel_id: str) -> frozenset[str]:
        """conversations.members, every page (a channel may have thousands)."""
        def fetch() -> frozenset[str]:
            found: set[str] = set()
            cursor: str | None = None
            for _ in range(MAX_PAGES):
                response: Any = call("conversations.members", partial(
                    self.client.conversations_members, channel=channel_id, cursor=cursor,
                    limit=200))
                found.update(str(m) for m in response.get("members") or [])
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
            return frozenset(found)
        return self._cached_members(f"channel:{channel_id}", fetch)

    def usergroup_members(self, group: str) -> frozenset[str]:
        """usergroups.users.list (a group that does not exist has nobody in it); cached by
        the group's id, which `subteam_members_changed` names."""
        group_id = self._group_id(group)
        if group_id is None:
            log.warning("permissions name user group %s, which Slack does not know", group)
            return frozenset()

        def fetch() -> frozenset[str]:
            response: Any = call("usergroups.users.list", lambda: self.client
                                 .usergroups_users_list(usergroup=group_id))
            return frozenset(str(u) for u in response.get("users") or [])
        return self._cached_members(f"group:{group_id}", fetch)

    def forget_members(self, channel_id: str) -> None:
        """Drop the cached members of a channel or a user group (by id)."""
        self._members.pop(f"channel:{channel_id}", None)
        self._members.pop(f"group:{channel_id}", None)

    def rename_channel(self, channel_id: str, name: str) -> None:
        self._in_channel("conversations.rename", channel_id, lambda: self.client
                         .conversations_rename(channel=channel_id, name=name))

    def update_announcement(self, incident: Incident) -> None:
        """The announcement follows corrections (title, severity, cancelled, test)."""
        self._changed(people_of(incident), everyone=True)
        if incident.announce_channel_id and incident.announce_ts:
            text, blocks = build_announcement(incident)
            channel, ts = incident.announce_channel_id, incident.announce_ts
            call("chat.update", lambda: self.client.chat_update(
                channel=channel, ts=ts, text=text, blocks=blocks))

    def open_edit_form(self, trigger_id: str, incident: Incident) -> None:
        """The edit modal, prefilled with what the incident says now."""
        view = build_edit_modal(incident, self.config)
        call("views.open", lambda: self.client.views_open(trigger_id=trigger_id, view=view))

    def open_declare_form(self, trigger_id: str, channel_id: str | None) -> None:
        """The declare modal, for the person whose click or command gave `trigger_id`."""
        view = build_declare_modal(self.config, channel_id)
        call("views.open", lambda: self.client.views_open(trigger_id=trigger_id, view=view))

    def open_item_form(self, trigger_id: str, number: int, item: ActionItem,
                       channel_id: str) -> None:
        view = build_item_form(number, item, channel_id)
        call("views.open", lambda: self.client.views_open(trigger_id=trigger_id, view=view))

    def open_rephrase_form(self, trigger_id: str, number: int, entry_id: int, channel_id: str,
                           text: str, advice: list[str]) -> None:
        view = build_rephrase_modal(number, entry_id, channel_id, text, advice)
        call("views.open", lambda: self.client.views_open(trigger_id=trigger_id, view=view))

    def post_ephemeral(self, channel: str, user_id: str, text: str) -> bool:
        """A message only `user_id` sees in `channel`; False when they cannot see it there
        (the channel is gone, or the bot or the person is not in it)."""
        return call("chat.postEphemeral", lambda: self.client.chat_postEphemeral(
            channel=channel, user=user_id, text=text),
            ignore=("channel_not_found", "not_in_channel", "user_not_in_channel")) is not None

    def ask_for_cover(self, channel: str, schedule: str, user_id: str, start: datetime,
                      end: datetime) -> None:
        text, blocks = build_cover_request(schedule, user_id, start, end)
        self._post(channel, text=text, blocks=blocks)

    def post_alert(self, group: AlertGroup) -> tuple[str, str]:
        """The group's first message (paced per channel like every post); its metadata
        names the group so it can be found in the channel's history."""
        text, blocks = build_alert_message(group)
        response = self._post(group.channel, once=True, text=text, blocks=blocks, metadata={
            "event_type": ALERT_EVENT, "event_payload": {"group": group.id}})
        return str(response["channel"]), str(response["ts"])

    def update_alert(self, group: AlertGroup) -> None:
        self._changed(frozenset(group.notified))  # acknowledged, silenced, resolved…
        if group.message_channel_id and group.message_ts:
            text, blocks = build_alert_message(group)
            channel, ts = group.message_channel_id, group.message_ts
            self.pacer.wait(channel)
            self._in_channel("chat.update", channel, lambda: self.client.chat_update(
                channel=channel, ts=ts, text=text, blocks=blocks))
    def ask_review(self, reviewer: str, request: ReviewRequest) -> None:
        text, blocks = build_review_request(reviewer, request)
        self._post(reviewer, text=text, blocks=blocks)

    def post_nudge(self, incident: Incident, nudge: Nudge) -> None:
        """The nudge in the incident channel (`once`: a timed-out post is not re-sent,
        since the claim already stands for it)."""
        if incident.channel_id:
            text = nudge_text(incident, nudge)
            self._post(incident.channel_id, once=True, text=text, blocks=build_nudge(text, nudge))

    def open_update_form(self, trigger_id: str, number: int, channel_id: str | None) -> None:
        view = build_update_modal(number, channel_id)
        call("views.open", lambda: self.client.views_open(trigger_id=trigger_id, view=view))

    def open_changes_form(self, trigger_id: str, number: int) -> None:
        view = build_changes_modal(number)
        call("views.open", lambda: self.client.views_open(trigger_id=trigger_id, view=view))

    def post_published(self, channel: str, summary: PublishedSummary,
                       thread_ts: str | None = None) -> None:
        self._post(channel, text=build_published_summary(summary), thread_ts=thread_ts)

    def post_related(self, incident: Incident, related: Sequence[RelatedIncident]) -> None:
        if incident.channel_id:
            self._post(incident.channel_id, text=build_related_incidents(related))

    def archive_channel(self, channel_id: str) -> None:
        """conversations.archive (`channels:manage` / `groups:write`); the bot joins a
        public channel it has left first (`not_in_channel`)."""
        try:
            call("conversations.archive",
                 lambda: self.client.conversations_archive(channel=channel_id))
        except ChatError as exc:
            if exc.code != "not_in_channel":
                raise
            call("conversations.join", lambda: self.client.conversations_join(channel=channel_id))
            call("conversations.archive",
                 lambda: self.client.conversations_archive(channel=channel_id))

    def file_info(self, file_id: str) -> SharedFile:
        """files.info (`files:read`)."""
        response: Any = call("files.info", lambda: self.client.files_info(file=file_id))
        found = response.get("file") or {}
        return SharedFile(id=str(found.get("id") or file_id), name=str(found.get("name") or ""),
                          size=int(found.get("size") or 0),
                          filetype=str(found.get("filetype") or ""),
                          user=str(found.get("user") or ""),
                          url=str(found.get("url_private") or ""))

    def download_file(self, file: SharedFile, limit: int) -> bytes:
        """GET the file's url_private with the bot token, reading at most `limit` + 1
        bytes. The token goes only to Slack's own hosts (or the API's, for a stand-in),
        and a redirect is a refusal: Slack sends a token it doesn't accept to its sign-in
        page, whose HTML must not be read as the file."""
        if not _slack_host(file.url, self.client.base_url):
            log.warning("not sending the bot token to %s", urlparse(file.url).netloc)
            raise ChatError("files.download", "untrusted_url")
        request = urllib.request.Request(
            file.url, headers={"Authorization": f"Bearer {self.client.token}"})
        opener = urllib.request.build_opener(_NoRedirects)
        try:
            with opener.open(request, timeout=self.client.timeout) as answer:
                data: bytes = answer.read(limit + 1)
        except urllib.error.HTTPError as exc:
            SLACK_CALLS.labels("files.download", f"http_{exc.code}").inc()
            raise ChatError("files.download", "not_authed" if exc.code in (301, 302, 303)
                            else f"http_{exc.code}") from exc
        except OSError as exc:
            SLACK_CALLS.labels("files.download", "unreachable").inc()
            raise ChatError("files.download", "unreachable") from exc
        SLACK_CALLS.labels("files.download", "ok").inc()
        return data

    def post_in_channel(self, channel_id: str, text: str) -> None:
        self._post(channel_id, text=text)

    def publish_home(self, user_id: str, home: Home) -> None:
        """The person's Home tab (views.publish: Tier 4, no scope needed)."""
        view = build_home(home)
        call("views.publish", lambda: self.client.views_publish(user_id=user_id, view=view))

    def send_alert(self, user_id: str, group: AlertGroup) -> None:
        self._changed(frozenset({user_id}))  # their Home tab lists the alerts that paged them
        text, blocks = build_alert_message(group, page=True)
        self._post(user_id, text=text, blocks=blocks)

    def post_alert_line(self, channel_id: str, group: AlertGroup, what: str,
                        firing: int) -> None:
        self._post(channel_id, text=alert_line_text(group, what, firing))

    def open_attach_form(self, trigger_id: str, group: AlertGroup,
                         incidents: list[Incident]) -> None:
        view = build_attach_modal(group, incidents, group.message_channel_id)
        call("views.open", lambda: self.client.views_open(trigger_id=trigger_id, view=view))

    def open_alert_declare_form(self, trigger_id: str, group: AlertGroup, severity: str,
                                channel_id: str | None) -> None:
        view = build_declare_modal(self.config, channel_id, alert=group, severity=severity)
        call("views.open", lambda: self.client.views_open(trigger_id=trigger_id, view=view))
