"""Full-text search over incidents with the database's own engine (no extra service):
SQLite FTS5 (`search_fts`, one row per searchable row, kept in step by triggers from
migration 0009) and PostgreSQL `tsvector` (GIN indexes on the same expressions, so the
index is the only copy). Both tokenise with no stemming and no stop words (FTS5
`unicode61`, PostgreSQL `simple`) and match each term as a prefix, so they find the
same incidents; ranks are bm25 (SQLite) and ts_rank (PostgreSQL), summed per incident.

What is searched: an incident's title, description, summary and tags; its timeline
entries (messages and notes) that are neither deleted nor hidden; and the latest
version of its postmortem. Every term must occur somewhere in the incident (not
necessarily in one row)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.domain.search import SearchQuery

# PostgreSQL: each searched table has a stored generated `search_vector` column with a
# GIN index (migration 0009); not in the models, since nothing but search reads it.
PG_INCIDENT_DOC = PG_ENTRY_DOC = "search_vector"
PG_VERSION_DOC = "v.search_vector"


class SqlSearchRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def search(self, query: SearchQuery, *, limit: int) -> list[int]:
        """Incident numbers matching `query`, best first (ties: newest first)."""
        params: dict[str, Any] = {"limit": limit}
        filters = []
        if query.severity:
            filters.append("i.severity = :severity")
            params["severity"] = query.severity
        if query.after:
            filters.append("i.declared_at >= :after")
            params["after"] = (query.after.replace(tzinfo=None)
                               if self._sqlite else query.after)
        for n, tag in enumerate(query.tags):
            filters.append(f"(' ' || i.tags || ' ') LIKE :tag{n}")
            params[f"tag{n}"] = f"% {tag} %"
        where = " AND ".join(filters) or "1 = 1"
        if not query.terms:
            sql = (f"SELECT i.number FROM incidents i WHERE {where} "
                   "ORDER BY i.declared_at DESC, i.number DESC LIMIT :limit")
            return list(self.session.execute(text(sql), params).scalars())
        hits = []
        for n, term in enumerate(query.terms):
            params[f"q{n}"] = f'"{term}"*' if self._sqlite else f"{term}:*"
            hits.append(self._sqlite_hits(n) if self._sqlite else self._pg_hits(n))
        order = "ASC" if self._sqlite else "DESC"  # bm25: lower is better
        # MATERIALIZED: SQLite would otherwise fold the FTS query into the aggregate, where
        # bm25() cannot run; PostgreSQL takes the hint too and it costs nothing there.
        sql = (f"WITH hits AS MATERIALIZED ({' UNION ALL '.join(hits)}), "
               "ranked AS (SELECT incident_id, sum(rank) AS rank FROM hits "
               f"GROUP BY incident_id HAVING count(DISTINCT term) = {len(query.terms)}) "
               f"SELECT i.number FROM ranked r JOIN incidents i ON i.id = r.incident_id "
               f"WHERE {where} ORDER BY r.rank {order}, i.declared_at DESC, i.number DESC "
               "LIMIT :limit")
        return list(self.session.execute(text(sql), params).scalars())

    @property
    def _sqlite(self) -> bool:
        return self.session.get_bind().dialect.name == "sqlite"

    @staticmethod
    def _sqlite_hits(n: int) -> str:
        return (f"SELECT incident_id, {n} AS term, bm25(search_fts) AS rank FROM search_fts "
                f"WHERE search_fts MATCH :q{n}")

    @staticmethod
    def _pg_hits(n: int) -> str:
        q = f"to_tsquery('simple', :q{n})"
        return (
            f"SELECT id AS incident_id, {n} AS term, ts_rank({PG_INCIDENT_DOC}, {q}) AS rank "
            f"FROM incidents WHERE {PG_INCIDENT_DOC} @@ {q} "
            f"UNION ALL SELECT incident_id, {n}, ts_rank({PG_ENTRY_DOC}, {q}) "
            f"FROM timeline_entries WHERE NOT deleted AND NOT hidden AND {PG_ENTRY_DOC} @@ {q} "
            f"UNION ALL SELECT p.incident_id, {n}, ts_rank({PG_VERSION_DOC}, {q}) "
            "FROM postmortem_versions v JOIN postmortems p ON p.id = v.postmortem_id "
            f"WHERE {PG_VERSION_DOC} @@ {q} AND v.version = (SELECT max(w.version) FROM "
            "postmortem_versions w WHERE w.postmortem_id = v.postmortem_id)")
