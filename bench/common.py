"""Helpers shared by the benchmarks."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text

from bot.config import DebriefConfig, Settings
from bot.runtime import Runtime, build_runtime
from bot.server import HttpServer
from bot.slack.replies import WORKER
from bot.standin.client import SlackClient
from bot.standin.server import FakeSlack
from storage.db import make_engine, upgrade


def fresh_database(url: str) -> None:
    """Drop every table and migrate: benchmarks need exact counts and a stand-in Slack
    whose ids start again at C00000001 must not meet rows from an earlier run."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for table in inspect(conn).get_table_names():
                quoted = f'"{table}"'
                conn.execute(text(f"DROP TABLE IF EXISTS {quoted}"
                                  + (" CASCADE" if engine.dialect.name == "postgresql" else "")))
        upgrade(engine)
    finally:
        engine.dispose()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


@dataclass
class BenchApp:
    """The real app over HTTP against the stand-in, on DATABASE_URL or a temporary SQLite."""

    slack: FakeSlack
    runtime: Runtime
    server: HttpServer
    client: SlackClient
    general: str
    url: str

    def close(self) -> None:
        WORKER.drain()
        if self.runtime.alerts is not None:
            self.runtime.alerts.sync.stop()
        self.server.stop()
        self.runtime.engine.dispose()
        self.slack.stop()


def bench_app(folder: str, config: DebriefConfig | None = None,
              alert_secrets: dict[str, str] | None = None) -> BenchApp:
    slack = FakeSlack().start()
    slack.add_user("U01ALICE", "alice")
    general = slack.add_channel("general", members=("U01ALICE",))
    slack.add_channel("incidents")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(folder) / 'bench.db'}"
    fresh_database(url)
    secret = secrets.token_hex(8)
    # Pacing off: benchmarks measure Debrief's own work, not the 1/s/channel courtesy pause.
    runtime = build_runtime(Settings(bot_token=slack.token, signing_secret=secret,
                                     api_url=slack.api_url, database_url=url, slack_pace=0,
                                     alert_secrets=alert_secrets or {}),
                            config or DebriefConfig(), migrate=True)
    server = runtime.http_server().start()
    return BenchApp(slack, runtime, server, SlackClient(server.url, secret, slack), general, url)
