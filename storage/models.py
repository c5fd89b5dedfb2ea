"""ORM rows. Changes to these go through an Alembic migration in `migrations/versions`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime


class Base(DeclarativeBase):
    pass


class CounterRow(Base):
    """Named sequences. Incrementing a row in the declaring transaction gives gap-free
    incident numbers that stay unique under concurrent declares (the row is locked)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False)


class IncidentRow(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    severity: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(30), nullable=False)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    declared_by: Mapped[str] = mapped_column(String(30), nullable=False)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(30))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    channel_id: Mapped[str | None] = mapped_column(String(30), unique=True)
    channel_name: Mapped[str | None] = mapped_column(String(80))
    card_ts: Mapped[str | None] = mapped_column(String(30))
    announce_channel_id: Mapped[str | None] = mapped_column(String(30))
    announce_ts: Mapped[str | None] = mapped_column(String(30))

    roles: Mapped[list[RoleAssignmentRow]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="RoleAssignmentRow.role"
    )
    events: Mapped[list[IncidentEventRow]] = relationship(
        back_populates="incident",
        cascade="all, delete-orphan",
        order_by="(IncidentEventRow.at, IncidentEventRow.id)",
    )


class RoleAssignmentRow(Base):
    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("incident_id", "role", name="uq_role_per_incident"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(30), nullable=False)
    user_id: Mapped[str] = mapped_column(String(30), nullable=False)

    incident: Mapped[IncidentRow] = relationship(back_populates="roles")


class IncidentEventRow(Base):
    """Every recorded change: who did what, when (the audit trail and, later, the
    lifecycle half of the timeline)."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    actor: Mapped[str | None] = mapped_column(String(30))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)

    incident: Mapped[IncidentRow] = relationship(back_populates="events")


class TimelineEntryRow(Base):
    """Chat captured from an incident channel, and notes added by hand.

    `(channel_id, ts)` is unique: Slack's retries, backfill and live events can all
    deliver one message, and it is stored once. Notes have no ts (NULLs never clash)."""

    __tablename__ = "timeline_entries"
    __table_args__ = (UniqueConstraint("channel_id", "ts", name="uq_timeline_channel_ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[str | None] = mapped_column(String(30))
    ts: Mapped[str | None] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    author: Mapped[str | None] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    thread_ts: Mapped[str | None] = mapped_column(String(30))
    pinned: Mapped[bool] = mapped_column(nullable=False, default=False)
    marked_by: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    deleted: Mapped[bool] = mapped_column(nullable=False, default=False)
    history: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)
    files: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)
