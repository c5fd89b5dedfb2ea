"""The buttons on a nudge (bot/services/nudges.py): "Post update" (a modal whose
submission is `/incident update`), "I'll be commander", and Snooze."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.domain.commands import Update
from bot.services.dispatch import Caller, run_incident_command
from bot.services.nudges import snooze_nudge, take_command
from bot.services.ports import Deps
from bot.slack.forms import parse_action_value, parse_update_form
from bot.slack.ids import Action, Callback
from bot.slack.listeners.buttons import _reply, _user
from bot.slack.listeners.slash import SlackPages
from bot.slack.messages import command_reply, nudge_snoozed_text, nudge_taken_text, outcome_text
from bot.slack.replies import guarded


def _channel(body: dict[str, Any]) -> str | None:
    channel = body.get("channel")
    found = channel.get("id") if isinstance(channel, dict) else None
    return str(found) if found else None


def register(app: App, deps: Deps) -> None:
    @app.action(Action.NUDGE_UPDATE.value)
    @guarded(deps.chat)
    def handle_post_update(ack: Ack, body: dict[str, Any]) -> None:
        """The update modal; who may post is checked when it is submitted."""
        ack()
        number, _ = parse_action_value(body)
        deps.chat.open_update_form(str(body.get("trigger_id") or ""), number, _channel(body))

    @app.view(Callback.NUDGE_UPDATE.value)
    @guarded(deps.chat)
    def handle_update_submission(ack: Ack, body: dict[str, Any]) -> None:
        """The same as `/incident update #N <text>`: checked, recorded, posted in the
        channel and the announcement's thread; the writer is answered privately."""
        form = parse_update_form(body.get("view") or {})
        if isinstance(form, dict):
            ack(response_action="errors", errors=form)
            return
        ack()
        user_id = _user(body)
        number, channel, text = form
        reply = command_reply(run_incident_command(Update(text=text, ref=number),
                                                   Caller(user_id, channel), deps=deps,
                                                   pages=SlackPages(deps)))
        said = reply.text if reply else ""
        if said and not (channel and deps.chat.post_ephemeral(channel, user_id, said)):
            deps.chat.send_direct(user_id, said)

    @app.action(Action.NUDGE_COMMAND.value)
    @guarded(deps.chat)
    def handle_take_command(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        number, _ = parse_action_value(body)
        user = _user(body)
        outcome = take_command(number, user, deps=deps)
        # The prompt becomes who took the role (its buttons gone), as a snooze does;
        # the taker also hears what changed.
        respond(replace_original=True, text=nudge_taken_text(number, user))
        _reply(respond, outcome_text(outcome))

    @app.action(Action.NUDGE_SNOOZE.value)
    @guarded(deps.chat)
    def handle_snooze(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        """Recorded; the nudge's message says who snoozed it until when (its buttons go)."""
        ack()
        number, kind = parse_action_value(body)
        snoozed = snooze_nudge(number, kind or "", _user(body), deps=deps)
        respond(replace_original=True, text=nudge_snoozed_text(snoozed))
