"""`debrief postmortem export --to DIR`: a folder of Markdown postmortems with YAML front
matter that a team commits to git. Re-exporting rewrites nothing unchanged; a corrected
title moves the file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine

from bot.cli import main
from bot.domain.library import factor_list, library_number, library_slug
from tests.conftest import Stack
from tests.helpers import ALICE, BOB, scripted_incident, slash


def _published(stack: Stack) -> None:
    """#1: published, tagged, with written contributing factors; #2: a draft; #3: no
    postmortem at all."""
    incident = scripted_incident(stack)
    channel = incident.channel_id
    slash(stack, "tag Database service:Checkout", channel=channel)
    with stack.runtime.deps.uow() as tx:  # (the sections form, in Slack)
        tx.postmortems.write_sections(
            1, {"contributing_factors": "- Config pushes skip validation\n"
                                        "- No alert on EU 5xx\n  for checkout"},
            author=BOB, now=stack.runtime.deps.now())
        tx.commit()
    assert "Added contributing factor" in slash(
        stack, "postmortem factor technical Config pushes reach every region at once",
        channel=channel)
    stack.client.reply_to(stack.client.slash("postmortem", user=ALICE, channel=channel))
    slash(stack, "postmortem review <@U02BOB|bob>", channel=channel)
    stack.client.reply_to(stack.client.click("postmortem-approve", user=BOB, channel="D02BOB",
                                             message_ts="1.0", value="1"))
    assert "Published" in slash(stack, "postmortem publish", channel=channel)
    draft = stack.incident(int(slash(stack, "declare sev3 Slow search: 'p99' > 2s")
                               .split("#", 1)[1].split("*", 1)[0]))
    stack.client.reply_to(stack.client.slash("postmortem", user=ALICE,
                                             channel=draft.channel_id))
    slash(stack, "declare sev4 Nothing written")


def _export(engine: Engine, folder: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    capsys.readouterr()
    assert main(["postmortem", "export", "--to", str(folder), *extra]) == 0
    return capsys.readouterr().out


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _front(path: Path) -> tuple[dict[str, object], str]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), text[:40]
    head, _, body = text[4:].partition("\n---\n")
    return yaml.safe_load(head), body


def test_export_writes_published_postmortems_with_front_matter(
        stack: Stack, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Only the published postmortem by default; its front matter parses as YAML with the
    incident's facts; the body is the stored Markdown."""
    _published(stack)
    library = tmp_path / "library"
    assert _export(engine, library, monkeypatch, capsys) == "1 written, 0 unchanged\n"
    year = f"{stack.incident(1).declared_at:%Y}"
    assert sorted(_snapshot(library)) == [f"{year}/1-checkout-errors-in-eu.md"]
    front, body = _front(library / year / "1-checkout-errors-in-eu.md")
    assert front["number"] == 1 and front["title"] == "Checkout errors in EU"
    assert front["severity"] == "SEV1" and front["status"] == "resolved"
    assert str(front["declared_at"]).endswith("Z") and front["resolved_at"]
    durations = front["durations"]
    assert isinstance(durations, dict) and durations["to_resolve"]
    assert isinstance(durations["to_resolve_seconds"], int)
    assert front["tags"] == ["database"] and front["services"] == ["checkout"]
    assert front["contributing_factors"] == [
        {"category": "technical", "description": "Config pushes reach every region at once"},
        "Config pushes skip validation", "No alert on EU 5xx for checkout"]
    items = front["action_items"]
    assert isinstance(items, list)
    assert [(i["text"], i["status"], i["type"]) for i in items] == [
        ("Validate configs in CI", "open", "prevent"),
        ("Alert on EU checkout 5xx", "open", "detect")]
    assert items[0]["due"] == "2026-12-15" and items[0]["owner"] == BOB
    postmortem = front["postmortem"]
    assert isinstance(postmortem, dict) and postmortem["status"] == "published"
    with stack.runtime.deps.uow() as tx:
        stored = tx.postmortems.get(1)
    assert stored is not None and stored.latest is not None
    assert body.strip() == stored.latest.content.strip()


def test_reexport_changes_no_file_and_all_adds_drafts(
        stack: Stack, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Export, edit nothing, export again: the same bytes and mtimes; `--all` adds the
    draft (with a title YAML must quote) and leaves the published file alone."""
    _published(stack)
    library = tmp_path / "library"
    _export(engine, library, monkeypatch, capsys)
    before = _snapshot(library)
    assert _export(engine, library, monkeypatch, capsys) == "0 written, 1 unchanged\n"
    assert _snapshot(library) == before
    assert _export(engine, library, monkeypatch, capsys, "--all") == "1 written, 1 unchanged\n"
    after = _snapshot(library)
    assert {k: v for k, v in after.items() if k in before} == before
    (draft,) = [k for k in after if k not in before]
    assert draft.endswith("/2-slow-search-p99-2s.md")
    front, _ = _front(library / draft)
    assert front["title"] == "Slow search: 'p99' > 2s"
    assert isinstance(front["postmortem"], dict) and front["postmortem"]["status"] == "draft"
    assert "contributing_factors" not in front
    assert _export(engine, library, monkeypatch, capsys, "--all") == "0 written, 2 unchanged\n"
    assert _snapshot(library) == after


def test_a_corrected_title_moves_the_file_and_other_files_are_left_alone(
        stack: Stack, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`/incident title` then export: the new name is written, the old one removed; a
    file the team put there (README, notes) is never touched."""
    _published(stack)
    library = tmp_path / "library"
    _export(engine, library, monkeypatch, capsys)
    year = f"{stack.incident(1).declared_at:%Y}"
    (library / "README.md").write_text("Our postmortems\n")
    (library / year / "notes.md").write_text("kept\n")
    slash(stack, "title EU checkout failing after config push",
          channel=stack.incident(1).channel_id)
    out = _export(engine, library, monkeypatch, capsys)
    assert out == "1 written, 0 unchanged, 1 old file(s) removed (title changed)\n"
    assert sorted(_snapshot(library)) == [
        f"{year}/1-eu-checkout-failing-after-config-push.md", f"{year}/notes.md", "README.md"]
    front, _ = _front(library / year / "1-eu-checkout-failing-after-config-push.md")
    assert front["title"] == "EU checkout failing after config push"


def test_export_refuses_a_file_as_the_folder(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """One clear line, exit 2."""
    target = tmp_path / "plain.txt"
    target.write_text("x")
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert main(["postmortem", "export", "--to", str(target)]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_slugs_file_names_and_factor_lists() -> None:
    """Pure parts: slugs are short ASCII, only `<number>-<slug>.md` is the library's, and
    the factors section becomes a list by bullets or paragraphs."""
    assert library_slug("Çheckout — 50% errors!") == "checkout-50-errors"
    assert library_slug("!!!") == "incident"
    assert len(library_slug("word " * 40)) <= 60
    assert library_number("12-checkout.md") == 12
    assert library_number("README.md") is None and library_number("012-x.md") is None
    assert factor_list("1. one\n2) two\n   more") == ["one", "two more"]
    assert factor_list("First para\nwraps.\n\nSecond.") == ["First para wraps.", "Second."]
