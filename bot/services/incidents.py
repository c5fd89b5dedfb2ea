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

from bot import observability
from bot.config import DebriefConfig
from bot.domain.incidents import EventKind, EventRecord, Incident, channel_name, edit
from bot.domain.permissions import Act
from bot.domain.rotations import who
from bot.errors import ChatError, UserError
from bot.services.permissions import Subject, authorize
from bot.services.ports import Chat, Deps, UnitOfWorkFactory

log = logging.getLogger(__name__)
MAX_NAME_ATTEMPTS = 20


@dataclass(frozen=True)
class DeclareRequest:
    title: str
    severity: str
    declared_by: str
    description: str = ""
    commander: str | None = None
    test: bool = False  # a drill: recorded on the declaration, left out of stats and lists


@dataclass
class Outcome:
    """What a use case tells the person who asked (an ephemeral reply)."""

    incident: Incident
    message: str
    problems: list[str] = field(default_factory=list)


def find_number(
    uow: UnitOfWorkFactory, *, ref: int | None, channel_id: str | None, usage: str
) -> int:
    """The incident a command is about: an explicit `#N`, else the channel's incident."""
    with uow() as tx:
        if ref is not None:
            if tx.incidents.get(ref) is None:
                raise UserError(f"There is no incident #{ref}. `/incident list` shows open ones.")
            return ref
        number = tx.incidents.number_for_channel(channel_id) if channel_id else None
    if number is None:
        raise UserError(
            f"This isn't an incident channel. Run it in one, or name the incident: `{usage}`."
        )
    return number


def declare_incident(
    req: DeclareRequest, *, uow: UnitOfWorkFactory, chat: Chat, config: DebriefConfig,
    now: datetime,
) -> Outcome:
    """If `declared_by` may declare (anyone, by default): record first (so the incident
    exists whatever Slack does), then set Slack up."""
    authorize(Act.DECLARE, req.declared_by, Subject(), policy=config.permissions, chat=chat)
    commander = req.commander or req.declared_by
    declared = {"title": req.title, "severity": req.severity}
    if req.test:
        declared["test"] = "yes"
    events = [EventRecord(now, EventKind.DECLARED, req.declared_by, declared)]
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
            roles={"commander": commander}, events=tuple(events),
        )
        tx.incidents.add(incident)
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


def _save(uow: UnitOfWorkFactory, number: int, **changes: object) -> Incident:
    with uow() as tx:
        current = tx.incidents.get(number, for_update=True)
        assert current is not None
        updated = replace(current, **changes)  # type: ignore[arg-type]
        tx.incidents.save(updated)
        tx.commit()
    return updated


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
        return Outcome(incident, (
            f"Incident *#{number}* is being set up right now. If something is still missing "
            f"once that is done, run `/incident retry #{number}` again."), ["busy"])
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
    progress = _Progress(recorded) if recorded else None
    problems: list[str] = []
    try:
        with uow() as tx:
            incident = tx.incidents.get(number)
        assert incident is not None
    except Exception:
        if progress is None:
            raise  # a retry that cannot read the incident: nothing done, nothing to finish
        progress.at("reading it back", storage=True)
        log.exception("set-up of incident %s stopped at %s", number, progress.step)
        return _stopped(progress, "the database didn't answer", "storage")
    progress = _Progress(incident)
    try:
        _set_up(progress, uow=uow, chat=chat, config=config, resume=resume, problems=problems)
    except ChatError as exc:
        log.warning("Slack pieces of incident %s not created: set-up stopped at %s (%s)",
                    number, progress.step, exc.code)
        return _stopped(progress, f"Slack said {exc.explained}", exc.code)
    except Exception as exc:
        # Deliberately broad: the incident is recorded whatever failed here (typically the
        # database, between a Slack call and saving its result), and only this function
        # can tell the person its number and that a retry finishes it.
        log.exception("set-up of incident %s stopped at %s", number, progress.step)
        reason = (f"the database didn't save it: `{type(exc).__name__}`" if progress.storage
                  else f"an unexpected `{type(exc).__name__}`, logged")
        return _stopped(progress, reason, "storage" if progress.storage else "internal")
    incident = progress.incident
    message = f"Declared incident *#{number}* in <#{incident.channel_id}>."
    if problems:
        message += (
            f" Some steps failed ({'; '.join(problems)}); run `/incident retry #{number}` "
            "to try them again."
        )
    return Outcome(incident, message, problems)


def _stopped(progress: _Progress, reason: str, code: str) -> Outcome:
    number = progress.incident.number
    return Outcome(progress.incident, (
        f"Incident *#{number}* was recorded, but setting it up in Slack stopped at "
        f"{progress.step} ({reason}). Run `/incident retry #{number}` to finish it."
    ), [code])


def _set_up(progress: _Progress, *, uow: UnitOfWorkFactory, chat: Chat, config: DebriefConfig,
            resume: bool, problems: list[str]) -> None:
    """The set-up steps in order. A failed channel (Slack) or any failed save (storage)
    stops here by raising; any other Slack failure is noted in `problems` and set-up goes on."""
    incident = progress.incident
    number = incident.number
    if incident.channel_id is None:
        progress.at("creating its channel")
        channel_id, name = _create_channel(incident, chat, config)
        progress.at("saving its channel", storage=True)
        incident = progress.incident = _save(uow, number, channel_id=channel_id,
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
            problems.append(f"{label}: {exc.explained}")
    if incident.card_ts is None:
        progress.at("posting the summary card")
        try:
            ts = (chat.find_card(channel_id, incident) if resume else None) \
                or chat.post_card(channel_id, incident)
        except ChatError as exc:
            problems.append(f"summary card: {exc.explained}")
        else:
            progress.at("saving the summary card", storage=True)
            incident = progress.incident = _save(uow, number, card_ts=ts)
    if incident.card_ts is not None:
        progress.at("pinning the summary card")
        try:
            chat.pin(channel_id, incident.card_ts)  # already pinned counts as done
        except ChatError as exc:
            problems.append(f"pin: {exc.explained}")
    if incident.announce_ts is None and config.announce_channel:
        where = config.announce_channel
        progress.at(f"announcing it in {where}")
        try:
            found = chat.find_announcement(where, incident) if resume else None
            announce_channel, announce_ts = found or chat.announce(where, incident)
        except ChatError as exc:
            problems.append(f"announcement in {where}: {exc.explained}")
        else:
            progress.at("saving the announcement", storage=True)
            progress.incident = _save(uow, number, announce_channel_id=announce_channel,
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
            return chat.create_channel(name), name
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
    number: int, rule: Rule, *, uow: UnitOfWorkFactory, chat: Chat, announce: bool,
    retopic: bool, reannounce: bool = False,
) -> Outcome:
    """Apply `rule` under a row lock, commit, then bring Slack up to date (`reannounce`:
    the announcement too, for what it shows: title, severity, commander, cancelled)."""
    observability.incident.set(number)
    with uow() as tx:
        current = tx.incidents.get(number, for_update=True)
        assert current is not None
        updated, event = rule(current)
        updated = replace(updated, events=(*current.events, event))
        tx.incidents.save(updated)
        tx.commit()
    problems: list[str] = []
    if updated.channel_id:
        channel_id = updated.channel_id
        calls: list[tuple[str, Callable[[], None]]] = [
            ("summary card", lambda: chat.update_card(updated)),
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
                problems.append(f"{what}: {exc.explained}")
    message = f"Incident *#{number}*: {event.kind.replace('_', ' ')} recorded."
    if problems:
        message = (
            f"Saved, but Slack didn't take every change ({'; '.join(problems)}). "
            f"`/incident retry #{number}` repairs the channel set-up."
        )
    return Outcome(updated, message, problems)


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
            outcome.problems.append(f"channel name: {exc.explained}")
            outcome.message += f" The channel keeps its name (Slack said {exc.explained})."
            return outcome
        outcome.incident = _save(uow, incident.number, channel_name=name)
        return outcome
    outcome.message += " The channel keeps its name: every name for that title is taken."
    return outcome


def edit_incident(number: int, changes: dict[str, str], user: str, *, deps: Deps) -> Outcome:
    """The edit form's corrections, if `user` may edit: one event recording each old
    value; the card, topic and announcement follow."""
    with deps.uow() as tx:
        incident = tx.incidents.get(number)
    if incident is None:
        raise UserError(f"There is no incident #{number}.")
    authorize(Act.EDIT, user, Subject(incident=incident), policy=deps.config.permissions,
              chat=deps.chat)
    rule = partial(edit, changes=changes, user=user, now=deps.now(),
                   severities=deps.config.severity_names)
    outcome = change_incident(number, rule, uow=deps.uow, chat=deps.chat, announce=True,
                              retopic=True, reannounce=True)
    return follow_title(outcome, uow=deps.uow, chat=deps.chat, config=deps.config)


def invite_new_role_holder(chat: Chat, incident: Incident, user_id: str) -> None:
    if incident.channel_id:
        try:
            chat.invite(incident.channel_id, [user_id])
        except ChatError as exc:
            log.info("could not invite %s to #%s: %s", user_id, incident.number, exc.code)
