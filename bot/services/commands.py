"""Runs a parsed `/incident` command (or a card button, which is the same command)
against the use cases. Knows nothing of Slack payloads."""

from __future__ import annotations

from functools import partial

from bot.domain import incidents as rules
from bot.domain.blameless import Finding, lint_text
from bot.domain.commands import IncidentCommand
from bot.domain.incidents import Incident
from bot.services import actions as act
from bot.services import incidents as uc
from bot.services import postmortems as pm
from bot.services import timeline as tl
from bot.services.ports import Deps
from bot.slack.text import describe, escape_mrkdwn

USAGE = {
    "ack": "/incident ack #12",
    "status": "/incident status #12 monitoring",
    "severity": "/incident severity #12 SEV1",
    "role": "/incident role #12 comms @person",
    "update": "/incident update #12 Rolled back",
    "resolve": "/incident resolve #12 Fixed by rollback",
    "retry": "/incident retry #12",
    "note": "/incident note #12 Paged the DB team",
    "timeline": "/incident timeline #12",
    "postmortem": "/incident postmortem #12",
    "action": "/incident action #12 Add an alert @alice due friday",
    "actions": "/incident actions #12",
}


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
        return tx.incidents.list(open_only=True)


def incident_for(cmd: IncidentCommand, channel_id: str | None, deps: Deps) -> int:
    return uc.find_number(deps.uow, ref=cmd.ref, channel_id=channel_id,
                          usage=USAGE.get(cmd.action, "/incident help"))


def execute(cmd: IncidentCommand, *, user_id: str, channel_id: str | None, deps: Deps) -> str:
    """Run one command; returns the ephemeral reply. Raises `UserError` for bad input."""
    config, now = deps.config, deps.now()
    if cmd.action == "declare":
        outcome = uc.declare_incident(
            uc.DeclareRequest(title=cmd.title, severity=cmd.severity or config.default_severity,
                              declared_by=user_id),
            uow=deps.uow, chat=deps.chat, config=config, now=now,
        )
        return outcome.message
    number = incident_for(cmd, channel_id, deps)
    if cmd.action == "retry":
        return uc.set_up_incident(number, uow=deps.uow, chat=deps.chat, config=config).message
    if cmd.action == "note":
        reply = tl.add_note(number, user_id, cmd.text.split(), uow=deps.uow, chat=deps.chat,
                            config=config, now=now)
        return reply + findings_text(lint_text(cmd.text), cmd.text)
    if cmd.action == "action":
        item = act.add_action(number, user_id, cmd.text.split(), uow=deps.uow, chat=deps.chat,
                              config=config, now=now)
        return f"Action item added: {describe(item)}"
    if cmd.action == "postmortem":
        if cmd.text:
            return pm.change_review_status(number, cmd.text, uow=deps.uow, now=now)
        draft = pm.draft_postmortem(number, user_id, uow=deps.uow, chat=deps.chat,
                                    config=config, now=now)
        return draft.message + findings_text(draft.findings, draft.content)
    if cmd.action == "timeline":
        result = tl.backfill(number, uow=deps.uow, chat=deps.chat)
        return (f"Re-read {result.seen} messages from the channel; "
                f"{result.changed} timeline entries added or brought up to date.")
    rule: uc.Rule
    announce, retopic = True, False
    match cmd.action:
        case "ack":
            rule = partial(rules.acknowledge, user=user_id, now=now)
            announce = False
        case "status":
            assert cmd.status is not None
            rule = partial(rules.set_status, status=cmd.status, note=cmd.text, user=user_id,
                           now=now, resolved_status=config.resolved_status)
            retopic = True
        case "severity":
            assert cmd.severity is not None
            rule = partial(rules.set_severity, severity=cmd.severity, user=user_id, now=now)
            retopic = True
        case "role":
            assert cmd.role is not None and cmd.user_id is not None
            rule = partial(rules.assign_role, role=cmd.role, assignee=cmd.user_id, user=user_id,
                           now=now)
            announce, retopic = False, cmd.role == "commander"
        case "update":
            rule = partial(rules.post_update, text=cmd.text, user=user_id, now=now)
        case "resolve":
            rule = partial(rules.resolve, summary=cmd.text, user=user_id, now=now,
                           resolved_status=config.resolved_status)
            retopic = True
        case _:
            raise AssertionError(f"unhandled action {cmd.action}")
    outcome = uc.change_incident(number, rule, uow=deps.uow, chat=deps.chat,
                                 announce=announce, retopic=retopic)
    if cmd.action == "role" and cmd.user_id:
        uc.invite_new_role_holder(deps.chat, outcome.incident, cmd.user_id)
    return outcome.message
