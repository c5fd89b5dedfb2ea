"""Corrections from Slack surfaces: the "Rephrase" button under a note the blameless
checker flagged and the form it opens (submitting it edits the note); the "Edit or
remove an item…" menu under an action item list and its form."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.domain.blameless import lint_text
from bot.domain.corrections import ItemField
from bot.errors import UserError
from bot.services.corrections import (
    change_action_item,
    change_entry,
    hide_message,
    item_to_edit,
    note_to_rephrase,
)
from bot.services.ports import Deps
from bot.slack.forms import parse_action_value
from bot.slack.ids import Action, Block, Callback, Field
from bot.slack.messages import entry_changed_text, findings_text, item_changed_text
from bot.slack.replies import guarded


def _numbers(raw: str, parts: int) -> list[str]:
    found = raw.split(":", parts - 1)
    if len(found) != parts or not found[0].isdigit() or not found[1].isdigit():
        raise UserError("That Rephrase button is malformed.")
    return found


def register(app: App, deps: Deps) -> None:
    @app.action(Action.NOTE_REPHRASE.value)
    @guarded(deps.chat)
    def handle_rephrase(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        number, entry_id = (int(n) for n in _numbers(
            str((body.get("actions") or [{}])[0].get("value") or ""), 2))
        user = str((body.get("user") or {}).get("id") or "")
        channel = str((body.get("channel") or {}).get("id") or "")
        text, findings = note_to_rephrase(number, entry_id, user, uow=deps.uow, chat=deps.chat,
                                          policy=deps.config.permissions)
        deps.chat.open_rephrase_form(str(body.get("trigger_id") or ""), number, entry_id,
                                     channel, text, [f"{f.message} {f.suggestion}"
                                                     for f in findings])

    @app.action(Action.ITEM_EDIT.value)
    @guarded(deps.chat)
    def handle_item_menu(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        """`respond`: a refusal is answered privately where the menu is (see `guarded`)."""
        ack()
        selected = ((body.get("actions") or [{}])[0].get("selected_option") or {})
        raw = str(selected.get("value") or "")
        if not raw.isdigit():
            raise UserError("That menu didn't say which action item.")
        user = str((body.get("user") or {}).get("id") or "")
        channel = str((body.get("channel") or {}).get("id") or "")
        number, item = item_to_edit(int(raw), user, uow=deps.uow, chat=deps.chat,
                                    policy=deps.config.permissions)
        deps.chat.open_item_form(str(body.get("trigger_id") or ""), number, item, channel)

    @app.action(Action.ITEM_DUE.value)
    @guarded(deps.chat)
    def handle_change_due(ack: Ack, body: dict[str, Any]) -> None:
        """"Change due" on the Home tab: the same item form as the list's menu (the same
        check of who may change the item); its answer comes by direct message."""
        ack()
        item_id, _ = parse_action_value(body)
        user = str((body.get("user") or {}).get("id") or "")
        number, item = item_to_edit(item_id, user, uow=deps.uow, chat=deps.chat,
                                    policy=deps.config.permissions)
        deps.chat.open_item_form(str(body.get("trigger_id") or ""), number, item, "")

    @app.view(Callback.ITEM_EDIT.value)
    @guarded(deps.chat)
    def handle_item_form(ack: Ack, body: dict[str, Any]) -> None:
        view = body.get("view") or {}
        values = ((view.get("state") or {}).get("values") or {})

        def field(block: Block, name: Field) -> dict[str, Any]:
            found = (values.get(block.value) or {}).get(name.value) or {}
            return found if isinstance(found, dict) else {}

        text = " ".join(str(field(Block.ITEM_TEXT, Field.ITEM_TEXT).get("value") or "").split())
        if not text:
            ack(response_action="errors", errors={Block.ITEM_TEXT.value: "Say what needs doing."})
            return
        ack()
        number, item_id, channel = _numbers(str(view.get("private_metadata") or ""), 3)
        user = str((body.get("user") or {}).get("id") or "")
        _, item = item_to_edit(int(item_id), user, uow=deps.uow, chat=deps.chat,
                               policy=deps.config.permissions)
        removing = bool(field(Block.ITEM_REMOVE, Field.ITEM_REMOVE).get("selected_options"))
        wanted: list[tuple[ItemField, object]] = [("deleted", "")] if removing else [
            ("text", text),
            ("owner", field(Block.ITEM_OWNER, Field.ITEM_OWNER).get("selected_user")),
            ("due", field(Block.ITEM_DUE, Field.ITEM_DUE).get("selected_date")),
            ("type", (field(Block.ITEM_TYPE, Field.ITEM_TYPE).get("selected_option") or {})
             .get("value"))]
        current: dict[str, object] = {
            "text": item.text, "owner": item.owner, "type": item.type,
            "due": f"{item.due_on:%Y-%m-%d}" if item.due_on else None}
        said: list[str] = []
        for name, value in wanted:
            if name != "deleted" and (not value or value == current[name]):
                continue  # unchanged (clearing an owner or a due date is not offered)
            changed = change_action_item(int(number), int(item_id), name, str(value), user,
                                         uow=deps.uow, chat=deps.chat, config=deps.config,
                                         now=deps.now())
            said.append(item_changed_text(changed))
        reply = "\n".join(said) or f"Action item {item_id} is unchanged."
        if not (channel and deps.chat.post_ephemeral(channel, user, reply)):
            deps.chat.send_direct(user, reply)

    @app.shortcut(Callback.HIDE_MESSAGE.value)
    @guarded(deps.chat)
    def handle_hide_message(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        channel = str((body.get("channel") or {}).get("id") or "")
        ts = str((body.get("message") or {}).get("ts") or "")
        user = str((body.get("user") or {}).get("id") or "")
        changed = hide_message(channel, ts, user, uow=deps.uow, chat=deps.chat,
                               policy=deps.config.permissions, now=deps.now())
        respond(response_type="ephemeral",
                text=entry_changed_text(changed.number, changed.entry_id, changed.change))

    @app.view(Callback.REPHRASE.value)
    @guarded(deps.chat)
    def handle_rephrased(ack: Ack, body: dict[str, Any]) -> None:
        view = body.get("view") or {}
        values = ((view.get("state") or {}).get("values") or {})
        text = " ".join(str(((values.get(Block.NOTE_TEXT.value) or {})
                             .get(Field.NOTE_TEXT.value) or {}).get("value") or "").split())
        if not text:
            ack(response_action="errors", errors={Block.NOTE_TEXT.value: "Write the note."})
            return
        ack()
        number, entry_id, channel = _numbers(str(view.get("private_metadata") or ""), 3)
        user = str((body.get("user") or {}).get("id") or "")
        changed = change_entry(int(number), int(entry_id), user, "edited", text,
                               uow=deps.uow, chat=deps.chat,
                               policy=deps.config.permissions, now=deps.now())
        said = entry_changed_text(changed.number, changed.entry_id, changed.change) \
            + findings_text(lint_text(text), text)
        if not (channel and deps.chat.post_ephemeral(channel, user, said)):
            deps.chat.send_direct(user, said)
