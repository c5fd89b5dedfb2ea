"""Incident use cases: declare, set up Slack, and every change after that.

Pattern for a change: lock the incident row, apply a pure rule (the state rules are
in `bot.domain.incidents`), append its event, commit; only then touch Slack. A Slack
failure after the commit never undoes the recorded change: the person is told what
did not reach Slack and how to retry.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Literal

from bot import observability
from bot.config import DebriefConfig
from bot.domain.incidents import EventKind, EventRecord, Incident, channel_name, edit
from bot.domain.nudges import NudgePolicy
from bot.domain.nudges import schedule as nudge_schedule
from bot.domain.permissions import Act
from bot.domain.rotations import who
from bot.errors import ChatError, UserError
from bot.services.permissions import Subject, authorize
from bot.services.ports import Chat, Deps, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)
MAX_NAME_ATTEMPTS = 20


@dataclass(frozen=True)
class DeclareRequest:
    title: str
    severity: str
    declared_by: str
    description: str = ""
    commander: str | None = None
    private: bool = False
    test: bool = False  # a drill: recorded on the declaration, left out of stats and lists
    tags: tuple[str, ...] = ()  # normalised (bot/domain/tags.py): the parser or form checked them


@dataclass(frozen=True)
class Problem:
    """A Slack step that failed (`code`: Slack's error) while the recorded change stands."""

    step: str
    code: str


@dataclass(frozen=True)
class Stopped:
    """Set-up stopped at `step`: `cause` is "slack" (`detail`: Slack's error code),
    "storage-read" (the incident could not be read back), "storage" or "internal"
    (`detail`: the exception's type name)."""

    step: str
    cause: Literal["slack", "storage-read", "storage", "internal"]
    detail: str = ""


@dataclass
class Outcome:
    """What a declare, a set-up (retry) or a change did, for the person who asked; the
    Slack layer words it (`bot.slack.messages.outcome_text`). `event` is the change
    recorded (None for a set-up); `stopped` and `busy` say a set-up did not finish."""

    incident: Incident
    problems: list[Problem] = field(default_factory=list)
    event: EventRecord | None = None
    stopped: Stopped | None = None
    busy: bool = False


@dataclass(frozen=True)
class Target:
    """Which incident a command is about: an explicit `#N`, else the channel's incident."""

    ref: int | None
    channel_id: str | None
    usage: str


def _not_found(target: Target) -> UserError:
    if target.ref is not None:
        return UserError(f"There is no incident #{target.ref}. `/incident list` shows open ones.")
    return UserError(
        f"This isn't an incident channel. Run it in one, or name the incident: `{target.usage}`."
    )


def find_number(
    uow: UnitOfWorkFactory, *, ref: int | None, channel_id: str | None, usage: str
) -> int:
    """The incident a command is about: an explicit `#N`, else the channel's incident."""
    target = Target(ref, channel_id, usage)
    with uow() as tx:
        if ref is not None:
            if not tx.incidents.exists(ref):
                raise _not_found(target)
            return ref
        number = tx.incidents.number_for_channel(channel_id) if channel_id else None
    if number is None:
        raise _not_found(target)
    return number


def _find(tx: UnitOfWork, target: Target, hidden_from_caller: Callable[[Incident], bool] | None,
          *, for_update: bool = False) -> Incident:
    """The incident a command is about, in one read (`#N`, else the channel's). One named
    by `#N` that is `hidden_from_caller` (private, and they are not a member) is answered
    as if it did not exist: its number alone must not reveal it."""
    incident = (tx.incidents.get(target.ref, for_update=for_update) if target.ref is not None
                else tx.incidents.get_for_channel(target.channel_id, for_update=for_update)
                if target.channel_id else None)
    if incident is None or (target.ref is not None and hidden_from_caller is not None
                            and hidden_from_caller(incident)):
        raise _not_found(target)
    return incident


def find_incident(target: Target, *, uow: UnitOfWorkFactory,
                  hidden_from_caller: Callable[[Incident], bool] | None = None) -> Incident:
    """`_find` in its own unit of work, for commands that read before they act."""
    with uow() as tx:
        return _find(tx, target, hidden_from_caller)


def declare_incident(
    req: DeclareRequest, *, uow: UnitOfWorkFactory, chat: Chat, config: DebriefConfig,
    now: datetime,
) -> Outcome:
    """If `declared_by` may declare (anyone, by default): record first (so the incident
    exists whatever Slack does), then set Slack up."""
    authorize(Act.DECLARE, req.declared_by, Subject(), policy=config.permissions, chat=chat)
    commander = req.commander or (req.declared_by if config.declarer_is_commander else None)
    declared = {"title": req.title, "severity": req.severity}
    if req.test:
        declared["test"] = "yes"
    if req.tags:
        declared["tags"] = " ".join(req.tags)
    events = [EventRecord(now, EventKind.DECLARED, req.declared_by, declared)]
    if commander:
        events.append(EventRecord(now, EventKind.ROLE, req.declared_by,
                                  {"role": "commander", "user": commander}))
    events += [EventRecord(now, EventKind.ONCALL, req.declared_by, {"schedule": name, "user": user})
               for name, user in _on_call_now(config, uow, chat, now)]
    with uow() as tx:
        number = tx.incidents.allocate_number()
        incident = Incident(
            number=number, title=req.title, severity=req.severity,
            status=config.statuses[0], description=req.description,
            declared_at=now, declared_by=req.declared_by,
            roles={"commander": commander} if commander else {}, events=tuple(events),
            private=req.private, tags=req.tags,
        )
        tx.incidents.add(incident)
        tx.nudges.schedule(number, nudge_schedule(incident, config.nudges))
        tx.commit()
    return set_up_incident(number, uow=uow, chat=chat, config=config, resume=False,
                           recorded=incident)


def _on_call_now(config: DebriefConfig, uow: UnitOfWorkFactory, chat: Chat,
                 now: datetime) -> list[tuple[str, str]]:
    """Whoever is on call now for the schedules named in `oncall.invite_on_declare`."""
    found: list[tuple[str, str]] = []
    for name in config.oncall.invite_on_declare:
        with uow() as tx:
            schedule = tx.schedules.get(name)
        member = who(schedule, now).user if schedule else None
        if member is None:
            continue
        try:
            user = chat.resolve_user(member)
        except ChatError as exc:
            log.warning("on-call %s for %s not resolved: %s", member, name, exc.code)
            continue
        if user:
            found.append((name, user))
    return found


def _save(uow: UnitOfWorkFactory, base: Incident, **changes: object) -> Incident:
    """Record Slack ids as soon as Slack gives them: one UPDATE that also returns the
    stored scalars, so what set-up shows next includes any change made meanwhile."""
    with uow() as tx:
        stored = tx.incidents.set_fields(base.number, changes)
        tx.commit()
    return replace(base, **stored)  # type: ignore[arg-type]


@dataclass
class _Progress:
    """Where set-up is, so a failure can name the step (and whether it was storage's)."""

    incident: Incident
    step: str = ""
    storage: bool = False

    def at(self, step: str, *, storage: bool = False) -> None:
        self.step, self.storage = step, storage


_SETUP_LOCKS: dict[int, threading.Lock] = {}
_SETUP_LOCKS_GUARD = threading.Lock()


def set_up_incident(
    number: int, *, uow: UnitOfWorkFactory, chat: Chat, config: DebriefConfig,
    resume: bool = True, recorded: Incident | None = None,
) -> Outcome:
    """One set-up of an incident at a time in this process: two `/incident retry`s sent
    together (a double submit) would otherwise both find no card and both post one. The
    second does not wait (a burst of retries must not hold every worker thread): it says
    set-up is under way."""
    with _SETUP_LOCKS_GUARD:
        lock = _SETUP_LOCKS.setdefault(number, threading.Lock())
    if not lock.acquire(blocking=False):
        with uow() as tx:
            incident = tx.incidents.get(number)
        assert incident is not None
        return Outcome(incident, busy=True)
    try:
        return _set_up_incident(number, uow=uow, chat=chat, config=config, resume=resume,
                                recorded=recorded)
    finally:
        lock.release()


def _set_up_incident(
    number: int, *, uow: UnitOfWorkFactory, chat: Chat, config: DebriefConfig,
    resume: bool, recorded: Incident | None,
) -> Outcome:
    """Create whatever Slack pieces are still missing (channel, card, announcement).

    Each finished piece is saved at once, so a retry resumes where it stopped. When
    `resume` (`/incident retry`), a piece whose id never reached the database (it failed
    between Slack's answer and the commit) is first looked for in Slack itself: the
    channel by its deterministic name, the card and announcement by their message
    metadata. So a retry never makes a second channel, card, pin or announcement.
    """
    observability.incident.set(number)  # on every log line from here on
    problems: list[Problem] = []
    if recorded is None:  # a retry reads it; a declare has just written it
        with uow() as tx:
            recorded = tx.incidents.get(number)
        assert recorded is not None
    progress = _Progress(recorded)
    try:
        _set_up(progress, uow=uow, chat=chat, config=config, resume=resume, problems=problems)
    except ChatError as exc:
        log.warning("Slack pieces of incident %s not created: set-up stopped at %s (%s)",
                    number, progress.step, exc.code)
        return Outcome(progress.incident, stopped=Stopped(progress.step, "slack", exc.code))
    except Exception as exc:
        # Deliberately broad: the incident is recorded whatever failed here (typically the
        # database, between a Slack call and saving its result), and only this function
        # can tell the person its number and that a retry finishes it.
        log.exception("set-up of incident %s stopped at %s", number, progress.step)
        cause: Literal["storage", "internal"] = "storage" if progress.storage else "internal"
        return Outcome(progress.incident,
                       stopped=Stopped(progress.step, cause, type(exc).__name__))
    return Outcome(progress.incident, problems)


def _set_up(progress: _Progress, *, uow: UnitOfWorkFactory, chat: Chat, config: DebriefConfig,
            resume: bool, problems: list[Problem]) -> None:
    """The set-up steps in order. A failed channel (Slack) or any failed save (storage)
    stops here by raising; any other Slack failure is noted in `problems` and set-up goes on."""
    incident = progress.incident
    if incident.channel_id is None:
        progress.at("creating its channel")
        channel_id, name = _create_channel(incident, chat, config)
        progress.at("saving its channel", storage=True)
        incident = progress.incident = _save(uow, incident, channel_id=channel_id,
                                             channel_name=name)
    assert incident.channel_id is not None
    channel_id = incident.channel_id
    people = sorted({incident.declared_by, *incident.roles.values(),
                     *(e.detail["user"] for e in incident.events if e.kind is EventKind.ONCALL)})
    steps: list[tuple[str, str, Callable[[], None]]] = [
        ("invite", "inviting people", lambda: chat.invite(channel_id, people)),
        ("topic", "setting the topic", lambda: chat.set_topic(channel_id, incident)),
    ]
    for label, step, action in steps:
        progress.at(step)
        try:
            action()
        except ChatError as exc:
            problems.append(Problem(label, exc.code))
    had_card = incident.card_ts is not None
    if incident.card_ts is None:
        progress.at("posting the summary card")
        try:
            ts = (chat.find_card(channel_id, incident) if resume else None) \
                or chat.post_card(channel_id, incident)
        except ChatError as exc:
            problems.append(Problem("summary card", exc.code))
        else:
            progress.at("saving the summary card", storage=True)
            incident = progress.incident = _save(uow, incident, card_ts=ts)
    if incident.card_ts is not None:
        progress.at("pinning the summary card")
        try:
            chat.pin(channel_id, incident.card_ts)  # already pinned counts as done
        except ChatError as exc:
            problems.append(Problem("pin", exc.code))
    if had_card and resume:
        # A retry also brings an existing card up to date: a change whose card update
        # failed tells the person to retry, and no later change may touch the card
        # (changes skip it when what it shows is unchanged).
        progress.at("updating the summary card")
        try:
            chat.update_card(incident)
        except ChatError as exc:
            problems.append(Problem("summary card", exc.code))
    quiet = incident.private and config.private_announcement == "none"
    if incident.announce_ts is None and config.announce_channel and not quiet:
        where = config.announce_channel
        progress.at(f"announcing it in {where}")
        try:
            found = chat.find_announcement(where, incident) if resume else None
            announce_channel, announce_ts = found or chat.announce(where, incident)
        except ChatError as exc:
            problems.append(Problem(f"announcement in {where}", exc.code))
        else:
            progress.at("saving the announcement", storage=True)
            progress.incident = _save(uow, incident, announce_channel_id=announce_channel,
                                      announce_ts=announce_ts)


def _create_channel(incident: Incident, chat: Chat, config: DebriefConfig) -> tuple[str, str]:
    """Try the deterministic names in order. A taken name may be this incident's own
    channel: on a retry, one whose id was never saved; on a declare, one Slack made and
    then failed to confirm (the SDK re-sends after a 5xx, and the re-send is answered
    `name_taken`). Adopt it rather than make `-2`."""
    for attempt in range(MAX_NAME_ATTEMPTS):
        name = channel_name(config.channel_prefix, incident.declared_at, incident.number,
                            incident.title, attempt)
        try:
            return chat.create_channel(name, private=incident.private), name
        except ChatError as exc:
            if exc.code != "name_taken":
                raise
        found = chat.find_incident_channel(name, incident)
        if found is not None:
            log.info("adopting #%s, created for incident %s before", name, incident.number)
            return found, name
    raise ChatError("conversations.create", "name_taken")


Rule = Callable[[Incident], tuple[Incident, EventRecord]]


def change_incident(
    target: Target, rule: Rule, *, uow: UnitOfWorkFactory, chat: Chat, announce: bool,
    retopic: bool, reannounce: bool = False,
    hidden_from_caller: Callable[[Incident], bool] | None = None,
    check: Callable[[Incident], object] | None = None, nudges: NudgePolicy | None = None,
) -> Outcome:
    """Find the incident and lock its row in one read, apply `rule`, commit, then bring
    Slack up to date (`reannounce`: the announcement too, for what it shows: title,
    severity, commander, cancelled). An incident named by `#N` that is
    `hidden_from_caller` (private, and they are not a member) is answered as if it did
    not exist; `check` (the permission check) runs on the locked row and may raise
    `Refused`, which rolls back: one read serves finding, checking and changing.
    `nudges`: a change that restarts a nudge clock (an update, a status or severity
    change, a commander, resolving) stores when each nudge is next due (one statement;
    none for the changes that restart nothing)."""
    with uow() as tx:
        current = _find(tx, target, hidden_from_caller, for_update=True)
        observability.incident.set(current.number)
        if check is not None:
            check(current)
        updated, event = rule(current)
        updated = replace(updated, events=(*current.events, event))
        tx.incidents.save(updated)
        if updated.is_resolved != current.is_resolved or updated.title != current.title:
            # Attached alerts follow: resolved, they page again; their messages say so.
            tx.alerts.touch_incident(updated.number)
        if nudges is not None:
            before, after = nudge_schedule(current, nudges), nudge_schedule(updated, nudges)
            moved = {kind: at for kind, at in after.items() if before.get(kind) != at}
            if moved:
                tx.nudges.schedule(updated.number, moved)
        tx.commit()
    problems: list[Problem] = []
    if updated.channel_id:
        channel_id = updated.channel_id
        calls: list[tuple[str, Callable[[], None]]] = [
            ("summary card", lambda: chat.update_card(updated, before=current)),
            ("channel message", lambda: chat.post_event(updated, event, announce=announce)),
        ]
        if retopic:
            calls.insert(1, ("topic", lambda: chat.set_topic(channel_id, updated)))
        if reannounce and updated.announce_ts:
            calls.append(("announcement", lambda: chat.update_announcement(updated)))
        for what, call in calls:
            try:
                call()
            except ChatError as exc:
                problems.append(Problem(what, exc.code))
    return Outcome(updated, problems, event=event)


def visible_to(incidents: list[Incident], user_id: str, chat: Chat, *,
               max_asked: int | None = None) -> list[Incident]:
    """`incidents` without the private ones `user_id` is not a member of (Slack's
    `conversations.members`, asked once per private incident; a private incident whose
    members cannot be read is hidden). The declarer and role holders were invited, so
    they are not asked about. `max_asked`: at most that many questions, for the newest
    private incidents (the Home tab's bound); older ones past it are hidden."""
    def invited(incident: Incident) -> bool:
        return user_id == incident.declared_by or user_id in incident.roles.values()

    asked = set(sorted((i.number for i in incidents if i.private and not invited(i)),
                       reverse=True)[:max_asked])
    shown: list[Incident] = []
    for incident in incidents:
        if incident.private and not invited(incident):
            if incident.number not in asked:
                continue
            try:
                if not incident.channel_id or user_id not in chat.channel_members(
                        incident.channel_id):
                    continue
            except ChatError as exc:
                log.info("members of private #%s unknown (%s): not listed", incident.number,
                         exc.code)
                continue
        shown.append(incident)
    return shown


def follow_title(outcome: Outcome, *, uow: UnitOfWorkFactory, chat: Chat,
                 config: DebriefConfig) -> Outcome:
    """After a corrected title, with `rename_channel: true`: the channel takes the name a
    declaration with that title would have had (`-2`, `-3`… when taken). Off by default:
    people find channels by name, and a rename is never required."""
    incident = outcome.incident
    last = incident.events[-1] if incident.events else None
    if not (config.rename_channel and incident.channel_id and last
            and last.kind is EventKind.EDITED and "title" in last.detail):
        return outcome
    for attempt in range(MAX_NAME_ATTEMPTS):
        name = channel_name(config.channel_prefix, incident.declared_at, incident.number,
                            incident.title, attempt)
        if name == incident.channel_name:
            return outcome
        try:
            chat.rename_channel(incident.channel_id, name)
        except ChatError as exc:
            if exc.code == "name_taken":
                continue
            outcome.problems.append(Problem("renaming the channel", exc.code))
            return outcome
        outcome.incident = _save(uow, incident, channel_name=name)
        return outcome
    outcome.problems.append(Problem("renaming the channel", "name_taken"))
    return outcome


def edit_incident(number: int, changes: dict[str, str], user: str, *, deps: Deps) -> Outcome:
    """The edit form's corrections, if `user` may edit: one event recording each old
    value; the card, topic and announcement follow."""
    rule = partial(edit, changes=changes, user=user, now=deps.now(),
                   severities=deps.config.severity_names)
    outcome = change_incident(
        Target(number, None, "/incident edit"), rule, uow=deps.uow, chat=deps.chat,
        announce=True, retopic=True, reannounce=True,
        check=lambda incident: authorize(Act.EDIT, user, Subject(incident=incident),
                                         policy=deps.config.permissions, chat=deps.chat),
        nudges=deps.config.nudges)
    return follow_title(outcome, uow=deps.uow, chat=deps.chat, config=deps.config)


def invite_new_role_holder(chat: Chat, incident: Incident, user_id: str) -> None:
    """Invite the new role holder unless they are in the channel already (an invite
    for a member is a wasted call that Slack answers `already_in_channel`)."""
    if incident.channel_id:
        try:
            if user_id in chat.channel_members(incident.channel_id):
                return
            chat.invite(incident.channel_id, [user_id])
        except ChatError as exc:
            log.info("could not invite %s to #%s: %s", user_id, incident.number, exc.code)
