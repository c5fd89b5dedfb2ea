"""Years of history cost nothing: a scheduler tick and `/incident stats 30d` issue the
same number of SQL statements with 200 old closed incidents (published postmortems with
versions, done action items) behind the recent ones as without them. Counted with an
engine event, not timed: the count is deterministic, a duration is not."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event

from bot.config import DebriefConfig
from bot.domain.archive import iso
from bot.services.ports import Deps
from bot.services.reminders import send_due
from bot.services.stats import incident_stats, incident_trends
from storage.uow import UnitOfWorkFactory
from tests.fakes import FakeChat

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday: the digest is due too
ALICE, BOB = "U01ALICE", "U02BOB"


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def incident(number: int, declared: datetime, *, old: bool) -> dict[str, Any]:
    """A resolved SEV1. A recent one has an open item due today, one overdue and a draft
    postmortem that is due; an old one is finished: items done, postmortem published."""
    at = iso(declared)
    resolved = iso(declared + timedelta(hours=2))
    status = "done" if old else "open"

    def item(text: str, due: datetime) -> dict[str, Any]:
        return {"text": text, "owner": BOB, "due": due.date().isoformat(), "type": "fix",
                "status": status, "created_at": at, "created_by": ALICE,
                "closed_at": resolved if old else None, "closed_by": BOB if old else None}

    versions = [{"version": v, "template": "postmortem.md.j2", "content": "# text " * 200,
                 "created_at": resolved, "created_by": ALICE, "file_id": None,
                 "message_ts": None}
                for v in (1, 2, 3)]
    return {
        "number": number, "title": f"Incident {number}", "description": "",
        "severity": "SEV1", "status": "resolved", "channel_id": f"C{number:08d}",
        "channel_name": f"inc-{number}", "declared_at": at, "declared_by": ALICE,
        "acknowledged_at": at, "acknowledged_by": ALICE, "resolved_at": resolved,
        "summary": "fixed", "roles": {"commander": ALICE},
        "events": [{"at": at, "kind": "declared", "actor": ALICE, "detail": {}},
                   {"at": resolved, "kind": "status", "actor": ALICE,
                    "detail": {"status": "resolved"}}],
        "action_items": [item("due today", NOW), item("overdue", NOW - timedelta(days=5))],
        "card_ts": None, "announce_channel_id": None, "announce_ts": None, "private": False, "tags": [],
        "timeline_entries": [],
        "postmortem": {"status": "published" if old else "draft", "created_at": resolved,
                       "updated_at": resolved, "published_at": resolved if old else None,
                       "versions": versions},
        "postmortem_sections": [],
        "postmortem_reviews": [],
        "postmortem_factors": [],
    }


def seed(uow: UnitOfWorkFactory, records: list[dict[str, Any]]) -> None:
    with uow() as tx:
        tx.archive.add(records)
        tx.commit()


def statements_with_and_without_history(engine: Engine, run: Callable[[], object]
                                        ) -> tuple[int, int]:
    """Statements `run` issues over 10 recent incidents, then again once 200 old closed
    ones (one to two years back) are added."""
    uow = UnitOfWorkFactory(engine)
    seed(uow, [incident(n, NOW - timedelta(days=3, hours=n), old=False) for n in range(1, 11)])
    run()  # the first run sends what is due; both counts below are of steady runs
    with counting(engine) as before:
        run()
    seed(uow, [incident(n, NOW - timedelta(days=365 + n * 2), old=True)
               for n in range(11, 211)])
    with counting(engine) as after:
        run()
    return len(before), len(after)


def test_a_scheduler_tick_does_not_grow_with_history(engine: Engine) -> None:
    deps = Deps(uow=UnitOfWorkFactory(engine), chat=FakeChat(), config=DebriefConfig(),
                now=lambda: NOW)
    sent: list[str] = []
    before, after = statements_with_and_without_history(
        engine, lambda: sent.extend(send_due(deps, NOW)))
    # The tick had real work: due-today DMs, the digest and postmortem notices.
    assert any(k.startswith("action-due:") for k in sent)
    assert "digest:2026-W49" in sent and any(k.startswith("pm-") for k in sent)
    assert before == after


def test_stats_30d_does_not_grow_with_history(engine: Engine) -> None:
    uow = UnitOfWorkFactory(engine)
    results: list[dict[str, object]] = []

    def stats() -> None:
        results.append(incident_stats("30d", uow=uow, config=DebriefConfig(), now=NOW)
                       .as_dict())

    before, after = statements_with_and_without_history(engine, stats)
    assert before == after
    assert results[-1] == results[0]  # the old incidents are outside the window
    assert results[0]["incidents_by_severity"] == {"SEV1": 10}
    assert results[0]["action_items"] == {"open": 20, "overdue": 10, "closed": 0}


def test_a_home_tab_does_not_grow_with_history(engine: Engine) -> None:
    """The Home tab reads open things and recent windows only: the same statements with
    200 old closed incidents (items done, postmortems published) behind the recent ones."""
    from bot.services.home import home_of

    uow = UnitOfWorkFactory(engine)
    homes = []

    def both() -> None:
        for user in (ALICE, BOB):
            homes.append(home_of(user, uow=uow, chat=FakeChat(), config=DebriefConfig(),
                                 now=NOW))

    before, after = statements_with_and_without_history(engine, both)
    assert before == after
    alice, bob = homes[-2:]
    assert alice.postmortems.total == 10  # she commands them; none published yet
    assert {o.kind for o in alice.postmortems.items} == {"write"}
    assert bob.items.total == 20 and len(bob.items.items) == 10


def test_nudges_read_only_what_is_due(engine: Engine) -> None:
    """A tick reads the nudge rows that are due (an index range), not the history: 5 open
    SEV1s get their update nudge, then steady ticks issue the same statements with 200
    old incidents whose rows (resolved: never due) are behind them."""
    from bot.domain.nudges import NudgeKind
    from bot.services.nudges import reconcile_nudges

    uow = UnitOfWorkFactory(engine)
    deps = Deps(uow=uow, chat=FakeChat(), config=DebriefConfig(), now=lambda: NOW)
    open_ones = []
    for n in range(1, 6):
        record = incident(n, NOW - timedelta(hours=1), old=False)
        record.update(status="investigating", resolved_at=None, postmortem=None,
                      action_items=[], events=record["events"][:1])
        open_ones.append(record)
    seed(uow, open_ones)
    reconcile_nudges(deps)
    sent = send_due(deps, NOW)
    assert sorted(k for k in sent if k.startswith("nudge-update:")) == [
        f"nudge-update:{n}:{NOW - timedelta(hours=1):%Y%m%dT%H%M%S}:2" for n in range(1, 6)]
    with counting(engine) as before:
        send_due(deps, NOW)
    seed(uow, [incident(n, NOW - timedelta(days=365 + n * 2), old=True)
               for n in range(11, 211)])
    with uow() as tx:
        for n in range(11, 211):
            tx.nudges.schedule(n, {k.value: None for k in NudgeKind})
        tx.commit()
    with counting(engine) as after:
        send_due(deps, NOW)
    assert len(before) == len(after)
    assert sum("FROM nudges" in s for s in after) == 1


def test_weekly_trends_do_not_grow_with_history(engine: Engine) -> None:
    """The 12 weeks behind the weekly report, `/incident stats` and `debrief stats
    --chart`: the same statements and the same figures with 200 old closed incidents
    (their items closed and postmortems published a year or two ago)."""
    uow = UnitOfWorkFactory(engine)
    results: list[dict[str, object]] = []

    def trends() -> None:
        results.append(incident_trends(uow=uow, config=DebriefConfig(), end=NOW).as_dict())

    before, after = statements_with_and_without_history(engine, trends)
    assert before == after
    assert results[-1] == results[0]
    assert results[0]["items_overdue"] == 10
    assert results[0]["weeks"][-1]["incidents_by_severity"] == {"SEV1": 10}  # type: ignore[index]


def test_weekly_report_tick_does_not_grow_with_history(engine: Engine) -> None:
    """A tick that posts the weekly report reads the same with years behind it; the
    ticks after it (report claimed) read nothing more for it."""
    from dataclasses import replace

    from bot.config import ReportsConfig, WeeklyReportConfig

    chat = FakeChat()
    config = replace(DebriefConfig(), reports=ReportsConfig(WeeklyReportConfig("#incidents")))
    deps = Deps(uow=UnitOfWorkFactory(engine), chat=chat, config=config, now=lambda: NOW)
    before, after = statements_with_and_without_history(engine, lambda: send_due(deps, NOW))
    assert before == after
    assert len(chat.weekly_reports) == 1  # posted on the first run, once
