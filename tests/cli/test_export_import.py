"""`debrief incident export` / `import`: a lossless, idempotent round trip between
databases (SQLite, and PostgreSQL when DEBRIEF_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.cli import main
from bot.domain.factors import Factor
from storage.db import make_engine, upgrade
from tests.conftest import Stack
from tests.helpers import ALICE, BOB, scripted_incident, slash


def _history(stack: Stack) -> None:
    """Two incidents with chat, a note, action items (one done) and a published
    postmortem with two versions: everything an export has to carry."""
    incident = scripted_incident(stack)
    channel = incident.channel_id
    slash(stack, "note the EU pool was drained by hand", channel=channel)
    slash(stack, "tag Database service:Checkout", channel=channel)
    for _ in range(2):
        stack.client.reply_to(stack.client.slash("postmortem", user=ALICE, channel=channel))
    slash(stack, "postmortem review <@U02BOB|bob>", channel=channel)
    stack.client.reply_to(stack.client.click("postmortem-approve", user=BOB, channel="D02BOB",
                                             message_ts="1.0", value="1"))
    assert "Published" in slash(stack, "postmortem publish", channel=channel)
    with stack.runtime.deps.uow() as tx:  # (done by a button and the sections form in Slack)
        item = tx.action_items.for_incident(1)[0]
        tx.action_items.set_status(item.id, "done", BOB, stack.runtime.deps.now())
        tx.postmortems.write_sections(1, {"impact": "EU checkout failed"}, author=ALICE,
                                      now=stack.runtime.deps.now())
        tx.postmortems.write_sections(1, {"impact": "EU checkout failed for 40 min",
                                          "went_well": "Rollback"}, author=BOB,
                                      now=stack.runtime.deps.now())
        tx.commit()
    with stack.runtime.deps.uow() as tx:  # (added through the modal in Slack)
        entries = tx.timeline.entries(1)
        items = tx.action_items.for_incident(1)
        key = [e for e in entries if e.key][-1]
        kept = tx.postmortems.add_factor(
            1, Factor("technical", "Config pushes are not staged", (key.id,),  # type: ignore[arg-type]
                      (items[1].id,)), author=ALICE, now=stack.runtime.deps.now())
        gone = tx.postmortems.add_factor(1, Factor("process", "No canary"), author=BOB,
                                         now=stack.runtime.deps.now())
        tx.postmortems.remove_factor(1, gone.id, by=ALICE,  # type: ignore[arg-type]
                                     now=stack.runtime.deps.now())
        tx.commit()
    assert kept.id == 1
    slash(stack, "declare sev3 Slow search")


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _export(url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
            *extra: str) -> str:
    monkeypatch.setenv("DATABASE_URL", url)
    capsys.readouterr()
    assert main(["incident", "export", *extra]) == 0
    return capsys.readouterr().out


def _import(url: str, path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    monkeypatch.setenv("DATABASE_URL", url)
    capsys.readouterr()
    code = main(["incident", "import", str(path)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_round_trip_is_lossless_and_reimport_changes_nothing(
        stack: Stack, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """export → import into an empty database (SQLite here; the test database, PostgreSQL
    when configured, on the way back) → export again: the same bytes both ways."""
    _history(stack)
    first = _export(_url(engine), monkeypatch, capsys)
    records = [json.loads(line) for line in first.splitlines()]
    assert [r["number"] for r in records] == [1, 2]
    one = records[0]
    assert one["postmortem"]["status"] == "published"
    assert [v["version"] for v in one["postmortem"]["versions"]] == [1, 2]
    assert sorted(a["status"] for a in one["action_items"]) == ["done", "open"]
    assert {"message", "note"} <= {e["kind"] for e in one["timeline_entries"]}
    assert [(w["key"], w["version"], w["author"]) for w in one["postmortem_sections"]] == [
        ("impact", 1, ALICE), ("impact", 2, BOB), ("went_well", 1, BOB)]
    assert all(v["message_ts"] for v in one["postmortem"]["versions"])
    assert [(v["kind"], v["actor"], v["reviewer"]) for v in one["postmortem_reviews"]] == [
        ("requested", ALICE, BOB), ("approved", BOB, None), ("published", ALICE, None)]
    assert one["card_ts"] and one["roles"]["commander"]
    assert one["tags"] == ["database", "service:checkout"]
    keyed = [n for n, e in enumerate(one["timeline_entries"]) if e["pinned"] or e["marked_by"]
             or e["kind"] == "note"]
    assert [(f["category"], f["timeline"], f["action_items"], f["removed_by"])
            for f in one["postmortem_factors"]] == [
        ("technical", [keyed[-1]], [1], None), ("process", [], [], ALICE)]
    path = tmp_path / "incidents.jsonl"
    path.write_text(first, encoding="utf-8")

    other = f"sqlite:///{tmp_path / 'other.db'}"
    upgrade_engine = make_engine(other)
    upgrade(upgrade_engine)
    upgrade_engine.dispose()
    assert _import(other, path, monkeypatch, capsys)[:2] == (
        0, "imported 2 incident(s), 0 already present, 0 conflict(s)\n")
    assert _export(other, monkeypatch, capsys) == first

    # Back into the first database: everything is already there, nothing changes.
    code, out, err = _import(_url(engine), path, monkeypatch, capsys)
    assert (code, out, err) == (0, "imported 0 incident(s), 2 already present, 0 conflict(s)\n",
                                "")
    assert _export(_url(engine), monkeypatch, capsys) == first

    # The copy is a working database: the next declare there takes the next number.
    monkeypatch.setenv("DATABASE_URL", other)
    from bot.clock import utcnow
    from bot.config import DebriefConfig
    from bot.services.incidents import DeclareRequest, declare_incident
    from storage.uow import UnitOfWorkFactory
    from tests.fakes import FakeChat

    copy = make_engine(other)
    declared = declare_incident(DeclareRequest(title="Next", severity="SEV3", declared_by="U1"),
                                uow=UnitOfWorkFactory(copy), chat=FakeChat(),
                                config=DebriefConfig(), now=utcnow())
    copy.dispose()
    assert declared.incident.number == 3


def test_import_into_the_test_database_and_since(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A file written from SQLite loads into the test database (PostgreSQL when set) and
    exports back to the same bytes; `--since` keeps only the later incidents."""
    path = tmp_path / "incidents.jsonl"
    lines = [json.dumps(_record(n, f"2026-0{n}-01T10:00:00.123456Z")) for n in (1, 2, 3)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _import(_url(engine), path, monkeypatch, capsys)[0] == 0
    again = _export(_url(engine), monkeypatch, capsys)
    assert again.splitlines() == [json.dumps(json.loads(x), separators=(",", ":"))
                                  for x in lines]
    later = _export(_url(engine), monkeypatch, capsys, "--since", "2026-02-01")
    assert [json.loads(x)["number"] for x in later.splitlines()] == [2, 3]


def test_conflicts_are_reported_not_overwritten(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Same number, different content: the stored incident stays, the line is named,
    exit 1; the other incidents in the file are imported."""
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(_record(1, "2026-01-01T10:00:00Z")) + "\n", encoding="utf-8")
    assert _import(_url(engine), path, monkeypatch, capsys)[0] == 0
    changed = _record(1, "2026-01-01T10:00:00Z")
    changed["title"] = "Something else"
    path.write_text(json.dumps(changed) + "\n"
                    + json.dumps(_record(2, "2026-01-02T10:00:00Z")) + "\n", encoding="utf-8")
    code, out, err = _import(_url(engine), path, monkeypatch, capsys)
    assert code == 1
    assert err == f"{path}:1: incident #1 not imported: differs from the incident stored\n"
    assert out == "imported 1 incident(s), 0 already present, 1 conflict(s)\n"
    titles = [json.loads(x)["title"] for x in _export(_url(engine), monkeypatch,
                                                      capsys).splitlines()]
    assert titles == ["Disk full", "Disk full"]

    # One number twice in a file: the first line wins, a different second one conflicts.
    twice = _record(3, "2026-01-03T10:00:00Z")
    path.write_text(json.dumps(twice) + "\n" + json.dumps({**twice, "summary": "other"})
                    + "\n", encoding="utf-8")
    code, out, err = _import(_url(engine), path, monkeypatch, capsys)
    assert code == 1
    assert err == f"{path}:2: incident #3 not imported: differs from the incident earlier in " \
                  "the file\n"
    assert json.loads(_export(_url(engine), monkeypatch, capsys, "--since", "2026-01-03")
                      )["summary"] == "cleaned up"


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "not JSON"),
    ("[1, 2]", "not an exported incident: the line should be a JSON object"),
    ('{"number": 5}', "not an exported incident: title is missing"),
    (None, "not an exported incident: declared_at '2026-13-01' is not an ISO 8601 time"),
])
def test_a_bad_file_imports_nothing_and_names_the_line(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], line: str | None, message: str) -> None:
    bad = _record(3, "2026-01-03T10:00:00Z")
    bad["declared_at"] = "2026-13-01"
    good = [json.dumps(_record(n, f"2026-01-0{n}T10:00:00Z")) for n in (1, 2)]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([*good, "", line or json.dumps(bad)]) + "\n", encoding="utf-8")
    code, out, err = _import(_url(engine), path, monkeypatch, capsys)
    assert code == 2 and out == ""
    assert err.startswith(f"debrief: {path}:4: {message}") and err.count("\n") == 1
    assert _export(_url(engine), monkeypatch, capsys) == ""


def test_import_of_a_missing_file_is_a_user_error(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _import(_url(engine), tmp_path / "nope.jsonl", monkeypatch, capsys)
    assert code == 2 and "nope.jsonl" in err


def _record(number: int, declared_at: str) -> dict[str, object]:
    """A resolved incident as an export writes it, with one of everything."""
    return {
        "number": number, "title": "Disk full", "description": "", "severity": "SEV3",
        "status": "resolved", "channel_id": f"C{number:08d}",
        "channel_name": f"inc-{number}-disk-full", "declared_at": declared_at,
        "declared_by": "U01ALICE", "acknowledged_at": declared_at,
        "acknowledged_by": "U01ALICE", "resolved_at": declared_at, "summary": "cleaned up",
        "roles": {"commander": "U01ALICE"},
        "events": [{"at": declared_at, "kind": "declared", "actor": "U01ALICE",
                    "detail": {"severity": "SEV3"}}],
        "action_items": [{"text": "Alert on disk", "owner": "U02BOB", "due": "2026-02-01",
                          "type": "detect", "status": "done", "created_at": declared_at,
                          "created_by": "U01ALICE", "closed_at": declared_at,
                          "closed_by": "U02BOB"}],
        "card_ts": "1.000100", "announce_channel_id": None, "announce_ts": None, "private": False,
        "tags": ["database", "service:storage"],
        "timeline_entries": [{"at": declared_at, "kind": "message", "author": "U02BOB",
                              "text": "disk at 100%", "channel_id": f"C{number:08d}",
                              "ts": "1767261600.000100", "thread_ts": None, "pinned": True,
                              "marked_by": ["U01ALICE"], "deleted": False, "hidden": False,
                              "history": [], "files": []}],
        "postmortem": {"status": "published", "created_at": declared_at,
                       "updated_at": declared_at, "published_at": declared_at,
                       "versions": [{"version": 1, "template": "postmortem.md.j2",
                                     "content": "# Disk full", "created_at": declared_at,
                                     "created_by": "U01ALICE", "file_id": None,
                                     "message_ts": "1.000200"}]},
        "postmortem_sections": [{"key": "impact", "version": 1, "text": "Disks filled.",
                                 "author": "U01ALICE", "written_at": declared_at}],
        "postmortem_reviews": [{"kind": "published", "actor": "U01ALICE", "reviewer": None,
                                "comment": "", "version": 1, "at": declared_at}],
        "postmortem_factors": [{"category": "technical", "description": "No disk alert",
                                "timeline": [0], "action_items": [0], "added_by": "U01ALICE",
                                "added_at": declared_at, "removed_by": None,
                                "removed_at": None}],
    }


def test_the_bot_can_write_while_an_export_is_under_way(engine: Engine) -> None:
    """An export reads a page per transaction: between pages the database is free, so a
    backup of a live bot does not stall its writes (on SQLite a transaction holds the
    write lock; one transaction for the whole export blocked every write until it ended)."""
    from bot.clock import utcnow
    from bot.services.archive import export_incidents
    from storage.uow import UnitOfWorkFactory

    uow = UnitOfWorkFactory(engine)
    with uow() as tx:
        tx.archive.add([_record(n, f"2026-01-0{n}T10:00:00Z") for n in (1, 2, 3)])
        tx.commit()
    stream = export_incidents(uow=uow, page=1)
    assert next(stream)["number"] == 1
    with uow() as tx:  # the bot, between two pages of the export
        assert tx.notifications.claim("written-during-export", utcnow())
        tx.commit()
    assert [r["number"] for r in stream] == [2, 3]


def test_an_export_from_before_tags_imports_with_no_tags(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Files exported before incidents had tags still import (no tags); re-exported,
    they carry `tags: []`."""
    old = _record(1, "2026-01-01T10:00:00Z")
    del old["tags"], old["postmortem_reviews"], old["postmortem_factors"]
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(old) + "\n", encoding="utf-8")
    assert _import(_url(engine), path, monkeypatch, capsys)[0] == 0
    again = json.loads(_export(_url(engine), monkeypatch, capsys))
    assert again["tags"] == [] and again["postmortem_reviews"] == []
    assert again["postmortem_factors"] == []
    bad = {**_record(2, "2026-01-02T10:00:00Z"), "tags": ["Has Space"]}
    path.write_text(json.dumps(bad) + "\n", encoding="utf-8")
    code, _, err = _import(_url(engine), path, monkeypatch, capsys)
    assert code == 2 and "tags should be a list of tags" in err
    bad = _record(3, "2026-01-03T10:00:00Z")
    bad["postmortem_reviews"][0]["kind"] = "rubber-stamped"
    path.write_text(json.dumps(bad) + "\n", encoding="utf-8")
    code, _, err = _import(_url(engine), path, monkeypatch, capsys)
    assert code == 2 and "kind should be one of requested" in err
    bad = _record(4, "2026-01-04T10:00:00Z")
    bad["postmortem_factors"][0]["action_items"] = [1]  # there is one action item
    path.write_text(json.dumps(bad) + "\n", encoding="utf-8")
    code, _, err = _import(_url(engine), path, monkeypatch, capsys)
    assert code == 2 and "postmortem_factors[0].action_items names a position past" in err
