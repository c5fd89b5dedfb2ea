"""Postmortem use cases: draft (render, store a version, post), review, publish."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from bot.config import DebriefConfig
from bot.domain.blameless import Finding, lint_text
from bot.domain.factors import Factor, timeline_labels
from bot.domain.library import LibraryEntry, front_matter, library_path
from bot.domain.permissions import Act
from bot.domain.postmortem import (
    SECTION_TEXT_LIMIT,
    SectionForm,
    SectionText,
    postmortem_context,
)
from bot.domain.reviews import check_may_draft
from bot.domain.timeline import TimelineEntry, build_timeline, durations
from bot.errors import ChatError, UserError
from bot.services.permissions import Subject, authorize
from bot.services.ports import Chat, Deps, PostmortemSummary, UnitOfWorkFactory
from bot.services.reviews import review_report
from bot.templating import (
    TemplateBusy,
    TemplateFailure,
    guidance_lines,
    render_postmortem,
    render_slot,
    template_sections,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Draft:
    number: int
    version: int
    template: str
    content: str
    findings: list[Finding]
    upload_error: str | None = None  # Slack's error code when the stored draft wasn't posted


def render_document(number: int, *, uow: UnitOfWorkFactory, config: DebriefConfig,
                    now: datetime, template: str | None = None,
                    names: dict[str, str] | None = None, workspace_url: str | None = None,
                    version: int | None = None,
                    section_texts: dict[str, str] | None = None,
                    factor_list: list[Factor] | None = None) -> tuple[str, str]:
    """(template name, Markdown) for an incident, from the database alone (with
    `section_texts`, those texts stand in for the stored sections; with `factor_list`,
    those contributing factors for the standing ones)."""
    with uow() as tx:
        incident = tx.incidents.get(number)
        if incident is None:
            raise UserError(f"There is no incident #{number}.")
        entries = tx.timeline.entries(number)
        postmortem = tx.postmortems.get(number)
        written = tx.postmortems.sections(number)
        factors = factor_list if factor_list is not None else [
            f for f in tx.postmortems.factors(number) if not f.removed]
    spans = durations(incident, config.statuses, config.timeline.mitigated_status)
    policy = config.postmortem.due_policy(incident.severity)
    due_at = policy.due_at(incident.resolved_at) if policy and incident.resolved_at else None
    descriptions = {s.name: s.description for s in config.severities}
    name = template or config.postmortem.template_for(incident.severity)
    try:
        declared = template_sections(name, config.postmortem.templates_dir)
    except TemplateFailure:
        declared = ()  # rendering below says what is wrong with the template
    context = postmortem_context(
        incident, timeline=build_timeline(incident, [e for e in entries if not e.hidden],
                                          key_only=True),
        actions=list(incident.action_items),
        spans=spans, names=names or {}, severity_description=descriptions.get(incident.severity, ""),
        document_status=postmortem.status if postmortem else "draft",
        version=version or (len(postmortem.versions) + 1 if postmortem else 1),
        generated_at=now, due_at=due_at, workspace_url=workspace_url, roles=config.roles,
        sections={spec.key: section_texts.get(spec.key, "") if section_texts is not None
                  else written[spec.key].text if spec.key in written else ""
                  for spec in declared},
        factors=factors, factor_categories=config.postmortem.factor_categories,
        factor_labels=factor_labels(entries))
    try:
        return name, render_postmortem(name, context, config.postmortem.templates_dir)
    except TemplateFailure as exc:
        log.warning("postmortem template %s failed for #%s: %s", name, number, exc)
        raise UserError(f"The postmortem template `{name}` could not be rendered ({exc}). "
                        "Fix the template and run `/incident postmortem` again.") from exc
    except TemplateBusy as exc:
        log.warning("postmortem for #%s not rendered: every render slot is busy", number)
        raise UserError(str(exc)) from exc


def factor_labels(entries: list[TimelineEntry]) -> dict[int, str]:
    """How the document names the timeline entries a factor may link (`14:02 UTC`): the
    entries of the postmortem's timeline (key, not hidden, not deleted)."""
    return timeline_labels((e.id, e.at) for e in sorted(entries, key=lambda e: (e.at, e.id or 0))
                           if e.id is not None and e.key and not e.hidden and not e.deleted)


def _names(number: int, uow: UnitOfWorkFactory, chat: Chat) -> dict[str, str]:
    """Display names for everyone the document mentions (users.info is cached)."""
    with uow() as tx:
        incident = tx.incidents.get(number)
        entries = tx.timeline.entries(number)
    assert incident is not None
    people = {incident.declared_by, *incident.roles.values(),
              *(e.actor for e in incident.events if e.actor),
              *(e.author for e in entries if e.author),
              *(a.owner for a in incident.action_items if a.owner)}
    names: dict[str, str] = {}
    for user in sorted(p for p in people if p):
        try:
            found = chat.user_name(user)
        except ChatError:
            found = None
        if found:
            names[user] = found
    return names


def draft_postmortem(number: int, author: str, *, uow: UnitOfWorkFactory, chat: Chat,
                     config: DebriefConfig, now: datetime,
                     replace_ts: str | None = None) -> Draft:
    """Render, check, store a new version, then post the summary and the document (with
    `replace_ts`, the summary message there is updated in place instead). Refused once
    the postmortem is published, until it is reopened."""
    _check_not_published(number, uow)
    try:
        workspace = chat.workspace_url()
    except ChatError:
        workspace = None
    names = _names(number, uow, chat)
    try:
        # Rendering and checking a document are the CPU-heavy part of a draft: both run
        # in one of the few render slots, so drafts cannot take over the worker pool.
        with render_slot():
            template, content = render_document(number, uow=uow, config=config, now=now,
                                                names=names, workspace_url=workspace)
            findings = lint_text(content, roster=names.values(), skip=guidance_lines())
    except TemplateBusy as exc:
        log.warning("postmortem for #%s not drafted: every render slot is busy", number)
        raise UserError(str(exc)) from exc
    with uow() as tx:
        postmortem = tx.postmortems.add_version(number, template=template, content=content,
                                                author=author, now=now)
        incident = tx.incidents.get(number)
        tx.commit()
    assert incident is not None and postmortem.latest is not None
    version = postmortem.latest.version
    open_items = sum(a.is_open for a in incident.action_items)
    summary = PostmortemSummary(
        durations=durations(incident, config.statuses, config.timeline.mitigated_status),
        open_actions=open_items, total_actions=len(incident.action_items),
        findings=len(findings))
    upload_error = None
    try:
        file_id, message_ts = chat.post_postmortem(incident, postmortem, content, summary,
                                                   replace_ts=replace_ts)
    except ChatError as exc:
        log.warning("postmortem v%s of #%s stored but not posted: %s", version, number, exc.code)
        upload_error = exc.code
    else:
        with uow() as tx:
            tx.postmortems.set_file(number, version, file_id, message_ts)
            tx.commit()
    return Draft(number, version, template, content, findings, upload_error)


@dataclass(frozen=True)
class SectionsSaved:
    """The outcome of saving the modal: which sections changed, the re-rendered draft,
    and the blameless findings on the newly written text (for the writer only)."""

    number: int
    changed: tuple[str, ...]  # section keys
    headings: tuple[str, ...]  # the same sections as the template names them
    findings: list[Finding]  # on `checked`: the changed sections' new text
    checked: str
    draft: Draft | None  # None when nothing changed, or there is no draft yet to redo


def section_form(number: int, *, uow: UnitOfWorkFactory, config: DebriefConfig) -> SectionForm:
    """The sections the incident's template declares and their current text."""
    with uow() as tx:
        incident = tx.incidents.get(number)
        if incident is None:
            raise UserError(f"There is no incident #{number}.")
        current = tx.postmortems.sections(number)
    name = config.postmortem.template_for(incident.severity)
    try:
        declared = template_sections(name, config.postmortem.templates_dir)
    except TemplateFailure as exc:
        raise UserError(f"The postmortem template `{name}` could not be read ({exc}).") from exc
    if not declared:
        raise UserError(f"The postmortem template `{name}` declares no sections to write: add "
                        "a `{# sections: ... #}` block (see templates/postmortem.md.j2).")
    return SectionForm(number, name, declared, current)


def check_section_texts(texts: dict[str, str], form: SectionForm) -> dict[str, str]:
    """Errors by section key for text the modal must refuse (too long for Slack's
    input, so it could not be shown again for the next edit)."""
    return {key: f"At most {SECTION_TEXT_LIMIT:,} characters (this is {len(text):,}); "
                 "shorten it or split it across sections."
            for key, text in texts.items()
            if key in {s.key for s in form.sections} and len(text) > SECTION_TEXT_LIMIT}


def write_sections(number: int, texts: dict[str, str], author: str, *,
                   uow: UnitOfWorkFactory, chat: Chat, config: DebriefConfig,
                   now: datetime, message_ts: str | None = None) -> SectionsSaved:
    """Store the sections whose text changed (unchanged ones keep their author), check
    the new words, and re-draft: a new version, rendered and posted — updating the draft
    message (`message_ts`, else the latest draft's) rather than posting another."""
    _check_not_published(number, uow)
    form = section_form(number, uow=uow, config=config)
    keys = {s.key for s in form.sections}
    errors = check_section_texts(texts, form)
    if errors:
        raise UserError(next(iter(errors.values())))
    cleaned = {k: v.strip() for k, v in texts.items() if k in keys}
    with uow() as tx:
        changed = tx.postmortems.write_sections(number, cleaned, author=author, now=now)
        tx.commit()
    if not changed:
        return SectionsSaved(number, (), (), [], "", None)
    names = _names(number, uow, chat)
    checked = "\n\n".join(cleaned[k] for k in changed)
    named = {s.key: s.heading for s in form.sections}
    headings = tuple(named[k] for k in changed)
    findings = lint_text(checked, roster=names.values(), skip=guidance_lines())
    with uow() as tx:
        drafted = tx.postmortems.get(number) is not None
    if not drafted:  # written ahead of the first draft: `/incident postmortem` uses it
        return SectionsSaved(number, tuple(changed), headings, findings, checked, None)
    draft = draft_postmortem(number, author, uow=uow, chat=chat, config=config, now=now,
                             replace_ts=message_ts or _draft_message(number, uow))
    return SectionsSaved(number, tuple(changed), headings, findings, checked, draft)


def _check_not_published(number: int, uow: UnitOfWorkFactory) -> None:
    """A published postmortem is not drafted or written again until reopened."""
    with uow() as tx:
        postmortem = tx.postmortems.get(number)
    if postmortem is not None:
        check_may_draft(postmortem.status)


def _draft_message(number: int, uow: UnitOfWorkFactory) -> str | None:
    """The summary message of the latest draft that was posted, if any."""
    with uow() as tx:
        postmortem = tx.postmortems.get(number)
    posted = [v.message_ts for v in (postmortem.versions if postmortem else ()) if v.message_ts]
    return posted[-1] if posted else None


def open_section_form(number: int, user_id: str, trigger_id: str, channel_id: str | None, *,
                      deps: Deps, section: str | None = None,
                      message_ts: str | None = None) -> None:
    """Open the "Write postmortem" modal for someone who may draft the postmortem: every
    declared section, or just `section` (its key or heading), prefilled."""
    with deps.uow() as tx:
        incident = tx.incidents.get(number)
    if incident is None:
        raise UserError(f"There is no incident #{number}.")
    authorize(Act.DRAFT_POSTMORTEM, user_id, Subject(incident=incident),
              policy=deps.config.permissions, chat=deps.chat)
    _check_not_published(number, deps.uow)
    form = section_form(number, uow=deps.uow, config=deps.config)
    if section:
        wanted = section.strip().lower()
        chosen = [s for s in form.sections
                  if wanted in (s.key, s.heading.lower(), s.key.replace("_", " "))]
        if not chosen:
            raise UserError(f"The postmortem has no section “{section}”. Its sections: "
                            + ", ".join(f"`{s.key}` ({s.heading})" for s in form.sections)
                            + ".")
        form = SectionForm(form.number, form.template, tuple(chosen), form.current)
    names: dict[str, str] = {}
    for author in sorted({s.author for s in form.current.values()}):
        try:
            names[author] = deps.chat.user_name(author) or author
        except ChatError:
            names[author] = author
    form = SectionForm(form.number, form.template, form.sections, form.current, names)
    deps.chat.open_sections_form(trigger_id, form, channel_id or incident.channel_id or "",
                                 message_ts or _draft_message(number, deps.uow))


def postmortem_report(number: int, *, uow: UnitOfWorkFactory,
                      config: DebriefConfig) -> dict[str, object]:
    """`debrief postmortem show N --json`: status, versions with author and time, the
    sections the team wrote (current text and every edit, with who and when), and the
    contributing factors (removed ones too, marked)."""
    with uow() as tx:
        incident = tx.incidents.get(number)
        if incident is None:
            raise UserError(f"There is no incident #{number}.")
        postmortem = tx.postmortems.get(number)
        history = tx.postmortems.section_history(number)
        factors = tx.postmortems.factors(number)
        entries = tx.timeline.entries(number)
    name = config.postmortem.template_for(incident.severity)
    try:
        headings = {s.key: s.heading
                    for s in template_sections(name, config.postmortem.templates_dir)}
    except TemplateFailure:
        headings = {}
    current = {s.key: s for s in history}

    def shown(s: SectionText) -> dict[str, object]:
        return {"key": s.key, "heading": headings.get(s.key, s.key), "text": s.text,
                "version": s.version, "author": s.author, "written_at": s.written_at.isoformat()}

    return {
        "number": number, "template": name,
        "status": postmortem.status if postmortem else None,
        "versions": [{"version": v.version, "template": v.template, "author": v.created_by,
                      "created_at": v.created_at.isoformat(), "file_id": v.file_id}
                     for v in (postmortem.versions if postmortem else ())],
        "sections": [shown(current[k]) for k in
                     [*(k for k in headings if k in current),
                      *(k for k in current if k not in headings)]],
        "section_history": [shown(s) for s in history],
        "factors": factor_report(factors, factor_labels(entries)),
        **review_report(number, uow=uow, config=config),
    }


def factor_report(factors: list[Factor], labels: dict[int, str]) -> list[dict[str, object]]:
    """Each factor as `show --json` gives it: in the order added, removed ones included
    (`removed`: who and when, else null); links as ids and as the document names them."""
    return [{"id": f.id, "category": f.category, "description": f.description,
             "links": {"timeline": [{"entry": i, "label": labels.get(i, f"entry {i}")}
                                    for i in f.timeline],
                       "action_items": list(f.action_items)},
             "author": f.added_by, "added_at": f.added_at.isoformat() if f.added_at else None,
             "removed": {"by": f.removed_by, "at": f.removed_at.isoformat()}
             if f.removed_at else None}
            for f in factors]


LIBRARY_PAGE = 200  # incidents read per transaction while exporting the library


def library_entries(*, uow: UnitOfWorkFactory, config: DebriefConfig,
                    include_drafts: bool = False,
                    include_private: bool = False) -> Iterator[LibraryEntry]:
    """Every postmortem the library holds, by incident number: published ones of real
    (not cancelled, not test), non-private incidents; `include_drafts` adds drafts and
    postmortems in review, and cancelled and test incidents; `include_private` adds
    private incidents. Read a page at a time; the body is the latest stored version (the
    document as drafted, so the same data always gives the same file)."""
    with uow() as tx:
        states = sorted(tx.postmortems.states(), key=lambda p: p.incident_number)
    if not include_drafts:
        states = [p for p in states if p.status == "published"]
    for start in range(0, len(states), LIBRARY_PAGE):
        page = states[start:start + LIBRARY_PAGE]
        numbers = [p.incident_number for p in page]
        with uow() as tx:
            incidents = {i.number: i for i in tx.incidents.list(numbers=numbers)}
            latest = tx.postmortems.latest_versions(numbers)
            factors = {n: tx.postmortems.sections(n).get("contributing_factors")
                       for n in numbers}
            structured = tx.postmortems.factor_lists(numbers)
        for state in page:
            incident = incidents.get(state.incident_number)
            version = latest.get(state.incident_number)
            if incident is None or version is None:
                continue
            if (incident.private and not include_private) or (
                    not incident.counts and not include_drafts):
                continue
            written = factors.get(incident.number)
            yield LibraryEntry(
                incident.number, library_path(incident),
                front_matter(incident, postmortem_status=state.status, version=version.version,
                             updated_at=state.updated_at, published_at=state.published_at,
                             spans=durations(incident, config.statuses,
                                             config.timeline.mitigated_status),
                             contributing_factors=written.text if written else "",
                             factors=structured.get(incident.number, [])),
                version.content)
