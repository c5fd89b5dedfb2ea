"""Composition root: the one place that wires storage, Slack and the services.

Used by `debrief run`, `debrief demo` and the end-to-end tests, so all three run the
same app the same way.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt import App
from sqlalchemy import Engine

from bot.app import create_app
from bot.clock import utcnow
from bot.config import DebriefConfig, Settings
from bot.observability import LogContext
from bot.server import HttpServer, make_wsgi_app
from bot.services.ports import Deps
from bot.slack.gateway import SlackGateway, make_web_client
from bot.slack.pacing import ChannelPacer
from storage.db import is_reachable, make_engine, upgrade
from storage.uow import UnitOfWorkFactory

_TOKEN = re.compile(r"xox[abeoprs]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+")


class RedactTokens(logging.Filter):
    """Belt and braces: nothing that looks like a Slack token reaches a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _TOKEN.search(message):
            record.msg, record.args = _TOKEN.sub("xox…redacted", message), None
        return True


class QuietBoltNoise(logging.Filter):
    """Bolt warns that the token is unused when SLACK_BOT_TOKEN is set and a client is
    given; giving our own client (base URL, retry handlers) is deliberate."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request and incident ids when there are any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {"time": self.formatTime(record), "level": record.levelname,
                                    "logger": record.name, "message": record.getMessage()}
        for key in ("request_id", "incident"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactTokens())
    handler.addFilter(QuietBoltNoise())
    handler.addFilter(LogContext())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
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

    def http_server(self, host: str = "127.0.0.1", port: int = 0) -> HttpServer:
        return HttpServer(make_wsgi_app(
            self.app, lambda: is_reachable(self.engine), ical=self.ical,
            scheduler=lambda: self.scheduler.health() if self.scheduler else {
                "ok": True, "running": False}), host=host, port=port)

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
    gateway = SlackGateway(client, config, ChannelPacer(rate=settings.slack_pace))
    deps = Deps(uow=UnitOfWorkFactory(engine), chat=gateway,
                config=config, now=now)
    app = create_app(client=client, signing_secret=settings.signing_secret or "", deps=deps)
    return Runtime(app=app, deps=deps, engine=engine)
