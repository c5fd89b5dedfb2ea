"""Search past incidents (`/incident search`, `debrief search`): the database ranks
(storage/search.py), this keeps only what the asker may see and what counts."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.incidents import Incident
from bot.domain.search import SearchQuery
from bot.services.incidents import visible_to
from bot.services.ports import Chat, UnitOfWorkFactory

MAX_RESULTS = 100  # ranked matches read per search; a page shows fewer


@dataclass(frozen=True)
class Found:
    """The incidents matching `query`, best first (at most MAX_RESULTS)."""
    query: SearchQuery
    incidents: list[Incident]


def search_incidents(query: SearchQuery, *, uow: UnitOfWorkFactory, user_id: str | None = None,
                     chat: Chat | None = None, include_all: bool = False) -> Found:
    """Matches of `query`. With a `user_id` (Slack), private incidents only for their
    channel's members; cancelled and test incidents left out unless `include_all`."""
    with uow() as tx:
        numbers = tx.search.search(query, limit=MAX_RESULTS * 2)
        by_number = {i.number: i for i in tx.incidents.list(numbers=numbers)}
    found = [by_number[n] for n in numbers if n in by_number]
    if not include_all:
        found = [i for i in found if i.counts]
    if user_id is not None and chat is not None:
        found = visible_to(found, user_id, chat)
    return Found(query, found[:MAX_RESULTS])
