"""`debrief postmortem render` and `show`: an incident's postmortem from the database."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, cast

from bot.cli.db import unit_of_work
from bot.cli.incidents import incident_number
from bot.clock import utcnow
from bot.config import settings_and_config
from bot.errors import ConfigError
from bot.services.postmortems import postmortem_report, render_document


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    postmortem = sub.add_parser("postmortem", help="postmortem documents")
    pm_sub = postmortem.add_subparsers(dest="postmortem_command", required=True)
    render = pm_sub.add_parser("render", help="render an incident's postmortem from the database")
    render.add_argument("number", type=incident_number)
    render.add_argument("--template", help="template file name (default: by severity)")
    render.add_argument("-o", "--output", help="write to this file instead of standard output")
    render.set_defaults(func=render_postmortem)
    show = pm_sub.add_parser("show", help="an incident's postmortem: status, versions, and "
                                          "the sections the team wrote (who and when)")
    show.add_argument("number", type=incident_number)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=show_postmortem)


def show_postmortem(args: argparse.Namespace) -> int:
    settings, config = settings_and_config()
    with unit_of_work(settings) as uow:
        report = postmortem_report(args.number, uow=uow, config=config)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"#{report['number']} postmortem: {report['status'] or 'not drafted yet'} "
          f"(template {report['template']})")
    for version in cast(list[dict[str, Any]], report["versions"]):
        print(f"  v{version['version']:<3} {version['created_at']}  by {version['author']}")
    reviewers = cast(list[dict[str, Any]], report["reviewers"])
    if reviewers:
        print(f"  reviewers: {', '.join(str(r['user']) for r in reviewers)}; approved by "
              f"{', '.join(cast(list[str], report['approved_by'])) or 'nobody yet'} "
              f"({report['required_approvals']} needed)")
    steps = cast(list[dict[str, Any]], report["reviews"]) + cast(
        list[dict[str, Any]], report["state_changes"])
    for step in sorted(steps, key=lambda s: str(s["at"])):
        comment = f": {step['comment']}" if step.get("comment") else ""
        print(f"  {step['at']}  {step['kind'].replace('_', ' ')} by {step['by']}{comment}")
    for section in cast(list[dict[str, Any]], report["sections"]):
        print(f"\n## {section['heading']}  (v{section['version']}, {section['author']}, "
              f"{section['written_at']})\n{section['text']}")
    return 0


def render_postmortem(args: argparse.Namespace) -> int:
    settings, config = settings_and_config()
    with unit_of_work(settings) as uow:
        _, content = render_document(args.number, uow=uow, config=config, now=utcnow(),
                                     template=args.template)
    if args.output:
        try:
            Path(args.output).write_text(content, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write {args.output}: {exc.strerror or exc}.") from exc
        print(f"wrote {args.output}")
    else:
        print(content)
    return 0
