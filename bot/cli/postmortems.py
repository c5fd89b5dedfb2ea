"""`debrief postmortem render`, `show` and `export`: postmortems from the database."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

from bot.cli.db import unit_of_work
from bot.cli.incidents import incident_number
from bot.clock import utcnow
from bot.config import settings_and_config
from bot.domain.library import LIBRARY_YEAR, LibraryEntry, library_document, library_number
from bot.errors import ConfigError
from bot.services.postmortems import library_entries, postmortem_report, render_document


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
    export = pm_sub.add_parser(
        "export", help="write published postmortems as Markdown files with YAML front "
                       "matter, DIR/<yyyy>/<number>-<slug>.md (only changed files are written)")
    export.add_argument("--to", required=True, metavar="DIR", help="the library's folder")
    export.add_argument("--all", action="store_true",
                        help="also drafts and postmortems in review, and cancelled and "
                             "test incidents")
    export.add_argument("--include-private", action="store_true",
                        help="also private incidents (left out by default: a library is "
                             "meant to be shared)")
    export.set_defaults(func=export_postmortems)


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
    factors = [f for f in cast(list[dict[str, Any]], report["factors"]) if not f["removed"]]
    if factors:
        print("\ncontributing factors:")
    for factor in factors:
        print(f"  {factor['id']:>3} {factor['category']}: {factor['description']}  "
              f"({factor['author']}, {factor['added_at']})")
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


class _FrontMatterDumper(yaml.SafeDumper):
    """Block style, keys in the order given, multi-line text as `|` blocks: front matter
    a person reads in a diff."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_FrontMatterDumper.add_representer(str, _str)


def serialise_front_matter(data: dict[str, object]) -> str:
    """`data` as YAML (the same data always gives the same text)."""
    return yaml.dump(data, Dumper=_FrontMatterDumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=100)


@dataclass
class LibrarySync:
    """What an export did to the folder."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # a number's file under an old title


def sync_library(root: Path, entries: Iterable[LibraryEntry]) -> LibrarySync:
    """Write each entry's file under `root` unless it already holds exactly those bytes
    (then it is left alone, mtime included), and remove the files the library owns for
    the same number under another name (a corrected title moved it). Files it does not
    own (not `<yyyy>/<number>-<slug>.md`) are never touched."""
    owned: dict[int, list[Path]] = {}
    if root.is_dir():
        for year in sorted(root.iterdir()):
            if year.is_dir() and LIBRARY_YEAR.match(year.name):
                for path in sorted(year.iterdir()):
                    number = library_number(path.name)
                    if number is not None and path.is_file():
                        owned.setdefault(number, []).append(path)
    done = LibrarySync()
    for entry in entries:
        target = root / entry.path
        content = library_document(serialise_front_matter(entry.front_matter),
                                   entry.body).encode("utf-8")
        if target.is_file() and target.read_bytes() == content:
            done.unchanged.append(entry.path)
        else:
            _write_atomically(target, content)
            done.written.append(entry.path)
        for old in owned.get(entry.number, []):
            if old != target and old.exists():
                old.unlink()
                done.removed.append(old.relative_to(root).as_posix())
    return done


def _write_atomically(target: Path, content: bytes) -> None:
    """Write through a temporary file in the same folder and rename it into place, so
    a reader (or an interrupted export) never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".export-",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def format_library_sync(done: LibrarySync) -> str:
    """`3 written, 12 unchanged` (and what moved), one line."""
    line = f"{len(done.written)} written, {len(done.unchanged)} unchanged"
    if done.removed:
        line += f", {len(done.removed)} old file(s) removed (title changed)"
    return line + "\n"


def export_postmortems(args: argparse.Namespace) -> int:
    settings, config = settings_and_config()
    root = Path(args.to)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{args.to} is not a folder.")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {args.to}: {exc.strerror or exc}.") from exc
    with unit_of_work(settings) as uow:
        done = sync_library(root, library_entries(uow=uow, config=config,
                                                  include_drafts=args.all,
                                                  include_private=args.include_private))
    print(format_library_sync(done), end="")
    return 0
