"""Heartbeat integrations (issue 15): one row per heartbeat, updated by each ping. A new
table only, so no existing table (nor 0009's search triggers) is touched.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "heartbeats",
        sa.Column("integration", sa.String(50), primary_key=True),
        sa.Column("armed_at", UTCDateTime, nullable=False),
        sa.Column("last_ping_at", UTCDateTime),
        sa.Column("pings", sa.Integer, nullable=False),
        sa.Column("open_group_id", sa.Integer),
        sa.Column("missed_since", UTCDateTime),
    )


def downgrade() -> None:
    op.drop_table("heartbeats")
