"""Alert groups from monitoring webhooks and what happened to each (issue 15): new
tables only, so no existing table (nor 0009's search triggers) is touched.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_groups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("integration", sa.String(50), nullable=False),
        sa.Column("group_key", sa.String(300), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(30)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("links", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("channel", sa.String(80), nullable=False),
        sa.Column("schedule", sa.String(50)),
        sa.Column("escalation", sa.String(50)),
        sa.Column("external_url", sa.String(2000)),
        sa.Column("first_firing_at", UTCDateTime, nullable=False),
        sa.Column("last_firing_at", UTCDateTime, nullable=False),
        sa.Column("last_received_at", UTCDateTime, nullable=False),
        sa.Column("alerts_firing", sa.Integer, nullable=False),
        sa.Column("alerts_resolved", sa.Integer, nullable=False),
        sa.Column("notifications", sa.Integer, nullable=False),
        sa.Column("resolved_at", UTCDateTime),
        sa.Column("acknowledged_by", sa.String(30)),
        sa.Column("acknowledged_at", UTCDateTime),
        sa.Column("silence_id", sa.String(100)),
        sa.Column("silenced_until", UTCDateTime),
        sa.Column("incident_number", sa.Integer),
        sa.Column("message_channel_id", sa.String(30)),
        sa.Column("message_ts", sa.String(30)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("synced_version", sa.Integer, nullable=False),
        sa.UniqueConstraint("integration", "group_key", name="uq_alert_group_key"),
    )
    op.create_index("ix_alert_groups_status", "alert_groups", ["status"])
    op.create_index("ix_alert_groups_synced_version", "alert_groups", ["synced_version"])
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("group_id", sa.Integer,
                  sa.ForeignKey("alert_groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(30)),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_alert_events_group_id", "alert_events", ["group_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_events_group_id", "alert_events")
    op.drop_table("alert_events")
    op.drop_index("ix_alert_groups_synced_version", "alert_groups")
    op.drop_index("ix_alert_groups_status", "alert_groups")
    op.drop_table("alert_groups")
