"""`debrief run`: check everything it needs at start-up, then serve Slack until stopped."""

from __future__ import annotations

import argparse
import logging
import signal
from typing import Any

from bot.config import Settings, settings_and_config
from bot.errors import ChatError, ConfigError

log = logging.getLogger("debrief")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser("run", help="run the bot (Socket Mode if SLACK_APP_TOKEN is set, else HTTP)")
    run.add_argument("--port", type=int, help="HTTP port (overrides PORT)")
    run.add_argument("--host", help="HTTP interface (overrides DEBRIEF_HOST; default 0.0.0.0)")
    run.set_defaults(func=run_bot)


def _remember_people(deps: Any) -> None:
    """Display names for the iCal feeds, looked up once at start-up (in the background);
    a Slack hiccup here must not stop the bot (the feeds then show ids until the next
    start)."""
    from bot.services.oncall import remember_people

    try:
        remember_people(deps.chat, deps.uow, deps.now())
    except ChatError as exc:
        log.warning("could not look up display names for the iCal feeds: %s", exc.code)


def run_bot(args: argparse.Namespace) -> int:
    """Check the database and the tokens, then serve until SIGTERM or Ctrl-C."""
    from bot.runtime import build_runtime, configure_logging
    from bot.scheduler import Scheduler
    from storage.db import is_up_to_date, make_engine

    settings, config = settings_and_config()

    settings.require_slack()
    from bot.config import missing_alert_secrets

    missing = missing_alert_secrets(settings, config)
    if missing:
        raise ConfigError(f"{', '.join(missing)} is not set: debrief.yaml's alert "
                          "integrations read their senders' tokens from it.")
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
        log.info("on-call schedules from %s: created %s, updated %s", config.oncall.file,
                 report.created, report.updated)
    from bot.services.alerts import unknown_schedules

    if problems := unknown_schedules(runtime.deps):
        engine.dispose()
        raise ConfigError(problems[0] + " Fix debrief.yaml or load the schedule "
                          "(oncall.file or `debrief oncall apply`) first.")
    # Schedules may also have come from `debrief oncall apply` without a token: learn the
    # names the feeds show whether or not a schedules file is configured. On the
    # scheduler's thread after its first tick: Slack look-ups must not hold readiness.
    scheduler = Scheduler(runtime.deps, interval=settings.scheduler_interval,
                          after_first_tick=lambda: _remember_people(runtime.deps)).start()
    runtime.scheduler = scheduler

    def terminate(*_: object) -> None:
        raise KeyboardInterrupt  # waitress's loop (or the Socket Mode wait) ends on it

    signal.signal(signal.SIGTERM, terminate)
    try:
        if settings.socket_mode:
            from bot.runtime import socket_mode_handler

            # Slack comes over the socket; /healthz, /metrics and the iCal feed stay on HTTP.
            server.start()
            log.info("starting in Socket Mode; listening on %s:%s (GET /healthz, /metrics%s)",
                     host, server.port,
                     ", POST /alerts/<integration>" if config.alerts.integrations else "")
            socket = socket_mode_handler(runtime.app, settings.app_token)
            try:
                socket.start()
            finally:
                socket.close()
        else:
            log.info("listening on %s:%s (POST /slack/events, /alerts/<integration>, "
                     "GET /healthz, /metrics)",
                     host, server.port)
            server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if settings.socket_mode:
            server.stop()
        scheduler.stop()
        if runtime.alerts is not None:
            runtime.alerts.sync.stop()
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
