"""Group commit of timeline events (TimelineWriter) against a real database: queued
events share one transaction, every caller hears about its own event, and a failing
event neither sinks the others nor is acknowledged."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from bot.clock import utcnow
from bot.config import DebriefConfig
from bot.domain.timeline import ChatMessage, MessagePosted
from bot.services.incidents import DeclareRequest, declare_incident
from bot.services.timeline import StoreTimedOut, TimelineWriter
from storage.uow import SqlUnitOfWork, UnitOfWorkFactory
from tests.fakes import FakeChat
from tests.helpers import StatementCount


class GatedUow:
    """A unit-of-work factory that counts commits and, while `gate` is closed, holds the
    first unit of work at its start (the writer is then busy and events queue up)."""

    def __init__(self, engine: Engine) -> None:
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.commits = 0

    def __call__(self) -> SqlUnitOfWork:
        outer = self
        self.entered.set()
        assert self.gate.wait(10), "the test never opened the gate"

        class Counting(SqlUnitOfWork):
            def commit(self) -> None:
                super().commit()
                outer.commits += 1

        return Counting(self.sessions)


def wait_until(condition: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)  # polling a condition, bounded by the deadline


@pytest.fixture
def channel(engine: Engine) -> str:
    uow = UnitOfWorkFactory(engine)
    outcome = declare_incident(DeclareRequest("Writer", "SEV3", "U1"), uow=uow, chat=FakeChat(),
                               config=DebriefConfig(), now=utcnow())
    assert outcome.incident.channel_id
    return outcome.incident.channel_id


def posted(channel: str, i: int) -> MessagePosted:
    return MessagePosted(ChatMessage(channel, f"1800000000.{i:06d}", "U2", f"message {i}"))


def stored_ts(engine: Engine, number: int = 1) -> list[str]:
    with UnitOfWorkFactory(engine)() as tx:
        return sorted(e.ts or "" for e in tx.timeline.entries(number))


def test_events_queued_while_the_writer_is_busy_share_one_commit(engine: Engine,
                                                                  channel: str) -> None:
    uow = GatedUow(engine)
    writer = TimelineWriter(uow)  # type: ignore[arg-type]
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(writer.record, posted(channel, 0))
        assert uow.entered.wait(10)  # the writer holds event 0 and waits at the gate
        rest = [pool.submit(writer.record, posted(channel, i)) for i in range(1, 8)]
        wait_until(lambda: writer._queue.qsize() == 7)
        uow.gate.set()
        assert first.result(10) is True and all(f.result(10) is True for f in rest)
    assert uow.commits == 2  # event 0 alone, then the seven queued behind it together
    assert stored_ts(engine) == [f"1800000000.{i:06d}" for i in range(8)]


def test_an_event_for_no_incident_channel_is_not_stored(engine: Engine, channel: str) -> None:
    writer = TimelineWriter(UnitOfWorkFactory(engine))
    assert writer.record(posted("CNOTINCIDENT", 1)) is False
    assert writer.record(posted(channel, 2)) is True
    assert stored_ts(engine) == ["1800000000.000002"]


def test_a_failing_event_is_refused_and_the_rest_of_its_batch_is_stored(
        engine: Engine, channel: str) -> None:
    """The batch fails as a whole; each event is tried again alone: the bad one raises
    to its caller (the endpoint answers 500, Slack retries), the others are stored."""
    bad = "1800000000.000003"

    def refuse(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        if "INSERT INTO timeline_entries" in statement and bad in str(parameters):
            raise OperationalError(statement, parameters, ConnectionError("disk full"))

    uow = GatedUow(engine)
    writer = TimelineWriter(uow)  # type: ignore[arg-type]
    event.listen(engine, "before_cursor_execute", refuse)
    try:
        with ThreadPoolExecutor(8) as pool:
            first = pool.submit(writer.record, posted(channel, 0))
            assert uow.entered.wait(10)
            rest: dict[int, Future[bool]] = {
                i: pool.submit(writer.record, posted(channel, i)) for i in range(1, 6)}
            wait_until(lambda: writer._queue.qsize() == 5)
            uow.gate.set()
            assert first.result(10) is True
            for i, future in rest.items():
                if i == 3:
                    with pytest.raises(OperationalError):
                        future.result(10)
                else:
                    assert future.result(10) is True
    finally:
        event.remove(engine, "before_cursor_execute", refuse)
    assert stored_ts(engine) == [f"1800000000.{i:06d}" for i in (0, 1, 2, 4, 5)]


def test_a_batch_not_durable_in_time_is_refused_but_stored_once_on_retry(
        engine: Engine, channel: str) -> None:
    """Past the wait budget the caller gets `StoreTimedOut` (the endpoint answers 500);
    the event is still stored once its batch commits, and Slack's retry adds nothing."""
    uow = GatedUow(engine)
    writer = TimelineWriter(uow, wait_seconds=0.05)  # type: ignore[arg-type]
    with pytest.raises(StoreTimedOut):
        writer.record(posted(channel, 1))
    uow.gate.set()
    wait_until(lambda: stored_ts(engine) == ["1800000000.000001"])
    assert writer.record(posted(channel, 1)) is True
    assert stored_ts(engine) == ["1800000000.000001"]


def test_a_batch_for_one_incident_costs_one_statement_per_event(engine: Engine,
                                                                 channel: str) -> None:
    """Eight queued events for one incident: the channel and the incident id are looked
    up once for the batch, then one INSERT per event."""
    uow = GatedUow(engine)
    writer = TimelineWriter(uow)  # type: ignore[arg-type]
    with ThreadPoolExecutor(9) as pool:
        first = pool.submit(writer.record, posted(channel, 0))
        assert uow.entered.wait(10)
        with StatementCount(engine) as count:
            rest = [pool.submit(writer.record, posted(channel, i)) for i in range(1, 9)]
            wait_until(lambda: writer._queue.qsize() == 8)
            uow.gate.set()
            assert first.result(10) is True and all(f.result(10) is True for f in rest)
    # event 0's batch: 2 look-ups + 1 insert; the batch of eight: 2 look-ups + 8 inserts
    assert len(count) == 13, str(count)
