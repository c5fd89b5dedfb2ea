"""Alertmanager's `truncatedAlerts` (issue 15): how many alerts its `max_alerts` left out
of a group's last notification, so the message does not say "2 firing" of 500.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alert_groups", sa.Column("alerts_truncated", sa.Integer, nullable=False,
                                            server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("alert_groups") as batch:
        batch.drop_column("alerts_truncated")
