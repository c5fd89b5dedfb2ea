"""Runs a typed `/incident` command (or a card button, which is the same command)
against the use cases: the one place a subcommand is dispatched, with one `match`.
Knows nothing of Slack: it returns a typed `Result` that the Slack layer words
(`bot.slack.messages.command_reply`); pages (lists, help, stats) are built through
`Pages`, which the Slack layer implements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Protocol, assert_never

from bot.domain import incidents as rules
from bot.domain.action_items import ActionItem
from bot.domain.blameless import Finding, lint_text
from bot.domain.commands import (
    Ack,
    AddActionItem,
    Cancel,
    ChangeActionItem,
    Declare,
    DeleteNote,
    Edit,
    EditNote,
    Help,
    HideEntry,
    IncidentCommand,
    List,
    ListActionItems,
    Note,
    Postmortem,
    PostmortemEdit,
    PostmortemFactor,
    PostmortemFactors,
    PostmortemReview,
    PostmortemStep,
    PostmortemUpload,
    RemoveFactor,
    Resolve,
    Retitle,
    Retry,
    Role,
    Search,
    Severity,
    Stats,
    Status,
    Tag,
    Timeline,
    TimelineRebuild,
    Update,
)
from bot.domain.incidents import Incident
from bot.domain.permissions import Act
from bot.domain.search import SearchQuery
from bot.domain.stats import Stats as IncidentStats
from bot.domain.trends import Trends
from bot.services import corrections as fix
from bot.services import factors as fa
from bot.services import incidents as uc
from bot.services import postmortems as pm
from bot.services import reviews as rv
from bot.services import timeline as tl
from bot.services import uploads as up
from bot.services.action_items import add_action_item
from bot.services.permissions import Subject, authorize
from bot.services.ports import Deps, UnitOfWorkFactory
from bot.services.stats import incident_stats, incident_trends


@dataclass(frozen=True)
class Reply:
    """What the person who ran the command sees (ephemeral): text, maybe with blocks."""
    text: str
    blocks: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class Caller:
    """Who ran the command, where; `trigger_id` opens a form (Slack's, for `declare`)."""
    user_id: str
    channel_id: str | None = None
    trigger_id: str = ""


class Pages(Protocol):
    """The replies that are pages of a list (or help), built by the Slack layer."""

    def help(self, unknown: str | None) -> Reply: ...
    def incidents(self, user_id: str) -> Reply: ...
    def action_items(self, number: int) -> Reply: ...
    def timeline(self, number: int) -> Reply: ...
    def stats(self, stats: IncidentStats, trends: Trends, period: str) -> Reply: ...
    def search(self, query: SearchQuery, user_id: str) -> Reply: ...


@dataclass(frozen=True)
class Noted:
    """A note stands on incident `number`'s timeline `at` (UTC); `findings` are the
    blameless checker's, about `text`."""
    number: int
    at: datetime
    text: str
    findings: list[Finding]
    entry_id: int = 0  # the note's number, for `/incident note edit <id>`


@dataclass(frozen=True)
class ItemAdded:
    item: ActionItem


# What a command did, for the Slack layer to word (None: nothing to say, a form opened).
Result = (Reply | uc.Outcome | tl.BackfillResult | Noted | ItemAdded | pm.Draft
          | rv.ReviewRequested | rv.Published | rv.Reopened | up.UploadInvited
          | fa.FactorAdded | fa.FactorRemoved | fa.FactorList
          | fix.EntryChanged | fix.ItemChanged | None)


def roster(incident: Incident, uow: UnitOfWorkFactory) -> list[str]:
    """Names of the incident's people known to the bot (stored, no Slack call), so the
    blameless check recognises them even in lowercase ("erin took down search")."""
    people = {incident.declared_by, *incident.roles.values(),
              *(e.actor for e in incident.events if e.actor)}
    with uow() as tx:
        return [name for _, name in tx.people.lookup(p for p in people if p).values()]


def list_open(deps: Deps, user_id: str) -> list[Incident]:
    """Open incidents `user_id` may see: private ones only for their channel's members."""
    with deps.uow() as tx:
        # Drills (test incidents) stay out of the list; cancelled ones are closed already.
        found = [i for i in tx.incidents.list(open_only=True) if i.counts]
    return uc.visible_to(found, user_id, deps.chat)


def _status_act(incident: Incident, *, status: str, resolved_status: str) -> Act:
    """Moving to the resolved status resolves; leaving it reopens; else an update."""
    if status == resolved_status:
        return Act.RESOLVE
    return Act.REOPEN if incident.is_resolved else Act.UPDATE


def run_incident_command(cmd: IncidentCommand, caller: Caller, *, deps: Deps,
                         pages: Pages) -> Result:
    """Run one command; returns what it did, for the ephemeral reply (None: nothing to
    say, a form opened). Raises `UserError` for bad input that needed I/O to find."""
    config, now, user_id = deps.config, deps.now(), caller.user_id

    def hidden_from_caller(incident: Incident) -> bool:
        return incident.private and not uc.visible_to([incident], user_id, deps.chat)

    def number(ref: int | None, usage: str) -> int:
        if ref is None:  # the caller's channel: its number is all we need
            return uc.find_number(deps.uow, ref=None, channel_id=caller.channel_id, usage=usage)
        return find(ref, usage).number

    def find(ref: int | None, usage: str) -> Incident:
        return uc.find_incident(uc.Target(ref, caller.channel_id, usage), uow=deps.uow,
                                hidden_from_caller=hidden_from_caller)

    def authorized(act: Act | Callable[[Incident], Act], found: Incident) -> None:
        authorize(act if isinstance(act, Act) else act(found), user_id,
                  Subject(incident=found), policy=config.permissions, chat=deps.chat)

    def checked(ref: int | None, usage: str, act: Act | Callable[[Incident], Act]) -> Incident:
        """The incident once the caller may `act` on it (a function of the incident for a
        command whose action depends on its state), read once; else `Refused`."""
        found = find(ref, usage)
        authorized(act, found)
        return found

    def change(ref: int | None, usage: str, rule: uc.Rule, act: Act | Callable[[Incident], Act],
               *, announce: bool = True, retopic: bool = False,
               reannounce: bool = False) -> uc.Outcome:
        return uc.change_incident(uc.Target(ref, caller.channel_id, usage), rule, uow=deps.uow,
                                  chat=deps.chat, announce=announce, retopic=retopic,
                                  reannounce=reannounce, hidden_from_caller=hidden_from_caller,
                                  check=partial(authorized, act), nudges=config.nudges)

    match cmd:
        case Help(unknown=unknown):
            return pages.help(unknown)
        case Declare(title=""):
            authorize(Act.DECLARE, user_id, Subject(), policy=config.permissions, chat=deps.chat)
            deps.chat.open_declare_form(caller.trigger_id, caller.channel_id)
            return None
        case Declare(title=title, severity=severity, private=private, test=test, tags=tags):
            return uc.declare_incident(  # checks who may declare
                uc.DeclareRequest(title=title, severity=severity or config.default_severity,
                                  declared_by=user_id, private=private, test=test, tags=tags),
                uow=deps.uow, chat=deps.chat, config=config, now=now,
            )
        case List():
            return pages.incidents(user_id)
        case Stats(period=period):
            visible = partial(uc.visible_to, user_id=user_id, chat=deps.chat)
            return pages.stats(
                incident_stats(period, uow=deps.uow, config=config, now=now, visible=visible),
                incident_trends(uow=deps.uow, config=config, end=now, visible=visible), period)
        case ListActionItems(ref=ref):
            return pages.action_items(number(ref, cmd.usage))
        case Timeline(ref=ref):
            # One response: the first page, with a "More" button for the next.
            return pages.timeline(number(ref, cmd.usage))
        case TimelineRebuild(ref=ref):
            return tl.backfill(number(ref, cmd.usage), uow=deps.uow, chat=deps.chat)
        case Retry(ref=ref):
            return uc.set_up_incident(number(ref, cmd.usage), uow=deps.uow, chat=deps.chat,
                                      config=config)
        case Note(ref=ref, text=text, body=body, at=at):
            noted = checked(ref, cmd.usage, Act.NOTE)
            when, entry_id = tl.add_note(noted.number, user_id, body, at, uow=deps.uow,
                                         chat=deps.chat, config=config, now=now)
            return Noted(noted.number, when, text,
                         lint_text(text, roster=roster(noted, deps.uow)), entry_id)
        case AddActionItem(ref=ref, text=text):
            return ItemAdded(add_action_item(checked(ref, cmd.usage, Act.ADD_ACTION_ITEM).number,
                                             user_id, text.split(), uow=deps.uow,
                                             chat=deps.chat, config=config, now=now))
        case Postmortem(ref=ref):
            return pm.draft_postmortem(checked(ref, cmd.usage, Act.DRAFT_POSTMORTEM).number, user_id,
                                       uow=deps.uow, chat=deps.chat, config=config, now=now)
        case PostmortemEdit(ref=ref, section=section):
            pm.open_section_form(number(ref, cmd.usage), user_id, caller.trigger_id,
                                 caller.channel_id, deps=deps, section=section or None)
            return None
        case PostmortemReview(ref=ref, reviewers=reviewers):
            return rv.request_review(checked(ref, cmd.usage, Act.DRAFT_POSTMORTEM).number,
                                     user_id, reviewers, uow=deps.uow, chat=deps.chat,
                                     config=config, now=now)
        case PostmortemFactor(ref=ref, category=category, text=text) if category and text:
            return fa.add_factor(number(ref, cmd.usage), user_id, category, text,
                                 uow=deps.uow, chat=deps.chat, config=config, now=now)
        case PostmortemFactor(ref=ref, category=category, text=text):
            fa.open_factor_form(number(ref, cmd.usage), user_id, caller.trigger_id,
                                caller.channel_id, deps=deps, category=category,
                                description=text)
            return None
        case PostmortemFactors(ref=ref):
            return fa.list_factors(number(ref, cmd.usage), uow=deps.uow, config=config)
        case RemoveFactor(ref=ref, factor_id=factor_id):
            return fa.remove_factor(number(ref, cmd.usage), user_id, factor_id, uow=deps.uow,
                                    chat=deps.chat, config=config, now=now)
        case PostmortemUpload(ref=ref):
            return up.invite_upload(number(ref, cmd.usage), user_id, deps=deps)
        case PostmortemStep(ref=ref, step=step):  # who may: asked with the reviewers
            run = rv.publish_postmortem if step == "publish" else rv.reopen_postmortem
            return run(number(ref, cmd.usage), user_id, uow=deps.uow, chat=deps.chat,
                       config=config, now=now)
        case Ack(ref=ref):
            return change(ref, cmd.usage, partial(rules.acknowledge, user=user_id, now=now),
                          Act.ACK, announce=False)
        case Status(ref=ref, status=status, note=note):
            return change(ref, cmd.usage, partial(
                rules.set_status, status=status, note=note, user=user_id, now=now,
                resolved_status=config.resolved_status),
                partial(_status_act, status=status, resolved_status=config.resolved_status),
                retopic=True)
        case Severity(ref=ref, severity=severity):
            return change(ref, cmd.usage, partial(
                rules.set_severity, severity=severity, user=user_id, now=now), Act.SEVERITY,
                retopic=True, reannounce=True)
        case Role(ref=ref, role=role, user_id=assignee):
            outcome = change(ref, cmd.usage, partial(
                rules.assign_role, role=role, assignee=assignee, user=user_id, now=now),
                Act.ROLE, announce=False, retopic=role == "commander",
                reannounce=role == "commander")
            uc.invite_new_role_holder(deps.chat, outcome.incident, assignee)
            return outcome
        case Update(ref=ref, text=text):
            return change(ref, cmd.usage, partial(
                rules.post_update, text=text, user=user_id, now=now), Act.UPDATE)
        case Resolve(ref=ref, summary=summary):
            return change(ref, cmd.usage, partial(
                rules.resolve, summary=summary, user=user_id, now=now,
                resolved_status=config.resolved_status), Act.RESOLVE, retopic=True)
        # --- corrections (h12b): notes, timeline entries, action items ---
        # Who may is asked by the use case, which knows the entry's author / the item.
        case EditNote(ref=ref, entry_id=entry_id, text=text):
            return fix.change_entry(number(ref, cmd.usage), entry_id, user_id, "edited", text,
                                    uow=deps.uow, chat=deps.chat, policy=config.permissions,
                                    now=now)
        case DeleteNote(ref=ref, entry_id=entry_id):
            return fix.change_entry(number(ref, cmd.usage), entry_id, user_id, "deleted",
                                    uow=deps.uow, chat=deps.chat, policy=config.permissions,
                                    now=now)
        case HideEntry(ref=ref, entry_id=entry_id, hidden=hidden):
            return fix.change_entry(number(ref, cmd.usage), entry_id, user_id,
                                    "hidden" if hidden else "shown", uow=deps.uow,
                                    chat=deps.chat, policy=config.permissions, now=now)
        case ChangeActionItem(ref=ref, item_id=item_id, field=field, value=value):
            return fix.change_action_item(number(ref, cmd.usage), item_id, field, value,
                                          user_id, uow=deps.uow, chat=deps.chat,
                                          config=config, now=now)
        # --- corrections (h12a): title, edit form, cancel ---
        case Retitle(ref=ref, title=title):
            outcome = change(ref, cmd.usage, partial(
                rules.edit, changes={"title": title}, user=user_id, now=now,
                severities=config.severity_names), Act.EDIT, retopic=True, reannounce=True)
            return uc.follow_title(outcome, uow=deps.uow, chat=deps.chat, config=config)
        case Edit(ref=ref):
            deps.chat.open_edit_form(caller.trigger_id, checked(ref, cmd.usage, Act.EDIT))
            return None
        case Cancel(ref=ref, reason=reason):
            return change(ref, cmd.usage, partial(
                rules.cancel, reason=reason, user=user_id, now=now,
                resolved_status=config.resolved_status), Act.CANCEL,
                retopic=True, reannounce=True)
        case Tag(ref=ref, add=add, remove=remove):
            return change(ref, cmd.usage, partial(rules.retag, add=add, remove=remove,
                                                  user=user_id, now=now), Act.EDIT)
        case Search(query=query):
            return pages.search(query, user_id)
        case _:  # mypy: every member of the union has a case above
            assert_never(cmd)
