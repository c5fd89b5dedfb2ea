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

from bot.domain.related import WORD_WEIGHT, RelatedQuery
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

    def related(self, query: RelatedQuery, *, limit: int) -> list[int]:
        """Public incidents other than `query.number` sharing tags or title words with it,
        most related first (bot/domain/related.py: a whole-number score, so both
        databases rank alike; ties: newest first), in one statement. Words are looked
        for in each incident's own text only (title, description, summary, tags), not
        its timeline or postmortem: those would relate nearly everything."""
        if query.empty:
            return []
        params: dict[str, Any] = {"number": query.number, "limit": limit}
        hits = []
        for n, (word, prefix) in enumerate(query.words):
            if self._sqlite:
                params[f"w{n}"] = f'"{word}"' + ("*" if prefix else "")
                hits.append(f"SELECT incident_id, 'w{n}' AS k, {WORD_WEIGHT} AS weight "
                            f"FROM search_fts WHERE search_fts MATCH :w{n} AND rowid % 4 = 0")
            else:
                params[f"w{n}"] = word + (":*" if prefix else "")
                hits.append(f"SELECT id AS incident_id, 'w{n}' AS k, {WORD_WEIGHT} AS weight "
                            f"FROM incidents WHERE {PG_INCIDENT_DOC} @@ "
                            f"to_tsquery('simple', :w{n})")
        for n, (tag, weight) in enumerate(query.tags):
            params[f"t{n}"] = f"% {tag} %"
            hits.append(f"SELECT id AS incident_id, 't{n}' AS k, {int(weight)} AS weight "
                        f"FROM incidents WHERE (' ' || tags || ' ') LIKE :t{n}")
        sql = (f"WITH hits AS ({' UNION ALL '.join(hits)}), "
               "scored AS (SELECT incident_id, sum(weight) AS score FROM "
               "(SELECT DISTINCT incident_id, k, weight FROM hits) d GROUP BY incident_id) "
               "SELECT i.number FROM scored s JOIN incidents i ON i.id = s.incident_id "
               "WHERE i.number <> :number AND NOT i.private "
               "ORDER BY s.score DESC, i.declared_at DESC, i.number DESC LIMIT :limit")
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
