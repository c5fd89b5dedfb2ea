"""The `debrief` command line.

One module per command group (`run`, `db`, `incidents`, `postmortems`, `stats`, `oncall`,
`lint`, `demo`), each with `register(subparsers)` that adds its parsers and binds each
leaf command to a handler with `set_defaults(func=...)`. A handler takes the parsed
arguments, calls services, prints through small pure `format_*` functions and returns the
exit status. To add a command: add a handler (and a `format_*` for its text output) to
its group's module, or a new module listed in `GROUPS`. Errors are turned into one line
here, in `main`, and nowhere else.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from bot.cli import alerts, db, demo, incidents, lint, oncall, postmortems, run, search, stats
from bot.errors import ChatError, ConfigError, UserError

GROUPS = (run, db, incidents, postmortems, stats, search, oncall, alerts, lint, demo)  # the order of --help
AUTH_CODES = ("invalid_auth", "not_authed", "token_revoked", "account_inactive")
USER_ERROR = 2  # anything the user can fix; exit 1 is kept for `lint` findings

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error: the README promises one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(USER_ERROR, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree; every leaf parser has a `func` default (its handler)."""
    parser = _Parser(prog="debrief", description="Incident management in Slack.")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Whatever a user can cause (bad input, settings, files, database
    URL, token) ends as one line on stderr and exit status 2, never a traceback; exit 1
    is kept for `lint` findings."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.func
    try:
        code = handler(args)
        sys.stdout.flush()  # a full disk or closed pipe is reported here, not at exit
        return code
    except (ConfigError, UserError) as exc:
        return _fail(str(exc))
    except ChatError as exc:
        hint = {"unreachable": " Check SLACK_API_URL and the network."}.get(
            exc.code, " Check SLACK_BOT_TOKEN." if exc.code in AUTH_CODES else "")
        return _fail(f"Slack {exc.method} failed: {exc.explained}{hint}")
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `debrief ... | head`: the reader has all it wanted
        _silence_stdout()
        return 1
    except Exception as exc:
        message = _user_cause(exc)
        if message is None:
            raise  # a bug: the traceback is what a report needs
        return _fail(message)


def _fail(message: str) -> int:
    print(f"debrief: {' '.join(message.split())}", file=sys.stderr)
    return USER_ERROR


def _user_cause(exc: Exception) -> str | None:
    """The one line for an error the user can fix (None: a bug)."""
    from alembic.util import CommandError
    from sqlalchemy.exc import DatabaseError, DataError, InterfaceError, OperationalError

    if isinstance(exc, OperationalError | InterfaceError) or type(exc) is DatabaseError:
        return f"the database cannot be used (check DATABASE_URL): {_first_line(exc.orig or exc)}"
    if isinstance(exc, DataError):
        return f"the database refused a value: {_first_line(exc.orig or exc)}"
    if isinstance(exc, CommandError):
        return f"the database schema cannot be upgraded by this version of Debrief: {exc}"
    if isinstance(exc, UnicodeError):
        return f"a file is not UTF-8 text ({exc})"
    if isinstance(exc, OverflowError):
        return f"a date or number is out of range ({exc})"
    if isinstance(exc, OSError):
        if exc.filename is not None:
            return f"{exc.filename}: {exc.strerror or exc}"
        if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EIO, errno.EDQUOT):
            _silence_stdout()  # our own output could not be written (e.g. > /dev/full)
            return f"cannot write the output: {exc.strerror}"
        return str(exc.strerror or exc)
    return None


def _first_line(exc: BaseException) -> str:
    """The driver's own message without SQLAlchemy's SQL echo and background link."""
    return next(iter(str(exc).strip().splitlines()), exc.__class__.__name__)


def _silence_stdout() -> None:
    """After a failed write to stdout (full disk, closed pipe), point it at /dev/null so
    the interpreter's final flush does not print a second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
