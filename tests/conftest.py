"""Shared fixtures: a fresh database per test (SQLite, or PostgreSQL when
DEBRIEF_TEST_DATABASE_URL is set), and an end-to-end stack: the real app over real HTTP
talking to the Slack stand-in."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, make_url, text

from bot.config import DebriefConfig, Settings
from bot.runtime import Runtime, build_runtime
from bot.server import HttpServer
from bot.slack.replies import WORKER
from bot.standin.client import SlackClient
from bot.standin.server import FakeSlack
from storage.db import make_engine, upgrade


def _per_worker(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets its own PostgreSQL database (`<name>_gw0`, ...),
    created on first use, because every test drops and recreates the tables it uses."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


PG_URL = _per_worker(os.environ.get("DEBRIEF_TEST_DATABASE_URL"))
USERS = {"U01ALICE": "alice", "U02BOB": "bob", "U03CAROL": "carol"}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may see a real token, database or config from the developer's shell."""
    for name in list(os.environ):
        if name.startswith("SLACK_") or name in ("DATABASE_URL", "DEBRIEF_CONFIG", "PORT"):
            monkeypatch.delenv(name, raising=False)


def _reset_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in inspect(conn).get_table_names():
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return PG_URL or f"sqlite:///{tmp_path / 'debrief.db'}"


@pytest.fixture
def bare_engine(database_url: str) -> Iterator[Engine]:
    """An empty database (no tables)."""
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        _reset_postgres(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(bare_engine: Engine) -> Engine:
    upgrade(bare_engine)
    return bare_engine


@pytest.fixture
def postgres_url() -> str:
    if not PG_URL:
        pytest.skip("PostgreSQL-only: set DEBRIEF_TEST_DATABASE_URL=postgresql://... to run it")
    return PG_URL


@dataclass
class Stack:
    """A running app and its stand-in Slack; `close()` lets in-flight work finish first."""

    slack: FakeSlack
    runtime: Runtime
    server: HttpServer
    client: SlackClient
    general: str
    announce: str

    def close(self) -> None:
        if self.runtime.deps.home is not None:
            self.runtime.deps.home.stop()
        WORKER.drain()
        if self.runtime.alerts is not None:
            self.runtime.alerts.sync.stop()
        self.server.stop()
        self.slack.stop()

    def incident(self, number: int = 1):  # type: ignore[no-untyped-def]
        with self.runtime.deps.uow() as tx:
            return tx.incidents.get(number)


def start_stack(engine: Engine, config: DebriefConfig | None = None, pace: float = 0,
                alert_secrets: dict[str, str] | None = None) -> Stack:
    slack = FakeSlack().start()
    for user_id, name in USERS.items():
        slack.add_user(user_id, name)
    general = slack.add_channel("general", members=tuple(USERS))
    announce = slack.add_channel("incidents")
    secret = secrets.token_hex(16)
    # Pacing off: tests fire changes faster than people do (tests/slack/test_faults.py covers it).
    settings = Settings(bot_token=slack.token, signing_secret=secret, api_url=slack.api_url,
                        database_url=engine.url.render_as_string(hide_password=False),
                        slack_pace=pace, alert_secrets=alert_secrets or {})
    runtime = build_runtime(settings, config or DebriefConfig(), engine=engine)
    server = runtime.http_server().start()
    return Stack(slack, runtime, server, SlackClient(server.url, secret, slack), general, announce)


@pytest.fixture
def stack(engine: Engine) -> Iterator[Stack]:
    s = start_stack(engine)
    yield s
    s.close()
    assert s.slack.violations == [], "the bot misused the Slack Web API"
