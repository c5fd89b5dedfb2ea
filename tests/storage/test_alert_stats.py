"""Alerts' time to acknowledge is read from the stats window only: one statement, by the
(kind, at) index, however many alerts and acknowledgements came before the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event

from storage.uow import UnitOfWorkFactory

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _group(tx: Any, key: str, schedule: str | None) -> int:
    tx.alerts.create({
        "integration": "am", "group_key": key, "title": key, "severity": None,
        "status": "firing", "labels": {}, "links": [], "description": "", "channel": "#a",
        "schedule": schedule, "escalation": None, "external_url": None,
        "first_firing_at": T0, "last_firing_at": T0, "last_received_at": T0,
        "alerts_firing": 1, "alerts_resolved": 0, "notifications": 1, "resolved_at": None,
        "version": 1, "synced_version": 0})
    group = tx.alerts.find("am", key)
    assert group is not None
    return int(group.id)


def test_acknowledgements_read_only_the_window_by_index(engine: Engine) -> None:
    uow = UnitOfWorkFactory(engine)
    with uow() as tx:
        for day in range(200):  # history before the window: one ack a day
            gid = _group(tx, f"old{day}", "platform")
            tx.alerts.add_event(gid, "received", T0 - timedelta(days=day + 40))
            tx.alerts.add_event(gid, "acknowledged", T0 - timedelta(days=day + 40), "U1",
                                {"seconds": 60, "schedule": "platform"})
        gid = _group(tx, "new", None)
        tx.alerts.add_event(gid, "acknowledged", T0 - timedelta(days=1), "U2",
                            {"seconds": 90, "schedule": None})
        old_style = _group(tx, "legacy", "db")  # recorded before seconds were kept
        tx.alerts.add_event(old_style, "acknowledged", T0 + timedelta(minutes=5), "U3")
        tx.commit()
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with uow() as tx:
            acks = tx.alerts.acknowledgements(T0 - timedelta(days=30), T0 + timedelta(hours=1))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert sorted(acks, key=str) == sorted([(None, "U2", 90.0), ("db", "U3", 300.0)], key=str)
    assert len(seen) == 1
    if engine.dialect.name == "sqlite":
        statement, parameters = seen[0]
        with engine.connect() as conn:
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters))
        assert "ix_alert_events_kind_at" in plan, plan
