"""`debrief search <words> [--json]`: full-text search of past incidents (the same
search as `/incident search`; the CLI is the operator's tool, so private incidents are
included, cancelled and test ones only with `--all`)."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.db import unit_of_work
from bot.config import settings_and_config
from bot.domain.incidents import Incident
from bot.domain.search import parse_search
from bot.domain.tags import SERVICE, services
from bot.services.search import Found, search_incidents


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    search = sub.add_parser(
        "search", help="full-text search of incidents: titles, summaries, timelines, "
                       "postmortems; filters tag:x service:x sev:SEV1 after:2026-01-01")
    search.add_argument("words", nargs="+")
    search.add_argument("--json", action="store_true")
    search.add_argument("--all", action="store_true",
                        help="include cancelled and test incidents")
    search.set_defaults(func=search_command)


def search_command(args: argparse.Namespace) -> int:
    settings, config = settings_and_config()
    query = parse_search(" ".join(args.words), config.severity_names)
    with unit_of_work(settings) as uow:
        found = search_incidents(query, uow=uow, include_all=args.all)
    if args.json:
        print(json.dumps(search_as_dicts(found), indent=2))
    else:
        sys.stdout.write(format_search(found))
    return 0


def _row(incident: Incident) -> dict[str, object]:
    return {"number": incident.number, "title": incident.title,
            "severity": incident.severity, "status": incident.status,
            "declared_at": incident.declared_at.isoformat().replace("+00:00", "Z"),
            "tags": [t for t in incident.tags if not t.startswith(SERVICE)],
            "services": list(services(incident.tags)), "private": incident.private,
            "channel_id": incident.channel_id}


def search_as_dicts(found: Found) -> dict[str, object]:
    """The stable JSON shape of `debrief search --json`: the matches, best first."""
    return {"query": found.query.text, "results": [_row(i) for i in found.incidents]}


def format_search(found: Found) -> str:
    if not found.incidents:
        return f"no incidents match {found.query.text}\n"
    return "".join(
        f"#{i.number}  {i.severity:<5} {i.declared_at:%Y-%m-%d}  {i.title}"
        + (f"  [{' '.join(i.tags)}]" if i.tags else "") + "\n" for i in found.incidents)
