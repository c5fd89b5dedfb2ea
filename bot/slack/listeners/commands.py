"""The `/incident` slash command."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.domain.commands import parse_incident_command
from bot.errors import UserError
from bot.services.commands import execute, incident_for
from bot.services.ports import Deps
from bot.services.stats import incident_stats
from bot.slack.blocks import build_stats
from bot.slack.ids import Command
from bot.slack.listeners.pages import incidents_page, items_page, my_items_page, timeline_page
from bot.slack.replies import guarded
from bot.slack.text import error_text
from bot.templating import render_message


def help_text(deps: Deps, unknown: str | None = None) -> str:
    config = deps.config
    # The template joins each list; past 20 names the last entry counts the rest.
    def few(names: tuple[str, ...]) -> list[str]:
        return list(names) if len(names) <= 20 else [*names[:20], f"and {len(names) - 20} more"]

    return render_message(
        "messages/help.mrkdwn.j2", unknown=unknown, statuses=few(config.statuses),
        severities=few(config.severity_names), roles=few(config.roles),
        announce_channel=config.announce_channel, marker=config.timeline.marker_emoji,
    )


def register(app: App, deps: Deps) -> None:
    @app.command(Command.INCIDENT.value)
    @guarded(deps.chat)
    def handle_incident(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        try:
            cmd = parse_incident_command(str(body.get("text") or ""), deps.config)
        except UserError as exc:  # malformed text: answer in the ack, touch nothing
            ack(response_type="ephemeral", text=error_text(exc))
            return
        if cmd.action == "help":
            ack(response_type="ephemeral", text=help_text(deps, cmd.unknown))
            return
        user_id = str(body.get("user_id") or "")
        if not user_id:
            ack(response_type="ephemeral", text="Slack didn't say who you are; please try again.")
            return
        ack()
        channel_id = str(body.get("channel_id") or "") or None
        if cmd.action == "declare" and not cmd.title:
            deps.chat.open_declare_form(str(body.get("trigger_id") or ""), channel_id)
            return
        if cmd.action == "list":
            text, blocks = incidents_page(deps)
            respond(response_type="ephemeral", text=text, blocks=blocks)
            return
        if cmd.action == "stats":
            stats = incident_stats(cmd.text, uow=deps.uow, config=deps.config, now=deps.now())
            text, blocks = build_stats(stats, cmd.text)
            respond(response_type="ephemeral", text=text, blocks=blocks)
            return
        if cmd.action == "actions":
            text, blocks = items_page(deps, incident_for(cmd, channel_id, deps))
            respond(response_type="ephemeral", text=text, blocks=blocks)
            return
        if cmd.action == "timeline" and not cmd.text:
            # One response: the first page, with a "More" button for the next.
            text, blocks = timeline_page(deps, incident_for(cmd, channel_id, deps))
            respond(response_type="ephemeral", text=text, blocks=blocks)
            return
        message = execute(cmd, user_id=user_id, channel_id=channel_id, deps=deps)
        respond(response_type="ephemeral", text=message)

    @app.command(Command.ACTIONS.value)
    @guarded(deps.chat)
    def handle_my_actions(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        """`/actions`: the caller's own open action items, across incidents."""
        ack()
        text, blocks = my_items_page(deps, str(body.get("user_id") or ""))
        respond(response_type="ephemeral", text=text, blocks=blocks)
