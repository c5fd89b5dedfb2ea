"""Indexes that let periodic and interactive reads cost what they answer, not the whole
history: incidents by declared and resolved time (`/incident stats 30d`, open incidents,
the postmortem reminders' window) and open action items by due date (the due-today
reminders and the weekly digest).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_incidents_declared_at", "incidents", ["declared_at"])
    op.create_index("ix_incidents_resolved_at", "incidents", ["resolved_at"])
    op.create_index("ix_action_items_status_due_on", "action_items", ["status", "due_on"])


def downgrade() -> None:
    op.drop_index("ix_action_items_status_due_on", table_name="action_items")
    op.drop_index("ix_incidents_resolved_at", table_name="incidents")
    op.drop_index("ix_incidents_declared_at", table_name="incidents")
