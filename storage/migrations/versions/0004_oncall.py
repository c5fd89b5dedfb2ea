"""On-call schedules (layers with roster history) and overrides.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oncall_schedules",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("channel", sa.String(80), nullable=True),
        sa.Column("usergroup", sa.String(80), nullable=True),
        sa.Column("layers", sa.JSON(), nullable=False),
        sa.Column("applied_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "oncall_overrides",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("schedule_name", sa.String(50),
                  sa.ForeignKey("oncall_schedules.name", ondelete="CASCADE"), nullable=False),
        sa.Column("user", sa.String(120), nullable=False),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("end", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(30), nullable=True),
        sa.Column("spec_key", sa.String(300), nullable=True),
        sa.UniqueConstraint("schedule_name", "spec_key", name="uq_override_spec"),
    )
    op.create_index("ix_oncall_overrides_schedule_name", "oncall_overrides", ["schedule_name"])


def downgrade() -> None:
    op.drop_index("ix_oncall_overrides_schedule_name", table_name="oncall_overrides")
    op.drop_table("oncall_overrides")
    op.drop_table("oncall_schedules")
