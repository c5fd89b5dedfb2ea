"""Composition root: the one place that wires storage, Slack and the services.

Used by `debrief run`, `debrief demo` and the end-to-end tests, so all three run the
same app the same way.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from slack_bolt import App
from sqlalchemy import Engine

from bot.alertmanager import AlertmanagerSilences
from bot.app import create_app
from bot.clock import utcnow
from bot.config import DebriefConfig, Settings, mask_url_passwords
from bot.observability import LogContext, NoRequestBodies
from bot.server import HttpServer, make_wsgi_app
from bot.services.home import HomeRefresher
from bot.services.ports import Deps
from bot.slack.gateway import ChangeWatcher, SlackGateway, make_web_client
from bot.slack.pacing import ChannelPacer
from bot.webhooks import AlertInbox
from storage.db import is_reachable, make_engine, upgrade
from storage.uow import UnitOfWorkFactory

_TOKEN = re.compile(r"xox[abeoprs]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+")
def redact(text: str) -> str:
    """Slack tokens and URL passwords masked."""
    return mask_url_passwords(_TOKEN.sub("xox…redacted", text))


class RedactTokens(logging.Filter):
    """Belt and braces: nothing that looks like a Slack token or a password in a URL
    (a database URL in an error, say) reaches a log line, tracebacks included."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class QuietBoltNoise(logging.Filter):
    """Bolt warns that the token is unused when SLACK_BOT_TOKEN is set and a client is
    given; giving our own client (base URL, retry handlers) is deliberate."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{ord(char):02x}"
                                                       if ord(char) < 0x100 else
                                                       f"\\u{ord(char):04x}")


class TextFormatter(logging.Formatter):
    """One physical line per record: control characters in the message (a newline in a
    title someone typed) are escaped, and a traceback's lines are indented, so nothing
    a user types can start a line that looks like a new log record."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = _CONTROL.sub(_escape, record.message)
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        first, *rest = super().format(record).split("\n")
        return "\n".join([first, *("    " + _CONTROL.sub(_escape, line) for line in rest)])


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request and incident ids when there are any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {"time": self.formatTime(record), "level": record.levelname,
                                    "logger": record.name, "message": record.getMessage()}
        for key in ("request_id", "incident"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_text:  # already formatted (and redacted) by RedactTokens
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(NoRequestBodies())
    handler.addFilter(RedactTokens())
    handler.addFilter(QuietBoltNoise())
    handler.addFilter(LogContext())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter(
            "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s inc=%(incident)s]: "
            "%(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


@dataclass
class Runtime:
    app: App
    deps: Deps
    engine: Engine
    scheduler: Any = None  # set by `debrief run` once it starts one
    settings: Settings = field(default_factory=Settings, repr=False)
    alerts: AlertInbox | None = None  # POST /alerts/<integration>, when any is configured

    def http_server(self, host: str = "127.0.0.1", port: int = 0) -> HttpServer:
        """HTTP mode: Slack at /slack/events plus /healthz, /metrics and the iCal feed.
        In Socket Mode the same server without /slack/events (Slack comes over the
        socket), so an orchestrator can still probe the process."""
        return HttpServer(make_wsgi_app(
            None if self.settings.socket_mode else self.app,
            lambda: is_reachable(self.engine), ical=self.ical,
            scheduler=lambda: self.scheduler.health() if self.scheduler else {
                "ok": True, "running": False},
            signing_secret=self.settings.signing_secret,
            metrics_token=self.settings.metrics_token,
            alerts=self.alerts.handle if self.alerts else None), host=host, port=port)

    def ical(self, schedule: str, token: str, user: str | None) -> bytes | None:
        """The schedule's iCalendar feed for GET /oncall/<schedule>/<token>.ics (None:
        unknown schedule or wrong token; the caller answers 404 to both)."""
        from bot.errors import UserError
        from bot.services.oncall import feed_token_matches, ical_feed

        if not feed_token_matches(schedule, token, self.deps.uow):
            return None
        try:
            return ical_feed(schedule, self.deps.uow, self.deps.now(), user=user)
        except UserError:
            return None


def build_runtime(settings: Settings, config: DebriefConfig, *, engine: Engine | None = None,
                  migrate: bool = False, now: Callable[[], datetime] = utcnow) -> Runtime:
    engine = engine or make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    client = make_web_client(settings.bot_token, settings.api_url)
    watchers: list[ChangeWatcher] = []
    gateway = SlackGateway(client, config, ChannelPacer(rate=settings.slack_pace), watchers)
    deps = Deps(uow=UnitOfWorkFactory(engine), chat=gateway,
                config=config, now=now, silences=AlertmanagerSilences())
    # Home tabs follow what the gateway shows changing (debounced, see HomeRefresher).
    home = HomeRefresher(deps)
    watchers.append(lambda users, everyone: home.changed(users, everyone=everyone))
    deps = replace(deps, home=home)
    app = create_app(client=client, signing_secret=settings.signing_secret or "", deps=deps)
    alerts = AlertInbox(config.alerts, settings.alert_secrets, deps) \
        if config.alerts.integrations else None
    return Runtime(app=app, deps=deps, engine=engine, settings=settings, alerts=alerts)


def socket_mode_handler(app: App, app_token: str | None) -> Any:
    """The Socket Mode connection `debrief run` uses and bench/socket_ack.py measures:
    slack_sdk's built-in client (no extra dependency). Its receive loop blocks on the
    socket, so an envelope is handled as it arrives; acks are fast because the app runs
    with `process_before_response=True` (Bolt's default mode polls for the ack every
    10 ms, over the socket as over HTTP)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    return SocketModeHandler(app, app_token)
