"""Checking the permission policy (`bot.domain.permissions`) against who people are in
Slack: the facts `may` asks for (channel membership, user groups) come through the
`Chat` port, which caches them briefly. A refusal is logged and raised as `Refused`,
before anything changes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from bot.domain.action_items import ActionItem
from bot.domain.incidents import Incident
from bot.domain.permissions import Act, Admins, Decision, Named, Party, Policy, may
from bot.services.ports import Chat

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subject:
    """What the action is about; each field only where it applies."""

    incident: Incident | None = None
    item: ActionItem | None = None
    schedule_members: frozenset[str] = frozenset()  # Slack ids of the schedule's people
    for_user: str | None = None        # whose on-call turn an override gives
    requester: str | None = None       # who asked for cover
    entry_author: str | None = None    # who wrote the timeline entry being changed
    reviewers: tuple[str, ...] = ()    # the postmortem's requested reviewers


def is_admin(admins: Admins, user: str, chat: Chat) -> bool:
    if user in admins.users:
        return True
    return bool(admins.usergroup) and user in chat.usergroup_members(str(admins.usergroup))


def in_channel(incident: Incident, user: str, chat: Chat) -> bool:
    """In the incident's channel; before it has one, the people it names (declarer, roles)."""
    if incident.channel_id is None:
        return user == incident.declared_by or user in incident.roles.values()
    return user in chat.channel_members(incident.channel_id)


def _holds(party: Party, user: str, subject: Subject, policy: Policy, chat: Chat) -> bool:
    """Whether `user` is `party` for `subject` (asking Slack where it must)."""
    incident, item = subject.incident, subject.item
    match party:
        case Party.ANYONE:
            return True
        case Party.CHANNEL_MEMBERS:
            return incident is not None and in_channel(incident, user, chat)
        case Party.COMMANDER:
            if incident is None:
                return False
            if incident.commander is None:  # nobody leads it: whoever works it may
                return in_channel(incident, user, chat)
            return incident.commander == user
        case Party.INCIDENT_ADMINS:
            return is_admin(policy.incident_admins, user, chat)
        case Party.ONCALL_ADMINS:
            return is_admin(policy.oncall_admins, user, chat)
        case Party.REVIEWERS:
            return user in subject.reviewers
        case Party.ITEM_OWNER:
            return item is not None and item.owner == user
        case Party.ITEM_CREATOR:
            return item is not None and item.created_by == user
        case Party.ENTRY_AUTHOR:
            return subject.entry_author is not None and subject.entry_author == user
        case Party.SCHEDULE_MEMBERS_FOR_THEMSELVES:
            return subject.for_user == user and user in subject.schedule_members
        case Party.COVERER:
            return subject.requester is not None and subject.requester != user


def allows(act: Act, user: str, subject: Subject, *, policy: Policy, chat: Chat) -> bool:
    """Whether `user` may `act`, without refusing or logging: for offering a button only
    to the people it would work for."""
    return may(policy, act, partial(_holds, user=user, subject=subject, policy=policy,
                                    chat=chat)).allowed


def authorize(act: Act, user: str, subject: Subject, *, policy: Policy, chat: Chat) -> Decision:
    """Allowed, or `Refused` raised (and the attempt logged). Asks Slack only for what
    the rule needs, in the rule's order."""
    incident, item = subject.incident, subject.item
    holds = partial(_holds, user=user, subject=subject, policy=policy, chat=chat)
    decision = may(policy, act, holds)
    if not decision.allowed:
        where = f" on incident #{incident.number}" if incident else (
            f" on action item {item.id}" if item else "")
        log.warning("refused %s to %s%s (allowed: %s)", act.value, user, where,
                    ", ".join(p.value for p in decision.who))
    decision.check(user, named(decision.who, subject, policy))
    return decision


MAX_NAMED = 5  # people listed by name in a refusal; a longer admin list is just "admins"


def named(parties: tuple[Party, ...], subject: Subject, policy: Policy) -> dict[Party, Named]:
    """Who the parties of a refusal are, where one can say without asking Slack."""
    incident, item = subject.incident, subject.item
    found: dict[Party, Named] = {}
    for party in parties:
        match party:
            case Party.COMMANDER if incident is not None and incident.commander:
                found[party] = Named(users=(incident.commander,))
            case Party.ITEM_OWNER if item is not None and item.owner:
                found[party] = Named(users=(item.owner,))
            case Party.ITEM_CREATOR if item is not None:
                found[party] = Named(users=(item.created_by,))
            case Party.ENTRY_AUTHOR if subject.entry_author:
                found[party] = Named(users=(subject.entry_author,))
            case Party.REVIEWERS if 0 < len(subject.reviewers) <= MAX_NAMED:
                found[party] = Named(users=subject.reviewers)
            case Party.INCIDENT_ADMINS | Party.ONCALL_ADMINS:
                admins = (policy.incident_admins if party is Party.INCIDENT_ADMINS
                          else policy.oncall_admins)
                users = tuple(sorted(admins.users)) if len(admins.users) <= MAX_NAMED else ()
                if admins.usergroup or users:
                    found[party] = Named(users=users, group=admins.usergroup)
    return found
