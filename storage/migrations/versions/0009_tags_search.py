"""Tags and services on incidents (space-separated, normalised; `service:x` is a service),
and full-text search (storage/search.py): on SQLite an FTS5 table kept in step by
triggers (backfilled here); on PostgreSQL a generated tsvector column per searched
table with a GIN index (computed for existing rows by the ALTER).

FTS5 rows are keyed by rowid = source row id * 4 + source (0 incident, 1 timeline
entry, 2 postmortem version), so a trigger replaces one row by key, never by a scan.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_INCIDENT = "NEW.title || ' ' || NEW.description || ' ' || NEW.summary || ' ' || NEW.tags"
_SQLITE = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(body, incident_id UNINDEXED, "
    "tokenize='unicode61')",
    # incidents: title, description, summary, tags
    f"""CREATE TRIGGER search_incident_ins AFTER INSERT ON incidents BEGIN
        INSERT INTO search_fts(rowid, body, incident_id) VALUES (NEW.id * 4, {_INCIDENT}, NEW.id);
    END""",
    f"""CREATE TRIGGER search_incident_upd AFTER UPDATE OF title, description, summary, tags
        ON incidents BEGIN
        DELETE FROM search_fts WHERE rowid = OLD.id * 4;
        INSERT INTO search_fts(rowid, body, incident_id) VALUES (NEW.id * 4, {_INCIDENT}, NEW.id);
    END""",
    """CREATE TRIGGER search_incident_del AFTER DELETE ON incidents BEGIN
        DELETE FROM search_fts WHERE rowid = OLD.id * 4;
    END""",
    # timeline entries: neither deleted nor hidden
    """CREATE TRIGGER search_entry_ins AFTER INSERT ON timeline_entries
        WHEN NOT NEW.deleted AND NOT NEW.hidden BEGIN
        INSERT INTO search_fts(rowid, body, incident_id)
        VALUES (NEW.id * 4 + 1, NEW.text, NEW.incident_id);
    END""",
    """CREATE TRIGGER search_entry_upd AFTER UPDATE OF text, deleted, hidden
        ON timeline_entries BEGIN
        DELETE FROM search_fts WHERE rowid = OLD.id * 4 + 1;
        INSERT INTO search_fts(rowid, body, incident_id)
        SELECT NEW.id * 4 + 1, NEW.text, NEW.incident_id WHERE NOT NEW.deleted AND NOT NEW.hidden;
    END""",
    """CREATE TRIGGER search_entry_del AFTER DELETE ON timeline_entries BEGIN
        DELETE FROM search_fts WHERE rowid = OLD.id * 4 + 1;
    END""",
    # postmortem versions: only the latest of each postmortem
    """CREATE TRIGGER search_version_ins AFTER INSERT ON postmortem_versions BEGIN
        DELETE FROM search_fts WHERE rowid IN (
            SELECT id * 4 + 2 FROM postmortem_versions
            WHERE postmortem_id = NEW.postmortem_id AND id != NEW.id);
        INSERT INTO search_fts(rowid, body, incident_id)
        SELECT NEW.id * 4 + 2, NEW.content, incident_id FROM postmortems
        WHERE id = NEW.postmortem_id AND NOT EXISTS (
            SELECT 1 FROM postmortem_versions WHERE postmortem_id = NEW.postmortem_id
            AND version > NEW.version);
    END""",
    """CREATE TRIGGER search_version_del AFTER DELETE ON postmortem_versions BEGIN
        DELETE FROM search_fts WHERE rowid = OLD.id * 4 + 2;
    END""",
    # backfill what is already stored
    """INSERT INTO search_fts(rowid, body, incident_id)
       SELECT id * 4, title || ' ' || description || ' ' || summary || ' ' || tags, id
       FROM incidents""",
    """INSERT INTO search_fts(rowid, body, incident_id)
       SELECT id * 4 + 1, text, incident_id FROM timeline_entries
       WHERE NOT deleted AND NOT hidden""",
    """INSERT INTO search_fts(rowid, body, incident_id)
       SELECT v.id * 4 + 2, v.content, p.incident_id
       FROM postmortem_versions v JOIN postmortems p ON p.id = v.postmortem_id
       WHERE v.version = (SELECT max(version) FROM postmortem_versions w
                          WHERE w.postmortem_id = v.postmortem_id)""",
]
_SQLITE_DOWN = ["search_incident_ins", "search_incident_upd", "search_incident_del",
                "search_entry_ins", "search_entry_upd", "search_entry_del",
                "search_version_ins", "search_version_del"]
# PostgreSQL: a stored generated tsvector column per searched table (so ranking reads
# the vector instead of re-tokenising the text of every hit) with a GIN index on it.
_PG_DOCS = {
    "incidents": "title || ' ' || description || ' ' || summary || ' ' || tags",
    "timeline_entries": "text",
    "postmortem_versions": "content",
}
_PG = [statement for table, doc in _PG_DOCS.items() for statement in (
    f"ALTER TABLE {table} ADD COLUMN search_vector tsvector "
    f"GENERATED ALWAYS AS (to_tsvector('simple', {doc})) STORED",
    f"CREATE INDEX ix_{table}_search ON {table} USING gin (search_vector)"
    + (" WHERE NOT deleted AND NOT hidden" if table == "timeline_entries" else ""),
)]


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("tags", sa.String(700), nullable=False, server_default=""))
    statements = _SQLITE if op.get_bind().dialect.name == "sqlite" else _PG
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in _SQLITE_DOWN:
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE search_fts")
    else:
        for table in _PG_DOCS:
            op.execute(f"DROP INDEX ix_{table}_search")
            op.execute(f"ALTER TABLE {table} DROP COLUMN search_vector")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("tags")
