"""On-call use cases: apply schedules as code, answer who/next/shifts, overrides, iCal."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from bot.domain.permissions import Act, Policy
from bot.domain.rotations import (
    Answer,
    Override,
    Schedule,
    Shift,
    change_members,
    iter_shifts,
    moved_users,
    next_change,
    shifts,
    who,
)
from bot.domain.schedules import (
    EARLIEST,
    LATEST,
    ScheduleSpec,
    check_instant,
    parse_schedules,
    same_rotation,
)
from bot.errors import ChatError, Echo, UserError
from bot.services.permissions import Subject, allows, authorize
from bot.services.ports import Chat, OverrideNotice, TurnsMoved, UnitOfWorkFactory
from bot.yamlfile import read_yaml

log = logging.getLogger(__name__)


def load_schedule_file(path: Path) -> dict[str, ScheduleSpec]:
    """Read and validate a schedules file; bounded (see bot/yamlfile.py), so an alias
    bomb or a binary file is one clear line, not a hang or a traceback."""
    return parse_schedules(read_yaml(path), source=str(path))


@dataclass
class ApplyReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    not_in_file: list[str] = field(default_factory=list)
    moved: dict[str, set[str]] = field(default_factory=dict)  # schedule -> people told
    overrides_added: int = 0


def apply_schedules(specs: dict[str, ScheduleSpec], *, effective: datetime,
                    uow: UnitOfWorkFactory, now: datetime) -> ApplyReport:
    """Make the stored schedules match the file. A changed member list becomes a new
    roster era at the first handoff at or after `effective` (the past is never
    rewritten); a changed zone, unit, interval or first handoff redefines the layer."""
    check_instant(effective, "--effective")  # the same years a schedule may use
    report = ApplyReport()
    with uow() as tx:
        report.not_in_file = [n for n in tx.schedules.names() if n not in specs]
        for name, spec in specs.items():
            stored = tx.schedules.get(name, for_update=True)
            if stored is None:
                schedule = Schedule(name, spec.layers, (), spec.channel, spec.usergroup)
                report.created.append(name)
            else:
                layers = []
                moved: set[str] = set()
                old_by_name = {layer.name: layer for layer in stored.layers}
                for layer in spec.layers:
                    old = old_by_name.get(layer.name)
                    if old is None or not same_rotation(old, layer):
                        layers.append(layer)
                        continue
                    members = layer.eras[-1].members
                    current = old.eras[-1].members
                    kept = replace(old, priority=layer.priority,
                                   restrictions=layer.restrictions)
                    if members != current:
                        changed = change_members(kept, members, effective)
                        moved |= moved_users(kept, changed, effective)
                        kept = changed
                    layers.append(kept)
                schedule = Schedule(name, tuple(layers), stored.overrides, spec.channel,
                                    spec.usergroup)
                if schedule == stored:
                    report.unchanged.append(name)
                else:
                    report.updated.append(name)
                if moved:
                    report.moved[name] = moved
            tx.schedules.save(schedule, now)
            for override in spec.overrides:
                report.overrides_added += tx.schedules.add_override(
                    name, override.user, override.start, override.end, now=now,
                    spec_key=override.key)
        tx.commit()
    return report


def get_schedule(name: str, uow: UnitOfWorkFactory) -> Schedule:
    with uow() as tx:
        schedule = tx.schedules.get(name)
        known = tx.schedules.names()
    if schedule is None:
        more = f" and {len(known) - 20} more" if len(known) > 20 else ""
        hint: tuple[str | Echo, ...] = (
            (" Known: ", Echo(", ".join(known[:20])), f"{more}.") if known
            else (" Load schedules with `debrief oncall apply oncall.yaml`.",))
        raise UserError("There is no on-call schedule `", Echo(name[:50]), "`.", *hint)
    return schedule


@dataclass(frozen=True)
class WhoAnswer:
    schedule: str
    at: datetime
    answer: Answer
    next_change: datetime | None
    next_on_call: str | None

    def as_dict(self) -> dict[str, object]:
        def iso(t: datetime | None) -> str | None:
            return t.isoformat().replace("+00:00", "Z") if t else None

        return {"schedule": self.schedule, "at": iso(self.at), "on_call": self.answer.user,
                "source": self.answer.source, "next_change": iso(self.next_change),
                "next_on_call": self.next_on_call}


def who_is_on_call(name: str, at: datetime, uow: UnitOfWorkFactory) -> WhoAnswer:
    schedule = get_schedule(name, uow)
    found = next_change(schedule, at)
    return WhoAnswer(name, at, who(schedule, at), found[0] if found else None,
                     found[1].user if found else None)


def shifts_of(name: str, start: datetime, end: datetime, uow: UnitOfWorkFactory) -> list[Shift]:
    if end <= start:
        raise UserError("The end must be after the start.")
    if end - start > timedelta(days=3660):
        raise UserError("Ask for at most ten years of shifts at a time.")
    return shifts(get_schedule(name, uow), start, end)


def add_override(name: str, user: str, start: datetime, end: datetime, *, created_by: str | None,
                 uow: UnitOfWorkFactory, now: datetime, chat: Chat | None = None) -> Schedule:
    if end <= start:
        raise UserError("An override must end after it starts.")
    if end <= now:
        raise UserError("That override would be over already.")
    if start < EARLIEST or end > LATEST:  # the years schedules may use (see apply)
        raise UserError(f"An override must lie between {EARLIEST.year} and "
                        f"{LATEST.year - 1}.")
    before = get_schedule(name, uow)
    with uow() as tx:
        tx.schedules.add_override(name, user, start, end, now=now, created_by=created_by)
        tx.commit()
    if chat is not None:
        tell_touched(chat, before, Override(user, start, end), "created", created_by)
    return get_schedule(name, uow)


def schedule_members(schedule: Schedule, chat: Chat) -> frozenset[str]:
    """The Slack ids of the people a schedule rotates through now (each layer's current
    members; e-mails resolved through Slack)."""
    found: set[str] = set()
    for layer in schedule.layers:
        for member in (layer.eras[-1].members if layer.eras else ()):
            user = chat.resolve_user(member)
            if user:
                found.add(user)
    return frozenset(found)


def override_from_slack(name: str, user: str, start: datetime, end: datetime, *, actor: str,
                        policy: Policy, chat: Chat, uow: UnitOfWorkFactory,
                        now: datetime) -> Schedule:
    """`/oncall override`: people on the schedule for themselves, on-call admins for
    anyone (by default); `Refused` otherwise, before anything is saved."""
    schedule = get_schedule(name, uow)
    authorize(Act.ONCALL_OVERRIDE, actor, Subject(
        schedule_members=schedule_members(schedule, chat), for_user=user),
        policy=policy, chat=chat)
    return add_override(name, user, start, end, created_by=actor, uow=uow, now=now, chat=chat)


@dataclass(frozen=True)
class Cover:
    """A cover request's answer: who covers it, and whether this click made it so."""

    covered_by: str
    new: bool


def accept_cover(name: str, user: str, start: datetime, end: datetime, *, requester: str,
                 policy: Policy, chat: Chat, uow: UnitOfWorkFactory, now: datetime) -> Cover:
    """"I'll cover": anyone but the person who asked (by default) takes the span, once:
    the request's key makes a second click (or a second person's) change nothing."""
    authorize(Act.ACCEPT_COVER, user, Subject(requester=requester), policy=policy, chat=chat)
    key = f"cover:{requester}:{start.isoformat()}:{end.isoformat()}"
    before = get_schedule(name, uow)
    if end <= now:
        raise UserError("That time is already over.")
    with uow() as tx:
        added = tx.schedules.add_override(name, user, start, end, now=now, created_by=user,
                                          spec_key=key)
        tx.commit()
    if added:  # the people whose turns it covers are told (not the one who clicked)
        tell_touched(chat, before, Override(user, start, end), "created", user)
        return Cover(user, True)
    schedule = get_schedule(name, uow)
    earlier = [o for o in schedule.overrides if o.start == start and o.end == end]
    return Cover(min(earlier, key=lambda o: o.seq).user if earlier else user, False)


# --- removing and shortening overrides (h12b) ------------------------------------------

@dataclass(frozen=True)
class OverrideChanged:
    """Override `override` of `schedule` was removed or shortened (as it is now: for a
    removal, as it was); `told` are the people sent a direct message about it."""
    schedule: str
    override: Override
    change: Literal["removed", "shortened"]
    told: tuple[str, ...] = ()


def _find_override(override_id: int, uow: UnitOfWorkFactory) -> tuple[str, Override]:
    with uow() as tx:
        found = tx.schedules.override(override_id)
    if found is None:
        raise UserError(f"There is no override {override_id}: `/oncall overrides <schedule>` "
                        "lists them with their numbers.")
    return found


def check_may_change_override(schedule: Schedule, override: Override, user: str, *,
                              policy: Policy, chat: Chat) -> None:
    """Removing or shortening an override is making one: the person it puts on call, if
    they are on the schedule, or an on-call admin (by default); else `Refused`."""
    authorize(Act.ONCALL_OVERRIDE, user, Subject(
        schedule_members=schedule_members(schedule, chat),
        for_user=chat.resolve_user(override.user)), policy=policy, chat=chat)


def changeable_overrides(schedule: Schedule, overrides: list[Override], user: str, *,
                         policy: Policy, chat: Chat) -> set[int]:
    """The overrides (by number) `user` may remove or shorten: `/oncall overrides` offers
    Remove buttons only for those."""
    members = schedule_members(schedule, chat)
    return {o.seq for o in overrides if allows(
        Act.ONCALL_OVERRIDE, user, Subject(schedule_members=members,
                                           for_user=chat.resolve_user(o.user)),
        policy=policy, chat=chat)}


def remove_override(override_id: int, *, by: str | None, uow: UnitOfWorkFactory,
                    chat: Chat | None, now: datetime, policy: Policy | None) -> OverrideChanged:
    """Remove an override; whoever's turn it touched is told (`chat` None: the CLI
    without Slack, nobody is). From Slack, `policy` says who may (the CLI: None, not
    checked, like every CLI command)."""
    name, override = _find_override(override_id, uow)
    if policy is not None and chat is not None and by is not None:
        check_may_change_override(get_schedule(name, uow), override, by, policy=policy,
                                  chat=chat)
    with uow() as tx:
        tx.schedules.remove_override(override_id)
        tx.commit()
    told = tell_touched(chat, get_schedule(name, uow), override, "removed", by) if chat else []
    return OverrideChanged(name, override, "removed", tuple(told))


def shorten_override(override_id: int, end: datetime, *, by: str | None,
                     uow: UnitOfWorkFactory, chat: Chat | None,
                     now: datetime, policy: Policy | None) -> OverrideChanged:
    """End an override earlier (at `end`, which may be now: "stop covering now")."""
    name, override = _find_override(override_id, uow)
    if policy is not None and chat is not None and by is not None:
        check_may_change_override(get_schedule(name, uow), override, by, policy=policy,
                                  chat=chat)
    if end >= override.end:
        raise UserError("That is not earlier than the override's end; to cover longer, add "
                        "a new override.")
    if end <= override.start or end < now - timedelta(minutes=1):
        raise UserError("That would end the override before it starts or in the past; "
                        "remove it instead.")
    with uow() as tx:
        tx.schedules.end_override(override_id, end)
        tx.commit()
    cut = Override(override.user, end, override.end, override.seq)
    told = tell_touched(chat, get_schedule(name, uow), cut, "shortened", by) if chat else []
    return OverrideChanged(name, replace(override, end=end), "shortened", tuple(told))


def tell_touched(chat: Chat, without: Schedule, override: Override,
                 change: Literal["created", "shortened", "removed"], by: str | None) -> list[str]:
    """Direct-message the people whose turn `override` touches: the one covering and
    those whose own shifts it covers (read from `without`, the schedule without it),
    except whoever made the change. Returns the user ids told; failures are logged."""
    base = replace(without, overrides=tuple(o for o in without.overrides
                                            if o.seq != override.seq or not override.seq))
    covered = [s.user for s in shifts(base, override.start, override.end) if s.user]
    people = [(override.user, True)] + [(u, False) for u in dict.fromkeys(covered)
                                        if u != override.user]
    told: list[str] = []
    for member, covering in people:
        try:
            user = chat.resolve_user(member)
            if user is None or user == by or user in told:
                continue
            chat.tell_override(user, OverrideNotice(
                without.name, change, covering, override.user, override.start, override.end,
                by))
            told.append(user)
        except ChatError as exc:
            log.info("could not tell %s about an override on %s: %s", member, without.name,
                     exc.code)
    return told


FEED_BACK = timedelta(weeks=2)     # a feed lists shifts from two weeks back ...
FEED_AHEAD = timedelta(weeks=12)   # ... to twelve weeks ahead,
FEED_GRID = timedelta(weeks=1)     # with both edges on a weekly grid (they move once a week)
FEED_MARGIN = timedelta(weeks=2)   # shifts crossing an edge are looked up this far beyond it
FEED_MAX_EVENTS = 500              # an hourly rotation: ~100 KiB, not 2,000+ events
GRID_ORIGIN = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday, 00:00 UTC
_NO_TOKEN = b"-" * 43  # compared against when the schedule is unknown: same work either way


def feed_window(now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of a feed fetched at `now`. The edges sit on a fixed weekly grid, so
    fetches in the same week list exactly the same shifts."""
    start = GRID_ORIGIN + (now - FEED_BACK - GRID_ORIGIN) // FEED_GRID * FEED_GRID
    end = GRID_ORIGIN - (GRID_ORIGIN - now - FEED_AHEAD) // FEED_GRID * FEED_GRID
    return start, end


def feed_shifts(schedule: Schedule, now: datetime) -> list[Shift]:
    """The whole shifts (gaps left out) overlapping the feed's window, at most
    FEED_MAX_EVENTS of them: those ahead of `now` first, keeping up to a seventh for the
    past. A shift crossing an edge comes whole (looked up FEED_MARGIN beyond it), so its
    start and end never depend on when the feed was fetched: calendar apps see the same
    events every time. The walk stops once it has enough (an hourly rotation is dense)."""
    start, end = feed_window(now)
    past: deque[Shift] = deque(maxlen=FEED_MAX_EVENTS)
    ahead: list[Shift] = []
    for shift in iter_shifts(schedule, start - FEED_MARGIN, end + FEED_MARGIN):
        if shift.start >= end:
            break
        if shift.user is None or shift.end <= start:
            continue
        if shift.end <= now:
            past.append(shift)
            continue
        ahead.append(shift)
        if len(ahead) >= FEED_MAX_EVENTS - min(len(past), FEED_MAX_EVENTS // 7):
            break
    return list(past)[max(0, len(past) - (FEED_MAX_EVENTS - len(ahead))):] + ahead


def feed_token(name: str, uow: UnitOfWorkFactory, *, rotate: bool = False) -> str:
    """The secret in the schedule's feed URL; `rotate` replaces it (the old URL stops
    working at once)."""
    get_schedule(name, uow)
    with uow() as tx:
        token = tx.schedules.rotate_feed_token(name) if rotate else tx.schedules.feed_token(name)
        tx.commit()
    if token is None:
        raise UserError(f"There is no on-call schedule `{name[:50]}`.")
    return token


def feed_path(name: str, token: str) -> str:
    return f"/oncall/{name}/{token}.ics"


def feed_token_matches(name: str, token: str, uow: UnitOfWorkFactory) -> bool:
    """Whether `token` opens the schedule's feed, compared in constant time."""
    with uow() as tx:
        stored = tx.schedules.feed_token(name)
    given = token.encode("utf-8", "replace")
    same = hmac.compare_digest(stored.encode() if stored else _NO_TOKEN, given)
    return same and stored is not None


def ical_feed(name: str, uow: UnitOfWorkFactory, now: datetime, *,
              user: str | None = None) -> bytes:
    """The schedule's shifts as an iCalendar feed (see `feed_shifts` for which ones).
    Events carry people's display names from the store (no Slack call here) and a UID
    made of schedule, person and start, so every fetch names the same event the same way.
    `user` keeps one person's shifts (their Slack id, or the e-mail the schedule uses)."""
    from icalendar import Calendar, Event

    schedule = get_schedule(name, uow)
    found = feed_shifts(schedule, now)
    with uow() as tx:
        people = tx.people.lookup({s.user for s in found if s.user})
    if user:
        found = [s for s in found if user == s.user or user == people.get(str(s.user), ("",))[0]]
    calendar = Calendar()
    calendar.add("prodid", "-//Debrief//on-call//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"On call: {name}")
    calendar.add("x-published-ttl", "PT1H")
    for shift in found:
        assert shift.user is not None
        person = people.get(shift.user, (shift.user, shift.user))[1]
        key = f"{name}\x00{shift.user}\x00{shift.start.isoformat()}".encode()
        event = Event()
        event.add("uid", f"{hashlib.sha256(key).hexdigest()[:32]}@debrief")
        event.add("summary", f"On call: {name} ({person})")
        event.add("dtstart", shift.start)
        event.add("dtend", shift.end)
        event.add("dtstamp", now)
        event.add("description", f"Source: {shift.source}")
        calendar.add_component(event)
    ical: bytes = calendar.to_ical()  # icalendar leaves to_ical() unannotated
    return ical


def remember_people(chat: Chat, uow: UnitOfWorkFactory, now: datetime, *,
                    fresh_for: timedelta = timedelta(hours=20), limit: int = 1000) -> int:
    """Look up (users.info) the display name of everyone the schedules name and store it,
    so feeds show names without calling Slack while they are served. Names refreshed
    within `fresh_for` are not asked again. Returns how many names were stored."""
    with uow() as tx:
        schedules = [tx.schedules.get(n) for n in tx.schedules.names()]
        known = tx.people.known_since(now - fresh_for)
    members = sorted({m for s in schedules if s for layer in s.layers for era in layer.eras
                      for m in era.members} |
                     {o.user for s in schedules if s for o in s.overrides if o.end > now})
    learned: list[tuple[str, str, str | None]] = []
    for member in [m for m in members if m not in known][:limit]:
        try:
            user_id = chat.resolve_user(member)
            name = chat.user_name(user_id) if user_id else None
        except ChatError as exc:
            if exc.code in ("invalid_auth", "token_revoked", "account_inactive", "not_authed",
                            "unreachable"):
                raise
            log.warning("could not look up %s: %s", member, exc.code)
            continue
        if user_id and name:
            learned.append((user_id, name[:200], member if "@" in member else None))
    with uow() as tx:
        for user_id, name, email in learned:
            tx.people.remember(user_id, name, email, now)
        tx.commit()
    return len(learned)


def tell_moved(report: ApplyReport, chat: Chat) -> list[str]:
    """DM everyone whose upcoming turns a roster change moved; returns who was told."""
    told: list[str] = []
    for name, people in report.moved.items():
        for member in sorted(people):
            try:
                user = chat.resolve_user(member)
                if user:
                    chat.send_notice(user, TurnsMoved(name))
                    told.append(user)
            except ChatError as exc:
                log.warning("could not tell %s about %s: %s", member, name, exc.code)
    return told
