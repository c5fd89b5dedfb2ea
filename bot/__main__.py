"""The `debrief` command line. Reads settings once, builds real dependencies, runs."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

from bot.config import DebriefConfig, Settings, settings_and_config
from bot.domain.incidents import as_dict
from bot.domain.timeline import build_timeline, durations, durations_as_dict, timeline_as_dicts
from bot.errors import ChatError, ConfigError, UserError

log = logging.getLogger("debrief")
MAX_NUMBER = 2**31 - 1  # incident numbers are 32-bit integers in PostgreSQL


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error: the README promises one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def _incident_number(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_NUMBER:
        raise argparse.ArgumentTypeError(
            f"{text[:30]!r} is not an incident number (a whole number from 1 to {MAX_NUMBER})")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="debrief", description="Incident management in Slack.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot (Socket Mode if SLACK_APP_TOKEN is set, else HTTP)")
    run.add_argument("--port", type=int, help="HTTP port (overrides PORT)")
    run.add_argument("--host", help="HTTP interface (overrides DEBRIEF_HOST; default 0.0.0.0)")
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply database migrations")
    incident = sub.add_parser("incident", help="read incidents from the database")
    inc_sub = incident.add_subparsers(dest="incident_command", required=True)
    listing = inc_sub.add_parser("list", help="list incidents")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--open", action="store_true", help="only open incidents")
    show = inc_sub.add_parser("show", help="show one incident")
    show.add_argument("number", type=_incident_number)
    show.add_argument("--json", action="store_true")
    postmortem = sub.add_parser("postmortem", help="postmortem documents")
    pm_sub = postmortem.add_subparsers(dest="postmortem_command", required=True)
    render = pm_sub.add_parser("render", help="render an incident's postmortem from the database")
    render.add_argument("number", type=_incident_number)
    render.add_argument("--template", help="template file name (default: by severity)")
    render.add_argument("-o", "--output", help="write to this file instead of standard output")
    stats = sub.add_parser("stats", help="incident metrics from the recorded lifecycle")
    stats.add_argument("--period", default="30d", help="30d, 12w or all (default 30d)")
    stats.add_argument("--json", action="store_true")
    oncall = sub.add_parser("oncall", help="on-call schedules")
    oc = oncall.add_subparsers(dest="oncall_command", required=True)
    apply = oc.add_parser("apply", help="load schedules from a YAML file")
    apply.add_argument("file", nargs="?", help="default: oncall.file in debrief.yaml")
    apply.add_argument("--effective", help="ISO 8601 instant member changes take effect (default now)")
    whom = oc.add_parser("who", help="who is on call")
    whom.add_argument("schedule")
    whom.add_argument("--at", help="ISO 8601 instant (default now)")
    whom.add_argument("--json", action="store_true")
    shifts_cmd = oc.add_parser("shifts", help="the final schedule between two instants")
    shifts_cmd.add_argument("schedule")
    shifts_cmd.add_argument("--from", dest="start", required=True)
    shifts_cmd.add_argument("--to", dest="end", required=True)
    shifts_cmd.add_argument("--json", action="store_true")
    override = oc.add_parser("override", help="someone covers [start, end)")
    override.add_argument("schedule")
    override.add_argument("user")
    override.add_argument("--start", required=True)
    override.add_argument("--end", required=True)
    ical = oc.add_parser("ical", help="an iCalendar feed of the schedule")
    ical.add_argument("schedule")
    ical.add_argument("--user")
    ical_url = oc.add_parser("ical-url", help="the secret path of the schedule's iCal feed")
    ical_url.add_argument("schedule")
    ical_url.add_argument("--rotate", action="store_true",
                          help="replace the secret: the old URL stops working")
    lint = sub.add_parser("lint", help="check a postmortem (or any text) for blameful wording")
    lint.add_argument("file", help="a Markdown or text file; - for standard input")
    lint.add_argument("--json", action="store_true")
    demo = sub.add_parser("demo", help="run a scripted incident against a local Slack stand-in")
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Whatever a user can cause (bad input, settings, files, database
    URL, token) ends as one line on stderr and exit status 2, never a traceback; exit 1
    is kept for `lint` findings."""
    args = _parser().parse_args(argv)
    try:
        code = _dispatch(args)
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


AUTH_CODES = ("invalid_auth", "not_authed", "token_revoked", "account_inactive")


def _fail(message: str) -> int:
    print(f"debrief: {' '.join(message.split())}", file=sys.stderr)
    return 2


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


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo(quiet=args.quiet)
    if args.command == "lint":
        return _lint(args)
    settings, config = settings_and_config()
    if args.command == "db":
        from storage.db import make_engine, upgrade

        engine = make_engine(settings.database_url)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        print("database is up to date")
        return 0
    if args.command == "incident":
        return _incident(args, settings, config)
    if args.command == "run":
        return _run(args, settings, config)
    if args.command == "postmortem":
        return _postmortem(args, settings, config)
    if args.command == "stats":
        return _stats(args, settings, config)
    if args.command == "oncall":
        return _oncall(args, settings, config)
    raise AssertionError(args.command)


@contextmanager
def _uow(settings: Settings) -> Iterator[Any]:
    """A unit-of-work factory for one CLI command; the engine is disposed afterwards. The
    embedded SQLite database is created or upgraded here, as `debrief run` does;
    PostgreSQL is upgraded explicitly (`debrief db upgrade`, once per release)."""
    from storage.db import is_up_to_date, make_engine, upgrade
    from storage.uow import UnitOfWorkFactory

    engine = make_engine(settings.database_url)
    try:
        if not is_up_to_date(engine):
            if engine.dialect.name != "sqlite":
                raise ConfigError("the database schema is missing or behind this version: "
                                  "run `debrief db upgrade`.")
            upgrade(engine)
        yield UnitOfWorkFactory(engine)
    finally:
        engine.dispose()


def _postmortem(args: argparse.Namespace, settings: Settings, config: DebriefConfig) -> int:
    from pathlib import Path

    from bot.clock import utcnow
    from bot.services.postmortems import render_document

    with _uow(settings) as uow:
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


def _stats(args: argparse.Namespace, settings: Settings, config: DebriefConfig) -> int:
    from bot.clock import utcnow
    from bot.services.stats import incident_stats

    with _uow(settings) as uow:
        stats = incident_stats(args.period, uow=uow, config=config, now=utcnow())
    data = stats.as_dict()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"Incidents since {data['since'] or 'the beginning'}: {data['incidents_by_severity']}")
    for name, q in stats.seconds_to.items():
        median = "-" if q["median"] is None else f"{q['median'] / 60:.1f} min"
        p90 = "-" if q["p90"] is None else f"{q['p90'] / 60:.1f} min"
        print(f"  time to {name:<12} median {median:<12} p90 {p90}  (n={q['count']})")
    print(f"Postmortems: {stats.postmortems}")
    print(f"Action items: {stats.action_items}")
    return 0


def _instant(text: str | None, what: str) -> Any:
    from datetime import UTC, datetime

    from bot.clock import utcnow

    if not text:
        return utcnow()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"{what} must be an ISO 8601 instant like 2026-12-01T09:00:00Z.") from exc
    if parsed.tzinfo is None:
        raise ConfigError(f"{what} needs a UTC offset or Z (e.g. 2026-12-01T09:00:00Z).")
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:
        raise ConfigError(f"{what} is out of range: {text[:40]}.") from exc


def _iso(at: Any) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None


def _oncall(args: argparse.Namespace, settings: Settings, config: DebriefConfig) -> int:
    from pathlib import Path

    from bot.clock import utcnow
    from bot.services import oncall as oc

    with _uow(settings) as uow:
        if args.oncall_command == "apply":
            path = Path(args.file) if args.file else config.oncall.file
            if path is None:
                raise ConfigError("name a schedules file, or set oncall.file in debrief.yaml.")
            specs = oc.load_schedule_file(path)
            effective = _instant(args.effective, "--effective")
            gateway = None
            if settings.bot_token:  # a bad token stops here, before anything changes
                from bot.slack.gateway import SlackGateway, make_web_client

                gateway = SlackGateway(make_web_client(settings.bot_token, settings.api_url),
                                       config)
                gateway.workspace_url()  # auth.test
            report = oc.apply_schedules(specs, effective=effective, uow=uow, now=utcnow())
            for key in ("created", "updated", "unchanged", "not_in_file"):
                if getattr(report, key):
                    print(f"{key.replace('_', ' ')}: {', '.join(getattr(report, key))}")
            for name, people in report.moved.items():
                print(f"{name}: upcoming turns moved for {', '.join(sorted(people))}")
            if report.moved and gateway is not None:
                told = oc.tell_moved(report, gateway)
                print(f"told them in Slack: {', '.join(told) or 'nobody reachable'}")
            elif report.moved:
                print("(set SLACK_BOT_TOKEN to tell them in Slack)")
            print(f"overrides added from the file: {report.overrides_added}")
            if gateway is not None:
                learned = oc.remember_people(gateway, uow, utcnow())
                print(f"display names looked up in Slack: {learned}")
        elif args.oncall_command == "who":
            answer = oc.who_is_on_call(args.schedule, _instant(args.at, "--at"), uow)
            data = answer.as_dict()
            if args.json:
                print(json.dumps(data, indent=2))
            else:
                print(f"{data['schedule']} at {data['at']}: {data['on_call'] or 'nobody'} "
                      f"({data['source'] or 'gap'}); next change {data['next_change'] or '-'}"
                      f" to {data['next_on_call'] or 'nobody'}")
        elif args.oncall_command == "shifts":
            found = oc.shifts_of(args.schedule, _instant(args.start, "--from"),
                                 _instant(args.end, "--to"), uow)
            rows = [{"start": _iso(s.start), "end": _iso(s.end), "user": s.user,
                     "source": s.source} for s in found]
            if args.json:
                print(json.dumps(rows, indent=2))
            else:
                for row in rows:
                    print(f"{row['start']} → {row['end']}  {row['user'] or '(gap)':<20} "
                          f"{row['source'] or ''}")
        elif args.oncall_command == "override":
            if not 0 < len(args.user) <= 120 or any(c.isspace() for c in args.user):
                raise ConfigError("the user must be a Slack user id or an e-mail address "
                                  "(at most 120 characters, no spaces).")
            oc.add_override(args.schedule, args.user, _instant(args.start, "--start"),
                            _instant(args.end, "--end"), created_by=None, uow=uow,
                            now=utcnow())
            print(f"override saved: {args.user} on {args.schedule} "
                  f"{args.start} → {args.end}")
        elif args.oncall_command == "ical":
            sys.stdout.write(oc.ical_feed(args.schedule, uow, utcnow(),
                                          user=args.user).decode())
        elif args.oncall_command == "ical-url":
            print(oc.feed_path(args.schedule,
                               oc.feed_token(args.schedule, uow, rotate=args.rotate)))
    return 0


def _lint(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.domain.blameless import lint_text

    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {args.file}: {exc.strerror}") from exc
    findings = lint_text(text)
    if args.json:
        print(json.dumps([f.as_dict() for f in findings], indent=2))
    elif not findings:
        print(f"{args.file}: no findings")
    else:
        lines = text.splitlines()
        for f in findings:
            span = lines[f.line - 1][f.start:f.end]
            print(f"{args.file}:{f.line}:{f.start + 1}: {f.category}: '{span}' — {f.message} "
                  f"Try: {f.suggestion}")
    return 1 if findings else 0


def _incident(args: argparse.Namespace, settings: Settings, config: DebriefConfig) -> int:
    with _uow(settings) as uow, uow() as tx:
        if args.incident_command == "show":
            incident = tx.incidents.get(args.number)
            if incident is None:
                raise UserError(f"no incident #{args.number}")
            data: Any = as_dict(incident)
            items = build_timeline(incident, tx.timeline.entries(args.number))
            data["timeline"] = timeline_as_dicts(items)
            data["durations"] = durations_as_dict(
                durations(incident, config.statuses, config.timeline.mitigated_status))
        else:
            data = [as_dict(i) for i in tx.incidents.list(open_only=args.open)]
    if args.json:
        print(json.dumps(data, indent=2))
    elif args.incident_command == "show":
        _print_incident(data)
    else:
        for item in data:
            print(f"#{item['number']:<4} {item['severity']:<5} {item['status']:<14} "
                  f"{item['title']}  ({item['channel_name'] or 'no channel'})")
        if not data:
            print("no incidents")
    return 0


def _print_incident(data: dict[str, Any]) -> None:
    print(f"#{data['number']} {data['title']}")
    for key in ("severity", "status", "channel_name", "declared_at", "declared_by",
                "acknowledged_at", "resolved_at", "summary"):
        print(f"  {key:<16} {data[key] or '-'}")
    for role, user in data["roles"].items():
        print(f"  {role:<16} {user}")
    for name, seconds in data["durations"].items():
        shown = "-" if seconds is None else f"{int(seconds // 60)}m {int(seconds % 60)}s"
        print(f"  {name.removesuffix('_seconds'):<16} {shown}")
    print("  timeline (* = key):")
    for item in data["timeline"]:
        if item["deleted"]:
            continue
        mark = "*" if item["key"] else " "
        print(f"  {mark} {item['at']}  {item['kind']:<13} {item['author'] or '-':<12} "
              f"{item['text'][:100]}")


def _remember_people(deps: Any) -> None:
    """Display names for the iCal feeds, looked up once at start-up; a Slack hiccup here
    must not stop the bot (the feeds then show ids until the next start)."""
    from bot.services.oncall import remember_people

    try:
        remember_people(deps.chat, deps.uow, deps.now())
    except ChatError as exc:
        log.warning("could not look up display names for the iCal feeds: %s", exc.code)


def _run(args: argparse.Namespace, settings: Settings, config: Any) -> int:
    from bot.runtime import build_runtime, configure_logging
    from bot.scheduler import Scheduler
    from storage.db import is_up_to_date, make_engine

    settings.require_slack()
    configure_logging(settings.log_format)
    engine = make_engine(settings.database_url)
    try:
        _check_start_up(settings, engine)
        embedded = engine.dialect.name == "sqlite"
        if not embedded and not is_up_to_date(engine):
            raise ConfigError("the database schema is behind this version: run `debrief db upgrade`.")
        runtime = build_runtime(settings, config, engine=engine, migrate=embedded)
        host, port = args.host or settings.host, args.port or settings.port
        try:  # bound before anything starts, so a taken port is one clear line
            server = runtime.http_server(host=host, port=port)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc}): "
                              "set PORT / DEBRIEF_HOST or --port / --host.") from exc
    except BaseException:
        engine.dispose()
        raise
    if config.oncall.file is not None:  # schedules as code: the file is loaded at start-up
        from bot.clock import utcnow
        from bot.services.oncall import apply_schedules, load_schedule_file, tell_moved

        report = apply_schedules(load_schedule_file(config.oncall.file), effective=utcnow(),
                                 uow=runtime.deps.uow, now=utcnow())
        tell_moved(report, runtime.deps.chat)
        _remember_people(runtime.deps)
        log.info("on-call schedules from %s: created %s, updated %s", config.oncall.file,
                 report.created, report.updated)
    scheduler = Scheduler(runtime.deps, interval=settings.scheduler_interval).start()
    runtime.scheduler = scheduler

    def terminate(*_: object) -> None:
        raise KeyboardInterrupt  # waitress's loop (or the Socket Mode wait) ends on it

    signal.signal(signal.SIGTERM, terminate)
    try:
        if settings.socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            # Slack comes over the socket; /healthz, /metrics and the iCal feed stay on HTTP.
            server.start()
            log.info("starting in Socket Mode; listening on %s:%s (GET /healthz, /metrics)",
                     host, server.port)
            socket = SocketModeHandler(runtime.app, settings.app_token)
            try:
                socket.start()
            finally:
                socket.close()
        else:
            log.info("listening on %s:%s (POST /slack/events, GET /healthz, /metrics)",
                     host, server.port)
            server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if settings.socket_mode:
            server.stop()
        scheduler.stop()
        runtime.engine.dispose()
    log.info("stopped")
    return 0


def _check_start_up(settings: Settings, engine: Any) -> None:
    """Before anything starts: the database answers, Slack accepts the bot token and, in
    Socket Mode, the app token. Each failure is one line saying what to fix (exit 2)."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.config import hide_password
    from bot.slack.gateway import check_tokens

    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
        raise ConfigError(f"cannot reach the database {hide_password(settings.database_url)} "
                          f"({reason}): check DATABASE_URL and that the server is up.") from None
    check_tokens(settings)

if __name__ == "__main__":
    sys.exit(main())
