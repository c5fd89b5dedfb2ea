"""The `/incident` and `/actions` slash commands: ack, parse once, run, reply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.domain.commands import Declare, Help, parse_incident_command
from bot.domain.search import SearchQuery
from bot.domain.stats import Stats
from bot.domain.trends import Trends
from bot.errors import UserError
from bot.services.dispatch import Caller, Reply, run_incident_command
from bot.services.incidents import Outcome
from bot.services.ports import Deps
from bot.services.related import suggest_related
from bot.slack.blocks import build_stats
from bot.slack.ids import Command
from bot.slack.listeners.pages import (
    incidents_page,
    items_page,
    my_items_page,
    search_page,
    timeline_page,
)
from bot.slack.messages import command_reply, render_message
from bot.slack.replies import guarded
from bot.slack.text import error_text


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


@dataclass(frozen=True)
class SlackPages:
    """The dispatcher's `Pages`, as Block Kit."""
    deps: Deps

    def help(self, unknown: str | None) -> Reply:
        return Reply(help_text(self.deps, unknown))

    def incidents(self, user_id: str) -> Reply:
        return Reply(*incidents_page(self.deps, user_id))

    def action_items(self, number: int) -> Reply:
        return Reply(*items_page(self.deps, number))

    def timeline(self, number: int) -> Reply:
        return Reply(*timeline_page(self.deps, number))

    def stats(self, stats: Stats, trends: Trends, period: str) -> Reply:
        return Reply(*build_stats(stats, period, trends))

    def search(self, query: SearchQuery, user_id: str) -> Reply:
        return Reply(*search_page(self.deps, query, user_id))


def register(app: App, deps: Deps) -> None:
    pages = SlackPages(deps)

    @app.command(Command.INCIDENT.value)
    @guarded(deps.chat)
    def handle_incident(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        try:
            cmd = parse_incident_command(str(body.get("text") or ""), deps.config)
        except UserError as exc:  # malformed text: answer in the ack, touch nothing
            ack(response_type="ephemeral", text=error_text(exc))
            return
        if isinstance(cmd, Help):  # needs neither I/O nor a user: answered in the ack
            ack(response_type="ephemeral", text=pages.help(cmd.unknown).text)
            return
        user_id = str(body.get("user_id") or "")
        if not user_id:
            ack(response_type="ephemeral", text="Slack didn't say who you are; please try again.")
            return
        ack()
        caller = Caller(user_id, str(body.get("channel_id") or "") or None,
                        str(body.get("trigger_id") or ""))
        result = run_incident_command(cmd, caller, deps=deps, pages=pages)
        reply = command_reply(result)
        if reply is not None and reply.blocks is not None:
            respond(response_type="ephemeral", text=reply.text, blocks=reply.blocks)
        elif reply is not None:
            respond(response_type="ephemeral", text=reply.text)
        if isinstance(cmd, Declare) and isinstance(result, Outcome):
            # Once the declarer has their answer: related past incidents, in the channel.
            suggest_related(result.incident, uow=deps.uow, chat=deps.chat)

    @app.command(Command.ACTIONS.value)
    @guarded(deps.chat)
    def handle_my_actions(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        """`/actions`: the caller's own open action items, across incidents."""
        ack()
        text, blocks = my_items_page(deps, str(body.get("user_id") or ""))
        respond(response_type="ephemeral", text=text, blocks=blocks)
