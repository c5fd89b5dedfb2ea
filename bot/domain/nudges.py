"""Nudges that keep an incident moving: when nothing happened for too long, say so.

Three kinds, each with a threshold `T` (from `nudges:` in debrief.yaml, per severity for
updates):

- `update`: no status update for `T` (default SEV1 30 min, SEV2 60 min, others none).
  The clock starts at the incident's last *update*: its declaration, an `/incident
  update`, a status or severity change, a reopen.
- `commander`: nobody holds the commander role `T` after the declaration (default 10 min).
- `open`: still open `T` after the declaration (default 7 days).

**Windows.** From the clock's start `s`, window k (k >= 1) runs from `s + k*T` to
`s + (k+1)*T`; each window's nudge is sent once (its key names the incident, the kind,
`s` and k). So a SEV1 without updates hears at 30, 60, 90 minutes; an update restarts the
clock (a new `s`: the next nudge comes 30 minutes after it). Only the current window is
ever due, so after downtime one nudge is sent, not a burst of stale ones.

**Snooze.** Snoozed until `u`, the clock starts at `max(s, u - T)`: the next nudge comes
at `u` (or later, if the incident moved since).

Pure: plain values in, plain values out; the caller passes `now`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.incidents import EventKind, Incident


class NudgeKind(StrEnum):
    UPDATE = "update"
    COMMANDER = "commander"
    OPEN = "open"


# What restarts the update clock: something the channel and the announcement were told.
MOVES = frozenset({EventKind.DECLARED, EventKind.UPDATE, EventKind.STATUS, EventKind.REOPENED,
                   EventKind.SEVERITY})
# How long the nudge's Snooze button silences it.
SNOOZE: Mapping[NudgeKind, timedelta] = {
    NudgeKind.UPDATE: timedelta(minutes=30), NudgeKind.COMMANDER: timedelta(minutes=30),
    NudgeKind.OPEN: timedelta(days=1)}


@dataclass(frozen=True)
class NudgePolicy:
    """Thresholds: `update_after` by severity (a severity not listed gets no update
    nudge), `commander_after` and `open_after` for every severity (None: off)."""

    update_after: Mapping[str, timedelta] = field(default_factory=lambda: {
        "SEV1": timedelta(minutes=30), "SEV2": timedelta(minutes=60)})
    commander_after: timedelta | None = timedelta(minutes=10)
    open_after: timedelta | None = timedelta(days=7)

    def threshold(self, kind: NudgeKind, severity: str) -> timedelta | None:
        match kind:
            case NudgeKind.UPDATE:
                return self.update_after.get(severity)
            case NudgeKind.COMMANDER:
                return self.commander_after
            case NudgeKind.OPEN:
                return self.open_after


@dataclass(frozen=True)
class Nudge:
    """One window's nudge: due from `due_at` until `next_at` (the next window's start)."""

    kind: NudgeKind
    number: int
    since: datetime      # the clock's start (after any snooze)
    window: int          # k >= 1
    threshold: timedelta
    due_at: datetime
    quiet_since: datetime | None = None  # the clock's start before snoozes
    found_at: datetime | None = None     # the tick's instant that found it due

    @property
    def next_at(self) -> datetime:
        return self.due_at + self.threshold

    @property
    def idle(self) -> timedelta:
        """How long nothing has happened, as the nudge says it: up to the tick that found
        it (a tick late after downtime says 1h 12m, not its window's 1h), from the last
        update (a snooze moves the windows, not the last update)."""
        return (self.found_at or self.due_at) - (self.quiet_since or self.since)

    @property
    def key(self) -> str:
        """The exactly-once claim (`notifications`): one per incident, kind, clock, window."""
        return f"nudge-{self.kind}:{self.number}:{self.since:%Y%m%dT%H%M%S}:{self.window}"


def clock_start(incident: Incident, kind: NudgeKind) -> datetime | None:
    """Where `kind`'s clock starts, before snoozes; None when it does not apply (resolved,
    a drill or cancelled, a commander present)."""
    if incident.is_resolved or not incident.counts:
        return None
    match kind:
        case NudgeKind.UPDATE:
            moves = [e.at for e in incident.events if e.kind in MOVES]
            return max(moves, default=incident.declared_at)
        case NudgeKind.COMMANDER:
            return None if incident.commander else incident.declared_at
        case NudgeKind.OPEN:
            return incident.declared_at


def first_due(incident: Incident, kind: NudgeKind, policy: NudgePolicy) -> datetime | None:
    """When `kind` is first due if nothing else happens (snoozes aside): what the
    schedule stores when an incident changes. None: never."""
    start = clock_start(incident, kind)
    threshold = policy.threshold(kind, incident.severity)
    return start + threshold if start is not None and threshold else None


def _clock(incident: Incident, kind: NudgeKind, policy: NudgePolicy,
           snoozed_until: datetime | None) -> tuple[datetime, timedelta] | None:
    start = clock_start(incident, kind)
    threshold = policy.threshold(kind, incident.severity)
    if start is None or not threshold:
        return None
    if snoozed_until is not None:
        start = max(start, snoozed_until - threshold)
    return start, threshold


def nudge_due(incident: Incident, kind: NudgeKind, policy: NudgePolicy,
              snoozed_until: datetime | None, now: datetime) -> Nudge | None:
    """The nudge of the window `now` falls in, if any."""
    clock = _clock(incident, kind, policy, snoozed_until)
    if clock is None:
        return None
    start, threshold = clock
    window = (now - start) // threshold
    if window < 1:
        return None
    return Nudge(kind, incident.number, start, window, threshold, start + window * threshold,
                 clock_start(incident, kind), now)


def next_due(incident: Incident, kind: NudgeKind, policy: NudgePolicy,
             snoozed_until: datetime | None, now: datetime) -> datetime | None:
    """The start of the first window after `now` (None: never): when to look again."""
    clock = _clock(incident, kind, policy, snoozed_until)
    if clock is None:
        return None
    start, threshold = clock
    return start + (max((now - start) // threshold, 0) + 1) * threshold


def schedule(incident: Incident, policy: NudgePolicy) -> dict[str, datetime | None]:
    """Each kind's first due time (snoozes aside), as stored when the incident changes."""
    return {kind.value: first_due(incident, kind, policy) for kind in NudgeKind}


def parse_kind(word: str) -> NudgeKind | None:
    try:
        return NudgeKind(word)
    except ValueError:
        return None
