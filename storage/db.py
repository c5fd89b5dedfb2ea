"""Engine and migrations.

SQLite is the embedded default. Two things make it safe with Bolt's worker threads:
every transaction starts with `BEGIN IMMEDIATE` (writers queue on the busy timeout
instead of failing with "database is locked" when a read lock is upgraded), and WAL
lets readers carry on while one writer works (SQLAlchemy's pysqlite docs describe both).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.errors import ConfigError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Seconds a SQLite writer waits for the write lock before "database is locked". Slack
# wants an answer in 3 s: waiting 30 s only made late acks (Slack had already given up
# and retried). Past this, an event is refused (Slack retries it) and a command apologises.
BUSY_TIMEOUT = 5


def normalise_url(url: str) -> str:
    """Plain `postgresql://` URLs use psycopg 3, the driver of the `postgres` extra."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; a URL SQLAlchemy cannot use (unparsable, unknown dialect,
    driver not installed) is a `ConfigError` naming DATABASE_URL."""
    try:
        return _make_engine(url, **kwargs)
    except ArgumentError as exc:
        raise ConfigError(
            "DATABASE_URL is not a database URL Debrief can use (e.g. sqlite:///debrief.db or "
            f"postgresql://user@host/db): {str(exc).splitlines()[0]}.") from exc
    except ImportError as exc:
        hint = " (pip install 'debrief-bot[postgres]')" if "psycopg" in str(exc) else ""
        raise ConfigError(f"DATABASE_URL needs a database driver that is not installed: "
                          f"{exc}{hint}.") from exc


def _make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"timeout": BUSY_TIMEOUT, "check_same_thread": False}, **kwargs
        )
        memory = make_url(url).database in (None, "", ":memory:")

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                # FULL (SQLite's default, stated here on purpose): a commit is on disk
                # before we ack, power cut included. NORMAL would skip that fsync; group
                # commit already shares one fsync among the events of a batch.
                cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` (what `debrief db upgrade` runs)."""
    command.upgrade(_alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(_alembic_config(engine), revision)


def is_up_to_date(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head


def is_reachable(engine: Engine) -> bool:
    """For /healthz: can we run a trivial query right now?"""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return False
