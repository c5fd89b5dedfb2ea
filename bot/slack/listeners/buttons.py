"""Buttons and the status menu on the pinned summary card: the same commands as text."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.domain.commands import Ack as AckCommand
from bot.domain.commands import IncidentCommand, Resolve, Status
from bot.domain.incidents import normalise_status
from bot.errors import UserError
from bot.services.action_items import set_action_item_status
from bot.services.alerts import alert_to_declare, answer_alert, attach_choices, silence_alert
from bot.services.dispatch import Caller, run_incident_command
from bot.services.ports import Deps
from bot.slack.forms import on_home_tab, parse_action_value
from bot.slack.ids import Action
from bot.slack.listeners.slash import SlackPages
from bot.slack.messages import alert_answered_text, command_reply, item_marked_text
from bot.slack.replies import guarded


def _user(body: dict[str, Any]) -> str:
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, dict) else None
    if not user_id:
        raise UserError("Slack didn't say who clicked; please try again.")
    return str(user_id)


def _reply(respond: Respond, text: str) -> None:
    # replace_original=False: the card itself is updated through chat.update.
    respond(response_type="ephemeral", replace_original=False, text=text)


def register(app: App, deps: Deps) -> None:
    def _run(cmd: IncidentCommand, body: dict[str, Any]) -> str:
        """A button is the same command as its text: the same dispatcher runs it."""
        reply = command_reply(run_incident_command(cmd, Caller(_user(body)), deps=deps,
                                                   pages=SlackPages(deps)))
        assert reply is not None  # ack, resolve and status always answer
        return reply.text

    @app.action(Action.ACKNOWLEDGE.value)
    @guarded(deps.chat)
    def handle_acknowledge(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        number, _ = parse_action_value(body)
        _reply(respond, _run(AckCommand(ref=number), body))

    @app.action(Action.RESOLVE.value)
    @guarded(deps.chat)
    def handle_resolve(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        number, _ = parse_action_value(body)
        _reply(respond, _run(Resolve(ref=number), body))

    @app.action(Action.SET_STATUS.value)
    @guarded(deps.chat)
    def handle_set_status(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        number, status = parse_action_value(body)
        status = normalise_status(status or "", deps.config.statuses)
        _reply(respond, _run(Status(status=status, ref=number), body))

    def _item_button(status: str) -> Any:
        def handle(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
            ack()
            item_id, _ = parse_action_value(body, "action item")
            item = set_action_item_status(item_id, status, _user(body), uow=deps.uow,
                                          chat=deps.chat, now=deps.now(),
                                          policy=deps.config.permissions, config=deps.config)
            if on_home_tab(body):  # no response_url there: the tab itself shows the change
                if deps.home is not None:  # they are using their tab: keep it fresh
                    deps.home.opened(_user(body))
                return
            _reply(respond, item_marked_text(item))
        return handle

    def _alert_button(action: str) -> Any:
        def handle(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
            ack()
            group_id, _ = parse_action_value(body, "alert")
            if action == "silenced":
                answered = silence_alert(group_id, _user(body), deps)
            else:
                answered = answer_alert(group_id, action, _user(body), deps)
            _reply(respond, alert_answered_text(answered))
        return handle

    app.action(Action.ALERT_ACK.value)(guarded(deps.chat)(_alert_button("acknowledged")))
    app.action(Action.ALERT_RESOLVE.value)(guarded(deps.chat)(_alert_button("resolved")))
    app.action(Action.ALERT_SILENCE.value)(guarded(deps.chat)(_alert_button("silenced")))

    @app.action(Action.ALERT_DECLARE.value)
    @guarded(deps.chat)
    def handle_alert_declare(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        """The declare form, prefilled from the alert (title, severity from its labels)."""
        ack()
        group_id, _ = parse_action_value(body, "alert")
        group, severity = alert_to_declare(group_id, deps)
        channel = body.get("channel") or {}
        channel_id = channel.get("id") if isinstance(channel, dict) else None
        deps.chat.open_alert_declare_form(str(body.get("trigger_id") or ""), group, severity,
                                          channel_id if channel_id and not
                                          str(channel_id).startswith("D") else None)

    @app.action(Action.ALERT_ATTACH.value)
    @guarded(deps.chat)
    def handle_alert_attach(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        """A select of the open incidents the clicker may see, in a modal of their own."""
        ack()
        group_id, _ = parse_action_value(body, "alert")
        group, incidents = attach_choices(group_id, _user(body), deps)
        deps.chat.open_attach_form(str(body.get("trigger_id") or ""), group, incidents)

    app.action(Action.ITEM_DONE.value)(guarded(deps.chat)(_item_button("done")))
    app.action(Action.ITEM_REOPEN.value)(guarded(deps.chat)(_item_button("open")))
