"""Tags and services on incidents (space-separated, normalised; `service:x` is a service).

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("tags", sa.String(700), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("tags")
