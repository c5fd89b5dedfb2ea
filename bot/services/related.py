"""Related past incidents, suggested in a new incident's channel once it is set up, so
what the team learned then is in front of the next responder (the ranking is
bot/domain/related.py; the database finds the candidates, storage/search.py).

Runs after set-up, not inside the declare (which stays within its own statement
budget): the search, reading the candidates (3 statements: rows with roles, events,
action items) and their postmortems' links (1): 5 statements, then one post.

Which incidents may be suggested: never the new one, and never a cancelled or test
incident. **Never a private incident, in any channel**: a suggestion is a message in
the new incident's channel, read by whoever is in that channel now *or later* (people
are invited as the incident grows), so no check at posting time can promise that only
the private incident's members read its title. Public incidents are suggested in
private channels too (anyone may read them anyway)."""

from __future__ import annotations

import logging

from bot.domain.incidents import Incident
from bot.domain.postmortem import permalink
from bot.domain.related import MAX_RELATED, related_query, shared_tags
from bot.errors import ChatError
from bot.services.ports import Chat, RelatedIncident, UnitOfWorkFactory

log = logging.getLogger(__name__)
CANDIDATES = 4 * MAX_RELATED  # read beyond 3, as cancelled and test ones are left out after


def related_incidents(incident: Incident, *, uow: UnitOfWorkFactory,
                      chat: Chat) -> list[RelatedIncident]:
    """Up to 3 past incidents related to `incident`, most related first."""
    query = related_query(incident.number, incident.title, incident.tags)
    if query.empty:
        return []
    with uow() as tx:
        numbers = tx.search.related(query, limit=CANDIDATES)
        if not numbers:
            return []
        by_number = {i.number: i for i in tx.incidents.list(numbers=numbers)}
        chosen = [by_number[n] for n in numbers
                  if n in by_number and by_number[n].counts
                  and not by_number[n].private][:MAX_RELATED]
        posted = tx.postmortems.posted(i.number for i in chosen) if chosen else {}
    try:
        workspace = chat.workspace_url() if any(ts for _, ts in posted.values()) else None
    except ChatError:
        workspace = None
    related = []
    for past in chosen:
        status, ts = posted.get(past.number, (None, None))
        related.append(RelatedIncident(past, shared_tags(incident.tags, past.tags), status,
                                       permalink(workspace, past.channel_id, ts)))
    return related


def suggest_related(incident: Incident, *, uow: UnitOfWorkFactory,
                    chat: Chat) -> list[RelatedIncident]:
    """After a declare: post the related past incidents in the new channel (nothing when
    there are none, or no channel). Slack refusing it is logged: the incident stands."""
    if not incident.channel_id:
        return []
    related = related_incidents(incident, uow=uow, chat=chat)
    if related:
        try:
            chat.post_related(incident, related)
        except ChatError as exc:
            log.info("related incidents not suggested in #%s: %s", incident.number, exc.code)
    return related
