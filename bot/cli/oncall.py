"""`debrief oncall ...`: schedules as code, who is on call, shifts, overrides, iCal feeds."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.cli.db import unit_of_work
from bot.clock import utcnow
from bot.config import Settings, settings_and_config
from bot.domain.rotations import Shift
from bot.errors import ConfigError
from bot.services import oncall as oc


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    oncall = sub.add_parser("oncall", help="on-call schedules")
    oc_sub = oncall.add_subparsers(dest="oncall_command", required=True)
    apply = oc_sub.add_parser("apply", help="load schedules from a YAML file")
    apply.add_argument("file", nargs="?", help="default: oncall.file in debrief.yaml")
    apply.add_argument("--effective", help="ISO 8601 instant member changes take effect (default now)")
    apply.set_defaults(func=apply_schedules)
    whom = oc_sub.add_parser("who", help="who is on call")
    whom.add_argument("schedule")
    whom.add_argument("--at", help="ISO 8601 instant (default now)")
    whom.add_argument("--json", action="store_true")
    whom.set_defaults(func=who_is_on_call)
    shifts_cmd = oc_sub.add_parser("shifts", help="the final schedule between two instants")
    shifts_cmd.add_argument("schedule")
    shifts_cmd.add_argument("--from", dest="start", required=True)
    shifts_cmd.add_argument("--to", dest="end", required=True)
    shifts_cmd.add_argument("--json", action="store_true")
    shifts_cmd.set_defaults(func=show_shifts)
    override = oc_sub.add_parser(
        "override", help="someone covers [start, end); --remove ID or --shorten ID --end T",
        usage="debrief oncall override SCHEDULE USER --start T --end T | --remove ID | "
              "--shorten ID --end T")
    override.add_argument("schedule", nargs="?")
    override.add_argument("user", nargs="?")
    override.add_argument("--start")
    override.add_argument("--end")
    override.add_argument("--remove", type=int, metavar="ID", help="remove override ID")
    override.add_argument("--shorten", type=int, metavar="ID",
                          help="end override ID earlier, at --end")
    override.set_defaults(func=add_override)
    ical = oc_sub.add_parser("ical", help="an iCalendar feed of the schedule")
    ical.add_argument("schedule")
    ical.add_argument("--user")
    ical.set_defaults(func=ical_feed)
    ical_url = oc_sub.add_parser("ical-url", help="the secret path of the schedule's iCal feed")
    ical_url.add_argument("schedule")
    ical_url.add_argument("--rotate", action="store_true",
                          help="replace the secret: the old URL stops working")
    ical_url.set_defaults(func=ical_feed_path)


def apply_schedules(args: argparse.Namespace) -> int:
    """Load the schedules file; with a bot token, check it first (auth.test, before
    anything changes) and tell the people whose turns moved."""
    settings, config = settings_and_config()
    with unit_of_work(settings) as uow:
        path = Path(args.file) if args.file else config.oncall.file
        if path is None:
            raise ConfigError("name a schedules file, or set oncall.file in debrief.yaml.")
        specs = oc.load_schedule_file(path)
        effective = parse_instant(args.effective, "--effective")
        gateway = None
        if settings.bot_token:  # a bad token stops here, before anything changes
            from bot.slack.gateway import SlackGateway, make_web_client

            gateway = SlackGateway(make_web_client(settings.bot_token, settings.api_url), config)
            gateway.workspace_url()  # auth.test
        report = oc.apply_schedules(specs, effective=effective, uow=uow, now=utcnow())
        sys.stdout.write(format_apply_report(report))
        if report.moved and gateway is not None:
            told = oc.tell_moved(report, gateway)
            print(f"told them in Slack: {', '.join(told) or 'nobody reachable'}")
        elif report.moved:
            print("(set SLACK_BOT_TOKEN to tell them in Slack)")
        print(f"overrides added from the file: {report.overrides_added}")
        if gateway is not None:
            learned = oc.remember_people(gateway, uow, utcnow())
            print(f"display names looked up in Slack: {learned}")
    return 0


def who_is_on_call(args: argparse.Namespace) -> int:
    settings, _ = settings_and_config()
    with unit_of_work(settings) as uow:
        answer = oc.who_is_on_call(args.schedule, parse_instant(args.at, "--at"), uow)
    data = answer.as_dict()
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        sys.stdout.write(format_who(data))
    return 0


def show_shifts(args: argparse.Namespace) -> int:
    settings, _ = settings_and_config()
    with unit_of_work(settings) as uow:
        found = oc.shifts_of(args.schedule, parse_instant(args.start, "--from"),
                             parse_instant(args.end, "--to"), uow)
    rows = shift_rows(found)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        sys.stdout.write(format_shifts(rows))
    return 0


def add_override(args: argparse.Namespace) -> int:
    changing = args.remove is not None or args.shorten is not None
    if not changing and not (args.schedule and args.user and args.start and args.end):
        raise ConfigError("give SCHEDULE USER --start T --end T to add an override, "
                          "--remove ID to remove one, or --shorten ID --end T "
                          "(see `debrief oncall override --help`).")
    settings, _ = settings_and_config()
    if changing:
        return _change_override(args, settings)
    with unit_of_work(settings) as uow:
        if not 0 < len(args.user) <= 120 or any(c.isspace() for c in args.user):
            raise ConfigError("the user must be a Slack user id or an e-mail address "
                              "(at most 120 characters, no spaces).")
        oc.add_override(args.schedule, args.user, parse_instant(args.start, "--start"),
                        parse_instant(args.end, "--end"), created_by=None, uow=uow,
                        now=utcnow())
    print(f"override saved: {args.user} on {args.schedule} {args.start} → {args.end}")
    return 0


def _change_override(args: argparse.Namespace, settings: Settings) -> int:
    """`--remove ID` or `--shorten ID --end T` (nobody is messaged: the CLI has no Slack)."""
    if args.remove is not None and args.shorten is not None:
        raise ConfigError("give --remove or --shorten, not both.")
    with unit_of_work(settings) as uow:
        if args.remove is not None:
            changed = oc.remove_override(args.remove, by=None, uow=uow, chat=None, now=utcnow(),
                                         policy=None)
            print(f"override {args.remove} removed: {changed.override.user} on "
                  f"{changed.schedule} {iso_z(changed.override.start)} → "
                  f"{iso_z(changed.override.end)}")
            return 0
        if not args.end:
            raise ConfigError("--shorten needs --end: the new, earlier end.")
        changed = oc.shorten_override(args.shorten, parse_instant(args.end, "--end"), by=None,
                                      uow=uow, chat=None, now=utcnow(), policy=None)
    print(f"override {args.shorten} on {changed.schedule} now ends {iso_z(changed.override.end)}")
    return 0


def iso_z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def ical_feed(args: argparse.Namespace) -> int:
    settings, _ = settings_and_config()
    with unit_of_work(settings) as uow:
        sys.stdout.write(oc.ical_feed(args.schedule, uow, utcnow(), user=args.user).decode())
    return 0


def ical_feed_path(args: argparse.Namespace) -> int:
    settings, _ = settings_and_config()
    with unit_of_work(settings) as uow:
        print(oc.feed_path(args.schedule, oc.feed_token(args.schedule, uow, rotate=args.rotate)))
    return 0


def parse_instant(text: str | None, what: str) -> datetime:
    """An ISO 8601 instant with an offset, in UTC (now when not given); a `ConfigError`
    naming the option otherwise."""
    if not text:
        return utcnow()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"{what} must be an ISO 8601 instant like 2026-12-01T09:00:00Z.") from exc
    if parsed.tzinfo is None:
        raise ConfigError(f"{what} needs a UTC offset or Z (e.g. 2026-12-01T09:00:00Z).")
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:
        raise ConfigError(f"{what} is out of range: {text[:40]}.") from exc


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None


def shift_rows(found: list[Shift]) -> list[dict[str, Any]]:
    """Shifts as the JSON rows of `oncall shifts --json` (a gap has `user: null`)."""
    return [{"start": _iso(s.start), "end": _iso(s.end), "user": s.user, "source": s.source}
            for s in found]


def format_apply_report(report: oc.ApplyReport) -> str:
    """Which schedules were created, updated, unchanged or are not in the file, and
    whose upcoming turns moved (empty groups are left out)."""
    lines = [f"{key.replace('_', ' ')}: {', '.join(getattr(report, key))}"
             for key in ("created", "updated", "unchanged", "not_in_file")
             if getattr(report, key)]
    lines += [f"{name}: upcoming turns moved for {', '.join(sorted(people))}"
              for name, people in report.moved.items()]
    return "".join(f"{line}\n" for line in lines)


def format_who(data: dict[str, Any]) -> str:
    """A `WhoAnswer.as_dict()` as one line: who, from where, and the next change."""
    return (f"{data['schedule']} at {data['at']}: {data['on_call'] or 'nobody'} "
            f"({data['source'] or 'gap'}); next change {data['next_change'] or '-'}"
            f" to {data['next_on_call'] or 'nobody'}\n")


def format_shifts(rows: list[dict[str, Any]]) -> str:
    """One line per shift row; a gap shows as `(gap)`; no rows, no output."""
    return "".join(f"{row['start']} → {row['end']}  {row['user'] or '(gap)':<20} "
                   f"{row['source'] or ''}\n" for row in rows)
