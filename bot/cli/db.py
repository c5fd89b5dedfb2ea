"""`debrief db upgrade`, and the database every other command opens (`unit_of_work`)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from bot.config import Settings, settings_and_config
from bot.errors import ConfigError
from bot.services.ports import UnitOfWorkFactory


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply database migrations").set_defaults(func=upgrade_database)


def upgrade_database(args: argparse.Namespace) -> int:
    from storage.db import make_engine, upgrade

    settings, _ = settings_and_config()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    print("database is up to date")
    return 0


@contextmanager
def unit_of_work(settings: Settings) -> Iterator[UnitOfWorkFactory]:
    """A unit-of-work factory for one CLI command; the engine is disposed afterwards. The
    embedded SQLite database is created or upgraded here, as `debrief run` does;
    PostgreSQL is upgraded explicitly (`debrief db upgrade`, once per release)."""
    from storage.db import is_up_to_date, make_engine, upgrade
    from storage.uow import UnitOfWorkFactory as SqlUnitOfWorkFactory

    engine = make_engine(settings.database_url)
    try:
        if not is_up_to_date(engine):
            if engine.dialect.name != "sqlite":
                raise ConfigError("the database schema is missing or behind this version: "
                                  "run `debrief db upgrade`.")
            upgrade(engine)
        yield SqlUnitOfWorkFactory(engine)
    finally:
        engine.dispose()
