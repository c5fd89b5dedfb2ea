"""The team's words in a postmortem: each narrative section's text, one row per edit
(the section's version), with who wrote it and when — history is kept, the latest
version of each section is what the template renders; and each version's draft message.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "postmortem_sections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(),
                  sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(30), nullable=False),
        sa.Column("written_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("incident_id", "key", "version", name="uq_postmortem_section_version"),
    )
    # The draft's summary message, so a re-draft from the modal updates it in place.
    with op.batch_alter_table("postmortem_versions") as batch:
        batch.add_column(sa.Column("message_ts", sa.String(30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("postmortem_versions") as batch:
        batch.drop_column("message_ts")
    op.drop_table("postmortem_sections")
