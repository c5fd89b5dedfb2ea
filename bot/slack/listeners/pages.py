"""Lists shown a page at a time (open incidents, action items, the timeline) and the
Previous / Next / More buttons that turn the pages.

Slack takes at most 5 responses on one response_url and 50 blocks in a message, so a
long list is never sent as many messages to the command's response_url: the command
shows the first page, and each page button answers through its own click's
response_url (lists replace the page in place; the timeline adds the next page below)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.domain.search import SearchQuery, parse_search
from bot.errors import UserError
from bot.services.dispatch import list_open
from bot.services.incidents import find_number
from bot.services.ports import Deps
from bot.services.search import search_incidents
from bot.services.timeline import timeline_of
from bot.slack.blocks import (
    Blocks,
    build_action_items,
    build_incident_list,
    build_search_results,
    build_timeline_page,
)
from bot.slack.forms import parse_page_value
from bot.slack.ids import Action
from bot.slack.replies import guarded

Page = tuple[str, Blocks]


def incidents_page(deps: Deps, user_id: str, page: int = 1) -> Page:
    return build_incident_list(list_open(deps, user_id), page)


def search_page(deps: Deps, query: SearchQuery, user_id: str, page: int = 1) -> Page:
    return build_search_results(search_incidents(query, uow=deps.uow, user_id=user_id,
                                                 chat=deps.chat), page)


def items_page(deps: Deps, number: int, page: int = 1) -> Page:
    with deps.uow() as tx:
        items = tx.action_items.for_incident(number)
    return build_action_items(items, f"Action items of #{number}", page, ("items", str(number)))


def my_items_page(deps: Deps, user_id: str, page: int = 1) -> Page:
    with deps.uow() as tx:
        items = tx.action_items.open_items(owner=user_id)
    return build_action_items(items, "Your open action items", page, ("mine", ""))


def timeline_page(deps: Deps, number: int, page: int = 1) -> Page:
    incident, items = timeline_of(number, deps.uow)
    return build_timeline_page(incident, items, page)


def register(app: App, deps: Deps) -> None:
    def handle_page(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        kind, ref, page = parse_page_value(body)
        user = body.get("user")
        user_id = str(user.get("id") or "") if isinstance(user, dict) else ""
        if not user_id:
            raise UserError("Slack didn't say who clicked; please try again.")
        if kind in ("timeline", "items"):  # the incident must (still) exist
            number = find_number(deps.uow, ref=int(ref), channel_id=None,
                                 usage="/incident help")
        if kind == "timeline":
            text, blocks = timeline_page(deps, number, page)
        elif kind == "items":
            text, blocks = items_page(deps, number, page)
        elif kind == "mine":  # always the clicker's own items
            text, blocks = my_items_page(deps, user_id, page)
        elif kind == "search":  # searched again as the clicker: only what they may see
            query = parse_search(ref, deps.config.severity_names)
            text, blocks = search_page(deps, query, user_id, page)
        else:
            text, blocks = incidents_page(deps, user_id, page)
        respond(response_type="ephemeral", replace_original=kind != "timeline", text=text,
                blocks=blocks)

    app.action(Action.PAGE_BACK.value)(guarded(deps.chat)(handle_page))
    app.action(Action.PAGE_NEXT.value)(guarded(deps.chat)(handle_page))
