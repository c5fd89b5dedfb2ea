"""The postmortem round trip: someone downloads the draft, edits it (or pastes it from a
wiki) and uploads the Markdown to the incident channel. Debrief reads the declared
sections back by their headings (bot/domain/postmortem_markdown.py), stores the changed
ones as the uploader's (the store the "Write postmortem" modal writes) and re-drafts the
same way the modal does. Generated parts always come from the database: edits there are
reported, never stored. Anything refused changes nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.domain.blameless import Finding, lint_text
from bot.domain.permissions import Act
from bot.domain.postmortem import SECTION_TEXT_LIMIT
from bot.domain.postmortem_markdown import (
    UPLOAD_LIMIT,
    named_incident,
    read_postmortem,
    section_marker,
    split_document,
)
from bot.errors import ChatError, Echo, UserError
from bot.services.factors import FactorsSynced, apply_factors, plan_factors
from bot.services.permissions import Subject, authorize
from bot.services.ports import Deps
from bot.services.postmortems import (
    Draft,
    SectionsSaved,
    _check_not_published,
    _draft_message,
    _names,
    draft_postmortem,
    render_document,
    section_form,
    write_sections,
)
from bot.templating import guidance_lines

log = logging.getLogger(__name__)
MARKDOWN_NAMES = (".md", ".markdown")


@dataclass(frozen=True)
class PostmortemUploaded:
    """What an upload did: the sections saved (and the re-draft), and what the file had
    that was not stored: declared headings not in it (kept as they were), headings the
    template doesn't have, generated parts it changed (ignored)."""

    number: int
    channel_id: str
    user: str
    file_name: str
    saved: SectionsSaved
    missing: tuple[str, ...]
    unknown: tuple[str, ...]
    ignored: tuple[str, ...]  # headings; "" is the header (title and table)
    sections: tuple[str, ...]  # the headings of the sections the template declares
    factors: FactorsSynced | None = None  # contributing factors added / removed
    factor_draft: Draft | None = None  # the re-draft when only factors changed
    factor_findings: tuple[Finding, ...] = ()  # the checker's, on `factor_checked`
    factor_checked: str = ""  # the added factors' descriptions


@dataclass(frozen=True)
class UploadInvited:
    """`/incident postmortem upload`: the person may upload; they drop the file next."""

    number: int


def is_postmortem_file(name: str, filetype: str) -> bool:
    """Markdown, or a text file named like a postmortem. Anything else shared in the
    channel (screenshots, logs) is none of the round trip's business."""
    lowered = name.lower()
    return (lowered.endswith(MARKDOWN_NAMES) or filetype == "markdown"
            or (lowered.endswith(".txt") and "postmortem" in lowered))


def upload_postmortem(channel_id: str, file_id: str, user_id: str, *, deps: Deps,
                      bot_user: str | None = None) -> PostmortemUploaded | None:
    """Read an uploaded file into the postmortem of the channel's incident. None when it
    is none of ours (not an incident channel, not Markdown, the bot's own draft, or the
    same file already read); `UserError` (nothing changed) when it can't be taken."""
    if bot_user is not None and user_id == bot_user:
        return None  # the drafts Debrief uploads itself
    with deps.uow() as tx:
        number = tx.incidents.number_for_channel(channel_id)
    if number is None:
        return None
    file = deps.chat.file_info(file_id)
    if not is_postmortem_file(file.name, file.filetype) or (
            bot_user is not None and file.user == bot_user):
        return None
    now = deps.now()
    with deps.uow() as tx:  # Slack may deliver the event twice: read the file once
        if not tx.notifications.claim(f"postmortem-upload:{file_id}:{channel_id}", now):
            return None
        tx.commit()
    with deps.uow() as tx:
        incident = tx.incidents.get(number)
    assert incident is not None
    authorize(Act.DRAFT_POSTMORTEM, user_id, Subject(incident=incident),
              policy=deps.config.permissions, chat=deps.chat)
    _check_not_published(number, deps.uow)
    if file.size > UPLOAD_LIMIT:
        raise _too_big(file.name, file.size)
    data = deps.chat.download_file(file, UPLOAD_LIMIT)
    if len(data) > UPLOAD_LIMIT:
        raise _too_big(file.name, len(data))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = "\x00"
    if "\x00" in text:
        raise UserError("`", Echo(file.name), "` is not UTF-8 text, so I can't read it as the "
                        "postmortem; nothing changed. Save it as UTF-8 Markdown and upload "
                        "it again.")

    # Structured contributing factors are read first: a bad one refuses the whole file.
    factors = plan_factors(number, text, uow=deps.uow, config=deps.config)
    form = section_form(number, uow=deps.uow, config=deps.config)
    try:
        workspace = deps.chat.workspace_url()
    except ChatError:
        workspace = None
    names = _names(number, deps.uow, deps.chat)

    def render(texts: dict[str, str] | None) -> str:
        return render_document(number, uow=deps.uow, config=deps.config, now=now,
                               names=names, workspace_url=workspace, section_texts=texts,
                               factor_list=factors)[1]

    current = render(None)  # as it would be drafted now (with the file's factors)
    marked = render({s.key: section_marker(s.key) for s in form.sections})
    blank = render({})  # every section's prompt
    with deps.uow() as tx:
        postmortem = tx.postmortems.get(number)
    known = (current, *(v.content for v in (postmortem.versions if postmortem else ())))
    reading = read_postmortem(text, form.sections, marked=marked, blank=blank, known=known)

    titles = {split_document(k).title for k in known}
    named = named_incident(reading.title, file.name)
    if not (reading.title is not None and reading.title in titles) and named != number:
        if named is not None:
            raise UserError("`", Echo(file.name), f"` is the postmortem of #{named}, not of "
                            f"#{number} (this channel's incident), so nothing changed.")
        raise UserError("I can't tell that `", Echo(file.name), f"` is the postmortem of "
                        f"#{number}, so nothing changed: keep its first line as Debrief "
                        f"drafted it (`# Postmortem: #{number} …`), or name the file "
                        f"`postmortem-{number}.md`, and upload it again.")
    if not reading.texts:
        raise UserError("`", Echo(file.name), "` has none of the postmortem's section headings ("
                        + ", ".join(f"## {s.heading}" for s in form.sections)
                        + "), so nothing changed.")
    if reading.repeated:
        raise UserError("`", Echo(file.name), "` has " + ", ".join(
            f"“## {h}”" for h in reading.repeated) + " more than once, so I can't tell which "
            "to keep; nothing changed. Keep one of each and upload it again.")
    headings = {s.key: s.heading for s in form.sections}
    for key, section in reading.texts.items():
        if len(section) > SECTION_TEXT_LIMIT:
            raise UserError(f"{headings[key]} is {len(section):,} characters in `", Echo(file.name),
                            f"`; a section holds at most {SECTION_TEXT_LIMIT:,} (as in the "
                            "Write postmortem form). Nothing changed: shorten it or split it "
                            "across sections and upload it again.")
    synced = (apply_factors(number, user_id, factors, uow=deps.uow, now=now)
              if factors is not None else None)
    saved = write_sections(number, reading.texts, user_id, uow=deps.uow, chat=deps.chat,
                           config=deps.config, now=now)
    factor_draft = None
    if synced is not None and (synced.added or synced.removed) and not saved.changed:
        with deps.uow() as tx:
            drafted = tx.postmortems.get(number) is not None
        if drafted:  # only the factors changed: re-draft as adding one does
            factor_draft = draft_postmortem(number, user_id, uow=deps.uow, chat=deps.chat,
                                            config=deps.config, now=now,
                                            replace_ts=_draft_message(number, deps.uow))
    checked = "\n\n".join(f.description for f in synced.added) if synced else ""
    found = tuple(lint_text(checked, roster=names.values(), skip=guidance_lines())
                  if checked else ())
    log.info("postmortem of #%s uploaded: %d section(s) changed", number, len(saved.changed))
    return PostmortemUploaded(number, channel_id, user_id, file.name, saved, reading.missing,
                              reading.unknown, reading.ignored,
                              tuple(s.heading for s in form.sections), synced, factor_draft,
                              found, checked)


def _too_big(name: str, size: int) -> UserError:
    return UserError("`", Echo(name), f"` is {size / 1024:,.0f} KB; a postmortem upload may be at "
                     f"most {UPLOAD_LIMIT // 1024} KB, so nothing changed.")


def invite_upload(number: int, user_id: str, *, deps: Deps) -> UploadInvited:
    """`/incident postmortem upload`: who may (as for the modal) and not once published;
    the person then drops the file in the channel."""
    with deps.uow() as tx:
        incident = tx.incidents.get(number)
    if incident is None:
        raise UserError(f"There is no incident #{number}.")
    authorize(Act.DRAFT_POSTMORTEM, user_id, Subject(incident=incident),
              policy=deps.config.permissions, chat=deps.chat)
    _check_not_published(number, deps.uow)
    return UploadInvited(number)
