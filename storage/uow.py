"""Unit of work: owns one session and commits once per use case; leaving the block
without `commit()` (or on an exception) rolls everything back."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.alerts import SqlAlertRepository, SqlHeartbeatRepository
from storage.archive import SqlArchiveRepository
from storage.nudges import SqlNudgeRepository
from storage.repositories import (
    SqlActionItemRepository,
    SqlIncidentRepository,
    SqlNotificationRepository,
    SqlPeopleRepository,
    SqlPostmortemRepository,
    SqlScheduleRepository,
    SqlTimelineRepository,
)
from storage.search import SqlSearchRepository


class SqlUnitOfWork:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self._factory()
        self.incidents = SqlIncidentRepository(self.session)
        self.timeline = SqlTimelineRepository(self.session)
        self.action_items = SqlActionItemRepository(self.session)
        self.postmortems = SqlPostmortemRepository(self.session)
        self.notifications = SqlNotificationRepository(self.session)
        self.schedules = SqlScheduleRepository(self.session)
        self.people = SqlPeopleRepository(self.session)
        self.archive = SqlArchiveRepository(self.session)
        self.search = SqlSearchRepository(self.session)
        self.alerts = SqlAlertRepository(self.session)
        self.heartbeats = SqlHeartbeatRepository(self.session)
        self.nudges = SqlNudgeRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()


class UnitOfWorkFactory:
    """What services receive: call it to start a fresh unit of work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._factory = sessionmaker(engine, expire_on_commit=False)

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._factory)
