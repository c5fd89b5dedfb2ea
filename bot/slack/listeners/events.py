"""Events API: capture the incident timeline from the channel.

Storing happens in a listener middleware, *before* Bolt acknowledges the event: an
insert takes milliseconds, and if it fails we answer 500 so Slack retries the event
instead of it being lost behind a 200. Storage is idempotent, so retries and the same
message arriving through backfill are stored once. Events go through one
`TimelineWriter` per app (group commit: concurrent events share a transaction), and
each is acknowledged once its batch is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse

from bot.observability import EVENTS_STORED
from bot.services.ports import Deps
from bot.services.timeline import TimelineWriter, backfill
from bot.slack.events import parse_timeline_change
from bot.slack.ids import EVENTS
from bot.slack.replies import guarded

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    marker = deps.config.timeline.marker_emoji
    writer = TimelineWriter(deps.uow)

    def store_first(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:  # noqa: A002
        change = parse_timeline_change(body.get("event"), marker)
        if change is not None:
            try:
                if writer.record(change):
                    EVENTS_STORED.inc()
            except Exception:  # noqa: BLE001 - refuse the event so Slack sends it again
                log.exception("could not store a timeline event; asking Slack to retry")
                return BoltResponse(status=500, body="storage unavailable; please retry")
        next()
        return None

    def stored(body: dict[str, Any]) -> None:
        """Nothing left to do: the middleware stored it; Bolt acks events itself."""

    # Manifest subscriptions name the channel kind ("message.channels"); Bolt matches the
    # event type ("message").
    for subscription in EVENTS:
        event_type = subscription.split(".")[0]
        if event_type not in ("member_joined_channel", "member_left_channel",
                              "subteam_members_changed", "app_home_opened",
                              "file_shared"):  # file_shared: listeners/postmortems.py
            app.event(event_type, middleware=[store_first])(stored)

    @app.event("subteam_members_changed")
    def handle_group_changed(body: dict[str, Any]) -> None:
        """A user group's members changed: admins by user group are re-read at once."""
        event = body.get("event") or {}
        if isinstance(event, dict) and event.get("subteam_id"):
            deps.chat.forget_members(str(event["subteam_id"]))

    @app.event("member_left_channel")
    def handle_member_left(body: dict[str, Any]) -> None:
        """Whoever left is no longer a channel member for permission checks, at once."""
        event = body.get("event") or {}
        if isinstance(event, dict) and event.get("channel"):
            deps.chat.forget_members(str(event["channel"]))
            _membership_changed(event)

    def _membership_changed(event: dict[str, Any]) -> None:
        """Their "open incidents" on the Home tab may have gained or lost one."""
        if deps.home is not None and event.get("user"):
            deps.home.changed([str(event["user"])])

    @app.event("member_joined_channel")
    @guarded(deps.chat)
    def handle_member_joined(body: dict[str, Any], context: BoltContext) -> None:
        """Someone joined: forget the cached members (permission checks). When it is the
        bot itself, added to an incident's channel, read what it missed."""
        event = body.get("event") or {}
        if isinstance(event, dict) and event.get("channel"):
            deps.chat.forget_members(str(event["channel"]))
            _membership_changed(event)
        if not isinstance(event, dict) or event.get("user") != context.bot_user_id:
            return
        with deps.uow() as tx:
            number = tx.incidents.number_for_channel(str(event.get("channel") or ""))
        if number is not None:
            result = backfill(number, uow=deps.uow, chat=deps.chat)
            log.info("backfilled incident %s: %s messages, %s changed", number, result.seen,
                     result.changed)
