"""The team's words in the postmortem: sections declared by the template, stored with
who wrote what, rendered in place of the blank prompts, shown by the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.cli import main
from bot.domain.postmortem import SectionSpec, declared_sections
from bot.services.postmortems import render_document
from bot.slack.ids import Action
from bot.templating import template_sections, templates_dir
from tests.conftest import Stack
from tests.helpers import ALICE, BOB, custom_stack, scripted_incident, uploaded

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


# --- writing through Slack: the button, the modal, the updated draft message ----------

def _draft_messages(stack: Stack, channel: str) -> list[Any]:
    return [m for m in stack.slack.channels[channel].messages.values()
            if "Postmortem draft" in m.text]


def _open_modal(stack: Stack, channel: str, ts: str, user: str, seen: int) -> dict[str, Any]:
    stack.client.click(Action.POSTMORTEM_WRITE.value, user=user, channel=channel,
                       message_ts=ts, value="1")
    return stack.slack.wait_for(lambda: stack.slack.views[-1]
                                if len(stack.slack.views) > seen else None)


def _values(view: dict[str, Any], **texts: str) -> dict[str, dict[str, Any]]:
    """The modal's state as Slack sends it: every input, edited where `texts` says."""
    values = {}
    for block in view["blocks"]:
        key = block["block_id"].removeprefix("pm-section:")
        text = texts.get(key, block["element"].get("initial_value"))
        values[block["block_id"]] = {block["element"]["action_id"]: {
            "type": "plain_text_input", "value": text}}
    return values


def test_write_sections_through_the_modal(stack: Stack) -> None:
    """The draft message's button opens the modal with every declared section; saving
    stores the words (new version), updates the same draft message (no new top-level
    post), uploads the new document into its thread with the team's words, and tells
    only the writer what the blameless check found in them. A second writer changing one
    section leaves the other's author alone."""
    incident = scripted_incident(stack)
    channel = incident.channel_id
    stack.client.reply_to(stack.client.slash("postmortem", user=ALICE, channel=channel),
                          timeout=20)
    [draft] = _draft_messages(stack, channel)
    [button, _] = [e for b in draft.blocks if b["type"] == "actions" for e in b["elements"]]
    assert button["action_id"] == Action.POSTMORTEM_WRITE.value
    top_level = len([m for m in stack.slack.channels[channel].messages.values()
                     if not m.thread_ts])

    view = _open_modal(stack, channel, draft.ts, ALICE, 0)
    assert view["callback_id"] == "postmortem-write"
    assert [b["label"]["text"] for b in view["blocks"]] == DEFAULT_HEADINGS
    assert all(b["element"]["max_length"] == 3000 and "initial_value" not in b["element"]
               for b in view["blocks"])
    impact = "EU shoppers could not pay for 40 minutes."
    factors = "Bob forgot to run the config validator; nothing checked it before the push."
    reply = stack.client.submit(view, _values(view, impact=impact,
                                              contributing_factors=factors), user=ALICE)
    assert reply.status == 200
    said = stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals
                                         if "Saved" in e["text"]])
    assert said[-1]["user"] == ALICE and said[-1]["channel"] == channel
    text = said[-1]["text"]
    assert "Saved Impact, Contributing factors: postmortem draft v2" in text
    assert "the draft message is updated" in text
    assert "Blameless wording check" in text and "forgot" in text

    assert len(uploaded(stack)) == 2  # the answer comes after the upload
    assert _draft_messages(stack, channel) == [draft]  # the same message, edited
    assert "Postmortem draft v2" in draft.text and draft.edited >= 1
    assert len([m for m in stack.slack.channels[channel].messages.values()
                if not m.thread_ts]) == top_level
    newest = max(uploaded(stack), key=lambda f: f["name"])
    assert newest["name"] == "postmortem-1-v2.md"
    assert f"## Impact\n\n{impact}\n" in newest["content"]
    assert f"## Contributing factors\n\n{factors}\n" in newest["content"]
    thread = [m for m in stack.slack.channels[channel].messages.values()
              if m.thread_ts == draft.ts and m.files]
    assert [f["name"] for m in thread for f in m.files] == ["postmortem-1-v2.md"]
    public = json.dumps([m.text for m in stack.slack.channels[channel].messages.values()])
    assert "Blameless wording check" not in public

    # Bob edits one section; the modal shows the current text and who wrote it.
    view = _open_modal(stack, channel, draft.ts, BOB, 1)
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["pm-section:impact"]["element"]["initial_value"] == impact
    assert "Version 1, last written by Alice at " in blocks["pm-section:impact"]["hint"]["text"]
    better = "The config validator did not run before the push; nothing required it."
    assert stack.client.submit(view, _values(view, contributing_factors=better),
                               user=BOB).status == 200
    stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals
                                  if e["user"] == BOB and "Saved" in e["text"]])
    assert len(uploaded(stack)) == 3
    with stack.runtime.deps.uow() as tx:
        current = tx.postmortems.sections(1)
        versions = tx.postmortems.get(1).versions  # type: ignore[union-attr]
    assert (current["impact"].author, current["impact"].version) == (ALICE, 1)
    assert (current["contributing_factors"].author,
            current["contributing_factors"].version) == (BOB, 2)
    assert current["contributing_factors"].text == better
    assert [v.version for v in versions] == [1, 2, 3]
    assert {v.message_ts for v in versions} == {draft.ts}
    assert _draft_messages(stack, channel) == [draft] and "v3" in draft.text
    assert not stack.slack.violations


def test_edit_command_opens_one_section_and_long_text_is_refused_in_the_modal(
        stack: Stack) -> None:
    """`/incident postmortem edit impact` opens just that section; 3,001 characters are
    refused next to the field (the modal stays open, nothing stored); an unknown section
    gets a one-line answer listing the real ones."""
    incident = scripted_incident(stack)
    channel = incident.channel_id
    stack.client.reply_to(stack.client.slash("postmortem", user=ALICE, channel=channel),
                          timeout=20)
    unknown = stack.client.reply_to(stack.client.slash("postmortem edit risks", user=ALICE,
                                                       channel=channel))
    assert "no section “risks”" in unknown["text"] and "`impact` (Impact)" in unknown["text"]
    assert stack.slack.views == []

    assert stack.client.slash("postmortem edit what went well", user=ALICE,
                              channel=channel).status == 200
    view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
    assert [b["block_id"] for b in view["blocks"]] == ["pm-section:went_well"]
    reply = stack.client.submit(view, _values(view, went_well="x" * 3001), user=ALICE)
    assert reply.status == 200
    answer = reply.json()
    assert answer["response_action"] == "errors"
    assert "At most 3,000 characters (this is 3,001)" in \
        answer["errors"]["pm-section:went_well"]
    with stack.runtime.deps.uow() as tx:
        assert tx.postmortems.sections(1) == {}
        assert len(tx.postmortems.get(1).versions) == 1  # type: ignore[union-attr]


def test_only_people_who_may_draft_can_open_the_modal(stack: Stack) -> None:
    """Drafting is for channel members (Act.DRAFT_POSTMORTEM); the button says no to others."""
    incident = scripted_incident(stack)
    channel = incident.channel_id
    stack.client.reply_to(stack.client.slash("postmortem", user=ALICE, channel=channel),
                          timeout=20)
    [draft] = _draft_messages(stack, channel)
    stranger = "U09DAVE"
    stack.slack.add_user(stranger, "dave")
    reply = stack.client.click(Action.POSTMORTEM_WRITE.value, user=stranger, channel=channel,
                               message_ts=draft.ts, value="1")
    assert "can't" in stack.client.reply_to(reply)["text"].lower()
    assert stack.slack.views == []


def test_sections_written_before_the_first_draft_wait_for_it(stack: Stack) -> None:
    """Written before any draft: stored, no draft posted; the first draft carries them."""
    incident = scripted_incident(stack)
    channel = incident.channel_id
    assert stack.client.slash("postmortem edit impact", user=ALICE,
                              channel=channel).status == 200
    view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
    stack.client.submit(view, _values(view, impact="Checkout failed in the EU."), user=ALICE)
    said = stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals
                                         if "Saved" in e["text"]])
    assert "`/incident postmortem` drafts the document with it" in said[-1]["text"]
    assert uploaded(stack) == [] and _draft_messages(stack, channel) == []
    stack.client.reply_to(stack.client.slash("postmortem", user=ALICE, channel=channel),
                          timeout=20)
    [document] = uploaded(stack)
    assert "## Impact\n\nCheckout failed in the EU.\n" in document["content"]
