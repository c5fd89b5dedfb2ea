"""Nudges (bot/domain/nudges.py): a reminder in the incident channel when it drifts, each
window's once across replicas, and the buttons on it (snooze, take command).

Where the work is: `nudges.due_at` (one row per incident and kind, indexed) says when a
row is next worth a look. Declaring writes it; a change that restarts a clock rewrites
it (`change_incident`); a tick reads only the rows due, re-checks each against the
incident (which may have moved, or been snoozed, since) and either sends the current
window's nudge (claimed in `notifications` under its key, like every timed notice) and
moves the row to the next window, or moves the row to when it is next due. So a quiet
tick is one indexed SELECT, whatever the history.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from bot.domain import incidents as rules
from bot.domain.incidents import Incident
from bot.domain.nudges import SNOOZE, Nudge, NudgeKind, next_due, nudge_due, parse_kind, schedule
from bot.domain.permissions import Act
from bot.errors import Mention, UserError
from bot.services import incidents as uc
from bot.services.permissions import Subject, authorize
from bot.services.ports import Deps

log = logging.getLogger(__name__)


def due_nudges(deps: Deps, now: datetime) -> list[tuple[str, Callable[[], None]]]:
    """(key, send) for each nudge due now and not sent yet; rows due with nothing to send
    are moved to when they are next due."""
    policy = deps.config.nudges
    found: list[tuple[str, Callable[[], None]]] = []
    with deps.uow() as tx:
        rows = tx.nudges.due(now)
        if not rows:
            return []
        incidents = {i.number: i for i in tx.incidents.list(numbers={r[0] for r in rows})}
        nudges: list[Nudge] = []
        for number, word, snoozed_until in rows:
            kind = parse_kind(word)
            incident = incidents.get(number)
            nudge = None
            if kind is not None and incident is not None and incident.channel_id:
                nudge = nudge_due(incident, kind, policy, snoozed_until, now)
            if nudge is not None:
                nudges.append(nudge)
            else:  # moved, snoozed, resolved or switched off: look again when due
                tx.nudges.reschedule(number, word, None if kind is None or incident is None
                                     else next_due(incident, kind, policy, snoozed_until, now))
        sent = tx.notifications.claimed(n.key for n in nudges)
        for nudge in nudges:
            if nudge.key in sent:  # this window's is out (or on its way): the next one
                tx.nudges.reschedule(nudge.number, nudge.kind, nudge.next_at)
            else:
                found.append((nudge.key, partial(_send, deps, nudge, now)))
        tx.commit()
    return found


class NudgeSkipped(Exception):
    """The incident moved between finding the nudge due and posting it: nothing was
    posted, so the tick must not count the key as sent (it releases the claim)."""


def _send(deps: Deps, nudge: Nudge, now: datetime) -> None:
    """Post the nudge unless the incident moved since it was found due (then its window
    is another, or none); either way the row moves on. `now` is the tick's instant, the
    one the nudge was found due at."""
    with deps.uow() as tx:
        incident = tx.incidents.get(nudge.number)
        snoozed_until = tx.nudges.snoozed_until(nudge.number, nudge.kind)
    current = nudge_due(incident, nudge.kind, deps.config.nudges, snoozed_until, now) \
        if incident is not None else None
    posted = incident is not None and current is not None and current.key == nudge.key
    if posted and incident is not None:
        deps.chat.post_nudge(incident, nudge)
    with deps.uow() as tx:
        tx.nudges.reschedule(nudge.number, nudge.kind, nudge.next_at if current is None
                             or current.key == nudge.key else current.due_at)
        tx.commit()
    if not posted:
        log.info("nudge %s skipped: the incident moved", nudge.key)
        raise NudgeSkipped(nudge.key)


def reconcile_nudges(deps: Deps) -> int:
    """Bring every open incident's rows up to the configuration (thresholds may have
    changed since the last start) and give incidents declared before nudges existed, or
    imported, their rows. Once per process start; returns the incidents seen."""
    with deps.uow() as tx:
        incidents = tx.incidents.list(open_only=True)
        for incident in incidents:
            tx.nudges.schedule(incident.number, schedule(incident, deps.config.nudges))
        tx.commit()
    return len(incidents)


@dataclass(frozen=True)
class Snoozed:
    incident: Incident
    kind: NudgeKind
    until: datetime
    by: str


def snooze_nudge(number: int, word: str, user: str, *, deps: Deps) -> Snoozed:
    """The nudge's Snooze button: nothing of that kind until `SNOOZE[kind]` from now.
    Who may: as for an update (people in the incident channel). Recorded with who and
    when (`nudges.snoozed_*`)."""
    kind = parse_kind(word)
    if kind is None:
        raise UserError("That button didn't say which reminder to snooze.")
    incident = uc.find_incident(uc.Target(number, None, "Snooze"), uow=deps.uow)
    authorize(Act.UPDATE, user, Subject(incident=incident), policy=deps.config.permissions,
              chat=deps.chat)
    now = deps.now()
    until = now + SNOOZE[kind]
    with deps.uow() as tx:
        tx.nudges.snooze(number, kind, until, user, now)
        tx.commit()
    return Snoozed(incident, kind, until, user)


def take_command(number: int, user: str, *, deps: Deps) -> uc.Outcome:
    """"I'll be commander": `user` takes the empty role, if they may assign roles (with
    no commander: anyone in the channel, by default). Checked on the locked row, so two
    people clicking at once make one commander; the later click is told who has it."""
    config = deps.config

    def check(incident: Incident) -> None:
        if incident.commander:
            raise UserError(Mention(incident.commander),
                            f" is already the commander of #{incident.number}.")
        authorize(Act.ROLE, user, Subject(incident=incident), policy=config.permissions,
                  chat=deps.chat)

    outcome = uc.change_incident(
        uc.Target(number, None, "I'll be commander"),
        partial(rules.assign_role, role="commander", assignee=user, user=user, now=deps.now()),
        uow=deps.uow, chat=deps.chat, announce=False, retopic=True, reannounce=True,
        check=check, nudges=config.nudges)
    uc.invite_new_role_holder(deps.chat, outcome.incident, user)
    return outcome
