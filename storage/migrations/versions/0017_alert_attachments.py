"""Alerts attached to incidents, escalation rounds and time to acknowledge (issue 15):
columns on alert_groups and indexes; no table of 0009's search triggers is touched.

- `escalation_round`, `escalation_started_at`: a group that resolves and fires again
  starts a new round of its escalation policy (its steps are claimed per round), so it
  pages again.
- `lines_posted`: the last of the group's incident lines (alert_events of kind
  `incident_line`) posted in its incident's channel.
- `ix_alert_groups_incident`: the groups of an incident; `ix_alert_events_kind_at`: the
  acknowledgements of a stats window, read without scanning the history.

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alert_groups", sa.Column("escalation_round", sa.Integer, nullable=False,
                                            server_default="0"))
    op.add_column("alert_groups", sa.Column("escalation_started_at", UTCDateTime))
    op.add_column("alert_groups", sa.Column("lines_posted", sa.Integer, nullable=False,
                                            server_default="0"))
    op.create_index("ix_alert_groups_incident", "alert_groups", ["incident_number"])
    op.create_index("ix_alert_events_kind_at", "alert_events", ["kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_alert_events_kind_at", "alert_events")
    op.drop_index("ix_alert_groups_incident", "alert_groups")
    with op.batch_alter_table("alert_groups") as batch:
        batch.drop_column("lines_posted")
        batch.drop_column("escalation_started_at")
        batch.drop_column("escalation_round")
