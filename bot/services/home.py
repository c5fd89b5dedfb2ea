"""The Home tab: what concerns one person (`home_of`, plain data), and `HomeRefresher`,
which publishes it when they open the tab and again, debounced, when what it shows may
have changed.

Every read is of open things or a recent window (open incidents, the person's open
action items, incidents resolved in the last `POSTMORTEM_WINDOW`, schedules two weeks
ahead): the cost of a Home tab does not grow with the years of history behind it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from bot.config import DebriefConfig
from bot.domain.home import (
    MAX_ALERTS,
    MAX_ITEMS,
    MAX_MINE,
    MAX_POSTMORTEMS,
    MAX_SHIFTS,
    Home,
    Owed,
    Turn,
    by_severity,
    first,
    paged,
    takes_part,
)
from bot.domain.incidents import Incident
from bot.domain.reviews import review_state
from bot.domain.rotations import Schedule, iter_shifts
from bot.errors import ChatError
from bot.services.incidents import visible_to
from bot.services.ports import Chat, Deps, UnitOfWorkFactory
from bot.services.timeline import zone_of

log = logging.getLogger(__name__)
LOOK_AHEAD = timedelta(days=14)  # on-call turns shown: the next two weeks
POSTMORTEM_WINDOW = timedelta(days=30)  # postmortems owed: incidents resolved this recently
MAX_SCHEDULES = 200  # as many as a schedules file may hold
MAX_MEMBERSHIP_CHECKS = 50  # open incidents whose channel members are asked of Slack
MAX_OPEN_ALERTS = 500  # the newest open alert groups looked through for the viewer's


def home_of(user: str, *, uow: UnitOfWorkFactory, chat: Chat, config: DebriefConfig,
            now: datetime) -> Home:
    """Everything `user`'s Home tab shows. Private incidents appear only to members."""
    with uow() as tx:
        open_incidents = [i for i in tx.incidents.list(open_only=True) if i.counts]
        items = tx.action_items.open_items(owner=user)
        since = now - POSTMORTEM_WINDOW
        resolved = [i for i in tx.incidents.list(resolved_since=since) if i.counts]
        states = {p.incident_number: p.status
                  for p in tx.postmortems.states(resolved_since=since)}
        # Who was asked to review: read only for the few postmortems in review.
        reviewing = {i.number: review_state(tx.postmortems.reviews(i.number))
                     for i in resolved if states.get(i.number) == "in_review"}
        names = tx.schedules.names()
        schedules = [s for s in (tx.schedules.get(n) for n in names[:MAX_SCHEDULES]) if s]
        # Open groups only (an index on status), the newest first: never the history.
        alerts = [g for g in tx.alerts.groups(open_only=True, limit=MAX_OPEN_ALERTS)
                  if paged(g, user)]
    visible = visible_to(open_incidents, user, chat, max_asked=MAX_MEMBERSHIP_CHECKS)
    # Newest first: when more are open than Slack may be asked about, the channels asked
    # are the recent ones (roles and declarer are read for every incident, free; a
    # private incident still visible is one `visible_to` found the viewer in).
    mine: list[Incident] = []
    asked = 0
    for incident in sorted(visible, key=lambda i: -i.number):
        if takes_part(incident, user) or incident.private:
            mine.append(incident)
        elif asked < MAX_MEMBERSHIP_CHECKS and incident.channel_id:
            asked += 1
            if _in_channel(incident, user, chat):
                mine.append(incident)
    # The viewer's own action items are shown even from a private incident they are not
    # a member of: they were given the work, as `/actions` and their reminders say.
    items.sort(key=lambda i: (i.due_on is None, i.due_on or now.date(), i.id))
    owed: list[Owed] = []
    for incident in sorted(resolved, key=lambda i: -i.number):
        status = states.get(incident.number, "not drafted")
        if status == "published":
            continue
        if incident.commander == user:
            owed.append(Owed(incident, "write", status))
        elif (state := reviewing.get(incident.number)) is not None \
                and user in state.reviewers and user not in state.approvals:
            owed.append(Owed(incident, "review", status))
    now_on, turns = _turns(schedules, user, chat, now)
    today = now.astimezone(zone_of(user, chat, config)).date()
    return Home(
        user=user, today=today, on_call_now=tuple(now_on), next_turns=first(turns, MAX_SHIFTS),
        mine=first(mine, MAX_MINE), items=first(items, MAX_ITEMS),
        postmortems=first(owed, MAX_POSTMORTEMS),
        open_by_severity=by_severity(visible, config.severity_names),
        open_total=len(visible), has_schedules=bool(schedules),
        alerts=first(alerts, MAX_ALERTS))


def _in_channel(incident: Incident, user: str, chat: Chat) -> bool:
    try:
        return user in chat.channel_members(incident.channel_id or "")
    except ChatError as exc:
        log.info("members of #%s unknown (%s)", incident.number, exc.code)
        return False


def _turns(schedules: list[Schedule], user: str, chat: Chat, now: datetime,
           ) -> tuple[list[tuple[str, datetime | None]], list[Turn]]:
    """(schedules `user` is on call for now, with when that ends; their coming turns,
    soonest first). Consecutive shifts of the same person count as one turn."""
    horizon = now + LOOK_AHEAD
    now_on: list[tuple[str, datetime | None]] = []
    turns: list[Turn] = []
    for schedule in schedules:
        runs: list[tuple[datetime, datetime]] = []
        for shift in iter_shifts(schedule, now, horizon):
            if not shift.user or _resolve(shift.user, chat) != user:
                continue
            if runs and runs[-1][1] == shift.start:
                runs[-1] = (runs[-1][0], shift.end)
            else:
                runs.append((shift.start, shift.end))
        for start, end in runs:
            if start <= now:
                now_on.append((schedule.name, end if end < horizon else None))
            else:
                turns.append(Turn(schedule.name, start, end, bool(schedule.channel)))
    turns.sort(key=lambda t: (t.start, t.schedule))
    return now_on, turns


def _resolve(member: str, chat: Chat) -> str | None:
    """A schedule member as a Slack id (schedules may name people by e-mail)."""
    if "@" not in member:
        return member
    try:
        return chat.resolve_user(member)
    except ChatError:
        return None


def next_publish(pending: dict[str, int], published: dict[str, float], last_publish: float,
                 now: float, *, every: float, spacing: float) -> tuple[str | None, float]:
    """Whose Home tab to publish now, or (None, how long to wait; inf: nothing pending).
    `pending`: person -> priority (0 first); `published`: when each was last published;
    `last_publish`: the last publish of anyone's. Nobody is published twice within `every`
    seconds, and no two publishes are closer than `spacing` seconds."""
    if not pending:
        return None, float("inf")
    if now < last_publish + spacing:
        return None, last_publish + spacing - now
    wait = float("inf")
    best: tuple[int, float, str] | None = None
    for user, priority in pending.items():
        due = published.get(user, float("-inf")) + every
        if due <= now:
            if best is None or (priority, due, user) < best:
                best = (priority, due, user)
        else:
            wait = min(wait, due - now)
    return (best[2], 0.0) if best is not None else (None, wait)


class HomeRefresher:
    """Publishes Home tabs: at once when a person opens theirs, and after changes for the
    people who opened it within `keep_for` (others get a fresh one when they next open
    it). A change marks people; each is published at most once per `every` seconds (the
    changes in between coalesce into one publish), and all together at most one publish
    per `spacing` seconds, under Slack's limit for views.publish (Tier 4, about 100 a
    minute). One daemon thread, started with the first viewer, does the waiting."""

    def __init__(self, deps: Deps, *, every: float = 10.0, spacing: float = 0.75,
                 keep_for: float = 24 * 3600.0, fresh: float = 3.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.deps = deps
        self.every, self.spacing, self.keep_for = every, spacing, keep_for
        self.fresh = fresh
        self.clock = clock
        self._viewers: dict[str, float] = {}  # user -> when they last opened the tab
        self._published: dict[str, float] = {}  # user -> when their tab was last published
        self._pending: dict[str, int] = {}  # user -> priority (0: directly concerned)
        self._last_publish = float("-inf")
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def publish(self, user: str) -> None:
        """Publish `user`'s Home tab now (they opened it, or acted on it). It counts
        towards the pace, so background refreshes make room for people's own opens."""
        home = home_of(user, uow=self.deps.uow, chat=self.deps.chat, config=self.deps.config,
                       now=self.deps.now())
        with self._cond:
            now = self.clock()
            self._published[user] = now
            self._last_publish = max(self._last_publish, now)
            self._pending.pop(user, None)
        self.deps.chat.publish_home(user, home)

    def opened(self, user: str) -> None:
        """`user` opened their Home tab: publish it and keep it fresh from now on. Slack
        keeps the last view: opened again within `fresh` seconds with nothing changed
        since (switching tabs back and forth), it is not published again."""
        with self._cond:
            now = self.clock()
            self._viewers[user] = now
            self._start()
            if user not in self._pending and \
                    now - self._published.get(user, float("-inf")) < self.fresh:
                return
        self.publish(user)

    def changed(self, users: Iterable[str] = (), *, everyone: bool = False) -> None:
        """Something the Home tab shows changed: for `users` directly, or (`everyone`) in
        the part everyone sees. Only people who opened their tab recently are refreshed."""
        with self._cond:
            if not self._viewers:
                return
            cutoff = self.clock() - self.keep_for
            for user in [u for u, at in self._viewers.items() if at < cutoff]:
                del self._viewers[user]
            direct = {u for u in users if u in self._viewers}
            for user in direct:
                self._pending[user] = 0
            if everyone:
                for user in self._viewers:
                    self._pending.setdefault(user, 1)
            if self._pending:
                self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def _start(self) -> None:
        if self._thread is None and not self._stopped:
            self._thread = threading.Thread(target=self._run, name="debrief-home",
                                            daemon=True)
            self._thread.start()

    def _next(self) -> tuple[str | None, float]:
        """(the user to publish now, or None and how long to wait). Hold `_cond`."""
        return next_publish(self._pending, self._published, self._last_publish, self.clock(),
                            every=self.every, spacing=self.spacing)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopped:
                        return
                    user, wait = self._next()
                    if user is not None:
                        self._pending.pop(user, None)
                        self._last_publish = self.clock()
                        break
                    self._cond.wait(None if wait == float("inf") else wait)
            try:
                self.publish(user)
            except Exception:  # noqa: BLE001 - one person's tab must not stop the others'
                log.exception("could not refresh a Home tab")
