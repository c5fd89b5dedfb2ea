"""Structured contributing factors: add one (the "Add contributing factor" modal or
`/incident postmortem factor <category> <text>`), remove one (kept, marked removed), list
them. Who may: as for writing the postmortem (`draft_postmortem`). Each change is an
event on the incident's timeline and re-renders the draft in place, like saving the
"Write postmortem" modal; the blameless checker reads a new description for its writer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from bot.config import DebriefConfig
from bot.domain.blameless import Finding, lint_text
from bot.domain.factors import (
    MAX_FACTORS,
    Factor,
    FactorForm,
    check_factor,
    check_room,
    diff_factors,
    links_text,
    parse_factors_markdown,
    resolve_factor,
)
from bot.domain.incidents import EventKind, EventRecord, Incident
from bot.domain.permissions import Act
from bot.domain.timeline import TimelineEntry
from bot.errors import UserError
from bot.services.permissions import Subject, authorize
from bot.services.ports import Chat, Deps, UnitOfWork, UnitOfWorkFactory
from bot.services.postmortems import (
    Draft,
    _check_not_published,
    _draft_message,
    _names,
    draft_postmortem,
    factor_labels,
)
from bot.templating import guidance_lines

MAX_LINK_OPTIONS = 100  # Slack's multi_static_select takes at most 100 options
EVENT_TEXT = 200        # characters of a description kept in the timeline event


@dataclass(frozen=True)
class FactorAdded:
    """A factor stands; `findings` are the checker's on its description (for the writer
    only); `draft` is the re-rendered draft, if there was one to redo."""

    number: int
    factor: Factor
    links: str  # "timeline: 14:02 UTC; action item: #2", "" without links
    findings: list[Finding]
    draft: Draft | None


@dataclass(frozen=True)
class FactorRemoved:
    number: int
    factor: Factor
    draft: Draft | None


@dataclass(frozen=True)
class FactorList:
    """The standing factors of an incident, with their links worded."""

    number: int
    factors: tuple[tuple[Factor, str], ...]  # (factor, links text)
    categories: tuple[str, ...]


def linkable_entries(entries: Iterable[TimelineEntry]) -> list[TimelineEntry]:
    """The timeline entries a factor may link: those in the postmortem's timeline (key,
    not hidden, not deleted), oldest first."""
    return sorted((e for e in entries if e.id is not None and e.key and not e.hidden
                   and not e.deleted), key=lambda e: (e.at, e.id or 0))


def labels_for(entries: list[TimelineEntry]) -> dict[int, str]:
    """How the document names each linkable entry (`14:02 UTC`)."""
    return factor_labels(entries)


def _incident(tx: UnitOfWork, number: int, *, lock: bool = False) -> Incident:
    incident = tx.incidents.get(number, for_update=lock)
    if incident is None:
        raise UserError(f"There is no incident #{number}.")
    return incident


def _check_may(number: int, user: str, *, uow: UnitOfWorkFactory, chat: Chat,
               config: DebriefConfig) -> Incident:
    with uow() as tx:
        incident = _incident(tx, number)
    authorize(Act.DRAFT_POSTMORTEM, user, Subject(incident=incident),
              policy=config.permissions, chat=chat)
    _check_not_published(number, uow)
    return incident


def factor_form(number: int, *, uow: UnitOfWorkFactory, config: DebriefConfig,
                category: str | None = None, description: str = "") -> FactorForm:
    """What the modal offers for incident `number`, prefilled with what was typed."""
    with uow() as tx:
        incident = _incident(tx, number)
        entries = tx.timeline.entries(number)
    linkable = linkable_entries(entries)[:MAX_LINK_OPTIONS]
    labels = labels_for(entries)
    return FactorForm(
        number, config.postmortem.factor_categories,
        tuple((e.id, labels[e.id], e.text) for e in linkable if e.id is not None),
        tuple((a.id, a.text) for a in incident.action_items[:MAX_LINK_OPTIONS]),
        category, description)


def open_factor_form(number: int, user_id: str, trigger_id: str, channel_id: str | None, *,
                     deps: Deps, category: str | None = None, description: str = "",
                     message_ts: str | None = None) -> None:
    """Open the "Add contributing factor" modal for someone who may write the postmortem."""
    incident = _check_may(number, user_id, uow=deps.uow, chat=deps.chat, config=deps.config)
    form = factor_form(number, uow=deps.uow, config=deps.config, category=category,
                       description=description)
    deps.chat.open_factor_form(trigger_id, form, channel_id or incident.channel_id or "",
                               message_ts or _draft_message(number, deps.uow))


def _event(step: str, actor: str, now: datetime, factor: Factor) -> EventRecord:
    text = factor.description.replace("\n", " ")
    shown = text if len(text) <= EVENT_TEXT else text[:EVENT_TEXT - 1] + "…"
    return EventRecord(now, EventKind.POSTMORTEM, actor,
                       {"step": step, "factor": str(factor.id), "category": factor.category,
                        "text": shown})


def _redraft(number: int, user: str, *, uow: UnitOfWorkFactory, chat: Chat,
             config: DebriefConfig, now: datetime, message_ts: str | None) -> Draft | None:
    """Re-render and update the draft message, as saving the sections modal does; no
    draft yet: nothing (the first `/incident postmortem` includes the factors)."""
    with uow() as tx:
        drafted = tx.postmortems.get(number) is not None
    if not drafted:
        return None
    return draft_postmortem(number, user, uow=uow, chat=chat, config=config, now=now,
                            replace_ts=message_ts or _draft_message(number, uow))


def add_factor(number: int, user: str, category: str, description: str, *,
               uow: UnitOfWorkFactory, chat: Chat, config: DebriefConfig, now: datetime,
               timeline: Iterable[int] = (), action_items: Iterable[int] = (),
               message_ts: str | None = None) -> FactorAdded:
    """Check and store a factor with who and when, record it on the timeline, check its
    words for the writer, and re-draft. Refused (nothing stored) for an unknown category,
    an empty or over-long description, a link that is not the incident's, or one past MAX_FACTORS."""
    _check_may(number, user, uow=uow, chat=chat, config=config)
    with uow() as tx:
        incident = _incident(tx, number, lock=True)
        entries = tx.timeline.entries(number)
        factor = check_factor(category, description, config.postmortem.factor_categories,
                              timeline=timeline, action_items=action_items,
                              known_timeline={e.id for e in entries
                                              if e.id is not None and not e.deleted},
                              known_action_items={a.id for a in incident.action_items})
        check_room(sum(not f.removed for f in tx.postmortems.factors(number)))
        stored = tx.postmortems.add_factor(number, factor, author=user, now=now)
        tx.incidents.save(replace(incident, events=(
            *incident.events, _event("factor_added", user, now, stored))))
        tx.commit()
    names = _names(number, uow, chat)
    findings = lint_text(stored.description, roster=names.values(), skip=guidance_lines())
    draft = _redraft(number, user, uow=uow, chat=chat, config=config, now=now,
                     message_ts=message_ts)
    return FactorAdded(number, stored, links_text(stored, labels_for(entries)), findings, draft)


def remove_factor(number: int, user: str, factor_id: int, *, uow: UnitOfWorkFactory,
                  chat: Chat, config: DebriefConfig, now: datetime,
                  message_ts: str | None = None) -> FactorRemoved:
    """Mark a standing factor removed (kept, with who and when), record it, re-draft."""
    _check_may(number, user, uow=uow, chat=chat, config=config)
    with uow() as tx:
        incident = _incident(tx, number, lock=True)
        removed = tx.postmortems.remove_factor(number, factor_id, by=user, now=now)
        if removed is None:
            raise UserError(f"Incident #{number} has no contributing factor {factor_id} "
                            "(it may be removed already): `/incident postmortem factors` "
                            "lists them.")
        tx.incidents.save(replace(incident, events=(
            *incident.events, _event("factor_removed", user, now, removed))))
        tx.commit()
    draft = _redraft(number, user, uow=uow, chat=chat, config=config, now=now,
                     message_ts=message_ts)
    return FactorRemoved(number, removed, draft)


def list_factors(number: int, *, uow: UnitOfWorkFactory, config: DebriefConfig) -> FactorList:
    """The standing factors, in the order they were added (reading is open to all)."""
    with uow() as tx:
        _incident(tx, number)
        factors = [f for f in tx.postmortems.factors(number) if not f.removed]
        entries = tx.timeline.entries(number)
    labels = labels_for(entries)
    return FactorList(number, tuple((f, links_text(f, labels)) for f in factors),
                      config.postmortem.factor_categories)


@dataclass(frozen=True)
class FactorsSynced:
    """What reading a document's factors back changed (an uploaded edit)."""

    number: int
    added: tuple[Factor, ...]
    removed: tuple[Factor, ...]
    prose: str  # the section's free text as the document has it


def plan_factors(number: int, document: str, *, uow: UnitOfWorkFactory,
                 config: DebriefConfig) -> list[Factor] | None:
    """The factors `document` (a whole postmortem, or its contributing factors section)
    lists, checked and with their links as this incident's ids; None when it has no
    contributing factors section. A heading that is no category, a link to nothing of this
    incident, a bad description or more than MAX_FACTORS are a `UserError` naming the
    line. Reads only: `apply_factors` stores the outcome."""
    parsed = parse_factors_markdown(document, config.postmortem.factor_categories,
                                    skip=guidance_lines())
    if not parsed.found:
        return None
    with uow() as tx:
        incident = _incident(tx, number)
        entries = tx.timeline.entries(number)
    items = {a.id for a in incident.action_items}
    known = {e.id for e in entries if e.id is not None and not e.deleted}
    labels = labels_for(entries)
    wanted = []
    for p in parsed.factors:
        resolved = resolve_factor(p, labels, items, known)
        try:
            wanted.append(check_factor(resolved.category, resolved.description,
                                       config.postmortem.factor_categories,
                                       timeline=resolved.timeline,
                                       action_items=resolved.action_items))
        except UserError as exc:
            raise UserError(f"Line {p.line}: ", *exc.parts) from exc
    if len(wanted) > MAX_FACTORS:
        raise UserError(f"The document lists {len(wanted)} contributing factors; at most "
                        f"{MAX_FACTORS} fit.")
    return wanted


def apply_factors(number: int, user: str, wanted: list[Factor], *, uow: UnitOfWorkFactory,
                  now: datetime) -> FactorsSynced:
    """Make the standing factors `wanted`: new or changed ones added, missing ones removed
    (kept, with who and when), each recorded on the timeline, in one transaction;
    unchanged ones keep who added them."""
    with uow() as tx:
        incident = _incident(tx, number, lock=True)
        added, removed = diff_factors(tx.postmortems.factors(number), wanted)
        events, gone, new = [], [], []
        for factor in removed:
            assert factor.id is not None
            done = tx.postmortems.remove_factor(number, factor.id, by=user, now=now)
            if done is not None:
                gone.append(done)
                events.append(_event("factor_removed", user, now, done))
        for factor in added:
            stored = tx.postmortems.add_factor(number, factor, author=user, now=now)
            new.append(stored)
            events.append(_event("factor_added", user, now, stored))
        if events:
            tx.incidents.save(replace(incident, events=(*incident.events, *events)))
        tx.commit()
    return FactorsSynced(number, tuple(new), tuple(gone), "")


def sync_factors_from_markdown(number: int, user: str, document: str, *,
                               uow: UnitOfWorkFactory, config: DebriefConfig,
                               now: datetime) -> FactorsSynced:
    """`plan_factors` then `apply_factors` (a document without the section changes
    nothing). No re-draft and no permission check: the caller does both."""
    wanted = plan_factors(number, document, uow=uow, config=config)
    if wanted is None:
        return FactorsSynced(number, (), (), "")
    parsed = parse_factors_markdown(document, config.postmortem.factor_categories,
                                    skip=guidance_lines())
    synced = apply_factors(number, user, wanted, uow=uow, now=now)
    return FactorsSynced(number, synced.added, synced.removed, parsed.prose)
