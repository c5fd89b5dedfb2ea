"""Nudges (issue 16): when each open incident's update / commander / open nudge is next
due, and its snooze. A new table only, so no existing table (nor 0009's search
triggers) is touched. Incidents open before this migration get their rows on the
scheduler's first tick (bot/services/nudges.py: reconcile_nudges).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nudges",
        sa.Column("incident_id", sa.Integer,
                  sa.ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("due_at", UTCDateTime),
        sa.Column("snoozed_until", UTCDateTime),
        sa.Column("snoozed_by", sa.String(30)),
        sa.Column("snoozed_at", UTCDateTime),
    )
    op.create_index("ix_nudges_due_at", "nudges", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_nudges_due_at", table_name="nudges")
    op.drop_table("nudges")
