"""Postmortem review and publishing with named people: ask reviewers (each gets a DM
with Approve / Request changes), record their verdicts, publish when enough approved
(summary to the announcement thread and the publish channel), reopen to revise, and
archive the incident channel once published and every open action item has an owner
and a due date. The rules are `bot.domain.reviews`; every step is a row in
`postmortem_reviews` and a `postmortem` event on the incident's timeline."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from bot.config import DebriefConfig
from bot.domain.factors import top_factor_lines
from bot.domain.incidents import EventKind, EventRecord, Incident
from bot.domain.permissions import Act
from bot.domain.postmortem import Postmortem, permalink
from bot.domain.reviews import (
    Missing,
    ReviewKind,
    ReviewRecord,
    ReviewState,
    check_publishable,
    decide,
    missing_for_archive,
    request_reviewers,
    review_state,
    top_factors,
)
from bot.domain.timeline import durations
from bot.errors import ChatError, UserError
from bot.services.permissions import Subject, authorize
from bot.services.ports import (
    Chat,
    PublishedSummary,
    ReviewRequest,
    UnitOfWork,
    UnitOfWorkFactory,
)

log = logging.getLogger(__name__)
FACTORS_SECTION = "contributing_factors"


@dataclass(frozen=True)
class ReviewRequested:
    """Reviewers asked (`asked`: new; `already`: asked before); `undelivered`: those
    whose DM Slack refused; the postmortem is now `status`."""

    number: int
    asked: tuple[str, ...]
    already: tuple[str, ...]
    status: str
    undelivered: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReviewDecided:
    """A reviewer's verdict, recorded (`repeated`: they had approved already)."""

    number: int
    kind: ReviewKind
    repeated: bool
    approvals: int
    required: int


@dataclass(frozen=True)
class Archiving:
    """What became of the incident channel after publishing (or an item change):
    `archived`; `waiting` for owners / due dates (`missing`); `off` in the config;
    `failed` (Slack's `error`); `none`: nothing to do (not published, or done before)."""

    state: Literal["archived", "waiting", "off", "failed", "none"]
    missing: tuple[Missing, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Published:
    number: int
    version: int | None
    posted: tuple[str, ...]      # where the summary went: "thread", the publish channel
    failed: tuple[str, ...]      # where Slack refused it
    archiving: Archiving


@dataclass(frozen=True)
class Reopened:
    number: int


def _reviews(tx: UnitOfWork, number: int) -> ReviewState:
    return review_state(tx.postmortems.reviews(number))


def channel_archived(tx: UnitOfWork, number: int) -> bool:
    """Whether Debrief archived the incident's channel after publishing (and it was not
    reopened since): changes to action items then leave the channel alone, since any
    post there would unarchive it."""
    return _reviews(tx, number).archived


def _drafted(tx: UnitOfWork, number: int) -> Postmortem:
    postmortem = tx.postmortems.get(number)
    if postmortem is None:
        raise UserError(f"Incident #{number} has no postmortem yet: run "
                        "`/incident postmortem` to draft one.")
    return postmortem


def _record(tx: UnitOfWork, incident: Incident, records: Sequence[ReviewRecord],
            event: EventRecord) -> Incident:
    """Store the review steps and their event on the (locked) incident."""
    tx.postmortems.add_reviews(incident.number, records)
    updated = replace(incident, events=(*incident.events, event))
    tx.incidents.save(updated)
    return updated


def _event(kind: ReviewKind, actor: str, now: datetime, version: int | None,
           **detail: str) -> EventRecord:
    shown = {"step": kind.value, **({"version": str(version)} if version else {}), **detail}
    return EventRecord(now, EventKind.POSTMORTEM, actor, shown)


def _tell_channel(chat: Chat, incident: Incident, event: EventRecord) -> None:
    """The incident channel hears each step; recorded either way."""
    if not incident.channel_id:
        return
    try:
        chat.post_event(incident, event, announce=False)
    except ChatError as exc:
        log.info("postmortem step on #%s recorded; channel not told: %s", incident.number,
                 exc.code)


def _locked(tx: UnitOfWork, number: int) -> Incident:
    incident = tx.incidents.get(number, for_update=True)
    if incident is None:
        raise UserError(f"There is no incident #{number}.")
    return incident


def _link(chat: Chat, incident: Incident, postmortem: Postmortem) -> str | None:
    """The latest posted draft message's permalink (built, no API call per message)."""
    posted = [v.message_ts for v in postmortem.versions if v.message_ts]
    try:
        workspace = chat.workspace_url()
    except ChatError:
        workspace = None
    return permalink(workspace, incident.channel_id, posted[-1]) if posted else None


def request_review(number: int, user: str, wanted: Sequence[str], *, uow: UnitOfWorkFactory,
                   chat: Chat, config: DebriefConfig, now: datetime) -> ReviewRequested:
    """Ask `wanted` to review (the caller may draft the postmortem: checked by the
    dispatcher); the postmortem goes in review. Without anyone named it only goes in
    review when approvals are not required or reviewers were asked before."""
    with uow() as tx:
        incident = _locked(tx, number)
        postmortem = _drafted(tx, number)
        state = _reviews(tx, number)
        version = postmortem.latest.version if postmortem.latest else None
        if wanted:
            records = request_reviewers(state, wanted, by=user, now=now, version=version)
        elif state.published:
            raise UserError("The postmortem is published; `/incident postmortem reopen` it "
                            "before asking for reviews.")
        elif not state.reviewers and config.postmortem.required_approvals > 0:
            records = request_reviewers(state, wanted, by=user, now=now, version=version)
        else:
            records = ()
        event = None
        if records:
            event = _event(ReviewKind.REQUESTED, user, now, version,
                           reviewers=" ".join(r.reviewer or "" for r in records))
            incident = _record(tx, incident, records, event)
        status = "in_review" if postmortem.status == "draft" else postmortem.status
        if status != postmortem.status:
            tx.postmortems.set_status(number, status, now)
        tx.commit()
    asked = tuple(r.reviewer or "" for r in records)
    if event is not None:
        _tell_channel(chat, incident, event)
    request = ReviewRequest(incident, version, _link(chat, incident, postmortem), user)
    undelivered = []
    for reviewer in asked:
        try:
            chat.ask_review(reviewer, request)
        except ChatError as exc:
            log.warning("review request for #%s not sent to %s: %s", number, reviewer, exc.code)
            undelivered.append(reviewer)
    return ReviewRequested(number, asked, tuple(u for u in dict.fromkeys(wanted)
                                                 if u not in asked), status, tuple(undelivered))


def decide_review(number: int, user: str, kind: ReviewKind, *, uow: UnitOfWorkFactory,
                  chat: Chat, config: DebriefConfig, now: datetime,
                  comment: str = "") -> ReviewDecided:
    """Approve or request changes: the requested reviewers only (bot.domain.reviews)."""
    with uow() as tx:
        incident = _locked(tx, number)
        postmortem = _drafted(tx, number)
        state = _reviews(tx, number)
        version = postmortem.latest.version if postmortem.latest else None
        record = decide(state, user, kind, now=now, version=version, comment=comment)
        event = None
        if record is not None:
            event = _event(kind, user, now, version,
                           **({"comment": record.comment} if record.comment else {}))
            incident = _record(tx, incident, [record], event)
            state = review_state([*tx.postmortems.reviews(number)])
        tx.commit()
    if event is not None:
        _tell_channel(chat, incident, event)
    return ReviewDecided(number, kind, record is None, len(state.approvals),
                         config.postmortem.required_approvals)


def _check_may(act: Act, number: int, user: str, *, uow: UnitOfWorkFactory, chat: Chat,
               config: DebriefConfig) -> None:
    """Publishing and reopening: the reviewers, the commander, incident admins (by
    default), asked before anything is locked."""
    with uow() as tx:
        incident = tx.incidents.get(number)
        if incident is None:
            raise UserError(f"There is no incident #{number}.")
        state = _reviews(tx, number)
    authorize(act, user, Subject(incident=incident, reviewers=state.reviewers),
              policy=config.permissions, chat=chat)


def publish_postmortem(number: int, user: str, *, uow: UnitOfWorkFactory, chat: Chat,
                       config: DebriefConfig, now: datetime) -> Published:
    """Publish once enough reviewers approved: recorded, the summary posted to the
    announcement thread and the publish channel, then the channel archived if every
    open action item has an owner and a due date."""
    _check_may(Act.PUBLISH_POSTMORTEM, number, user, uow=uow, chat=chat, config=config)
    with uow() as tx:
        incident = _locked(tx, number)
        postmortem = _drafted(tx, number)
        state = _reviews(tx, number)
        check_publishable(state, config.postmortem.required_approvals)
        version = postmortem.latest.version if postmortem.latest else None
        event = _event(ReviewKind.PUBLISHED, user, now, version)
        incident = _record(tx, incident, [ReviewRecord(ReviewKind.PUBLISHED, user, now,
                                                       version=version)], event)
        tx.postmortems.set_status(number, "published", now)
        factors = tx.postmortems.sections(number).get(FACTORS_SECTION)
        structured = tx.postmortems.factors(number)
        tx.commit()
    _tell_channel(chat, incident, event)
    spans = durations(incident, config.statuses, config.timeline.mitigated_status)
    summary = PublishedSummary(
        incident, version, spans.to_resolve,
        # the structured factors when there are any, else the prose section's first lines
        top_factor_lines(structured, config.postmortem.factor_categories)
        or top_factors(factors.text if factors else ""),
        tuple(incident.action_items), _link(chat, incident, postmortem), user, state.approvals)
    targets: list[tuple[str, str, str | None]] = []
    if not incident.private:  # a private incident's summary stays in its own channel
        if incident.announce_channel_id and incident.announce_ts:
            targets.append(("thread", incident.announce_channel_id, incident.announce_ts))
        if config.postmortem.publish_channel:
            targets.append((config.postmortem.publish_channel,
                            config.postmortem.publish_channel, None))
    posted, failed = [], []
    for name, channel, thread in targets:
        try:
            chat.post_published(channel, summary, thread_ts=thread)
            posted.append(name)
        except ChatError as exc:
            log.warning("published summary of #%s not posted to %s: %s", number, name, exc.code)
            failed.append(name)
    archiving = archive_if_ready(number, user, uow=uow, chat=chat, config=config, now=now)
    return Published(number, version, tuple(posted), tuple(failed), archiving)


def archive_if_ready(number: int, user: str, *, uow: UnitOfWorkFactory, chat: Chat,
                     config: DebriefConfig, now: datetime) -> Archiving:
    """Archive the incident channel when the postmortem is published and no open action
    item lacks an owner or a due date (`postmortem.archive_on_publish`). Called after
    publishing and after an action item changes, so the last missing owner or date
    archives it."""
    if not config.postmortem.archive_on_publish:
        return Archiving("off")
    with uow() as tx:
        incident = tx.incidents.get(number)
        state = _reviews(tx, number)
    if incident is None or not incident.channel_id or not state.published or state.archived:
        return Archiving("none")
    missing = missing_for_archive(incident.action_items)
    if missing:
        return Archiving("waiting", missing)
    try:
        chat.archive_channel(incident.channel_id)
    except ChatError as exc:
        if exc.code != "already_archived":
            log.warning("channel of #%s not archived: %s", number, exc.code)
            return Archiving("failed", error=exc.code)
    with uow() as tx:
        incident = _locked(tx, number)
        if not _reviews(tx, number).archived:
            _record(tx, incident, [ReviewRecord(ReviewKind.ARCHIVED, user, now)],
                    _event(ReviewKind.ARCHIVED, user, now, None))
            tx.commit()
    return Archiving("archived")


def reopen_postmortem(number: int, user: str, *, uow: UnitOfWorkFactory, chat: Chat,
                      config: DebriefConfig, now: datetime) -> Reopened:
    """Published → draft, to revise it (approvals stand; see bot.domain.reviews). The
    channel hears it, which unarchives an archived channel."""
    _check_may(Act.APPROVE_POSTMORTEM, number, user, uow=uow, chat=chat, config=config)
    with uow() as tx:
        incident = _locked(tx, number)
        postmortem = _drafted(tx, number)
        if postmortem.status != "published":
            raise UserError(f"The postmortem of #{number} is not published "
                            f"(it is {postmortem.status.replace('_', ' ')}): nothing to reopen.")
        version = postmortem.latest.version if postmortem.latest else None
        event = _event(ReviewKind.REOPENED, user, now, version)
        incident = _record(tx, incident, [ReviewRecord(ReviewKind.REOPENED, user, now,
                                                       version=version)], event)
        tx.postmortems.set_status(number, "draft", now)
        tx.commit()
    _tell_channel(chat, incident, event)
    return Reopened(number)


def review_report(number: int, *, uow: UnitOfWorkFactory,
                  config: DebriefConfig) -> dict[str, object]:
    """The review part of `debrief postmortem show N --json`."""
    with uow() as tx:
        records = tx.postmortems.reviews(number)
    state = review_state(records)

    def shown(r: ReviewRecord) -> dict[str, object]:
        return {"by": r.actor, "at": r.at.isoformat(), "version": r.version,
                **({"comment": r.comment} if r.kind is ReviewKind.CHANGES_REQUESTED else {})}

    return {
        "required_approvals": config.postmortem.required_approvals,
        "reviewers": [{"user": r.reviewer, "requested_by": r.actor, "at": r.at.isoformat()}
                      for r in records if r.kind is ReviewKind.REQUESTED],
        "approved_by": list(state.approvals),
        "changes_requested_by": list(state.changes_requested),
        "reviews": [{"kind": r.kind.value, **shown(r)} for r in records
                    if r.kind in (ReviewKind.APPROVED, ReviewKind.CHANGES_REQUESTED)],
        "state_changes": [{"kind": r.kind.value, **shown(r)} for r in records
                          if r.kind in (ReviewKind.PUBLISHED, ReviewKind.REOPENED,
                                        ReviewKind.ARCHIVED)],
        "archived": state.archived,
    }
