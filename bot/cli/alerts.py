"""`debrief alerts list` and `debrief alerts show`: alert groups in the database."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.cli.db import unit_of_work
from bot.config import settings_and_config


def group_id(text: str) -> int:
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 2**31 - 1):
        raise argparse.ArgumentTypeError(f"{text[:30]!r} is not an alert group id "
                                         "(a whole number, as `debrief alerts list` shows)")
    return int(text)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    alerts = sub.add_parser("alerts", help="alert groups received from monitoring")
    alerts_sub = alerts.add_subparsers(dest="alerts_command", required=True)
    listing = alerts_sub.add_parser("list", help="list alert groups, newest first")
    listing.add_argument("--open", action="store_true",
                         help="only firing, acknowledged or silenced groups")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=list_alerts)
    show = alerts_sub.add_parser("show", help="one alert group with its history")
    show.add_argument("id", type=group_id)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=show_alert)


def list_alerts(args: argparse.Namespace) -> int:
    from bot.services.alerts import alert_list, group_summary

    settings, _ = settings_and_config()
    with unit_of_work(settings) as uow:
        items = [group_summary(g) for g in alert_list(uow, open_only=args.open)]
    if args.json:
        print(json.dumps(items, indent=2))
    else:
        sys.stdout.write(format_alert_list(items))
    return 0


def show_alert(args: argparse.Namespace) -> int:
    from bot.services.alerts import alert_report

    settings, _ = settings_and_config()
    with unit_of_work(settings) as uow:
        report = alert_report(args.id, uow)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        sys.stdout.write(format_alert(report))
    return 0


def format_alert_list(items: list[dict[str, Any]]) -> str:
    lines = [f"{item['id']:<5} {item['status']:<13} {item['integration']:<20} "
             f"{item['title'][:80]}  (first firing {item['first_firing_at']})" for item in items]
    return "".join(f"{line}\n" for line in lines or ["no alert groups"])


def format_alert(data: dict[str, Any]) -> str:
    lines = [f"{data['id']} {data['title']}"]
    for key in ("integration", "status", "severity", "first_firing_at", "last_firing_at",
                "acknowledged_by", "acknowledged_at", "resolved_at", "incident"):
        lines.append(f"  {key:<16} {data[key] if data[key] is not None else '-'}")
    for step in data["escalation_steps"]:
        lines.append(f"  step {step['step']:<3} {step['at']}  {step['target']}: "
                     f"{', '.join(step['notified']) or 'nobody (gap)'}")
    for event in data["events"]:
        lines.append(f"  {event['at']}  {event['kind']:<12} {event['actor'] or '-'}")
    return "".join(f"{line}\n" for line in lines)
