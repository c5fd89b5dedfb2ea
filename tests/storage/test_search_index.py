"""The search index follows every change to what it searches (SQLite: FTS5 triggers;
PostgreSQL: generated tsvector columns): corrected titles and notes, deleted and hidden
entries, tags, new postmortem versions (only the latest is searched)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import Engine

from bot.domain.incidents import EventKind, EventRecord, Incident
from bot.domain.search import parse_search
from storage.uow import UnitOfWorkFactory

AT = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def found(uow: UnitOfWorkFactory, words: str) -> list[int]:
    with uow() as tx:
        return tx.search.search(parse_search(words, ("SEV1", "SEV2")), limit=50)


def test_the_index_follows_changes(engine: Engine) -> None:
    uow = UnitOfWorkFactory(engine)
    with uow() as tx:
        tx.incidents.add(Incident(number=1, title="Checkout errors", severity="SEV2",
                                  status="investigating", description="", declared_at=AT,
                                  declared_by="U1",
                                  events=(EventRecord(AT, EventKind.DECLARED, "U1", {}),)))
        note = tx.timeline.add_note(1, AT, "U1", "the pool was drained")
        other = tx.timeline.add_note(1, AT, "U1", "a quokka sighting")
        tx.commit()
    assert found(uow, "drained") == [1] and found(uow, "quokka") == [1]

    with uow() as tx:
        incident = tx.incidents.get(1, for_update=True)
        assert incident is not None
        tx.incidents.save(replace(incident, title="Payments down", tags=("database",)))
        tx.timeline.edit_note(note, "the pool was refilled", "U1", AT)
        tx.timeline.set_hidden(other, True, "U1", AT)
        tx.commit()
    assert found(uow, "checkout") == [] and found(uow, "payments") == [1]
    assert found(uow, "database") == [1] and found(uow, "tag:database") == [1]
    assert found(uow, "drained") == [] and found(uow, "refilled") == [1]
    assert found(uow, "quokka") == []  # hidden from the postmortem: not searched
    with uow() as tx:
        tx.timeline.set_hidden(other, False, "U1", AT)
        tx.timeline.delete_note(note, "U1", AT)
        tx.commit()
    assert found(uow, "quokka") == [1] and found(uow, "refilled") == []

    with uow() as tx:
        tx.postmortems.add_version(1, template="t", content="first draft: wombat", author="U1",
                                   now=AT)
        tx.commit()
    assert found(uow, "wombat") == [1]
    with uow() as tx:
        tx.postmortems.add_version(1, template="t", content="second: capybara", author="U1",
                                   now=AT)
        tx.commit()
    assert found(uow, "wombat") == [] and found(uow, "capybara") == [1]
