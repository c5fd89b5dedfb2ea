"""Timed notices: action items due today (a DM to the owner at 09:00 in their zone), the
weekly digest of overdue items (Monday 09:00, team zone), postmortems due and overdue
(a DM to the commander), nudges in incident channels (bot/services/nudges.py), and the
weekly report (bot/services/weekly.py).

Exactly once: each notice has a key; inserting the key (a unique row) is the claim and
happens before sending, so a restart or a second replica never sends it again. A send
that fails releases the claim and is retried on the next tick. Each notice has a window
(its day); after downtime a notice whose window has passed is skipped, not sent late.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from bot.domain.action_items import digest_window, remind_at
from bot.domain.rotations import Schedule, next_change
from bot.errors import ChatError
from bot.observability import REMINDERS
from bot.services.nudges import NudgeSkipped, due_nudges
from bot.services.ports import ActionItemDue, Chat, Deps, PostmortemDue
from bot.services.timeline import zone_of
from bot.services.weekly import due_report, post_weekly_report

log = logging.getLogger(__name__)
WINDOW = timedelta(days=1)
DUE_MARGIN = timedelta(days=2)  # the widest zone offsets put a due day's 09:00 within it


@dataclass(frozen=True)
class Notice:
    key: str
    send: Callable[[], None]


def due_notices(deps: Deps, now: datetime) -> list[Notice]:
    config, chat = deps.config, deps.chat
    notices: list[Notice] = []
    zone = config.zone
    window = digest_window(now, zone)
    today = now.astimezone(zone).date()
    digest_key = f"digest:{window[0]}" if window and config.announce_channel else None
    # Every read is a window on an index, never the whole history: the scheduler ticks
    # every 30 s in every replica, and its cost must not grow with the years.
    with deps.uow() as tx:
        # 09:00 in the owner's zone (UTC-12 to UTC+14) on the due day, for a day: only
        # items due within two days of today (UTC) can be in their window now.
        utc_today = now.astimezone(UTC).date()
        due_soon = tx.action_items.open_items(due_from=utc_today - DUE_MARGIN,
                                         due_before=utc_today + DUE_MARGIN)
        overdue = tx.action_items.open_items(due_before=today) \
            if digest_key and tx.notifications.status(digest_key) != "sent" else []
        # Only incidents whose postmortem notices can still be in their window.
        horizon = now - _postmortem_horizon(deps)
        incidents = tx.incidents.list(resolved_since=horizon)
        postmortems = {p.incident_number: p for p in tx.postmortems.states(resolved_since=horizon)}
        # Drills and incidents declared by mistake send no reminders (issue 12): only the
        # incidents of the items in the window are read.
        uncounted = {n for n in {i.incident_number for i in [*due_soon, *overdue]}
                     if n and (found := tx.incidents.get(n)) is not None and not found.counts}
    due_soon = [i for i in due_soon if i.incident_number not in uncounted]
    overdue = [i for i in overdue if i.incident_number not in uncounted]
    incidents = [i for i in incidents if i.counts]
    for item in due_soon:
        if item.owner and item.due_on:
            at = remind_at(item.due_on, zone_of(item.owner, chat, config))
            if at <= now < at + WINDOW:
                notices.append(Notice(f"action-due:{item.id}:{item.due_on}",
                                      partial(chat.send_notice, item.owner,
                                              ActionItemDue(item))))
    overdue = [i for i in overdue if i.overdue(today)]
    if digest_key and overdue and config.announce_channel:
        notices.append(Notice(digest_key, lambda: chat.post_digest(
            config.announce_channel, overdue, today)))
    notices += _oncall_notices(deps, now)
    if (report := due_report(config, now)) is not None:
        notices.append(Notice(report.key, partial(post_weekly_report, deps, report)))
    for incident in incidents:
        policy = config.postmortem.due_policy(incident.severity)
        postmortem = postmortems.get(incident.number)
        if policy is None or not incident.commander or incident.resolved_at is None or (
                postmortem and postmortem.status == "published"):
            continue  # (the query only returns resolved incidents)
        due = policy.due_at(incident.resolved_at)
        for kind, start in (("due", due), ("overdue", due + WINDOW)):
            if start <= now < start + WINDOW:
                notice = PostmortemDue(incident, overdue=kind == "overdue", policy=str(policy))
                notices.append(Notice(f"pm-{kind}:{incident.number}:{due:%Y-%m-%d}",
                                      partial(chat.send_notice, incident.commander, notice)))
    notices += [Notice(key, send) for key, send in due_nudges(deps, now)]
    return notices


def send_due(deps: Deps, now: datetime | None = None) -> list[str]:
    """Claim and send every notice due at `now`; returns the keys sent by this call."""
    now = now or deps.now()
    sent: list[str] = []
    notices = due_notices(deps, now)
    # Notices stay due for their whole window (a day), so most of a tick's are claimed
    # already: one query skips them instead of a transaction and an INSERT each.
    with deps.uow() as tx:
        done = tx.notifications.claimed(n.key for n in notices) if notices else set()
    for notice in (n for n in notices if n.key not in done):
        REMINDERS.labels("due").inc()
        with deps.uow() as tx:
            claimed = tx.notifications.claim(notice.key, now)
            tx.commit()
        if not claimed:
            continue
        try:
            notice.send()
        except (ChatError, NudgeSkipped) as exc:  # nothing posted: the key is free again
            if isinstance(exc, ChatError):
                log.warning("notice %s not sent (%s); will retry", notice.key, exc.code)
            REMINDERS.labels("failed" if isinstance(exc, ChatError) else "skipped").inc()
            with deps.uow() as tx:
                tx.notifications.release(notice.key)
                tx.commit()
            continue
        with deps.uow() as tx:
            tx.notifications.mark_sent(notice.key, deps.now())
            tx.commit()
        sent.append(notice.key)
        REMINDERS.labels("sent").inc()
    return sent


def _postmortem_horizon(deps: Deps) -> timedelta:
    """How long after resolution a postmortem due or overdue notice can still be sent:
    the longest due policy (business days stretched over weekends) plus both windows."""
    days = [p.days * (2 if p.business else 1)
            for p in (deps.config.postmortem.due_policy(s.name) for s in deps.config.severities)
            if p is not None]
    return timedelta(days=max(days, default=0) + 4)


HANDOFF_GRACE = timedelta(hours=1)  # a handoff notice later than this is stale: skipped


def _oncall_notices(deps: Deps, now: datetime) -> list[Notice]:
    """A DM to the incoming person `remind_before` a turn starts; at the handoff one
    message in the schedule's channel and the user group set to the new person. Only
    where the final answer really changes (an override that changes nothing is silent)."""
    notices: list[Notice] = []
    with deps.uow() as tx:
        schedules = [s for s in (tx.schedules.get(n) for n in tx.schedules.names()) if s]
    for schedule in schedules:
        try:
            notices += _schedule_notices(schedule, deps.chat, deps.config.oncall.remind_before,
                                         now)
        except Exception as exc:  # noqa: BLE001 - one bad schedule must not stop the tick
            _report_broken(schedule.name, exc)
        else:
            _BROKEN.pop(schedule.name, None)
    return notices


_BROKEN: dict[str, str] = {}  # schedule -> the error last logged for it (log each once)


def _report_broken(name: str, exc: Exception) -> None:
    """Log a schedule that cannot be computed (e.g. stored by an older version without
    today's bounds) once per distinct error, not on every tick; re-applying a fixed file
    heals it."""
    error = f"{type(exc).__name__}: {exc}"[:200]
    if _BROKEN.get(name) != error:
        _BROKEN[name] = error
        log.error("on-call schedule %s skipped (%s); fix it and run `debrief oncall apply`",
                  name, error)


def _schedule_notices(schedule: Schedule, chat: Chat, remind_before: timedelta,
                      now: datetime) -> list[Notice]:
    notices: list[Notice] = []
    upcoming = next_change(schedule, now)
    if upcoming and upcoming[1].user and upcoming[0] - remind_before <= now:
        start, answer = upcoming
        after = next_change(schedule, start)
        notices.append(Notice(
            f"oncall-remind:{schedule.name}:{start:%Y%m%dT%H%M%SZ}:{answer.user}",
            partial(_remind, chat, schedule.name, answer.user, start,
                    after[0] if after else None)))
    cursor = now - HANDOFF_GRACE
    for _ in range(20):  # every change within the grace window, oldest first
        found = next_change(schedule, cursor)
        if found is None or found[0] > now:
            break
        start, answer = found
        after = next_change(schedule, start)
        until = after[0] if after else None
        if schedule.channel or schedule.usergroup:
            notices.append(Notice(
                f"oncall-handoff:{schedule.name}:{start:%Y%m%dT%H%M%SZ}",
                partial(_handoff, chat, schedule, answer.user, until)))
        cursor = start
    return notices


def _remind(chat: Chat, schedule: str, member: str | None, start: datetime,
            end: datetime | None) -> None:
    user_id = chat.resolve_user(member) if member else None
    if user_id:
        chat.remind_shift(user_id, schedule, start, end)


def _handoff(chat: Chat, schedule: Schedule, member: str | None, until: datetime | None) -> None:
    user_id = chat.resolve_user(member) if member else None
    if schedule.channel:
        chat.post_handoff(schedule.channel, schedule.name, user_id, until)
    if schedule.usergroup and user_id:
        chat.set_usergroup(schedule.usergroup, [user_id])
