"""Structured contributing factors: category, description, links to timeline entries and
action items, who added each and when, and who removed it and when (kept, not deleted).
A new table, so no batch migration touches 0009's search triggers.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "postmortem_factors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(),
                  sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("timeline_ids", sa.JSON(), nullable=False),
        sa.Column("action_item_ids", sa.JSON(), nullable=False),
        sa.Column("added_by", sa.String(30), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("removed_by", sa.String(30), nullable=True),
        sa.Column("removed_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_postmortem_factors_incident_id", "postmortem_factors", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_postmortem_factors_incident_id", table_name="postmortem_factors")
    op.drop_table("postmortem_factors")
