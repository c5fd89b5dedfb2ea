"""The Home tab: published when a person opens it (`app_home_opened`), and its own
buttons, "Declare an incident" and "Ask for cover". Its Done and Change due buttons are
the action items' own handlers (buttons.py, corrections.py)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App

from bot.errors import UserError
from bot.services.ports import Deps
from bot.slack.ids import Action
from bot.slack.listeners.oncall import ask_for_cover, cover_channel
from bot.slack.replies import guarded


def _user(body: dict[str, Any]) -> str:
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, dict) else None
    if not user_id:
        raise UserError("Slack didn't say who clicked; please try again.")
    return str(user_id)


def register(app: App, deps: Deps) -> None:
    @app.event("app_home_opened")
    @guarded(deps.chat)
    def handle_home_opened(body: dict[str, Any]) -> None:
        """Bolt acks the event when this returns; the tab is built on the worker. The
        Messages tab sends the same event (tab "messages"): nothing to publish there."""
        event = body.get("event")
        if not isinstance(event, dict) or event.get("tab") != "home" or deps.home is None:
            return
        user = str(event.get("user") or "")
        if user:
            deps.home.opened(user)

    @app.action(Action.HOME_DECLARE.value)
    @guarded(deps.chat)
    def handle_declare(ack: Ack, body: dict[str, Any]) -> None:
        """The declare modal, as `/incident declare` without a title opens it."""
        ack()
        deps.chat.open_declare_form(str(body.get("trigger_id") or ""), None)

    @app.action(Action.HOME_COVER.value)
    @guarded(deps.chat)
    def handle_cover(ack: Ack, body: dict[str, Any]) -> None:
        """Ask the schedule's channel for cover of one of the clicker's turns, as
        `/oncall cover` does; the answer comes by direct message (no response_url)."""
        ack()
        user = _user(body)
        try:
            raw = json.loads(str((body.get("actions") or [{}])[0].get("value") or ""))
            name = str(raw["schedule"])
            start = datetime.fromisoformat(raw["start"])
            end = datetime.fromisoformat(raw["end"])
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            raise UserError("That cover button is malformed.") from exc
        if start.tzinfo is None or end.tzinfo is None or end <= start:
            raise UserError("That cover button is malformed.")
        said = ask_for_cover(deps, user, name, cover_channel(deps, name), start, end,
                             deps.now())
        deps.chat.send_direct(user, said)
