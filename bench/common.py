"""Helpers shared by the benchmarks."""

from __future__ import annotations

from sqlalchemy import inspect, text

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
