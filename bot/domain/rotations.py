"""On-call rotations: who is on call at an instant, when that changes, and the final
schedule (layers, restrictions, overrides). Pure and O(1) in the rotation's age.

Rules (the issue's semantics, in code):
1. Turn k starts at `first_handoff + k × interval × unit` on the *local wall clock*
   (naive arithmetic), then resolved in the layer's zone: 09:00 stays 09:00 across DST.
2. A wall time in a spring-forward gap moves forward by the gap (zoneinfo fold=0 gives
   the pre-transition offset: 02:30 → 03:30 summer time); in a repeated hour the first
   occurrence (fold=0) is used.
3. Turns are half-open [start, next start); before the first handoff a layer covers nothing.
4. Turn k belongs to the roster era covering k: `members[(offset + k - k0) mod n]`.
5. Member changes start a new era at the first handoff at or after their effective
   instant; see `change_members`.
6. Restrictions mask coverage; the rotation keeps advancing underneath.
7. The highest priority layer covering an instant wins; none covering is a gap (None).
8. Overrides [start, end) beat every layer; among overlapping ones the newest wins.
9. `turn_index` is arithmetic (no iteration from the first handoff).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

UNITS = {"hours": timedelta(hours=1), "days": timedelta(days=1), "weeks": timedelta(weeks=1)}
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
HORIZON = timedelta(days=400)  # how far ahead "next change" looks before giving up
# Instants past the ends of the calendar: a turn that would start after year 9999 starts
# at FAR_FUTURE (it never comes), so asking about any instant never raises OverflowError.
FAR_PAST = datetime.min.replace(tzinfo=UTC)
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


def _local(at: datetime, tz: ZoneInfo) -> datetime:
    """`at` on `tz`'s wall clock (naive), clamped at the ends of the calendar."""
    try:
        return at.astimezone(tz).replace(tzinfo=None)
    except OverflowError:
        return datetime.max if at.year > 5000 else datetime.min


def _instant(local: datetime, tz: ZoneInfo) -> datetime:
    """A wall time in `tz` as a UTC instant (fold=0, rules 1 and 2), clamped likewise."""
    try:
        return local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    except OverflowError:
        return FAR_FUTURE if local.year > 5000 else FAR_PAST


@dataclass(frozen=True)
class Restriction:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time  # end <= start: the window ends the next day

    def covers(self, local: datetime) -> bool:
        t, day = local.time(), local.weekday()
        if self.start < self.end:
            return day in self.days and self.start <= t < self.end
        return (day in self.days and t >= self.start) or (
            (day - 1) % 7 in self.days and t < self.end)


@dataclass(frozen=True)
class Era:
    """From turn `k0` on: turn k goes to members[(offset + k - k0) % len(members)]."""

    k0: int
    members: tuple[str, ...]
    offset: int


@dataclass(frozen=True)
class Layer:
    name: str
    priority: int
    zone: str
    unit: str
    interval: int
    first_handoff: datetime  # naive: local wall clock in `zone`
    eras: tuple[Era, ...]
    restrictions: tuple[Restriction, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @property
    def step(self) -> timedelta:
        return UNITS[self.unit] * self.interval

    def turn_start(self, k: int) -> datetime:
        """The UTC instant turn k starts (rules 1 and 2); FAR_PAST / FAR_FUTURE beyond
        the calendar."""
        try:
            local = self.first_handoff + self.step * k
        except OverflowError:
            return FAR_FUTURE if k > 0 else FAR_PAST
        return _instant(local, self.tz)

    def turn_index(self, at: datetime) -> int:
        """The turn in progress at `at` (may be negative: before the first handoff)."""
        k = (_local(at, self.tz) - self.first_handoff) // self.step
        for _ in range(48):  # a DST shift moves a handoff by an hour or two, not more
            if self.turn_start(k) > at:
                k -= 1
            elif self.turn_start(k + 1) <= at and self.turn_start(k + 1) != FAR_FUTURE:
                k += 1
            else:
                break
        return k

    def member(self, k: int) -> str | None:
        era = next((e for e in reversed(self.eras) if e.k0 <= k), None)
        if era is None or not era.members:
            return None
        return era.members[(era.offset + k - era.k0) % len(era.members)]

    def covers(self, at: datetime) -> bool:
        if at < self.turn_start(0):
            return False
        if not self.restrictions:
            return True
        local = _local(at, self.tz)
        return any(r.covers(local) for r in self.restrictions)

    def on_call(self, at: datetime) -> str | None:
        return self.member(self.turn_index(at)) if self.covers(at) else None

    def boundaries(self, after: datetime) -> Iterator[datetime]:
        """Every instant after `after` where this layer's answer may change: handoffs
        and restriction window edges, in order."""
        streams: list[Iterator[datetime]] = [self._handoffs(self.turn_index(after) + 1)]
        if self.restrictions:
            streams.append(self._window_edges(after))
        last = None
        for instant in heapq.merge(*streams):
            if instant > after and instant != last:
                last = instant
                yield instant

    def _handoffs(self, k: int) -> Iterator[datetime]:
        """Turn starts from turn k on, ending where the calendar does."""
        for i in itertools.count(k):
            start = self.turn_start(i)
            if start == FAR_FUTURE:
                return
            yield start

    def _window_edges(self, after: datetime) -> Iterator[datetime]:
        local = _local(after, self.tz)
        if local.year >= 9999:
            return
        day = local.date() - timedelta(days=1) if local.year > 1 else local.date()
        while day.year < 9999:
            edges = []
            for r in self.restrictions:
                if day.weekday() in r.days:
                    start = datetime.combine(day, r.start)
                    end = datetime.combine(day + timedelta(days=1) if r.end <= r.start else day,
                                           r.end)
                    edges += [start, end]
            for edge in sorted(edges):
                instant = _instant(edge, self.tz)
                if instant > after:
                    yield instant
            day += timedelta(days=1)


@dataclass(frozen=True)
class Override:
    user: str
    start: datetime
    end: datetime
    seq: int = 0  # creation order: the newest wins where overrides overlap


@dataclass(frozen=True)
class Schedule:
    name: str
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()
    channel: str | None = None
    usergroup: str | None = None


@dataclass(frozen=True)
class Answer:
    user: str | None
    source: str | None  # "layer:<name>", "override" or None (a gap)


@dataclass(frozen=True)
class Shift:
    start: datetime
    end: datetime
    user: str | None
    source: str | None


def who(schedule: Schedule, at: datetime) -> Answer:
    covering = [o for o in schedule.overrides if o.start <= at < o.end]
    if covering:
        return Answer(max(covering, key=lambda o: o.seq).user, "override")
    for layer in sorted(schedule.layers, key=lambda lay: -lay.priority):
        if layer.covers(at):
            user = layer.on_call(at)
            if user is not None:
                return Answer(user, f"layer:{layer.name}")
    return Answer(None, None)


def change_points(schedule: Schedule, after: datetime) -> Iterator[datetime]:
    """Instants after `after` where the final answer may change, in order."""
    streams: list[Iterator[datetime]] = [layer.boundaries(after) for layer in schedule.layers]
    edges = sorted({t for o in schedule.overrides for t in (o.start, o.end) if t > after})
    streams.append(iter(edges))
    last = None
    for instant in heapq.merge(*streams):
        if instant != last:
            last = instant
            yield instant


def next_change(schedule: Schedule, at: datetime,
                horizon: timedelta = HORIZON) -> tuple[datetime, Answer] | None:
    """The first instant after `at` when the person on call changes, and the new answer."""
    current = who(schedule, at).user
    for instant in change_points(schedule, at):
        if instant - at > horizon:
            return None
        answer = who(schedule, instant)
        if answer.user != current:
            return instant, answer
    return None


def shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """The final schedule over [start, end): consecutive segments, gaps as user None."""
    return list(iter_shifts(schedule, start, end))


def first_turn_at_or_after(layer: Layer, at: datetime) -> int:
    k = layer.turn_index(at)
    return k if layer.turn_start(k) >= at else k + 1


def change_members(layer: Layer, members: tuple[str, ...], effective: datetime) -> Layer:
    """Rule 5: a new roster from the first handoff at or after `effective`. The turn in
    progress is not cut short; the first new turn goes to the successor (in the new
    list) of whoever held the turn before; if they were removed, to the next person in
    the old order who is still present; then round-robin in the new list."""
    k0 = max(first_turn_at_or_after(layer, effective), 0)
    kept = tuple(e for e in layer.eras if e.k0 < k0)
    previous = layer.member(k0 - 1) if k0 > 0 else None
    old = next((e for e in reversed(kept) if e.k0 <= k0 - 1), None)
    if previous is None or not members or old is None:
        offset = 0
    elif previous in members:
        offset = (members.index(previous) + 1) % len(members)
    else:
        position = old.members.index(previous)
        successors = old.members[position + 1:] + old.members[:position]
        present = next((m for m in successors if m in members), None)
        offset = members.index(present) if present else 0
    return replace(layer, eras=(*kept, Era(k0, members, offset)))


def moved_users(before: Layer, after: Layer, start: datetime, turns: int = 20) -> set[str]:
    k = max(first_turn_at_or_after(before, start), 0)
    moved: set[str] = set()
    for i in range(turns):
        old, new = before.member(k + i), after.member(k + i)
        if old != new:
            moved |= {u for u in (old, new) if u}
    return moved


def iter_shifts(schedule: Schedule, start: datetime, end: datetime) -> Iterator[Shift]:
    """`shifts`, lazily: a caller that needs only the first few segments of a dense
    schedule (an hourly rotation) stops computing when it has them."""
    cursor, answer = start, who(schedule, start)
    for instant in change_points(schedule, start):
        if instant >= end:
            break
        new = who(schedule, instant)
        if (new.user, new.source) != (answer.user, answer.source):
            yield Shift(cursor, instant, answer.user, answer.source)
            cursor, answer = instant, new
    yield Shift(cursor, end, answer.user, answer.source)
