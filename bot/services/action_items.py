"""Action item use cases."""

from __future__ import annotations

from datetime import datetime

from bot.config import DebriefConfig
from bot.domain.action_items import ActionItem, parse_action_item
from bot.domain.permissions import Act, Policy
from bot.errors import ChatError, UserError
from bot.services.permissions import Subject, authorize
from bot.services.ports import Chat, UnitOfWorkFactory
from bot.services.reviews import archive_if_ready, channel_archived
from bot.services.timeline import zone_of


def add_action_item(number: int, author: str, words: list[str], *, uow: UnitOfWorkFactory,
                    chat: Chat, config: DebriefConfig, now: datetime) -> ActionItem:
    """`due` is read relative to today in the author's own zone."""
    today = now.astimezone(zone_of(author, chat, config)).date()
    request = parse_action_item(words, today)
    with uow() as tx:
        item = tx.action_items.add(number, request, author, now)
        incident = tx.incidents.get(number)
        tx.commit()
    assert incident is not None
    try:
        chat.update_card(incident)
    except ChatError:
        pass  # the item is stored; the card catches up on the next change
    return item


def set_action_item_status(item_id: int, status: str, user: str, *, uow: UnitOfWorkFactory,
                           chat: Chat, now: datetime, policy: Policy,
                           config: DebriefConfig | None = None) -> ActionItem:
    """Done / Reopen: its owner, its creator, the commander or an admin (by default).
    With `config`, closing the last item that lacked an owner or a due date archives a
    published incident's channel (bot/services/reviews.py)."""
    with uow() as tx:
        item = tx.action_items.get(item_id)
        incident = tx.incidents.get(item.incident_number or 0) if item else None
    if item is None:
        raise UserError("That action item no longer exists.")
    authorize(Act.CLOSE_ACTION_ITEM, user, Subject(incident=incident, item=item),
              policy=policy, chat=chat)
    with uow() as tx:
        item = tx.action_items.get(item_id)
        if item is None:
            raise UserError("That action item no longer exists.")
        if item.status == status:
            return item
        item = tx.action_items.set_status(item_id, status, user, now)
        incident = tx.incidents.get(item.incident_number or 0)
        archived = incident is not None and channel_archived(tx, incident.number)
        tx.commit()
    if incident is not None and not archived:  # an archived channel stays archived
        try:
            chat.update_card(incident)
        except ChatError:
            pass
        if config is not None and status == "done":
            archive_if_ready(incident.number, user, uow=uow, chat=chat, config=config, now=now)
    return item
