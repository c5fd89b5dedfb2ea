"""`/oncall` and the cover-request button."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.domain.rotations import who
from bot.domain.text import parse_user_ref, plain_from_slack
from bot.domain.when import parse_span, parse_when
from bot.errors import ChatError, UserError
from bot.services.oncall import (
    accept_cover,
    changeable_overrides,
    get_schedule,
    override_from_slack,
    remove_override,
    shifts_of,
    shorten_override,
)
from bot.services.ports import Deps
from bot.services.timeline import zone_of
from bot.slack.blocks import build_override_list, slack_date
from bot.slack.ids import Action, Command
from bot.slack.messages import cover_asked_text, override_changed_text
from bot.slack.replies import guarded
from bot.slack.text import escape_mrkdwn

MAX_ONCALL_TEXT = 500  # a schedule name, a person and two times
USAGE = ("*`/oncall`* — everyone on call now · *`/oncall <schedule>`* — now and the next "
         "shifts · *`/oncall override <schedule> @person <from> [to] <to>`* · "
         "*`/oncall cover <schedule> <from> [to] <to>`* — ask the schedule's channel for cover · "
         "*`/oncall overrides <schedule>`* — current and coming overrides, with Remove "
         "buttons · *`/oncall override remove <number>`* · "
         "*`/oncall override end <number> <when>`* — end one earlier")


def _person(member: str | None, deps: Deps | None = None) -> str:
    if member is None:
        return "_nobody (a gap)_"
    if "@" in member and deps is not None:
        try:
            member = deps.chat.resolve_user(member) or member
        except ChatError:
            pass
    return f"<@{member}>" if "@" not in member else escape_mrkdwn(member)


def _inert(words: list[str]) -> list[str]:
    """Time phrases as plain text escaped for mrkdwn. A time never contains `&`, `<` or
    `>`, so parsing is unchanged, and whatever the parser quotes back in an error
    (`I couldn't read ...`) is inert: `<!channel>` typed as a time cannot ping."""
    return [escape_mrkdwn(plain_from_slack(w)) for w in words]


def register(app: App, deps: Deps) -> None:
    @app.command(Command.ONCALL.value)
    @guarded(deps.chat)
    def handle_oncall(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        words = str(body.get("text") or "").split()
        if words[:1] == ["help"]:
            ack(response_type="ephemeral", text=USAGE)
            return
        if len(str(body.get("text") or "")) > MAX_ONCALL_TEXT:
            ack(response_type="ephemeral", text=f"That is longer than any `/oncall` command "
                f"needs ({MAX_ONCALL_TEXT} characters at most). {USAGE}")
            return
        ack()
        user_id, now = str(body.get("user_id") or ""), deps.now()
        if not words:
            respond(response_type="ephemeral", text=_everyone(deps, now))
        elif words[0] == "override" and words[1:2] in (["remove"], ["end"]):
            respond(response_type="ephemeral", text=_change_override(deps, user_id, words[1:],
                                                                     now))
        elif words[0] == "overrides":
            text, blocks = _overrides(deps, user_id, words[1:], now)
            respond(response_type="ephemeral", text=text, blocks=blocks)
        elif words[0] == "override":
            respond(response_type="ephemeral", text=_override(deps, user_id, words[1:], now))
        elif words[0] == "cover":
            respond(response_type="ephemeral", text=_cover(deps, user_id, words[1:], now))
        else:
            respond(response_type="ephemeral", text=_schedule(deps, words[0], now))

    @app.action(Action.COVER.value)
    @guarded(deps.chat)
    def handle_cover(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        actions = body.get("actions") or [{}]
        try:
            request = json.loads(actions[0].get("value") or "")
            start = datetime.fromisoformat(request["start"])
            end = datetime.fromisoformat(request["end"])
            name = str(request["schedule"])
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError("That cover request is malformed.") from exc
        user = (body.get("user") or {}).get("id")
        if not user:
            raise UserError("Slack didn't say who clicked.")
        requester = str(request.get("by") or "")
        cover = accept_cover(name, str(user), start, end, requester=requester,
                             policy=deps.config.permissions, chat=deps.chat, uow=deps.uow,
                             now=deps.now())
        if not cover.new:  # clicked again, or by someone else first: nothing changes
            respond(response_type="ephemeral", replace_original=False,
                    text=f"Already covered by <@{cover.covered_by}>; nothing changed.")
            return
        respond(replace_original=True, text=(
            f":white_check_mark: Covered by <@{cover.covered_by}>: *{escape_mrkdwn(name)}* "
            f"from {slack_date(start)} to {slack_date(end)} (requested by <@{requester}>)."))


    @app.action(Action.OVERRIDE_REMOVE.value)
    @guarded(deps.chat)
    def handle_remove_override(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        actions = body.get("actions") or [{}]
        raw = str(actions[0].get("value") or "")
        user = (body.get("user") or {}).get("id")
        if not raw.isdigit() or not user:
            raise UserError("That Remove button is malformed.")
        changed = remove_override(int(raw), by=str(user), uow=deps.uow, chat=deps.chat,
                                  policy=deps.config.permissions, now=deps.now())
        text, blocks = _overrides(deps, str(user), [changed.schedule], deps.now())
        respond(replace_original=True, text=text, blocks=blocks)
        respond(response_type="ephemeral", replace_original=False,
                text=override_changed_text(changed))


MAX_LISTED = 100  # schedules `/oncall` lists: a message takes 40,000 characters at most


def _everyone(deps: Deps, now: datetime) -> str:
    with deps.uow() as tx:
        names = tx.schedules.names()
        schedules = [tx.schedules.get(n) for n in names[:MAX_LISTED]]
    if not schedules:
        return "No on-call schedules yet. Load them with `debrief oncall apply oncall.yaml`."
    lines = [f"*{escape_mrkdwn(s.name)}*: {_person(who(s, now).user, deps)}"
             for s in schedules if s]
    if len(names) > MAX_LISTED:
        lines.append(f"…and {len(names) - MAX_LISTED} more: `/oncall <schedule>` shows one.")
    return "\n".join(lines)


def _schedule(deps: Deps, name: str, now: datetime) -> str:
    name = plain_from_slack(name)
    found = shifts_of(name, now, now + timedelta(days=14), deps.uow)
    lines = [f"*On call for {escape_mrkdwn(name)}* (times in your own zone)"]
    for shift in found[:6]:
        lines.append(f"• {slack_date(shift.start)} → {slack_date(shift.end)}: "
                     f"{_person(shift.user, deps)}" + (" _(override)_" if shift.source == "override"
                                                 else ""))
    return "\n".join(lines)


def _override(deps: Deps, user_id: str, words: list[str], now: datetime) -> str:
    if len(words) < 4:
        raise UserError("Usage: `/oncall override <schedule> @person <from> to <to>`, e.g. "
                        "`/oncall override platform @bob today 18:00 to tomorrow 09:00`.")
    name, person = plain_from_slack(words[0]), parse_user_ref(words[1])
    if person is None:
        raise UserError("Who covers? Mention them: `/oncall override platform @bob ...`.")
    start, end = parse_span(_inert(words[2:]), now, zone_of(user_id, deps.chat, deps.config))
    override_from_slack(name, person, start, end, actor=user_id,
                        policy=deps.config.permissions, chat=deps.chat, uow=deps.uow, now=now)
    return (f"Override saved: <@{person}> is on call for *{escape_mrkdwn(name)}* from "
            f"{slack_date(start)} to {slack_date(end)}.")


def _overrides(deps: Deps, user_id: str, words: list[str],
               now: datetime) -> tuple[str, list[dict[str, Any]]]:
    """The schedule's current and coming overrides, with Remove on those `user_id` may."""
    if len(words) != 1:
        raise UserError("Which schedule? `/oncall overrides platform`.")
    schedule = get_schedule(plain_from_slack(words[0]), deps.uow)
    current = sorted((o for o in schedule.overrides if o.end > now), key=lambda o: o.start)
    return build_override_list(schedule.name, current, changeable_overrides(
        schedule, current, user_id, policy=deps.config.permissions, chat=deps.chat))


def _change_override(deps: Deps, user_id: str, words: list[str], now: datetime) -> str:
    """`remove <number>` or `end <number> <when>`."""
    if len(words) < 2 or not words[1].isdigit() or (words[0] == "end" and len(words) < 3):
        raise UserError("Usage: `/oncall override remove <number>` or `/oncall override end "
                        "<number> <when>` (`/oncall overrides <schedule>` shows the numbers).")
    override_id = int(words[1])
    if words[0] == "remove":
        changed = remove_override(override_id, by=user_id, uow=deps.uow, chat=deps.chat,
                                  policy=deps.config.permissions, now=now)
    else:
        end = parse_when(" ".join(_inert(words[2:])), now,
                         zone_of(user_id, deps.chat, deps.config))
        changed = shorten_override(override_id, end, by=user_id, uow=deps.uow, chat=deps.chat,
                                   policy=deps.config.permissions, now=now)
    return override_changed_text(changed)


def _cover(deps: Deps, user_id: str, words: list[str], now: datetime) -> str:
    if len(words) < 3:
        raise UserError("Usage: `/oncall cover <schedule> <from> to <to>`.")
    name = plain_from_slack(words[0])
    channel = cover_channel(deps, name)
    start, end = parse_span(_inert(words[1:]), now, zone_of(user_id, deps.chat, deps.config))
    return ask_for_cover(deps, user_id, name, channel, start, end, now)


def cover_channel(deps: Deps, name: str) -> str:
    """Where the schedule asks for cover (its channel), or a UserError saying it has none."""
    schedule = get_schedule(name, deps.uow)
    if not schedule.channel:
        raise UserError(f"Schedule `{escape_mrkdwn(name)}` has no channel to ask in.")
    return schedule.channel


def ask_for_cover(deps: Deps, user_id: str, name: str, channel: str, start: datetime,
                  end: datetime, now: datetime) -> str:
    """Post the cover request (the same for `/oncall cover` and the Home tab's button)."""
    if end <= now:
        raise UserError("That time is already over.")
    deps.chat.ask_for_cover(channel, name, user_id, start, end)
    return cover_asked_text(channel)
