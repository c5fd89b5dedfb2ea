"""`debrief incident list`, `show`, `export` and `import`: incidents in the database."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from bot.cli.db import unit_of_work
from bot.config import settings_and_config
from bot.services.reports import incident_list, incident_report

MAX_NUMBER = 2**31 - 1  # incident numbers are 32-bit integers in PostgreSQL


def incident_number(text: str) -> int:
    """The argparse type of an incident number (also used by `postmortem render`)."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_NUMBER:
        raise argparse.ArgumentTypeError(
            f"{text[:30]!r} is not an incident number (a whole number from 1 to {MAX_NUMBER})")
    return number


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    incident = sub.add_parser("incident", help="read incidents from the database")
    inc_sub = incident.add_subparsers(dest="incident_command", required=True)
    listing = inc_sub.add_parser("list", help="list incidents")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--open", action="store_true", help="only open incidents")
    listing.set_defaults(func=list_incidents)
    show = inc_sub.add_parser("show", help="show one incident")
    show.add_argument("number", type=incident_number)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=show_incident)
    export = inc_sub.add_parser(
        "export", help="write every incident as JSON lines (stdout), for backups and moves")
    export.add_argument("--since", type=since_date, metavar="DATE",
                        help="only incidents declared on or after DATE (YYYY-MM-DD, UTC)")
    export.set_defaults(func=export_incidents_command)
    load = inc_sub.add_parser(
        "import", help="load an export file; incidents already present are left alone")
    load.add_argument("file", help="a file written by `debrief incident export`")
    load.set_defaults(func=import_incidents_command)


def since_date(text: str) -> datetime:
    """The argparse type of `--since`: a day (UTC midnight) or a full ISO time with zone."""
    try:
        day = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text[:30]!r} is not a date (YYYY-MM-DD or an ISO 8601 time)") from None
    return day.replace(tzinfo=UTC) if day.tzinfo is None else day


def export_incidents_command(args: argparse.Namespace) -> int:
    from bot.services.archive import dump_line, export_incidents

    settings, _ = settings_and_config()
    with unit_of_work(settings) as uow:
        write = sys.stdout.write
        for record in export_incidents(uow=uow, since=args.since):
            write(dump_line(record))
    return 0


def import_incidents_command(args: argparse.Namespace) -> int:
    """Exit 0 when everything is in, 1 when some incidents conflict (listed on stderr),
    2 for a file that is not an export (nothing imported; the line is named)."""
    from bot.services.archive import conflict_lines, describe, import_incidents, parse_lines

    settings, _ = settings_and_config()
    name = args.file
    with open(name, encoding="utf-8") as checking:  # first pass: a bad file changes nothing
        for _ in parse_lines(checking, name):
            pass
    with unit_of_work(settings) as uow, open(name, encoding="utf-8") as lines:
        report = import_incidents(parse_lines(lines, name), uow=uow)
    for line in conflict_lines(report, name):
        print(line, file=sys.stderr)
    print(describe(report))
    return 1 if report.conflicts else 0


def list_incidents(args: argparse.Namespace) -> int:
    settings, _ = settings_and_config()
    with unit_of_work(settings) as uow:
        items = incident_list(uow=uow, open_only=args.open)
    if args.json:
        print(json.dumps(items, indent=2))
    else:
        sys.stdout.write(format_incident_list(items))
    return 0


def show_incident(args: argparse.Namespace) -> int:
    settings, config = settings_and_config()
    with unit_of_work(settings) as uow:
        report = incident_report(args.number, uow=uow, config=config)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        sys.stdout.write(format_incident(report))
    return 0


def format_incident_list(items: list[dict[str, Any]]) -> str:
    """One line per incident (shapes of `incident_list`), or "no incidents"."""
    lines = [f"#{item['number']:<4} {item['severity']:<5} {item['status']:<14} "
             f"{_marks(item)}{item['title']}  ({item['channel_name'] or 'no channel'})"
             for item in items]
    return "".join(f"{line}\n" for line in lines or ["no incidents"])


def _marks(item: dict[str, Any]) -> str:
    """`[CANCELLED] ` / `[TEST] ` before the title of an incident stats leave out."""
    marks = [m for m, key in (("CANCELLED", "cancelled"), ("TEST", "test")) if item.get(key)]
    return f"[{' · '.join(marks)}] " if marks else ""


def format_incident(data: dict[str, Any]) -> str:
    """An `incident_report` as aligned text: fields, roles, durations, then the timeline
    without deleted messages (`*` marks key entries, text cut at 100 characters)."""
    lines = [f"#{data['number']} {_marks(data)}{data['title']}"]
    for key in ("severity", "status", "channel_name", "declared_at", "declared_by",
                "acknowledged_at", "resolved_at", "summary"):
        lines.append(f"  {key:<16} {data[key] or '-'}")
    for role, user in data["roles"].items():
        lines.append(f"  {role:<16} {user}")
    for name, seconds in data["durations"].items():
        shown = "-" if seconds is None else f"{int(seconds // 60)}m {int(seconds % 60)}s"
        lines.append(f"  {name.removesuffix('_seconds'):<16} {shown}")
    if data.get("alerts"):
        lines.append("  alerts:")
        for alert in data["alerts"]:
            state = "attached" if alert["attached"] else "was attached"
            lines.append(f"    {alert['id']:<5} {alert['status']:<12} {state:<12} "
                         f"{alert['integration']}: {alert['title'][:80]}")
    lines.append("  timeline (* = key):")
    for item in data["timeline"]:
        if item["deleted"]:
            continue
        mark = "*" if item["key"] else " "
        lines.append(f"  {mark} {item['at']}  {item['kind']:<13} {item['author'] or '-':<12} "
                     f"{item['text'][:100]}")
    return "".join(f"{line}\n" for line in lines)
