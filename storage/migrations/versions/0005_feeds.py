"""Secret iCal feed tokens per schedule, and the display names of the people schedules name.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("oncall_schedules", sa.Column("feed_token", sa.String(64), nullable=True))
    schedules = sa.table("oncall_schedules", sa.column("name", sa.String),
                         sa.column("feed_token", sa.String))
    bind = op.get_bind()
    for name in bind.execute(sa.select(schedules.c.name)).scalars().all():
        bind.execute(schedules.update().where(schedules.c.name == name)
                     .values(feed_token=secrets.token_urlsafe(32)))
    with op.batch_alter_table("oncall_schedules") as batch:
        batch.alter_column("feed_token", existing_type=sa.String(64), nullable=False)
    op.create_table(
        "slack_users",
        sa.Column("id", sa.String(30), primary_key=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_slack_users_email", "slack_users", ["email"])


def downgrade() -> None:
    op.drop_index("ix_slack_users_email", table_name="slack_users")
    op.drop_table("slack_users")
    with op.batch_alter_table("oncall_schedules") as batch:
        batch.drop_column("feed_token")
