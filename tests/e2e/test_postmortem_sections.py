"""The team's words in the postmortem: sections declared by the template, stored with
who wrote what, rendered in place of the blank prompts, shown by the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.cli import main
from bot.domain.postmortem import SectionSpec, declared_sections
from bot.services.postmortems import render_document
from bot.templating import template_sections, templates_dir
from tests.conftest import Stack
from tests.helpers import ALICE, BOB, custom_stack, scripted_incident

DEFAULT_HEADINGS = ["Impact", "What went well", "What was hard", "Where we got lucky",
                    "Contributing factors", "Open questions"]


def test_the_default_template_declares_the_headings_it_has() -> None:
    """Every declared section is a `## heading` of the default template, in its order."""
    sections = template_sections("postmortem.md.j2")
    assert [s.heading for s in sections] == DEFAULT_HEADINGS
    source = (templates_dir() / "postmortem.md.j2").read_text()
    assert all(f"\n## {s.heading}\n" in source and f"sections.{s.key}" in source
               for s in sections)


def test_a_declaration_skips_prose_and_duplicates() -> None:
    source = ("{#- sections: what the team writes.\n  Keep this `key: Heading` list.\n"
              "  impact: Customer impact\n  impact: Again\n  Not a key: here\n  risks: Risks -#}")
    assert declared_sections(source) == (SectionSpec("impact", "Customer impact"),
                                         SectionSpec("risks", "Risks"))
    assert declared_sections("# no declaration {{ incident.title }}") == ()


def _write(stack: Stack, texts: dict[str, str], author: str, at: datetime) -> list[str]:
    with stack.runtime.deps.uow() as tx:
        changed = tx.postmortems.write_sections(1, texts, author=author, now=at)
        tx.commit()
    return changed


def test_written_sections_render_in_place_of_prompts_and_keep_their_authors(
        stack: Stack, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Alice writes two sections, Bob edits one: only Bob's gets a new version and author;
    the document shows both texts, `postmortem show --json` says who wrote what."""
    scripted_incident(stack)
    first, second = datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert _write(stack, {"impact": "EU shoppers could not pay for 40 minutes.",
                          "went_well": "The rollback took two minutes."}, ALICE, first) == \
        ["impact", "went_well"]
    assert _write(stack, {"impact": "EU shoppers could not pay for 40 minutes.",
                          "went_well": "The rollback was one command."}, BOB, second) == \
        ["went_well"]
    deps = stack.runtime.deps
    _, content = render_document(1, uow=deps.uow, config=deps.config, now=second)
    assert "## Impact\n\nEU shoppers could not pay for 40 minutes.\n\n- **Impact started:**" \
        in content
    assert "Who and what was affected" not in content
    assert "## What went well\n\nThe rollback was one command.\n" in content
    assert "What conditions allowed this to happen?" in content  # not written: the prompts

    monkeypatch.setenv("DATABASE_URL", stack.runtime.engine.url.render_as_string(
        hide_password=False))
    assert main(["postmortem", "show", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    current = {s["key"]: s for s in report["sections"]}
    assert [s["key"] for s in report["sections"]] == ["impact", "went_well"]
    assert current["impact"]["author"] == ALICE and current["impact"]["version"] == 1
    assert current["impact"]["written_at"] == first.isoformat()
    assert current["went_well"]["author"] == BOB and current["went_well"]["version"] == 2
    assert current["went_well"]["heading"] == "What went well"
    assert [(s["key"], s["version"], s["author"]) for s in report["section_history"]] == \
        [("impact", 1, ALICE), ("went_well", 1, ALICE), ("went_well", 2, BOB)]
    assert main(["postmortem", "show", "9"]) == 2
    assert "no incident #9" in capsys.readouterr().err


def test_a_custom_template_declares_its_own_sections(engine: Engine, tmp_path: Path) -> None:
    stack = custom_stack(engine, tmp_path, "{# sections:\n  risks: Risks we carry\n#}"
                         "# {{ incident.title }}\n## Risks we carry\n"
                         "{{ sections.risks or '_none yet_' }}\n")
    try:
        scripted_incident(stack)
        deps = stack.runtime.deps
        now = datetime(2026, 12, 1, 9, tzinfo=UTC)
        _write(stack, {"risks": "One config store for all regions."}, ALICE, now)
        _, content = render_document(1, uow=deps.uow, config=deps.config, now=now)
        assert content.endswith("## Risks we carry\nOne config store for all regions.\n")
    finally:
        stack.close()
