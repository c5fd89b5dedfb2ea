"""The declare and edit modals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from slack_bolt import Ack, App

from bot.config import DebriefConfig
from bot.errors import UserError
from bot.services.alerts import (
    attach_alert,
    claim_alert_declaration,
    link_alert,
    release_alert_declaration,
)
from bot.services.incidents import DeclareRequest, declare_incident, edit_incident
from bot.services.ports import Deps
from bot.services.related import suggest_related
from bot.slack.forms import DeclareForm, EditForm, parse_declare_form, parse_edit_form
from bot.slack.ids import Block, Callback, Field
from bot.slack.messages import alert_attached_text, alert_timeline_text, outcome_text
from bot.slack.replies import guarded
from bot.slack.text import error_text

F = TypeVar("F", DeclareForm, EditForm)


def _submission(ack: Ack, body: dict[str, Any], config: DebriefConfig,
                parse: Callable[[dict[str, Any], DebriefConfig], F | dict[str, str]],
                ) -> tuple[F, str] | None:
    """The submitted form and who sent it; else the modal is acked with its errors (shown
    next to the fields, the modal stays open) and None is returned."""
    form = parse(body.get("view") or {}, config)
    user = body.get("user")
    user_id = str(user.get("id") or "") if isinstance(user, dict) else ""
    if isinstance(form, dict):
        ack(response_action="errors", errors=form)
        return None
    if not user_id:
        ack(response_action="errors", errors={"declare-title": "Slack didn't say who you are."})
        return None
    return form, user_id


def register(app: App, deps: Deps) -> None:
    def _declare(ack: Ack, body: dict[str, Any], alert_group: int | None = None) -> None:
        submitted = _submission(ack, body, deps.config, parse_declare_form)
        if submitted is None:
            return
        form, user_id = submitted
        if alert_group is not None:
            refused = claim_alert_declaration(alert_group, deps)
            if refused:  # someone declared from it since the form opened (or is now)
                ack(response_action="errors", errors={"declare-title": refused})
                return
        ack()
        try:
            outcome = declare_incident(
                DeclareRequest(title=form.title, severity=form.severity, declared_by=user_id,
                               description=form.description, commander=form.commander,
                               private=form.private, test=form.test, tags=form.tags),
                uow=deps.uow, chat=deps.chat, config=deps.config, now=deps.now(),
            )
        except Exception:
            if alert_group is not None:  # nothing declared: the next submission may
                release_alert_declaration(alert_group, deps)
            raise
        if alert_group is not None and outcome.incident.number:
            with deps.uow() as tx:
                group = tx.alerts.get(alert_group)
            if group is not None:
                link_alert(alert_group, outcome.incident.number, user_id,
                           alert_timeline_text(group), deps)
        # A modal has no response_url: tell the declarer privately where they were, or
        # else in the new channel (they were just invited there), or else (a DM the bot
        # is not in, and no channel made) in the app's DM: the message may carry the
        # incident number and the retry command, which must not be lost.
        for target in dict.fromkeys([form.channel_id, outcome.incident.channel_id]):
            if target and deps.chat.post_ephemeral(target, user_id, outcome_text(outcome)):
                break
        else:
            deps.chat.send_direct(user_id, outcome_text(outcome))
        # Once the declarer has their answer: related past incidents, in the channel.
        suggest_related(outcome.incident, uow=deps.uow, chat=deps.chat)

    @app.view(Callback.DECLARE.value)
    @guarded(deps.chat)
    def handle_declare_submission(ack: Ack, body: dict[str, Any]) -> None:
        _declare(ack, body)

    @app.view(Callback.DECLARE_ALERT.value)
    @guarded(deps.chat)
    def handle_alert_declare_submission(ack: Ack, body: dict[str, Any]) -> None:
        """The declare form opened from an alert: declared as usual, then the alert group
        is linked and becomes the timeline's first entry."""
        view = dict(body.get("view") or {})
        group_text, _, channel = str(view.get("private_metadata") or "").partition(":")
        view["private_metadata"] = channel
        _declare(ack, {**body, "view": view},
                 int(group_text) if group_text.isdigit() else None)

    @app.view(Callback.ATTACH_ALERT.value)
    @guarded(deps.chat)
    def handle_attach_submission(ack: Ack, body: dict[str, Any]) -> None:
        """"Attach to incident" submitted: checked again (open, visible to them), then
        attached; the reply reaches them privately where they clicked, else by DM."""
        view = body.get("view") or {}
        group_text, _, channel = str(view.get("private_metadata") or "").partition(":")
        state = ((view.get("state") or {}).get("values") or {})
        chosen = ((state.get(Block.ATTACH_INCIDENT.value) or {})
                  .get(Field.ATTACH_INCIDENT.value) or {}).get("selected_option") or {}
        number = str(chosen.get("value") or "")
        user = body.get("user")
        user_id = str(user.get("id") or "") if isinstance(user, dict) else ""
        if not (group_text.isdigit() and number.isdigit() and user_id):
            ack(response_action="errors",
                errors={Block.ATTACH_INCIDENT.value: "Choose an incident."})
            return
        ack()
        try:
            said = alert_attached_text(attach_alert(int(group_text), int(number), user_id,
                                                    deps))
        except UserError as exc:
            said = error_text(exc)
        if not (channel and deps.chat.post_ephemeral(channel, user_id, said)):
            deps.chat.send_direct(user_id, said)

    @app.view(Callback.EDIT.value)
    @guarded(deps.chat)
    def handle_edit_submission(ack: Ack, body: dict[str, Any]) -> None:
        """The edit modal: checked like the command (who may edit), then one correction
        event; the reply (or a refusal) reaches the person by DM, as a modal has no
        response_url."""
        submitted = _submission(ack, body, deps.config, parse_edit_form)
        if submitted is None:
            return
        form, user_id = submitted
        ack()
        outcome = edit_incident(form.number, form.changes, user_id, deps=deps)
        said = outcome_text(outcome)
        channel = outcome.incident.channel_id
        if not (channel and deps.chat.post_ephemeral(channel, user_id, said)):
            deps.chat.send_direct(user_id, said)
