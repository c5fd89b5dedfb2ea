"""The "Write postmortem" button on the draft message and the modal it opens; the "Add
contributing factor" button, its modal and the factor list's Remove buttons; an edited
postmortem uploaded to the incident channel (`file_shared`); a reviewer's Approve /
Request changes buttons (in their DM) and the comment modal."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.domain.permissions import Refused
from bot.domain.reviews import ReviewKind
from bot.errors import ChatError, UserError
from bot.services.factors import add_factor, list_factors, open_factor_form, remove_factor
from bot.services.ports import Deps
from bot.services.postmortems import open_section_form, write_sections
from bot.services.reviews import decide_review
from bot.services.uploads import upload_postmortem
from bot.slack.blocks import build_factor_list
from bot.slack.forms import (
    parse_action_value,
    parse_changes_form,
    parse_factor_form,
    parse_sections_form,
)
from bot.slack.ids import Action, Callback
from bot.slack.listeners.buttons import _reply, _user
from bot.slack.messages import (
    factor_added_text,
    factor_removed_text,
    refusal_text,
    review_decided_text,
    sections_saved_text,
    upload_failed_text,
    upload_reply_text,
    upload_summary_text,
)
from bot.slack.replies import guarded
from bot.slack.text import error_text

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    @app.action(Action.POSTMORTEM_WRITE.value)
    @guarded(deps.chat)
    def handle_write_button(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        """Open the modal on the message clicked, so saving updates that message."""
        ack()
        number, _ = parse_action_value(body)
        found, where = body.get("container"), body.get("channel")
        container: dict[str, Any] = found if isinstance(found, dict) else {}
        channel: dict[str, Any] = where if isinstance(where, dict) else {}
        open_section_form(number, _user(body), str(body.get("trigger_id") or ""),
                          str(channel.get("id") or container.get("channel_id") or "") or None,
                          deps=deps, message_ts=str(container.get("message_ts") or "") or None)

    @app.view(Callback.POSTMORTEM_WRITE.value)
    @guarded(deps.chat)
    def handle_sections_submission(ack: Ack, body: dict[str, Any]) -> None:
        """Too-long text is refused in the modal (it stays open); otherwise the sections
        are stored, the draft re-rendered and its message updated, and the writer told
        privately what changed and what the blameless check found in their words."""
        form = parse_sections_form(body.get("view") or {})
        if isinstance(form, dict):
            ack(response_action="errors", errors=form)
            return
        ack()
        user_id = _user(body)
        saved = write_sections(form.number, form.texts, user_id, uow=deps.uow,
                               chat=deps.chat, config=deps.config, now=deps.now(),
                               message_ts=form.message_ts)
        said = sections_saved_text(saved)
        if not (form.channel_id and deps.chat.post_ephemeral(form.channel_id, user_id, said)):
            deps.chat.send_direct(user_id, said)

    @app.action(Action.FACTOR_ADD.value)
    @guarded(deps.chat)
    def handle_factor_button(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        """Open the factor modal; clicked on a draft message, adding updates that one."""
        ack()
        number, _ = parse_action_value(body)
        found, where = body.get("container"), body.get("channel")
        container: dict[str, Any] = found if isinstance(found, dict) else {}
        channel: dict[str, Any] = where if isinstance(where, dict) else {}
        on_draft = not container.get("is_ephemeral")  # the factor list is ephemeral
        open_factor_form(number, _user(body), str(body.get("trigger_id") or ""),
                         str(channel.get("id") or container.get("channel_id") or "") or None,
                         deps=deps, message_ts=str(container.get("message_ts") or "") or None
                         if on_draft else None)

    @app.view(Callback.FACTOR_ADD.value)
    @guarded(deps.chat)
    def handle_factor_submission(ack: Ack, body: dict[str, Any]) -> None:
        """A missing category or an empty, over-long or link-like description is refused
        in the modal (it stays open); otherwise the factor is stored, the draft updated,
        and the writer told privately, with the checker's suggestions on their words."""
        form = parse_factor_form(body.get("view") or {}, deps.config.postmortem.factor_categories)
        if isinstance(form, dict):
            ack(response_action="errors", errors=form)
            return
        ack()
        user_id = _user(body)
        added = add_factor(form.number, user_id, form.category, form.description,
                           uow=deps.uow, chat=deps.chat, config=deps.config, now=deps.now(),
                           timeline=form.timeline, action_items=form.action_items,
                           message_ts=form.message_ts)
        said = factor_added_text(added)
        if not (form.channel_id and deps.chat.post_ephemeral(form.channel_id, user_id, said)):
            deps.chat.send_direct(user_id, said)

    @app.action(Action.FACTOR_REMOVE.value)
    @guarded(deps.chat)
    def handle_factor_remove(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        """Remove (recorded, kept), then show the list again in place of the old one."""
        ack()
        number, extra = parse_action_value(body)
        if not (extra or "").isdigit() or len(extra or "") > 9:
            _reply(respond, "That button didn't say which factor it is for.")
            return
        removed = remove_factor(number, _user(body), int(extra or 0), uow=deps.uow,
                                chat=deps.chat, config=deps.config, now=deps.now())
        text, blocks = build_factor_list(list_factors(number, uow=deps.uow, config=deps.config))
        respond(response_type="ephemeral", replace_original=True, text=text, blocks=blocks)
        _reply(respond, factor_removed_text(removed))
    def tell(channel: str, user: str, text: str) -> None:
        """Privately, in the channel (a direct message when that fails)."""
        if not deps.chat.post_ephemeral(channel, user, text):
            deps.chat.send_direct(user, text)

    @app.event("file_shared")
    @guarded(deps.chat)
    def handle_file_shared(body: dict[str, Any], context: BoltContext) -> None:
        """A file shared in an incident channel: an edited postmortem is read back. Bolt
        has acknowledged the event already; the download happens after. The channel
        hears what changed; the uploader alone hears the rest (refusals included)."""
        event = body.get("event")
        if not isinstance(event, dict):
            return
        channel = str(event.get("channel_id") or "")
        user = str(event.get("user_id") or "")
        found = event.get("file")
        file_id = str(event.get("file_id") or (found.get("id") if isinstance(found, dict)
                                               else "") or "")
        if not (channel and user and file_id):
            return
        try:
            uploaded = upload_postmortem(channel, file_id, user, deps=deps,
                                         bot_user=context.bot_user_id)
        except Refused as exc:
            tell(channel, user, refusal_text(exc))
            return
        except UserError as exc:
            tell(channel, user, error_text(exc))
            return
        except ChatError as exc:
            log.warning("could not read the file shared in %s: %s", channel, exc.code)
            tell(channel, user, upload_failed_text(exc))
            return
        if uploaded is None:
            return
        summary = upload_summary_text(uploaded)
        if summary is not None:
            deps.chat.post_in_channel(channel, summary)
        tell(channel, user, upload_reply_text(uploaded))

    @app.action(Action.POSTMORTEM_APPROVE.value)
    @guarded(deps.chat)
    def handle_approve(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        """Only a requested reviewer's click counts (bot/domain/reviews.py)."""
        ack()
        number, _ = parse_action_value(body)
        decided = decide_review(number, _user(body), ReviewKind.APPROVED, uow=deps.uow,
                                chat=deps.chat, config=deps.config, now=deps.now())
        _reply(respond, review_decided_text(decided))

    @app.action(Action.POSTMORTEM_CHANGES.value)
    @guarded(deps.chat)
    def handle_request_changes(ack: Ack, body: dict[str, Any]) -> None:
        """The comment modal; who may is checked when it is sent."""
        ack()
        number, _ = parse_action_value(body)
        deps.chat.open_changes_form(str(body.get("trigger_id") or ""), number)

    @app.view(Callback.POSTMORTEM_CHANGES.value)
    @guarded(deps.chat)
    def handle_changes_submission(ack: Ack, body: dict[str, Any]) -> None:
        """Recorded with the comment, the channel told; the reviewer hears back by DM
        (a view submission has no response_url)."""
        form = parse_changes_form(body.get("view") or {})
        if isinstance(form, dict):
            ack(response_action="errors", errors=form)
            return
        ack()
        user_id = _user(body)
        number, comment = form
        decided = decide_review(number, user_id, ReviewKind.CHANGES_REQUESTED, uow=deps.uow,
                                chat=deps.chat, config=deps.config, now=deps.now(),
                                comment=comment)
        deps.chat.send_direct(user_id, review_decided_text(decided))
