"""`debrief demo`: the scripted incident against a local Slack stand-in (see bot.demo)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="run a scripted incident against a local Slack stand-in")
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    demo.set_defaults(func=start_demo)


def start_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return run_demo(quiet=args.quiet)
