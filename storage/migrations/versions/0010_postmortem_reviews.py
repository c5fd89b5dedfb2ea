"""Postmortem review: who was asked to review, their approvals and change requests,
publishing, reopening and the channel's archiving, one row per step with who and when.
A new table, so no batch migration touches 0009's search triggers.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "postmortem_reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(),
                  sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(30), nullable=False),
        sa.Column("reviewer", sa.String(30), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_postmortem_reviews_incident_id", "postmortem_reviews", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_postmortem_reviews_incident_id", table_name="postmortem_reviews")
    op.drop_table("postmortem_reviews")
