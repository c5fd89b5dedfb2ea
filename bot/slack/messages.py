"""Every sentence a person reads in Slack, built here from what the domain and the
services return (events, incidents, typed outcomes), in Slack's mrkdwn.

Block Kit structure (cards, lists, forms) is `blocks.py`; the words inside it come from
the values it is given. Each builder escapes user text (`text.escape_mrkdwn`) and writes
mentions (`<@U…>`): nothing below Slack does. The plain-text wording of the same event
kinds, for the timeline and the postmortem, is `bot.domain.timeline.lifecycle_text`;
both are exhaustive over `EventKind` (mypy and tests/slack/test_messages.py check it).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, assert_never

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.domain.action_items import ActionItem
from bot.domain.alerts import AlertGroup
from bot.domain.blameless import Finding
from bot.domain.corrections import EntryChange, ItemField
from bot.domain.factors import category_title
from bot.domain.incidents import EventKind, EventRecord, Incident
from bot.domain.nudges import Nudge, NudgeKind
from bot.domain.permissions import Act, Party, Refused
from bot.domain.reviews import Missing, ReviewKind
from bot.domain.timeline import review_step_text, tag_change_text
from bot.domain.trends import Trends
from bot.errors import ChatError, explain
from bot.services import corrections as fix
from bot.services import factors as fa
from bot.services import postmortems as pm
from bot.services import reviews as rv
from bot.services import uploads as up
from bot.services.alerts import AlertAnswered
from bot.services.dispatch import ItemAdded, Noted, Reply, Result
from bot.services.incidents import Outcome, Problem, Stopped
from bot.services.nudges import Snoozed
from bot.services.oncall import OverrideChanged
from bot.services.ports import ActionItemDue, DirectNotice, OverrideNotice, PostmortemDue, TurnsMoved
from bot.services.timeline import BackfillResult
from bot.slack.blocks import build_factor_list, build_rephrase_button, short_duration, trend_text
from bot.slack.text import describe, escape_mrkdwn, slack_date, user_mention
from bot.templating import templates_dir


def _finalize(value: Any) -> Any:
    return escape_mrkdwn(value) if isinstance(value, str) else value


@cache
def message_env() -> Environment:
    """Longer messages are templates (`templates/messages/*.mrkdwn.j2`); every value
    they print is escaped for mrkdwn, so user text stays inert."""
    return Environment(
        loader=FileSystemLoader(templates_dir()),
        undefined=StrictUndefined,
        finalize=_finalize,
        keep_trailing_newline=False,
        autoescape=False,
    )


def render_message(name: str, **context: Any) -> str:
    return message_env().get_template(name).render(**context).strip()


def topic_text(incident: Incident) -> str:
    """The incident channel's topic: severity, status and commander at a glance."""
    commander = f"<@{incident.commander}>" if incident.commander else "no commander"
    marks = "".join(m for m, on in (("CANCELLED · ", incident.is_cancelled),
                                     ("TEST · ", incident.is_test)) if on)
    return f"{marks}{incident.severity} · {incident.status} · Commander: {commander}"


def event_text(incident: Incident, event: EventRecord) -> str:
    """What the incident channel is told when an event is recorded."""
    who = user_mention(event.actor)
    d = {k: escape_mrkdwn(str(v)) for k, v in event.detail.items()}
    note = f": {d['note']}" if d.get("note") else ""
    match event.kind:
        case EventKind.DECLARED:
            return f":rotating_light: {who} declared the incident (*{d['severity']}*): {d['title']}"
        case EventKind.ACKNOWLEDGED:
            return f":eyes: {who} acknowledged the incident."
        case EventKind.STATUS:
            return f":arrows_counterclockwise: Status *{d['from']} → {d['to']}* (by {who}){note}"
        case EventKind.REOPENED:
            return f":rotating_light: Reopened as *{d['to']}* by {who}{note}"
        case EventKind.SEVERITY:
            return f":warning: Severity *{d['from']} → {d['to']}* (by {who})"
        case EventKind.ROLE:
            return (f":bust_in_silhouette: {user_mention(d['user'])} is now *{d['role']}* "
                    f"(set by {who})")
        case EventKind.UPDATE:
            return f":mega: *Update* from {who}: {d['text']}"
        case EventKind.ONCALL:
            return (f":pager: {user_mention(d['user'])} is on call for *{d['schedule']}* "
                    f"(invited by {who})")
        case EventKind.RESOLVED:
            summary = f": {d['summary']}" if d.get("summary") else "."
            return f":white_check_mark: *Resolved* by {who}{summary}"
        case EventKind.ACTION_ITEM:
            return f":pencil2: {item_change(event.detail)} (by {who})"
        case EventKind.EDITED:
            changed = "; ".join(f"{name} *{d.get(name + '_was', '')}* → *{d[name]}*"
                                for name in ("title", "severity") if name in d)
            others = [name for name in ("description", "summary") if name in d]
            changed = "; ".join([c for c in (changed, " and ".join(others) + " changed"
                                             if others else "") if c])
            return f":pencil2: {who} corrected the incident: {changed}"
        case EventKind.CANCELLED:
            reason = f": {d['reason']}" if d.get("reason") else "."
            return (f":no_entry_sign: {who} *cancelled* the incident (declared by mistake; "
                    f"kept for the record, left out of stats){reason}")
        case EventKind.TAGGED:
            return f":label: {who}: {tag_change_text(d)}"
        case EventKind.POSTMORTEM:
            return review_step_slack(event)
        case _:  # mypy: every kind has a case above
            assert_never(event.kind)


def review_step_slack(event: EventRecord) -> str:
    """A postmortem review step, as the incident channel is told."""
    who = user_mention(event.actor)
    d = {k: escape_mrkdwn(str(v)) for k, v in event.detail.items()}
    version = f" (v{d['version']})" if d.get("version") else ""
    match d.get("step"):
        case "requested":
            asked = ", ".join(user_mention(u) for u in event.detail.get("reviewers", "").split())
            return f":mag: {who} asked {asked} to review the postmortem{version}."
        case "approved":
            return f":white_check_mark: {who} approved the postmortem{version}."
        case "changes_requested":
            comment = f": {d['comment']}" if d.get("comment") else "."
            return f":memo: {who} requested changes to the postmortem{version}{comment}"
        case "published":
            return f":books: {who} published the postmortem{version}."
        case "reopened":
            return f":memo: {who} reopened the postmortem to revise it."
        case "factor_added":
            return (f":jigsaw: {who} added contributing factor {d.get('factor')} "
                    f"({d.get('category')}): _{d.get('text', '')}_")
        case "factor_removed":
            return (f":jigsaw: {who} removed contributing factor {d.get('factor')} "
                    f"({d.get('category')}): _{d.get('text', '')}_")
        case _:
            return f":file_cabinet: {who} archived the channel: the postmortem is published."


def item_change(detail: dict[str, str]) -> str:
    """An action item correction in mrkdwn (user text escaped, the owner mentioned)."""
    d = {k: escape_mrkdwn(str(v)) for k, v in detail.items()}
    item = f"Action item {d.get('item')} (_{d.get('text', '')}_)"
    match detail.get("field"):
        case "owner":
            return f"{item} reassigned to {user_mention(detail.get('to'))}"
        case "due":
            return f"{item} is now due {d.get('to')}"
        case "type":
            return f"{item} is now *{d.get('to')}*"
        case "text":
            return f"Action item {d.get('item')} now reads _{d.get('to')}_"
        case _:
            return f"{item} removed"


def override_changed_text(changed: OverrideChanged) -> str:
    """The reply to whoever removed or shortened an override."""
    o = changed.override
    who = f"<@{o.user}>" if "@" not in o.user else escape_mrkdwn(o.user)
    told = f" Told {', '.join(user_mention(u) for u in changed.told)}." if changed.told else ""
    if changed.change == "removed":
        return (f"Removed override {o.seq} on *{escape_mrkdwn(changed.schedule)}* ({who} from "
                f"{slack_date(o.start)} to {slack_date(o.end)}).{told}")
    return (f"Override {o.seq} on *{escape_mrkdwn(changed.schedule)}* now ends "
            f"{slack_date(o.end)} ({who}).{told}")


def override_notice_text(notice: OverrideNotice) -> str:
    """The direct message to someone whose turn an override touches."""
    name = escape_mrkdwn(notice.schedule)
    span = f"from {slack_date(notice.start)} to {slack_date(notice.end)}"
    by = f" (by {user_mention(notice.by)})" if notice.by else ""
    if notice.covering:
        match notice.change:
            case "created":
                return f":pager: You now cover *{name}* {span}{by}."
            case "shortened":
                return f":pager: You no longer cover *{name}* {span}{by}: the override ends earlier."
            case "removed":
                return f":pager: Your override on *{name}* {span} was removed{by}."
    who = user_mention(notice.override_user)
    match notice.change:
        case "created":
            return f":pager: {who} covers your turn on *{name}* {span}{by}."
        case "shortened" | "removed":
            return f":pager: Your turn on *{name}* {span} is yours again{by}: the override " \
                   f"by {who} was {notice.change}."
        case _:
            assert_never(notice.change)


def thread_text(incident: Incident, event: EventRecord) -> str:
    """The same event in the announcement's thread, which needs the incident named."""
    return f"*#{incident.number} {escape_mrkdwn(incident.title)}* — {event_text(incident, event)}"


def notice_text(notice: DirectNotice) -> str:
    """A direct message a service sends one person (reminders, roster changes)."""
    match notice:
        case ActionItemDue(item=item):
            return (f":alarm_clock: Your action item from incident *#{item.incident_number}* "
                    f"is due today: {escape_mrkdwn(item.text)}\n`/actions` lists all of yours.")
        case PostmortemDue(incident=incident, overdue=overdue, policy=policy):
            return (f":memo: The postmortem for incident *#{incident.number} "
                    f"{escape_mrkdwn(incident.title)}* is {'overdue' if overdue else 'due'} "
                    f"({policy} after resolution). `/incident postmortem` drafts it.")
        case TurnsMoved(schedule=schedule):
            return (f":calendar: Your upcoming on-call turns for *{escape_mrkdwn(schedule)}* "
                    f"changed. `/oncall {schedule}` shows the new schedule.")
        case _:
            assert_never(notice)


def shift_reminder_text(schedule: str, start: datetime, end: datetime | None) -> str:
    """The direct message before someone's on-call turn starts."""
    until = f" until {slack_date(end)}" if end else ""
    return (f":pager: You're on call for *{escape_mrkdwn(schedule)}* from "
            f"{slack_date(start)}{until}.")


def handoff_text(schedule: str, user_id: str | None, until: datetime | None) -> str:
    """The schedule channel's message at a handoff (or a gap)."""
    name = escape_mrkdwn(schedule)
    until_text = f" until {slack_date(until)}" if until else ""
    return (f":pager: <@{user_id}> is on call for *{name}*{until_text}." if user_id else
            f":warning: Nobody is on call for *{name}*{until_text}: a gap in the schedule.")


def _problems(problems: list[Problem]) -> str:
    return "; ".join(f"{p.step}: {explain(p.code)}" for p in problems)


def _stop_reason(stopped: Stopped) -> str:
    match stopped.cause:
        case "slack":
            return f"Slack said {explain(stopped.detail)}"
        case "storage-read":
            return "the database didn't answer"
        case "storage":
            return f"the database didn't save it: `{stopped.detail}`"
        case "internal":
            return f"an unexpected `{stopped.detail}`, logged"
        case _:
            assert_never(stopped.cause)


def outcome_text(outcome: Outcome) -> str:
    """A declare, set-up (retry) or change, for the person who asked: what was recorded,
    and what did not reach Slack with how to repair it."""
    number = outcome.incident.number
    if outcome.busy:
        return (f"Incident *#{number}* is being set up right now. If something is still "
                f"missing once that is done, run `/incident retry #{number}` again.")
    if outcome.stopped is not None:
        return (f"Incident *#{number}* was recorded, but setting it up in Slack stopped at "
                f"{outcome.stopped.step} ({_stop_reason(outcome.stopped)}). "
                f"Run `/incident retry #{number}` to finish it.")
    if outcome.event is not None:
        if outcome.problems:
            return (f"Saved, but Slack didn't take every change ({_problems(outcome.problems)}). "
                    f"`/incident retry #{number}` repairs the channel set-up.")
        return change_text(outcome.incident, outcome.event)
    message = f"Declared incident *#{number}* in <#{outcome.incident.channel_id}>."
    if outcome.incident.tags:  # normalised: letters, digits, `-` and `service:` only
        message += f" Tagged `{' '.join(outcome.incident.tags)}`."
    if outcome.problems:
        message += (f" Some steps failed ({_problems(outcome.problems)}); "
                    f"run `/incident retry #{number}` to try them again.")
    return message


_EDITABLE = ("title", "severity", "description", "summary")


def change_text(incident: Incident, event: EventRecord) -> str:
    """The reply to the person who made a change, as a sentence ("Acknowledged #4.")."""
    ref = f"*#{incident.number}*"
    d = {k: escape_mrkdwn(str(v)) for k, v in event.detail.items()}
    match event.kind:
        case EventKind.DECLARED:
            return f"Declared {ref}."
        case EventKind.ACKNOWLEDGED:
            return f"Acknowledged {ref}."
        case EventKind.STATUS:
            return f"{ref} is now *{d['to']}*."
        case EventKind.REOPENED:
            return f"Reopened {ref}; it is *{d['to']}* again."
        case EventKind.SEVERITY:
            return f"{ref} is now *{d['to']}*."
        case EventKind.ROLE:
            return f"{user_mention(d['user'])} is now *{d['role']}* of {ref}."
        case EventKind.UPDATE:
            return f"Update posted on {ref}."
        case EventKind.ONCALL:
            return f"{user_mention(d['user'])} is on call for {ref}."
        case EventKind.RESOLVED:
            return f"Resolved {ref}."
        case EventKind.ACTION_ITEM:
            return f"{item_change(event.detail)} on {ref}."
        case EventKind.EDITED:
            return f"Corrected {ref}: {' and '.join(n for n in _EDITABLE if n in d)} changed."
        case EventKind.CANCELLED:
            return f"Cancelled {ref}; it stays on record, left out of stats and lists."
        case EventKind.TAGGED:
            return f"{tag_change_text(d)} on {ref}."
        case EventKind.POSTMORTEM:
            return f"{review_step_text(event.detail)} on {ref}."
        case _:  # mypy: every kind has a case above
            assert_never(event.kind)


def findings_text(findings: list[Finding], text: str, limit: int = 8) -> str:
    """The checker's suggestions, for the author's eyes only (replies are ephemeral)."""
    if not findings:
        return ""
    lines = text.splitlines()
    shown = [
        f"• line {f.line}: “{escape_mrkdwn(lines[f.line - 1][f.start:f.end])}” — "
        f"{f.message} {f.suggestion}"
        for f in findings[:limit]
    ]
    more = f"\n…and {len(findings) - limit} more (`debrief lint`)." if len(findings) > limit else ""
    return ("\n\n:thought_balloon: *Blameless wording check* (only you see this):\n"
            + "\n".join(shown) + more)


def draft_text(draft: pm.Draft) -> str:
    stored = f"Postmortem draft v{draft.version} for *#{draft.number}* is stored"
    if draft.upload_error is not None:
        stored += (f", but Slack refused the upload ({explain(draft.upload_error)}). Run "
                   "`/incident postmortem` again to post a new version, or "
                   "`debrief postmortem render` to read it.")
    else:
        stored += " and posted in the channel."
    return stored + findings_text(draft.findings, draft.content)


def item_marked_text(item: ActionItem) -> str:
    """The answer to a Done / Reopen button."""
    return f"Marked {'open again' if item.is_open else 'done'}: {describe(item)}"


_ITEM_DONE: dict[ItemField, str] = {"text": "reworded", "owner": "reassigned",
                                    "due": "given a new due date", "type": "retyped",
                                    "deleted": "removed"}


def item_changed_text(changed: fix.ItemChanged) -> str:
    archived = (" The postmortem is published and every open action item has an owner and a "
                "due date now, so the incident channel is archived." if changed.archived else "")
    return (f"Action item {changed.item.id} {_ITEM_DONE[changed.field]} on "
            f"*#{changed.number}*: {describe(changed.item)}{archived}")


def entry_changed_text(number: int, entry_id: int, change: EntryChange) -> str:
    match change:
        case "edited":
            return f"Note {entry_id} on *#{number}* now reads as you wrote it."
        case "deleted":
            return f"Removed note {entry_id} from *#{number}*'s timeline (kept for audit)."
        case "hidden":
            return (f"Entry {entry_id} is hidden from *#{number}*'s postmortem (kept for "
                    f"audit; `/incident unhide {entry_id}` shows it again).")
        case "shown":
            return f"Entry {entry_id} is back in *#{number}*'s postmortem."
        case _:
            assert_never(change)


def command_reply(result: Result) -> Reply | None:
    """What a command's result says to the person who ran it (ephemeral)."""
    match result:
        case None | Reply():
            return result
        case Outcome():
            return Reply(outcome_text(result))
        case BackfillResult(seen=seen, changed=changed):
            return Reply(f"Re-read {seen} messages from the channel; "
                         f"{changed} timeline entries added or brought up to date.")
        case Noted(number=number, at=at, text=text, findings=findings, entry_id=entry_id):
            said = (f"Noted on incident *#{number}*'s timeline at {slack_date(at)} "
                    f"(note {entry_id}: `/incident note edit {entry_id} …` corrects it)."
                    + findings_text(findings, text))
            if not findings:
                return Reply(said)
            return Reply(said, build_rephrase_button(said, number, entry_id))
        case fix.EntryChanged(number=number, entry_id=entry_id, change=change):
            return Reply(entry_changed_text(number, entry_id, change))
        case fix.ItemChanged():
            return Reply(item_changed_text(result))
        case ItemAdded(item=item):
            return Reply(f"Action item {item.id} added: {describe(item)}")
        case pm.Draft():
            return Reply(draft_text(result))
        case rv.ReviewRequested():
            return Reply(review_requested_text(result))
        case rv.Published():
            return Reply(published_text(result))
        case up.UploadInvited(number=number):
            return Reply(f"Upload the edited postmortem of *#{number}* here: drop the Markdown "
                         "file (`.md`, as downloaded from the draft, edited in your editor or "
                         "pasted from a wiki) into this channel. Debrief reads its sections "
                         "back by their headings, saves what changed as yours and tells you "
                         "what it found; the timeline, action items and times always come "
                         "from the incident's record.")
        case rv.Reopened(number=number):
            return Reply(f"Reopened the postmortem of *#{number}*: it is a draft again, so "
                         "`/incident postmortem` and *Write postmortem* work again; publish it "
                         "again when it is ready (approvals given so far still count).")
        case fa.FactorAdded():
            return Reply(factor_added_text(result))
        case fa.FactorRemoved():
            return Reply(factor_removed_text(result))
        case fa.FactorList():
            return Reply(*build_factor_list(result))
        case _:
            assert_never(result)


def _redrafted(draft: pm.Draft | None) -> str:
    """How a change reached the draft: updated in place, refused by Slack, or no draft yet."""
    if draft is None:
        return " There is no draft yet: `/incident postmortem` drafts the document with it."
    if draft.upload_error is not None:
        return (f" Draft v{draft.version} is stored, but Slack refused the upload "
                f"({explain(draft.upload_error)}): run `/incident postmortem` to post it.")
    return f" Draft v{draft.version}: the draft message is updated."


def factor_added_text(added: fa.FactorAdded) -> str:
    """The writer's private answer to adding a contributing factor, with the checker's
    suggestions on its words."""
    factor = added.factor
    links = f" _({escape_mrkdwn(added.links)})_" if added.links else ""
    return (f"Added contributing factor {factor.id} to *#{added.number}* "
            f"({escape_mrkdwn(category_title(factor.category))}): "
            f"{escape_mrkdwn(factor.description)}{links}."
            + _redrafted(added.draft) + findings_text(added.findings, factor.description))


def factor_removed_text(removed: fa.FactorRemoved) -> str:
    factor = removed.factor
    return (f"Removed contributing factor {factor.id} from *#{removed.number}* "
            f"({escape_mrkdwn(category_title(factor.category))}): "
            f"_{escape_mrkdwn(factor.description)}_ (kept on record as removed)."
            + _redrafted(removed.draft))


ACT_WORDS: dict[Act, str] = {
    Act.DECLARE: "declare incidents",
    Act.ACK: "acknowledge this incident",
    Act.UPDATE: "post updates or change the status of this incident",
    Act.NOTE: "add notes to this incident",
    Act.ADD_ACTION_ITEM: "add action items to this incident",
    Act.SEVERITY: "change this incident's severity",
    Act.ROLE: "assign roles in this incident",
    Act.RESOLVE: "resolve this incident",
    Act.REOPEN: "reopen this incident",
    Act.CANCEL: "cancel this incident",
    Act.EDIT: "correct this incident's title or details",
    Act.DRAFT_POSTMORTEM: "draft this incident's postmortem or send it for review",
    Act.APPROVE_POSTMORTEM: "approve or reopen this postmortem",
    Act.PUBLISH_POSTMORTEM: "publish this postmortem",
    Act.CLOSE_ACTION_ITEM: "change, close or reopen this action item",
    Act.CHANGE_ENTRY: "change or hide that timeline entry",
    Act.ONCALL_OVERRIDE: "put that person on call or change their overrides",
    Act.ACCEPT_COVER: "accept this cover request",
}
PARTY_WORDS: dict[Party, str] = {
    Party.ANYONE: "anyone",
    Party.CHANNEL_MEMBERS: "people in the incident's channel",
    Party.COMMANDER: "its commander",
    Party.INCIDENT_ADMINS: "incident admins",
    Party.REVIEWERS: "the postmortem's reviewers",
    Party.ITEM_OWNER: "its owner",
    Party.ITEM_CREATOR: "whoever created it",
    Party.ENTRY_AUTHOR: "whoever wrote it",
    Party.SCHEDULE_MEMBERS_FOR_THEMSELVES: "people on the schedule, for themselves",
    Party.COVERER: "anyone but the person who asked",
    Party.ONCALL_ADMINS: "on-call admins",
}


def _party(refused: Refused, party: Party) -> str:
    """A party's words, and who they are where known: "its commander (@alice)"."""
    found = refused.named.get(party)
    if found is None:
        return PARTY_WORDS[party]
    names = [user_mention(u) for u in found.users]
    if found.group:
        names.append("@" + escape_mrkdwn(found.group))
    return f"{PARTY_WORDS[party]} ({', '.join(names)})" if names else PARTY_WORDS[party]


def refusal_text(refused: Refused) -> str:
    """Why nothing happened, and who may do it (shown only to the person who tried; a
    mention in an ephemeral reply notifies nobody)."""
    who = [_party(refused, p) for p in refused.allowed]
    names = who[0] if len(who) == 1 else ", ".join(who[:-1]) + " or " + who[-1]
    return (f":no_entry: You can't {ACT_WORDS[refused.act]}: only {names} can. "
            "Nothing was changed.")


def sections_saved_text(saved: pm.SectionsSaved) -> str:
    """The writer's private answer to the "Write postmortem" modal: what changed, where
    the new draft is, and the checker's suggestions on the words just written."""
    if not saved.changed:
        return f"Nothing changed in the postmortem of *#{saved.number}*; no new version."
    draft = saved.draft
    if draft is None:
        return (f"Saved {', '.join(saved.headings)} for the postmortem of *#{saved.number}*; "
                "`/incident postmortem` drafts the document with it."
                + findings_text(saved.findings, saved.checked))
    said = (f"Saved {', '.join(saved.headings)}: postmortem draft v{draft.version} for "
            f"*#{draft.number}* is stored")
    if draft.upload_error is not None:
        said += (f", but Slack refused the upload ({explain(draft.upload_error)}). Run "
                 "`/incident postmortem` again to post a new version.")
    else:
        said += " and the draft message is updated."
    return said + findings_text(saved.findings, saved.checked)


def _file(name: str) -> str:
    return f"`{escape_mrkdwn(name.replace('`', ''))}`"


def upload_summary_text(uploaded: up.PostmortemUploaded) -> str | None:
    """The channel's short line about an uploaded postmortem: which sections changed
    (None when nothing did: the uploader alone hears that)."""
    saved = uploaded.saved
    factors = _factors_changed(uploaded)
    if not saved.changed and not factors:
        return None
    changed = [f"{_listed(saved.headings)} changed"] if saved.changed else []
    said = (f":page_facing_up: {user_mention(uploaded.user)} uploaded an edited postmortem "
            f"({_file(uploaded.file_name)}): {', '.join(changed + factors)}")
    draft = saved.draft or uploaded.factor_draft
    if draft is not None and draft.upload_error is None:
        said += f"; postmortem draft v{draft.version} is in the draft message's thread"
    return said + "."


def _factors_changed(uploaded: up.PostmortemUploaded) -> list[str]:
    """`2 contributing factors added`, `1 removed` (nothing when none changed)."""
    synced = uploaded.factors
    if synced is None:
        return []
    parts = []
    if synced.added:
        parts.append(f"{len(synced.added)} contributing factor"
                     f"{'s' * (len(synced.added) != 1)} added")
    if synced.removed:
        noun = "" if synced.added else (" contributing factor" + "s" * (len(synced.removed) != 1))
        parts.append(f"{len(synced.removed)}{noun} removed")
    return parts


def _listed(headings: tuple[str, ...]) -> str:
    return ", ".join(f"*{escape_mrkdwn(h)}*" for h in headings)


def _how_to_change(heading: str, sections: tuple[str, ...]) -> str:
    """Where a generated part of the postmortem really comes from."""
    lowered = heading.lower()
    if heading == "":
        return ("the title, severity and people come from the incident: `/incident title`, "
                "`/incident severity`, `/incident role`")
    if heading in sections:
        return ("the times and durations under it come from the incident's status changes "
                "(`/incident status`, `/incident resolve`)")
    if "timeline" in lowered:
        return ("mark or pin messages in the channel to make them key events, or "
                "`/incident note at 14:05 …`; `/incident hide <n>` keeps one out")
    if "action item" in lowered:
        return "`/incident action … @owner due …` adds one; `/incident actions` changes them"
    if "summary" in lowered:
        return "`/incident edit` changes the summary"
    return ("the template writes this part; put your text under one of the sections "
            f"({_listed(sections)})")


def upload_failed_text(error: ChatError) -> str:
    """Slack would not give Debrief the uploaded file."""
    return (f"Sorry, Slack would not let me read the file you uploaded ({error.explained}), "
            "so the postmortem is unchanged. Try uploading it again in a moment.")


def upload_reply_text(uploaded: up.PostmortemUploaded) -> str:
    """The uploader's private answer: what was saved, what was kept, what was ignored
    and why, and the blameless checker's suggestions on the new words."""
    saved, name, number = uploaded.saved, _file(uploaded.file_name), uploaded.number
    factors = _factors_changed(uploaded)
    if not saved.changed and factors:
        said = (f"From {name}: {', '.join(factors)} on the postmortem of *#{number}*."
                + (_redrafted(uploaded.factor_draft) if uploaded.factor_draft else
                   " There is no draft yet: `/incident postmortem` drafts the document "
                   "with them."))
    elif not saved.changed:
        said = f"No changes: {name} says what the postmortem of *#{number}* already says."
    elif saved.draft is None:
        said = (f"Saved {_listed(saved.headings)} from {name} for the postmortem of "
                f"*#{number}*; `/incident postmortem` drafts the document with it.")
    else:
        said = (f"Saved {_listed(saved.headings)} from {name}: postmortem draft "
                f"v{saved.draft.version} for *#{number}* is stored")
        if saved.draft.upload_error is not None:
            said += (f", but Slack refused the upload ({explain(saved.draft.upload_error)}). "
                     "Run `/incident postmortem` again to post a new version.")
        else:
            said += " and the draft message is updated."
    if uploaded.missing:
        said += (f"\n• Not in the file, so kept as they were (a missing heading doesn't "
                 f"delete a section): {_listed(uploaded.missing)}.")
    if uploaded.unknown:
        shown = ", ".join(f"“{escape_mrkdwn(h)}”" for h in uploaded.unknown)
        said += (f"\n• Not headings of this postmortem, so the text under them was *not* "
                 f"saved: {shown}. Move it under one of {_listed(uploaded.sections)} and "
                 "upload again.")
    for heading in uploaded.ignored:
        part = "the header" if heading == "" else f"*{escape_mrkdwn(heading)}*"
        said += (f"\n• Your edits to {part} were ignored: it is generated from the "
                 f"incident's record — {_how_to_change(heading, uploaded.sections)}.")
    if saved.changed and factors:
        said += f"\n• Contributing factors: {', '.join(factors)}."
    return (said + findings_text(saved.findings, saved.checked)
            + findings_text(list(uploaded.factor_findings), uploaded.factor_checked))


def alert_answered_text(answered: AlertAnswered) -> str:
    """The private reply to an alert's Acknowledge or Resolve button."""
    group = answered.group
    title = escape_mrkdwn(group.title)
    if not answered.changed:
        who = f" by {user_mention(group.acknowledged_by)}" if group.acknowledged_by else ""
        shown = who if group.status == "acknowledged" else ""
        return f"Alert *{title}* is already {group.status}{shown}."
    if answered.action == "acknowledged":
        return f":eyes: You acknowledged *{title}*: escalation stops here."
    if answered.action == "silenced":
        where = (f" (Alertmanager silence `{escape_mrkdwn(group.silence_id)}`)"
                 if group.silence_id else "")
        return (f":mute: You silenced *{title}* until {slack_date(group.silenced_until)}"
                f"{where}.")
    return f":large_green_circle: You resolved *{title}*."
def _people(users: tuple[str, ...]) -> str:
    return ", ".join(user_mention(u) for u in users)


def review_requested_text(result: rv.ReviewRequested) -> str:
    """The reply to `/incident postmortem review @a @b`."""
    said = []
    if result.asked:
        said.append(f"Asked {_people(result.asked)} to review the postmortem of "
                    f"*#{result.number}*; each gets a direct message with *Approve* and "
                    "*Request changes*.")
    if result.already:
        said.append(f"{_people(result.already)} had been asked already.")
    if result.undelivered:
        said.append(f"Slack refused the message to {_people(result.undelivered)}: tell them "
                    "yourself, or ask again.")
    said.append(f"The postmortem is *{result.status.replace('_', ' ')}*.")
    return " ".join(said)


def review_decided_text(decided: rv.ReviewDecided) -> str:
    """The reviewer's answer after Approve or Request changes."""
    ref = f"*#{decided.number}*"
    if decided.repeated:
        return f"You had approved the postmortem of {ref} already; it still counts."
    if decided.kind is ReviewKind.CHANGES_REQUESTED:
        return (f"You requested changes to the postmortem of {ref}; the incident channel has "
                "your comment. Approve it when it is ready.")
    enough = decided.approvals >= decided.required
    return (f"You approved the postmortem of {ref} ({decided.approvals} approval"
            f"{'s' * (decided.approvals != 1)}; {decided.required} needed)."
            + (" It can be published: `/incident postmortem publish`." if enough else ""))


def _missing_text(missing: tuple[Missing, ...], limit: int = 5) -> str:
    lines = []
    for m in missing[:limit]:
        needs = " and ".join(w for w, on in (("an owner", m.owner), ("a due date", m.due)) if on)
        lines.append(f"action item {m.item.id} (_{escape_mrkdwn(m.item.text[:80])}_) needs {needs}")
    more = f"; and {len(missing) - limit} more" if len(missing) > limit else ""
    return "; ".join(lines) + more


def published_text(result: rv.Published) -> str:
    """The reply to `/incident postmortem publish`: where the summary went and what
    became of the channel."""
    where = {"thread": "the announcement's thread"}
    said = [f"Published the postmortem of *#{result.number}*"
            + (f" (v{result.version})" if result.version else "") + "."]
    if result.posted:
        said.append("The summary is posted in "
                    + " and ".join(where.get(p, escape_mrkdwn(p)) for p in result.posted) + ".")
    if result.failed:
        said.append("Slack refused it in "
                    + " and ".join(where.get(p, escape_mrkdwn(p)) for p in result.failed) + ".")
    archiving = result.archiving
    match archiving.state:
        case "archived":
            said.append("The incident channel is archived.")
        case "waiting":
            said.append("The channel stays open until every open action item has an owner "
                        f"and a due date: {_missing_text(archiving.missing)}. "
                        "`/incident action owner|due <n> …` sets them; the channel is "
                        "archived when the last one is set.")
        case "failed":
            said.append("Slack refused to archive the channel "
                        f"({explain(archiving.error or 'unknown')}).")
        case "off" | "none":
            pass
    return " ".join(said)
# ----- the Home tab (bot/slack/home.py draws it) -----
HOME_TITLE = "Your Debrief"
HOME_DECLARE = "Declare an incident"
HOME_ASK_COVER = "Ask for cover"
HOME_DONE = "Done"
HOME_CHANGE_DUE = "Change due"
HOME_HEADINGS = {"oncall": "On call", "alerts": "Open alerts that paged you",
                 "mine": "Your open incidents",
                 "items": "Your open action items", "postmortems": "Postmortems waiting on you",
                 "open": "Open incidents"}
HOME_EMPTY = {"mine": "None: you are not part of any open incident.",
              "items": "None open. :sparkles:",
              "postmortems": "Nothing to write or review.",
              "open": "No open incidents. :tada:"}
# Where the rest of a long list is: the command that shows it whole.
HOME_SEE_ALL = {"turns": "`/oncall <schedule>`", "mine": "`/incident list`",
                "alerts": "the alert channels (or `debrief alerts list --open`)",
                "items": "`/actions`", "postmortems": "`/incident list` and each incident's "
                "`/incident postmortem`", "open": "`/incident list`"}


def home_on_call_text(now_on: tuple[tuple[str, datetime | None], ...],
                      has_schedules: bool) -> str:
    """Whether the viewer is on call now, for which schedules and until when."""
    if not has_schedules:
        return "No on-call schedules yet (`debrief oncall apply oncall.yaml` loads them)."
    if not now_on:
        return "You are not on call now."
    parts = [f"*{escape_mrkdwn(name)}* " + (f"until {slack_date(until)}" if until
                                             else "for the next two weeks at least")
             for name, until in now_on]
    return ":pager: You are on call now for " + "; ".join(parts) + "."


def home_turn_text(schedule: str, start: datetime, end: datetime) -> str:
    return f"• *{escape_mrkdwn(schedule)}* from {slack_date(start)} to {slack_date(end)}"


def home_no_turns_text() -> str:
    return "No turns of yours in the next two weeks."


def home_incident_line(incident: Incident) -> str:
    """One open incident: number, severity, status, title, and a link to its channel."""
    where = f"<#{incident.channel_id}>" if incident.channel_id else "_no channel_"
    lock = ":lock: " if incident.private else ""
    return (f"{lock}*#{incident.number}* {incident.severity} · {escape_mrkdwn(incident.status)}"
            f" · {escape_mrkdwn(incident.title)} · {where}")


def home_item_text(item: ActionItem, today: Any) -> str:
    late = " · :warning: *overdue*" if item.overdue(today) else ""
    return f"`{item.id}` {describe(item)}{late}"


def home_owed_line(incident: Incident, kind: str, status: str) -> str:
    verb = "Write" if kind == "write" else "Review"
    where = f" · <#{incident.channel_id}>" if incident.channel_id else ""
    return (f"• {verb} the postmortem of *#{incident.number}* {escape_mrkdwn(incident.title)}"
            f" ({status.replace('_', ' ')}){where}")


def home_alert_line(group: AlertGroup) -> str:
    """One open alert group that paged the viewer: its state, since when, and where its
    message is (its channel)."""
    match group.status:
        case "acknowledged":
            state = f"acknowledged by {user_mention(group.acknowledged_by)}"
        case "silenced":
            state = f"silenced until {slack_date(group.silenced_until)}"
        case _:
            state = "*firing*"
    where = f" · <#{group.message_channel_id}>" if group.message_channel_id else ""
    incident = f" · incident *#{group.incident_number}*" if group.incident_number else ""
    return (f":rotating_light: {escape_mrkdwn(group.title)} · {state} · since "
            f"{slack_date(group.first_firing_at)}{incident}{where}")


def home_severity_heading(severity: str, total: int) -> str:
    return f"*{escape_mrkdwn(severity)}* ({total})"


def home_more_text(more: int, where: str) -> str:
    """The line under a list cut short: how many are left and which command shows them."""
    return f"…and {more} more: see all with {HOME_SEE_ALL[where]}."


def home_footer_text() -> str:
    return ("`/incident help` for every command · this tab follows changes within "
            "a few seconds")


def cover_asked_text(channel: str) -> str:
    return f"Asked in {escape_mrkdwn(channel)} for cover."


def alert_timeline_text(group: AlertGroup) -> str:
    """The incident's first timeline entry when it is declared from an alert: plain
    text (the timeline, the postmortem and the CLI show it as typed)."""
    links = " ".join(link.url for link in group.links[:5])
    return (f"Alert from {group.integration}: {group.title} (severity "
            f"{group.severity or 'none'}; first firing {group.first_firing_at:%Y-%m-%d %H:%M} "
            f"UTC){' ' + links if links else ''}")


ALERT_LINE_EMOJI = {"attached": ":link:", "refired": ":rotating_light:",
                    "more": ":rotating_light:", "resolved": ":large_green_circle:"}


def alert_line_text(group: AlertGroup, what: str, firing: int) -> str:
    """The compact line an attached alert's change gets in the incident's channel."""
    title = escape_mrkdwn(group.title)
    count = f" · {firing} firing" if firing and what != "resolved" else ""
    said = {"attached": "Alert attached", "refired": "Alert firing again",
            "more": "More alerts firing", "resolved": "Alert resolved"}.get(what, "Alert")
    tail = " · nobody is paged for it while this incident is open" \
        if what == "attached" else ""
    return (f"{ALERT_LINE_EMOJI.get(what, ':bell:')} {said}: *{title}*{count} "
            f"({escape_mrkdwn(group.integration)}){tail}")


def alert_attached_text(group: AlertGroup) -> str:
    """The private reply to "Attach to incident"."""
    return (f":link: *{escape_mrkdwn(group.title)}* is attached to incident "
            f"#{group.incident_number}: its changes go to the incident's timeline and "
            "channel, and nobody is paged for it while the incident is open.")


def nudge_text(incident: Incident, nudge: Nudge) -> str:
    """A nudge in the incident channel (bot/domain/nudges.py). It mentions the commander
    only, never the channel."""
    name = f"*#{incident.number} {escape_mrkdwn(incident.title)}* ({incident.severity})"
    idle = short_duration(nudge.idle)
    who = f"<@{incident.commander}>: " if incident.commander else ""
    match nudge.kind:
        case NudgeKind.UPDATE:
            return (f":hourglass_flowing_sand: {who}no status update on {name} for {idle}. "
                    "Post one so everyone following knows where things stand.")
        case NudgeKind.COMMANDER:
            return (f":bust_in_silhouette: {name} has had no commander for {idle}. "
                    "Someone here: take the role, so one person coordinates the response.")
        case NudgeKind.OPEN:
            return (f":calendar: {who}{name} has been open for {idle} (declared "
                    f"{slack_date(incident.declared_at)}). If it is over, resolve it "
                    "(`/incident resolve`); if not, post an update on where it stands.")
        case _:
            assert_never(nudge.kind)


def nudge_taken_text(number: int, user: str) -> str:
    """What the no-commander prompt becomes once someone takes the role."""
    return f":white_check_mark: {user_mention(user)} took the commander role for *#{number}*."


def nudge_snoozed_text(snoozed: Snoozed) -> str:
    """What the snoozed nudge's message becomes (its buttons gone)."""
    what = {NudgeKind.UPDATE: "update reminder", NudgeKind.COMMANDER: "commander reminder",
            NudgeKind.OPEN: "open-incident reminder"}[snoozed.kind]
    return (f":zzz: {user_mention(snoozed.by)} snoozed the {what} for "
            f"*#{snoozed.incident.number}* until {slack_date(snoozed.until)}.")


def weekly_report_text(trends: Trends) -> str:
    """The weekly report's message (mrkdwn), shown above its chart: this week's incidents
    by severity, the trend figures, action items and postmortems on time."""
    week = trends.this_week
    by_sev = ", ".join(f"{escape_mrkdwn(k)}: {v}" for k, v in week.by_severity.items())
    lines = [
        f"*Weekly incident report*: {week.start:%a %d %b %H:%M} to {week.end:%a %d %b %H:%M}"
        f" ({week.end.tzname()})",
        f"*Incidents*: {week.incidents}" + (f" ({by_sev})" if by_sev else ""),
        trend_text(trends),
        f"*Action items*: {week.items_opened} opened · {week.items_closed} closed · "
        f"{trends.items_overdue} overdue now",
        f"*Postmortems on time*: {week.postmortems_on_time} of {week.postmortems_due} due "
        "this week",
        "The chart shows the median time to acknowledge (MTTA), mitigate (MTTM) and "
        "resolve (MTTR) per week over the last 12 weeks; ↑ / ↓: this week above / below "
        "the 12-week median.",
    ]
    return "\n".join(lines)
