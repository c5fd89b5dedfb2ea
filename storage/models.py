"""ORM rows. Changes to these go through an Alembic migration in `migrations/versions`."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import TagList, UTCDateTime


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
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    declared_by: Mapped[str] = mapped_column(String(30), nullable=False)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(30))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    channel_id: Mapped[str | None] = mapped_column(String(30), unique=True)
    channel_name: Mapped[str | None] = mapped_column(String(80))
    card_ts: Mapped[str | None] = mapped_column(String(30))
    announce_channel_id: Mapped[str | None] = mapped_column(String(30))
    announce_ts: Mapped[str | None] = mapped_column(String(30))
    # A private incident: private channel, no (or a redacted) announcement, listed only
    # to its channel's members.
    private: Mapped[bool] = mapped_column(nullable=False, default=False)
    # Tags and services (`service:x`), space-separated (storage/types.py: TagList).
    tags: Mapped[tuple[str, ...]] = mapped_column(TagList, nullable=False, default=())

    roles: Mapped[list[RoleAssignmentRow]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="RoleAssignmentRow.role"
    )
    events: Mapped[list[IncidentEventRow]] = relationship(
        back_populates="incident",
        cascade="all, delete-orphan",
        order_by="(IncidentEventRow.at, IncidentEventRow.id)",
    )
    action_items: Mapped[list[ActionItemRow]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="ActionItemRow.id"
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
    hidden: Mapped[bool] = mapped_column(nullable=False, default=False)  # not in the postmortem
    history: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)
    files: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)


class ActionItemRow(Base):
    """Follow-up work from an incident, tracked until done."""

    __tablename__ = "action_items"
    # The reminders ask for open items by due date (bot/services/reminders.py); the
    # weekly trends for items created or closed in the last 12 weeks.
    __table_args__ = (Index("ix_action_items_status_due_on", "status", "due_on"),
                      Index("ix_action_items_created_at", "created_at"),
                      Index("ix_action_items_closed_at", "closed_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text, nullable=False)
    owner: Mapped[str | None] = mapped_column(String(30), index=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_by: Mapped[str] = mapped_column(String(30), nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(30))

    incident: Mapped[IncidentRow] = relationship(back_populates="action_items")


class PostmortemRow(Base):
    """One postmortem per incident, with its review status; the text lives in versions."""

    __tablename__ = "postmortems"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    versions: Mapped[list[PostmortemVersionRow]] = relationship(
        back_populates="postmortem", cascade="all, delete-orphan",
        order_by="PostmortemVersionRow.version",
    )


class PostmortemVersionRow(Base):
    __tablename__ = "postmortem_versions"
    __table_args__ = (UniqueConstraint("postmortem_id", "version", name="uq_postmortem_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    postmortem_id: Mapped[int] = mapped_column(
        ForeignKey("postmortems.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    template: Mapped[str] = mapped_column(String(200), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_by: Mapped[str] = mapped_column(String(30), nullable=False)
    file_id: Mapped[str | None] = mapped_column(String(30))
    message_ts: Mapped[str | None] = mapped_column(String(30))  # the draft's summary message

    postmortem: Mapped[PostmortemRow] = relationship(back_populates="versions")


class PostmortemSectionRow(Base):
    """One edit of one narrative section (migration 0008): the latest version per key is
    the current text; older rows are the history of who wrote what."""

    __tablename__ = "postmortem_sections"
    __table_args__ = (UniqueConstraint("incident_id", "key", "version",
                                       name="uq_postmortem_section_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False)
    key: Mapped[str] = mapped_column(String(40), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    author: Mapped[str] = mapped_column(String(30), nullable=False)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class PostmortemReviewRow(Base):
    """One step of a postmortem's review (migration 0010), oldest first by id: a reviewer
    asked, an approval or change request, published, reopened, the channel archived.
    `bot.domain.reviews.review_state` folds them into where the review stands."""

    __tablename__ = "postmortem_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    actor: Mapped[str] = mapped_column(String(30), nullable=False)
    reviewer: Mapped[str | None] = mapped_column(String(30))  # `requested`: who was asked
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    version: Mapped[int | None] = mapped_column(Integer)  # the postmortem version it was about
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class PostmortemFactorRow(Base):
    """One structured contributing factor (migration 0013). Removing one records who and
    when (`removed_*`); the row stays, like a section's earlier versions. Links are the
    incident's timeline entry and action item ids."""

    __tablename__ = "postmortem_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, index=True)
    category: Mapped[str] = mapped_column(String(40), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    timeline_ids: Mapped[list[int]] = mapped_column(JSON, nullable=False, default=list)
    action_item_ids: Mapped[list[int]] = mapped_column(JSON, nullable=False, default=list)
    added_by: Mapped[str] = mapped_column(String(30), nullable=False)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    removed_by: Mapped[str | None] = mapped_column(String(30))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationRow(Base):
    """A timed notice claimed for sending. The key (e.g. `action-due:7:2026-12-01`) is
    the primary key: inserting it is the claim, so across restarts and replicas each
    notice is sent at most once; a failed send releases the claim for a retry."""

    __tablename__ = "notifications"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False)  # sending | sent
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def new_feed_token() -> str:
    """The secret part of a schedule's iCal feed URL (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


class OncallScheduleRow(Base):
    """A schedule as applied: its layers (with their roster history) as JSON, and the
    token that makes its iCal feed URL secret (rotated by `debrief oncall ical-url`)."""

    __tablename__ = "oncall_schedules"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    channel: Mapped[str | None] = mapped_column(String(80))
    usergroup: Mapped[str | None] = mapped_column(String(80))
    layers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    feed_token: Mapped[str] = mapped_column(String(64), nullable=False, default=new_feed_token)

    overrides: Mapped[list[OncallOverrideRow]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan", order_by="OncallOverrideRow.id")


class OncallOverrideRow(Base):
    __tablename__ = "oncall_overrides"
    __table_args__ = (UniqueConstraint("schedule_name", "spec_key", name="uq_override_spec"),)

    id: Mapped[int] = mapped_column(primary_key=True)  # creation order: newest wins
    schedule_name: Mapped[str] = mapped_column(
        ForeignKey("oncall_schedules.name", ondelete="CASCADE"), index=True)
    user: Mapped[str] = mapped_column(String(120), nullable=False)
    start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    end: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(30))
    spec_key: Mapped[str | None] = mapped_column(String(300))  # set for overrides from YAML

    schedule: Mapped[OncallScheduleRow] = relationship(back_populates="overrides")


class SlackUserRow(Base):
    """Display names of the people schedules name, learned from users.info when schedules
    are applied, so a feed shows names without calling Slack while it is served."""

    __tablename__ = "slack_users"

    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)  # when named by e-mail
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class AlertGroupRow(Base):
    """An alert group from a monitoring integration (bot/domain/alerts.py: AlertGroup),
    unique per integration and the sender's group key, so a re-sent group updates its
    row (and its one Slack message) instead of making another. `version` counts changes;
    the Slack message shows `synced_version`: a row whose versions differ still has its
    message to post or update (by whichever replica gets there first)."""

    __tablename__ = "alert_groups"
    __table_args__ = (UniqueConstraint("integration", "group_key", name="uq_alert_group_key"),
                      Index("ix_alert_groups_incident", "incident_number"))

    id: Mapped[int] = mapped_column(primary_key=True)
    integration: Mapped[str] = mapped_column(String(50), nullable=False)
    group_key: Mapped[str] = mapped_column(String(300), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    severity: Mapped[str | None] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    labels: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False)
    links: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    channel: Mapped[str] = mapped_column(String(80), nullable=False)
    schedule: Mapped[str | None] = mapped_column(String(50))
    escalation: Mapped[str | None] = mapped_column(String(50))
    external_url: Mapped[str | None] = mapped_column(String(2000))
    first_firing_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_firing_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    alerts_firing: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    alerts_resolved: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Alerts Alertmanager left out of the last notification (its max_alerts)
    alerts_truncated: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                                  server_default="0")
    notifications: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(30))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    silence_id: Mapped[str | None] = mapped_column(String(100))
    silenced_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    incident_number: Mapped[int | None] = mapped_column(Integer)
    message_channel_id: Mapped[str | None] = mapped_column(String(30))
    message_ts: Mapped[str | None] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    synced_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0, index=True)
    # A group that resolves and fires again starts its escalation policy over (a new
    # round, its steps claimed anew) from escalation_started_at.
    escalation_round: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                                  server_default="0")
    escalation_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last incident line (alert_events kind incident_line) posted in its channel.
    lines_posted: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                              server_default="0")


class AlertEventRow(Base):
    """What happened to an alert group, in order: each delivery received, the message
    posted, each escalation step fired (whom it reached), acknowledged, silenced,
    resolved, declared as an incident."""

    __tablename__ = "alert_events"
    # Acknowledgements in a stats window are read by (kind, at), never the whole history.
    __table_args__ = (Index("ix_alert_events_kind_at", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("alert_groups.id", ondelete="CASCADE"),
                                          index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    actor: Mapped[str | None] = mapped_column(String(30))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


class HeartbeatRow(Base):
    """A heartbeat integration's one row (bot/domain/alerts.py: Heartbeat): each ping
    updates it in place (so pings cost the same however long they have run); the
    scheduler raises an alert group when `last_ping_at` is older than the window and
    keeps its id in `open_group_id` until pings resume."""

    __tablename__ = "heartbeats"

    integration: Mapped[str] = mapped_column(String(50), primary_key=True)
    armed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_ping_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pings: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    open_group_id: Mapped[int | None] = mapped_column(Integer)
    missed_since: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NudgeRow(Base):
    """When an incident's nudge of one kind (bot/domain/nudges.py) is next worth looking
    at, and its snooze. `due_at` is indexed: a scheduler tick reads only the rows due
    (`due_at <= now`), never the history. It is a lower bound kept by the services: a
    change that restarts a clock rewrites it, a tick that finds nothing due (the incident
    moved, or is snoozed) moves it to the next window; NULL: never (resolved, off)."""

    __tablename__ = "nudges"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snoozed_by: Mapped[str | None] = mapped_column(String(30))
    snoozed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
