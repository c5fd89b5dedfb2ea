"""`debrief lint`: the blameless-wording check of a file; exit 1 when there are findings."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.domain.blameless import Finding, lint_text
from bot.errors import ConfigError
from bot.templating import guidance_lines

FINDINGS = 1  # the exit status when the text has findings (2 stays for user errors)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lint = sub.add_parser("lint", help="check a postmortem (or any text) for blameful wording")
    lint.add_argument("file", help="a Markdown or text file; - for standard input")
    lint.add_argument("--json", action="store_true")
    lint.set_defaults(func=lint_file)


def lint_file(args: argparse.Namespace) -> int:
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {args.file}: {exc.strerror}") from exc
    findings = lint_text(text, skip=guidance_lines())
    if args.json:
        print(json.dumps([f.as_dict() for f in findings], indent=2))
    else:
        sys.stdout.write(format_findings(findings, text, args.file))
    return FINDINGS if findings else 0


def format_findings(findings: list[Finding], text: str, name: str) -> str:
    """One `file:line:column: category: 'span' — message Try: suggestion` line per
    finding (columns 1-based), or `file: no findings`."""
    if not findings:
        return f"{name}: no findings\n"
    lines = text.splitlines()
    return "".join(
        f"{name}:{f.line}:{f.start + 1}: {f.category}: '{lines[f.line - 1][f.start:f.end]}' — "
        f"{f.message} Try: {f.suggestion}\n"
        for f in findings)
