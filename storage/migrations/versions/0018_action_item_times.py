"""Indexes for the weekly trends (issue 16): action items created or closed in the last
12 weeks are read on an index, so the weekly report and `/incident stats` cost what the
12 weeks hold, not the whole history.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_action_items_created_at", "action_items", ["created_at"])
    op.create_index("ix_action_items_closed_at", "action_items", ["closed_at"])


def downgrade() -> None:
    op.drop_index("ix_action_items_closed_at", table_name="action_items")
    op.drop_index("ix_action_items_created_at", table_name="action_items")
