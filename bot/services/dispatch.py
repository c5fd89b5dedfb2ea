"""Runs a typed `/incident` command (or a card button, which is the same command)
against the use cases: the one place a subcommand is dispatched, with one `match`.
Knows nothing of Slack payloads; pages (lists, help, stats) are built through `Pages`,
which the Slack layer implements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, assert_never

from bot.domain import incidents as rules
from bot.domain.blameless import Finding, lint_text
from bot.domain.commands import (
    Ack,
    AddActionItem,
    Cancel,
    Declare,
    Edit,
    Help,
    IncidentCommand,
    List,
    ListActionItems,
    Note,
    Postmortem,
    PostmortemStep,
    Resolve,
    Retitle,
    Retry,
    Role,
    Severity,
    Stats,
    Status,
    Timeline,
    TimelineRebuild,
    Update,
)
from bot.domain.incidents import Incident
from bot.domain.permissions import Act
from bot.domain.stats import Stats as IncidentStats
from bot.services import incidents as uc
from bot.services import postmortems as pm
from bot.services import timeline as tl
from bot.services.action_items import add_action_item
from bot.services.permissions import Subject, authorize
from bot.services.ports import Deps
from bot.services.stats import incident_stats
from bot.slack.text import describe, escape_mrkdwn


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
    def incidents(self) -> Reply: ...
    def action_items(self, number: int) -> Reply: ...
    def timeline(self, number: int) -> Reply: ...
    def stats(self, stats: IncidentStats, period: str) -> Reply: ...


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


def list_open(deps: Deps) -> list[Incident]:
    with deps.uow() as tx:
        # Drills (test incidents) stay out of the list; cancelled ones are closed already.
        return [i for i in tx.incidents.list(open_only=True) if i.counts]


def _status_act(incident: Incident, *, status: str, resolved_status: str) -> Act:
    """Moving to the resolved status resolves; leaving it reopens; else an update."""
    if status == resolved_status:
        return Act.RESOLVE
    return Act.REOPEN if incident.is_resolved else Act.UPDATE


def run_incident_command(cmd: IncidentCommand, caller: Caller, *, deps: Deps,
                         pages: Pages) -> Reply | None:
    """Run one command; returns the ephemeral reply (None: nothing to say, a form opened).
    Raises `UserError` for bad input that needed I/O to find."""
    config, now, user_id = deps.config, deps.now(), caller.user_id

    def number(ref: int | None, usage: str) -> int:
        return uc.find_number(deps.uow, ref=ref, channel_id=caller.channel_id, usage=usage)

    def checked(ref: int | None, usage: str, act: Act | Callable[[Incident], Act]) -> int:
        """The incident's number once the caller may `act` on it (a function of the
        incident for a command whose action depends on its state); else `Refused`."""
        found = number(ref, usage)
        with deps.uow() as tx:
            incident = tx.incidents.get(found)
        assert incident is not None
        authorize(act if isinstance(act, Act) else act(incident), user_id,
                  Subject(incident=incident), policy=config.permissions, chat=deps.chat)
        return found

    def change(ref: int | None, usage: str, rule: uc.Rule, act: Act | Callable[[Incident], Act],
               *, announce: bool = True, retopic: bool = False,
               reannounce: bool = False) -> uc.Outcome:
        return uc.change_incident(checked(ref, usage, act), rule, uow=deps.uow, chat=deps.chat,
                                  announce=announce, retopic=retopic, reannounce=reannounce)

    match cmd:
        case Help(unknown=unknown):
            return pages.help(unknown)
        case Declare(title=""):
            authorize(Act.DECLARE, user_id, Subject(), policy=config.permissions, chat=deps.chat)
            deps.chat.open_declare_form(caller.trigger_id, caller.channel_id)
            return None
        case Declare(title=title, severity=severity, test=test):  # checks who may declare
            outcome = uc.declare_incident(
                uc.DeclareRequest(title=title, severity=severity or config.default_severity,
                                  declared_by=user_id, test=test),
                uow=deps.uow, chat=deps.chat, config=config, now=now,
            )
            return Reply(outcome.message)
        case List():
            return pages.incidents()
        case Stats(period=period):
            return pages.stats(incident_stats(period, uow=deps.uow, config=config, now=now),
                               period)
        case ListActionItems(ref=ref):
            return pages.action_items(number(ref, cmd.usage))
        case Timeline(ref=ref):
            # One response: the first page, with a "More" button for the next.
            return pages.timeline(number(ref, cmd.usage))
        case TimelineRebuild(ref=ref):
            result = tl.backfill(number(ref, cmd.usage), uow=deps.uow, chat=deps.chat)
            return Reply(f"Re-read {result.seen} messages from the channel; "
                         f"{result.changed} timeline entries added or brought up to date.")
        case Retry(ref=ref):
            return Reply(uc.set_up_incident(number(ref, cmd.usage), uow=deps.uow,
                                            chat=deps.chat, config=config).message)
        case Note(ref=ref, text=text, body=body, at=at):
            reply = tl.add_note(checked(ref, cmd.usage, Act.NOTE), user_id, body, at, uow=deps.uow,
                                chat=deps.chat, config=config, now=now)
            return Reply(reply + findings_text(lint_text(text), text))
        case AddActionItem(ref=ref, text=text):
            item = add_action_item(checked(ref, cmd.usage, Act.ADD_ACTION_ITEM), user_id,
                                   text.split(), uow=deps.uow, chat=deps.chat, config=config,
                                   now=now)
            return Reply(f"Action item added: {describe(item)}")
        case Postmortem(ref=ref):
            draft = pm.draft_postmortem(checked(ref, cmd.usage, Act.DRAFT_POSTMORTEM), user_id, uow=deps.uow,
                                        chat=deps.chat, config=config, now=now)
            return Reply(draft.message + findings_text(draft.findings, draft.content))
        case PostmortemStep(ref=ref, step=step):
            act = {"review": Act.DRAFT_POSTMORTEM, "publish": Act.PUBLISH_POSTMORTEM,
                   "reopen": Act.APPROVE_POSTMORTEM}[step]
            return Reply(pm.change_review_status(checked(ref, cmd.usage, act), step,
                                                 uow=deps.uow, now=now))
        case Ack(ref=ref):
            return Reply(change(ref, cmd.usage, partial(rules.acknowledge, user=user_id, now=now),
                                Act.ACK, announce=False).message)
        case Status(ref=ref, status=status, note=note):
            return Reply(change(ref, cmd.usage, partial(
                rules.set_status, status=status, note=note, user=user_id, now=now,
                resolved_status=config.resolved_status),
                partial(_status_act, status=status, resolved_status=config.resolved_status),
                retopic=True).message)
        case Severity(ref=ref, severity=severity):
            return Reply(change(ref, cmd.usage, partial(
                rules.set_severity, severity=severity, user=user_id, now=now), Act.SEVERITY,
                retopic=True, reannounce=True).message)
        case Role(ref=ref, role=role, user_id=assignee):
            outcome = change(ref, cmd.usage, partial(
                rules.assign_role, role=role, assignee=assignee, user=user_id, now=now),
                Act.ROLE, announce=False, retopic=role == "commander",
                reannounce=role == "commander")
            uc.invite_new_role_holder(deps.chat, outcome.incident, assignee)
            return Reply(outcome.message)
        case Update(ref=ref, text=text):
            return Reply(change(ref, cmd.usage, partial(
                rules.post_update, text=text, user=user_id, now=now), Act.UPDATE).message)
        case Resolve(ref=ref, summary=summary):
            return Reply(change(ref, cmd.usage, partial(
                rules.resolve, summary=summary, user=user_id, now=now,
                resolved_status=config.resolved_status), Act.RESOLVE, retopic=True).message)
        # --- corrections (issue 12) ---
        case Retitle(ref=ref, title=title):
            outcome = change(ref, cmd.usage, partial(
                rules.edit, changes={"title": title}, user=user_id, now=now,
                severities=config.severity_names), Act.EDIT, retopic=True, reannounce=True)
            return Reply(uc.follow_title(outcome, uow=deps.uow, chat=deps.chat,
                                         config=config).message)
        case Edit(ref=ref):
            incident_number = checked(ref, cmd.usage, Act.EDIT)
            with deps.uow() as tx:
                incident = tx.incidents.get(incident_number)
            assert incident is not None
            deps.chat.open_edit_form(caller.trigger_id, incident)
            return None
        case Cancel(ref=ref, reason=reason):
            return Reply(change(ref, cmd.usage, partial(
                rules.cancel, reason=reason, user=user_id, now=now,
                resolved_status=config.resolved_status), Act.CANCEL,
                retopic=True, reannounce=True).message)
        case _:  # mypy: every member of the union has a case above
            assert_never(cmd)
