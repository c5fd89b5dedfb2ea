"""Timeline entries: chat captured from incident channels and hand-written notes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "timeline_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "incident_id", sa.Integer(), sa.ForeignKey("incidents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("channel_id", sa.String(30), nullable=True),
        sa.Column("ts", sa.String(30), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("author", sa.String(30), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("thread_ts", sa.String(30), nullable=True),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("marked_by", sa.JSON(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.UniqueConstraint("channel_id", "ts", name="uq_timeline_channel_ts"),
    )
    op.create_index("ix_timeline_entries_incident_id", "timeline_entries", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_timeline_entries_incident_id", table_name="timeline_entries")
    op.drop_table("timeline_entries")
