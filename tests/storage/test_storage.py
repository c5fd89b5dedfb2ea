"""Storage on a real database (SQLite here, PostgreSQL when DEBRIEF_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from bot.domain.incidents import EventRecord, Incident
from storage.db import downgrade, is_up_to_date, make_engine, upgrade
from storage.models import Base
from storage.uow import UnitOfWorkFactory

AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def _incident(number: int, **changes: object) -> Incident:
    base = Incident(number=number, title=f"incident {number}", severity="SEV3",
                    status="investigating", description="", declared_at=AT,
                    declared_by="U1", roles={"commander": "U1"},
                    events=(EventRecord(AT, "declared", "U1", {}),))
    return replace(base, **changes)  # type: ignore[arg-type]


def test_migrations_create_exactly_the_models(engine: Engine) -> None:
    """The Alembic migrations and the ORM models describe the same schema."""
    with engine.connect() as conn:
        # Full-text search (migration 0009) is no model, by design: SQLite's FTS5 tables
        # (search_fts*), PostgreSQL's search_vector columns and their GIN indexes.
        context = MigrationContext.configure(conn, opts={"include_name": lambda name, kind, _: (
            not (kind == "table" and (name or "").startswith("search_fts"))
            and not (kind == "index" and (name or "").endswith("_search"))
            and not (kind == "column" and name == "search_vector"))})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    assert is_up_to_date(engine)


def test_downgrade_and_upgrade_again(engine: Engine) -> None:
    """Every migration can be undone and redone."""
    downgrade(engine, "base")
    assert "incidents" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert "incidents" in inspect(engine).get_table_names()


def test_timestamps_round_trip_as_aware_utc(engine: Engine) -> None:
    """A time given in any zone comes back as the same instant, in UTC, timezone-aware."""
    uow = UnitOfWorkFactory(engine)
    berlin = datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2)))
    with uow() as tx:
        tx.incidents.add(_incident(1, declared_at=berlin))
        tx.commit()
    with uow() as tx:
        stored = tx.incidents.get(1)
    assert stored is not None
    assert stored.declared_at == berlin and stored.declared_at.tzinfo == UTC
    assert stored.declared_at.hour == 1


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    """Storing a naive datetime is a programming error, not a silent guess."""
    uow = UnitOfWorkFactory(engine)
    with pytest.raises(Exception, match="naive datetime"), uow() as tx:
        tx.incidents.add(_incident(1, declared_at=datetime(2026, 1, 1)))
        tx.commit()


def test_save_updates_roles_and_appends_events(engine: Engine) -> None:
    """Saving writes scalars and roles back and only ever adds events."""
    uow = UnitOfWorkFactory(engine)
    with uow() as tx:
        tx.incidents.add(_incident(1))
        tx.commit()
    with uow() as tx:
        current = tx.incidents.get(1, for_update=True)
        assert current is not None
        tx.incidents.save(replace(
            current, status="monitoring", roles={"commander": "U2", "comms": "U3"},
            events=(*current.events, EventRecord(AT + timedelta(minutes=5), "status", "U2",
                                                 {"to": "monitoring"})),
        ))
        tx.commit()
    with uow() as tx:
        stored = tx.incidents.get(1)
    assert stored is not None
    assert stored.status == "monitoring"
    assert stored.roles == {"commander": "U2", "comms": "U3"}
    assert [e.kind for e in stored.events] == ["declared", "status"]


def test_uncommitted_work_is_rolled_back(engine: Engine) -> None:
    """Leaving a unit of work without commit (or by an exception) keeps nothing."""
    uow = UnitOfWorkFactory(engine)
    with pytest.raises(RuntimeError), uow() as tx:
        tx.incidents.add(_incident(tx.incidents.allocate_number()))
        raise RuntimeError("boom")
    with uow() as tx:
        assert tx.incidents.list() == []
        assert tx.incidents.allocate_number() == 1


def test_concurrent_number_allocation_is_unique_and_gap_free(engine: Engine) -> None:
    """Eight threads declaring at once get numbers 1..8, each exactly once."""
    uow = UnitOfWorkFactory(engine)
    barrier = threading.Barrier(8)
    numbers: list[int] = []
    errors: list[BaseException] = []

    def declare() -> None:
        try:
            barrier.wait(timeout=10)
            with uow() as tx:
                number = tx.incidents.allocate_number()
                tx.incidents.add(_incident(number))
                tx.commit()
            numbers.append(number)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=declare) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert sorted(numbers) == list(range(1, 9))


def test_two_replicas_allocate_distinct_numbers(postgres_url: str, engine: Engine) -> None:
    """Two engines (as two `debrief run` replicas) on one PostgreSQL never share a number."""
    other = make_engine(postgres_url)
    try:
        factories = [UnitOfWorkFactory(engine), UnitOfWorkFactory(other)]
        barrier = threading.Barrier(10)
        numbers: list[int] = []

        def declare(i: int) -> None:
            barrier.wait(timeout=10)
            with factories[i % 2]() as tx:
                number = tx.incidents.allocate_number()
                tx.incidents.add(_incident(number))
                tx.commit()
            numbers.append(number)

        threads = [threading.Thread(target=declare, args=(i,)) for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(numbers) == list(range(1, 11))
    finally:
        other.dispose()


def test_a_cover_request_taken_twice_at_once_is_taken_once(postgres_url: str,
                                                           engine: Engine) -> None:
    """Two clicks on "I'll cover" in flight together (two replicas): both find no override
    for the request, the second waits on the unique key, then gets False, not an error."""
    from sqlalchemy import text

    from bot.domain.rotations import Schedule

    factory = UnitOfWorkFactory(engine)
    start = datetime(2030, 1, 1, 9, tzinfo=UTC)
    with factory() as tx:
        tx.schedules.save(Schedule("platform", ()), start)
        tx.commit()
    key, results = "cover:U1:a:b", {}
    first = factory().__enter__()
    assert first.schedules.add_override("platform", "U2", start, start + timedelta(hours=8),
                                        now=start, spec_key=key)

    def second() -> None:
        with factory() as tx:
            results["second"] = tx.schedules.add_override(
                "platform", "U3", start, start + timedelta(hours=8), now=start, spec_key=key)
            tx.commit()

    thread = threading.Thread(target=second)
    thread.start()
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    with engine.connect() as conn:  # wait until the second insert waits on the first
        while not conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE "
                                   "wait_event_type = 'Lock' AND datname = current_database()")):
            assert datetime.now(UTC) < deadline, "the second click never waited"
            conn.rollback()
    first.commit()
    first.__exit__(None, None, None)
    thread.join(timeout=10)
    assert results == {"second": False}
    with factory() as tx:
        schedule = tx.schedules.get("platform")
    assert schedule is not None and [o.user for o in schedule.overrides] == ["U2"]
