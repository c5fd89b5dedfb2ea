"""What one person's Home tab shows, as plain values: their on-call turns, the open
alert groups that paged them, the open incidents they are part of, their open action
items, the postmortems waiting on them, and everyone's open incidents by severity.
Pure: the service (bot/services/home.py) reads the data and picks what concerns the
person; bot/slack/home.py draws it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, TypeVar

from bot.domain.action_items import ActionItem
from bot.domain.alerts import AlertGroup
from bot.domain.incidents import EventKind, Incident

T = TypeVar("T")

# How many of each list the Home tab shows; the rest is counted and named by command.
MAX_SHIFTS = 5
MAX_MINE = 10
MAX_ITEMS = 10
MAX_POSTMORTEMS = 10
MAX_OPEN = 30
MAX_ALERTS = 5


@dataclass(frozen=True)
class Turn:
    """One of the person's on-call turns on `schedule` (`can_ask_cover`: the schedule has
    a channel to ask in)."""

    schedule: str
    start: datetime
    end: datetime
    can_ask_cover: bool = False


@dataclass(frozen=True)
class Owed:
    """A postmortem waiting on the person: theirs to write (`kind` "write": they command a
    resolved incident whose postmortem is not published) or to review ("review")."""

    incident: Incident
    kind: str  # "write" | "review"
    status: str  # the postmortem's status, or "not drafted"


@dataclass(frozen=True)
class Shown(Generic[T]):
    """The first few of a list, and how many there are in all."""

    items: tuple[T, ...] = ()
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def first(found: list[T], limit: int) -> Shown[T]:
    return Shown(tuple(found[:limit]), len(found))


@dataclass(frozen=True)
class Home:
    """One person's Home tab. `on_call_now`: the schedules they are on call for now,
    each with when that turn ends (None: beyond the look-ahead)."""

    user: str
    today: date  # in the person's own zone: what is overdue
    on_call_now: tuple[tuple[str, datetime | None], ...] = ()
    next_turns: Shown[Turn] = field(default_factory=Shown)
    mine: Shown[Incident] = field(default_factory=Shown)
    items: Shown[ActionItem] = field(default_factory=Shown)
    postmortems: Shown[Owed] = field(default_factory=Shown)
    open_by_severity: tuple[tuple[str, Shown[Incident]], ...] = ()
    open_total: int = 0
    has_schedules: bool = False
    alerts: Shown[AlertGroup] = field(default_factory=Shown)  # open groups that paged them


def paged(group: AlertGroup, user: str) -> bool:
    """Whether an alert group concerns `user`: escalation reached them (a DM), or they
    acknowledged it. Resolved groups concern nobody any more."""
    return group.is_open and (user in group.notified or group.acknowledged_by == user)


def by_severity(incidents: list[Incident], severities: tuple[str, ...],
                limit: int = MAX_OPEN) -> tuple[tuple[str, Shown[Incident]], ...]:
    """Open incidents grouped by severity, most severe first (unknown severities last),
    newest first within a group; at most `limit` shown in all, the rest counted."""
    rank = {name: i for i, name in enumerate(severities)}
    ordered = sorted(incidents, key=lambda i: (rank.get(i.severity, len(rank)), -i.number))
    groups: dict[str, list[Incident]] = {}
    for incident in ordered:
        groups.setdefault(incident.severity, []).append(incident)
    budget = limit
    result: list[tuple[str, Shown[Incident]]] = []
    for severity, members in groups.items():
        shown = members[:max(budget, 0)]
        budget -= len(shown)
        result.append((severity, Shown(tuple(shown), len(members))))
    return tuple(result)


def takes_part(incident: Incident, user: str) -> bool:
    """Whether the incident's own record names `user`: declarer, a role, an action item
    owner or whoever on-call was invited (channel membership is asked of Slack)."""
    if user == incident.declared_by or user in incident.roles.values():
        return True
    if any(i.owner == user for i in incident.action_items if i.is_open):
        return True
    return any(e.detail.get("user") == user for e in incident.events
               if e.kind is EventKind.ONCALL)


def people_of(incident: Incident) -> frozenset[str]:
    """Whoever the incident's record names (see `takes_part`): whose Home tab a change to
    it concerns directly."""
    found = {incident.declared_by, *incident.roles.values()}
    found |= {i.owner for i in incident.action_items if i.owner}
    found |= {str(e.detail["user"]) for e in incident.events
              if e.kind is EventKind.ONCALL and e.detail.get("user")}
    return frozenset(u for u in found if u)
