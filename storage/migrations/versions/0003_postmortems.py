"""Action items, postmortems with their versions, and sent-once notification claims.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "action_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(),
                  sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(30), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(30), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(30), nullable=True),
    )
    op.create_index("ix_action_items_incident_id", "action_items", ["incident_id"])
    op.create_index("ix_action_items_owner", "action_items", ["owner"])
    op.create_table(
        "postmortems",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(),
                  sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
    )
    op.create_table(
        "postmortem_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("postmortem_id", sa.Integer(),
                  sa.ForeignKey("postmortems.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(30), nullable=False),
        sa.Column("file_id", sa.String(30), nullable=True),
        sa.UniqueConstraint("postmortem_id", "version", name="uq_postmortem_version"),
    )
    op.create_index("ix_postmortem_versions_postmortem_id", "postmortem_versions",
                    ["postmortem_id"])
    op.create_table(
        "notifications",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_index("ix_postmortem_versions_postmortem_id", table_name="postmortem_versions")
    op.drop_table("postmortem_versions")
    op.drop_table("postmortems")
    op.drop_index("ix_action_items_owner", table_name="action_items")
    op.drop_index("ix_action_items_incident_id", table_name="action_items")
    op.drop_table("action_items")
