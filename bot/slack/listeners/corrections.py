"""Corrections from Slack surfaces: the "Rephrase" button under a note the blameless
checker flagged, and the form it opens (submitting it edits the note)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.domain.blameless import lint_text
from bot.errors import UserError
from bot.services.corrections import change_entry, note_to_rephrase
from bot.services.ports import Deps
from bot.slack.ids import Action, Block, Callback, Field
from bot.slack.messages import entry_changed_text, findings_text
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
        text, findings = note_to_rephrase(number, entry_id, user, uow=deps.uow)
        deps.chat.open_rephrase_form(str(body.get("trigger_id") or ""), number, entry_id,
                                     channel, text, [f"{f.message} {f.suggestion}"
                                                     for f in findings])

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
                               uow=deps.uow, now=deps.now())
        said = entry_changed_text(changed.number, changed.entry_id, changed.change) \
            + findings_text(lint_text(text), text)
        if not (channel and deps.chat.post_ephemeral(channel, user, said)):
            deps.chat.send_direct(user, said)
