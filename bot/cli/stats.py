"""`debrief stats`: the metrics of `/incident stats`, from the recorded lifecycle."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.charts import render_trends_png
from bot.cli.db import unit_of_work
from bot.clock import utcnow
from bot.config import settings_and_config
from bot.domain.stats import Stats
from bot.domain.trends import Trends, trend_figures
from bot.services.stats import incident_stats, incident_trends


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    stats = sub.add_parser("stats", help="incident metrics from the recorded lifecycle")
    stats.add_argument("--period", default="30d", help="30d, 12w or all (default 30d)")
    stats.add_argument("--json", action="store_true")
    stats.add_argument("--chart", metavar="FILE.png", type=_chart_path,
                       help="also draw the weekly report's trends chart (12 weeks to now) "
                            "into this PNG file")
    stats.set_defaults(func=show_stats)


def _chart_path(text: str) -> Path:
    """Checked before any work: a .png name in a folder that exists (an error after the
    figures were printed would read as if the figures were wrong)."""
    path = Path(text)
    if path.suffix.lower() != ".png" or text.endswith(("/", "\\")):
        raise argparse.ArgumentTypeError(f"{text!r}: the chart is a PNG; name it FILE.png")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file name")
    if not path.absolute().parent.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: folder {str(path.parent)!r} does not exist")
    return path


def show_stats(args: argparse.Namespace) -> int:
    settings, config = settings_and_config()
    now = utcnow()
    with unit_of_work(settings) as uow:
        stats = incident_stats(args.period, uow=uow, config=config, now=now)
        trends = incident_trends(uow=uow, config=config, end=now)
    if args.json:
        print(json.dumps({**stats.as_dict(), "trends": trends.as_dict()}, indent=2))
    else:
        sys.stdout.write(format_stats(stats) + format_trends(trends))
    if args.chart is not None:
        png = render_trends_png(trends)  # imports Pillow: only when a chart is drawn
        args.chart.write_bytes(png)
        print(f"Chart written to {args.chart} ({len(png):,} bytes)",
              file=sys.stderr if args.json else sys.stdout)
    return 0


def format_trends(trends: Trends) -> str:
    """`This week vs 12-week median: incidents 3 ↑ (1) · MTTA 4m ↓ (9m) · ...`"""
    parts = [f"{f.label} {f.this_week}{' ' + f.arrow if f.arrow else ''} ({f.median})"
             for f in trend_figures(trends)]
    return "This week vs 12-week median: " + " · ".join(parts) + "\n"


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
