"""`debrief stats`: the metrics of `/incident stats`, from the recorded lifecycle."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.db import unit_of_work
from bot.clock import utcnow
from bot.config import settings_and_config
from bot.domain.stats import Stats
from bot.services.stats import incident_stats


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    stats = sub.add_parser("stats", help="incident metrics from the recorded lifecycle")
    stats.add_argument("--period", default="30d", help="30d, 12w or all (default 30d)")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=show_stats)


def show_stats(args: argparse.Namespace) -> int:
    settings, config = settings_and_config()
    with unit_of_work(settings) as uow:
        stats = incident_stats(args.period, uow=uow, config=config, now=utcnow())
    if args.json:
        print(json.dumps(stats.as_dict(), indent=2))
    else:
        sys.stdout.write(format_stats(stats))
    return 0


def format_stats(stats: Stats) -> str:
    """Counts by severity, median and p90 minutes to each milestone, postmortem and
    action-item counts."""
    data = stats.as_dict()
    lines = [f"Incidents since {data['since'] or 'the beginning'}: {data['incidents_by_severity']}"]
    for name, q in stats.seconds_to.items():
        median = "-" if q["median"] is None else f"{q['median'] / 60:.1f} min"
        p90 = "-" if q["p90"] is None else f"{q['p90'] / 60:.1f} min"
        lines.append(f"  time to {name:<12} median {median:<12} p90 {p90}  (n={q['count']})")
    lines.append(f"Postmortems: {stats.postmortems}")
    lines.append(f"Action items: {stats.action_items}")
    for kind, rows in stats.alert_ack.items():
        if rows:
            lines.append(f"Alert time to acknowledge, {kind.replace('_', ' ')}:")
        for name, q in rows.items():
            median = "-" if q["median"] is None else f"{q['median'] / 60:.1f} min"
            p90 = "-" if q["p90"] is None else f"{q['p90'] / 60:.1f} min"
            lines.append(f"  {name:<20} median {median:<12} p90 {p90}  (n={q['count']})")
    return "".join(f"{line}\n" for line in lines)
