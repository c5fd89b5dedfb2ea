"""Structured contributing factors through Slack: the draft's button and its modal, the
`/incident postmortem factor` command, the list with Remove buttons; stored with who and
when, rendered grouped in the draft, shown by `debrief postmortem show --json`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.cli import main
from bot.domain.factors import (
    MAX_FACTORS,
    Factor,
    parse_factors_markdown,
    render_factors_markdown,
    resolve_factor,
)
from bot.errors import UserError
from bot.services.factors import sync_factors_from_markdown
from bot.services.postmortems import factor_labels, render_document
from bot.slack.ids import Action
from tests.conftest import Stack
from tests.helpers import ALICE, BOB, CAROL, scripted_incident, slash, uploaded


def _draft(stack: Stack, channel: str) -> Any:
    stack.client.reply_to(stack.client.slash("postmortem", user=ALICE, channel=channel),
                          timeout=20)
    [draft] = [m for m in stack.slack.channels[channel].messages.values()
               if "Postmortem draft" in m.text]
    return draft


def _new_view(stack: Stack, seen: int) -> dict[str, Any]:
    return stack.slack.wait_for(lambda: stack.slack.views[-1]
                                if len(stack.slack.views) > seen else None)


def _values(view: dict[str, Any], category: str | None, text: str,
            timeline: list[str] = (), items: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """The modal's state as Slack sends it."""
    blocks = {b["block_id"]: b for b in view["blocks"]}
    values: dict[str, Any] = {
        "factor-category": {"factor_category": {
            "type": "static_select",
            "selected_option": {"text": {"type": "plain_text", "text": category},
                                "value": category} if category else None}},
        "factor-text": {"factor_text": {"type": "plain_text_input", "value": text}}}
    for block, action, chosen in (("factor-timeline", "factor_timeline", timeline),
                                  ("factor-items", "factor_items", items)):
        if block in blocks:
            options = {o["value"]: o for o in blocks[block]["element"]["options"]}
            values[block] = {action: {"type": "multi_static_select",
                                      "selected_options": [options[v] for v in chosen]}}
    return values


def _ephemeral(stack: Stack, user: str, words: str, seen: int = 0) -> str:
    found = stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals[seen:]
                                          if e["user"] == user and words in e["text"]])
    return str(found[-1]["text"])


def _report(stack: Stack, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    monkeypatch.setenv("DATABASE_URL", stack.runtime.engine.url.render_as_string(
        hide_password=False))
    capsys.readouterr()
    assert main(["postmortem", "show", "1", "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_add_factors_through_the_draft_button_and_modal(
        stack: Stack, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The draft's "Add contributing factor" opens a modal (categories, description, the
    key timeline entries and action items); saving stores the factor with its links,
    records it on the timeline, updates the same draft message with a new version whose
    document lists it under its category, and tells only the writer — with the blameless
    checker's finding when the words blame someone."""
    incident = scripted_incident(stack)
    channel = incident.channel_id
    draft = _draft(stack, channel)
    buttons = [e for b in draft.blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == [Action.POSTMORTEM_WRITE.value,
                                                 Action.FACTOR_ADD.value]

    stack.client.click(Action.FACTOR_ADD.value, user=ALICE, channel=channel,
                       message_ts=draft.ts, value="1")
    view = _new_view(stack, 0)
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert view["callback_id"] == "factor-add"
    assert [o["value"] for o in blocks["factor-category"]["element"]["options"]] == [
        "technical", "process", "organisational"]
    timeline = blocks["factor-timeline"]["element"]["options"]
    assert [o["text"]["text"].split(" — ")[1] for o in timeline] == [
        "5xx started right after the config push", "Bob forgot to run the config validator"]
    items = blocks["factor-items"]["element"]["options"]
    assert [o["text"]["text"] for o in items][0].endswith("Validate configs in CI")
    clue, item = timeline[0]["value"], items[0]["value"]

    described = "Config pushes reach every region at once; nothing stages them."
    reply = stack.client.submit(view, _values(view, "technical", described, [clue], [item]),
                                user=ALICE)
    assert reply.status == 200 and not reply.body
    said = _ephemeral(stack, ALICE, "Added contributing factor")
    assert f"Added contributing factor 1 to *#1* (Technical): {described}" in said
    assert "Draft v2: the draft message is updated." in said
    assert "Blameless wording check" not in said
    label = timeline[0]["text"]["text"].split(" — ")[0]
    newest = max(uploaded(stack), key=lambda f: f["name"])
    assert newest["name"] == "postmortem-1-v2.md"
    assert (f"## Contributing factors\n\n### Technical\n\n- {described} "
            f"(timeline: {label}; action item: #{item})\n\n## What went well") \
        in newest["content"]
    assert "What conditions allowed this to happen?" not in newest["content"]
    assert [m for m in stack.slack.channels[channel].messages.values()
            if "Postmortem draft" in m.text] == [draft] and "v2" in draft.text

    # Bob blames someone in the process category: stored, the finding only to him.
    seen = len(stack.slack.ephemerals)
    stack.client.click(Action.FACTOR_ADD.value, user=BOB, channel=channel,
                       message_ts=draft.ts, value="1")
    view = _new_view(stack, 1)
    stack.client.submit(view, _values(view, "process", "Carol forgot to run the validator"),
                        user=BOB)
    said = _ephemeral(stack, BOB, "Added contributing factor 2", seen)
    assert "Blameless wording check" in said and "forgot" in said
    public = json.dumps([m.text for m in stack.slack.channels[channel].messages.values()])
    assert "Blameless wording check" not in public

    report = _report(stack, monkeypatch, capsys)
    assert [(f["id"], f["category"], f["author"], f["removed"]) for f in report["factors"]] == [
        (1, "technical", ALICE, None), (2, "process", BOB, None)]
    first = report["factors"][0]
    assert first["description"] == described
    assert first["links"] == {"timeline": [{"entry": int(clue), "label": label}],
                              "action_items": [int(item)]}
    assert first["added_at"].startswith("20")
    with stack.runtime.deps.uow() as tx:
        events = [e for e in tx.incidents.get(1).events  # type: ignore[union-attr]
                  if e.detail.get("step") == "factor_added"]
    assert [(e.actor, e.detail["factor"], e.detail["category"]) for e in events] == [
        (ALICE, "1", "technical"), (BOB, "2", "process")]
    assert not stack.slack.violations


def test_the_command_adds_opens_lists_and_removes(
        stack: Stack, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`factor <category> <text>` adds at once; `factor <category>` and `factor <text>`
    open the modal prefilled; `factors` lists them with Remove buttons; Remove marks one
    removed (kept, with who and when) and the draft loses it; `factor remove N` works too."""
    incident = scripted_incident(stack)
    channel = incident.channel_id
    draft = _draft(stack, channel)
    said = slash(stack, "postmortem factor Process Config changes skip the canary",
                 channel=channel)
    assert "Added contributing factor 1 to *#1* (Process): Config changes skip the canary" \
        in said and "Draft v2" in said
    said = slash(stack, "postmortem factor organizational Failover knowledge sat with one "
                        "team", user=CAROL, channel=channel)
    assert "(Organisational)" in said

    assert stack.client.slash("postmortem factor technical", user=ALICE,
                              channel=channel).status == 200
    view = _new_view(stack, 0)
    category = {b["block_id"]: b for b in view["blocks"]}["factor-category"]["element"]
    assert category["initial_option"]["value"] == "technical"
    assert stack.client.slash("postmortem factor Retries had no backoff", user=ALICE,
                              channel=channel).status == 200
    view = _new_view(stack, 1)
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["factor-text"]["element"]["initial_value"] == "Retries had no backoff"
    assert "initial_option" not in blocks["factor-category"]["element"]

    listed = stack.client.reply_to(stack.client.slash("postmortem factors", user=BOB,
                                                      channel=channel))
    assert listed["text"] == "Contributing factors of #1: 2"
    removes = [b["accessory"] for b in listed["blocks"] if b.get("accessory")]
    assert [r["value"] for r in removes] == ["1:1", "1:2"]
    assert all(r["action_id"] == Action.FACTOR_REMOVE.value and r["confirm"] for r in removes)

    seen = len(stack.slack.responses)
    click = stack.client.click(Action.FACTOR_REMOVE.value, user=BOB, channel=channel,
                               message_ts="1.0", value="1:1")
    assert click.status == 200
    answers = stack.slack.wait_for(lambda: [r for r in stack.slack.responses[seen:]
                                            if "Removed" in json.dumps(r)] and
                                   stack.slack.responses[seen:])
    assert any("Removed contributing factor 1" in json.dumps(r) for r in answers)
    newest = max(uploaded(stack), key=lambda f: f["name"])
    assert "Config changes skip the canary" not in newest["content"]
    assert "### Organisational\n\n- Failover knowledge sat with one team\n" \
        in newest["content"]
    assert "v4" in draft.text  # each change updated the same draft message

    gone = slash(stack, "postmortem factor remove 1", channel=channel)
    assert "has no contributing factor 1" in gone
    assert "Removed contributing factor 2" in slash(stack, "postmortem factor remove 2",
                                                    channel=channel)
    report = _report(stack, monkeypatch, capsys)
    assert [(f["id"], f["removed"]["by"]) for f in report["factors"]] == [(1, BOB), (2, ALICE)]
    assert not stack.slack.violations


def test_refusals_change_nothing(stack: Stack) -> None:
    """People outside the channel are refused; the modal keeps a missing category, an
    empty, over-long or link-like description open with the reason; a typed over-long
    factor is refused in the ack; past the limit and after publishing, nothing is added."""
    incident = scripted_incident(stack)
    channel = incident.channel_id
    draft = _draft(stack, channel)
    stranger = "U09DAVE"
    stack.slack.add_user(stranger, "dave")
    refused = slash(stack, "postmortem factor process No canary", user=stranger,
                    channel=channel)
    assert "can't" in refused.lower()
    reply = stack.client.click(Action.FACTOR_ADD.value, user=stranger, channel=channel,
                               message_ts=draft.ts, value="1")
    assert "can't" in stack.client.reply_to(reply)["text"].lower()
    assert stack.slack.views == []
    long = slash(stack, "postmortem factor process " + "x" * 1001, channel=channel)
    assert "keep it to 1,000" in long

    stack.client.click(Action.FACTOR_ADD.value, user=ALICE, channel=channel,
                       message_ts=draft.ts, value="1")
    view = _new_view(stack, 0)
    for category, text, block, words in (
            (None, "x", "factor-category", "Choose a category"),
            ("process", "   ", "factor-text", "Describe the contributing factor"),
            ("process", "y" * 1001, "factor-text", "at most 1,000 characters"),
            ("process", "No canary (timeline: 14:02 UTC)", "factor-text", "choose links"),
            ("people", "x", "factor-category", "not a contributing-factor category")):
        answer = stack.client.submit(view, _values(view, category, text), user=ALICE).json()
        assert answer["response_action"] == "errors" and words in answer["errors"][block]

    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    with stack.runtime.deps.uow() as tx:
        assert tx.postmortems.factors(1) == []
        for n in range(MAX_FACTORS):
            tx.postmortems.add_factor(1, Factor("process", f"factor {n}"), author=ALICE, now=now)
        tx.commit()
    assert "already has 40 contributing factors" in slash(
        stack, "postmortem factor process One more", channel=channel)

    stack.client.reply_to(stack.client.slash("postmortem review <@U02BOB|bob>", user=ALICE,
                                             channel=channel))
    stack.client.reply_to(stack.client.click("postmortem-approve", user=BOB, channel="D02BOB",
                                             message_ts="1.0", value="1"))
    assert "Published" in slash(stack, "postmortem publish", channel=channel)
    [summary] = [m for m in stack.slack.channels[stack.announce].messages.values()
                 if "Postmortem published" in m.text]
    assert ("*Top contributing factors*\n• Process: factor 0\n• Process: factor 1\n"
            "• Process: factor 2\n*Action items") in summary.text
    assert "published" in slash(stack, "postmortem factor remove 3", channel=channel)
    with stack.runtime.deps.uow() as tx:
        assert sum(not f.removed for f in tx.postmortems.factors(1)) == MAX_FACTORS
    assert not stack.slack.violations


def test_the_template_groups_factors_and_the_document_reads_back(stack: Stack) -> None:
    """The default template renders the factors grouped by category in the configured
    order, then the prose under "### Notes": exactly `render_factors_markdown`'s section,
    and parsing the whole document gives the factors (links resolved) and the prose back."""
    scripted_incident(stack)
    deps = stack.runtime.deps
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    with deps.uow() as tx:
        entries = tx.timeline.entries(1)
        items = [a.id for a in tx.incidents.get(1).action_items]  # type: ignore[union-attr]
        labels = factor_labels(entries)
        key = sorted(labels)[0]
        wanted = [Factor("organisational", "Failover knowledge sat with one team"),
                  Factor("technical", "No staged rollout of config", (key,), (items[1],)),
                  Factor("technical", "Retries without backoff\namplified the load")]
        for factor in wanted:
            tx.postmortems.add_factor(1, factor, author=ALICE, now=now)
        tx.postmortems.write_sections(1, {"contributing_factors": "We also saw load."},
                                      author=BOB, now=now)
        tx.commit()
    _, content = render_document(1, uow=deps.uow, config=deps.config, now=now)
    section = render_factors_markdown(wanted, deps.config.postmortem.factor_categories,
                                      labels=labels, prose="We also saw load.")
    assert section + "\n## What went well" in content
    assert content.index("### Technical") < content.index("### Organisational") \
        < content.index("### Notes")
    parsed = parse_factors_markdown(content, deps.config.postmortem.factor_categories)
    assert parsed.prose == "We also saw load."
    back = [resolve_factor(p, labels, set(items)) for p in parsed.factors]
    assert sorted((f.category, f.description, f.timeline, f.action_items) for f in back) == \
        sorted((f.category, f.description, f.timeline, f.action_items) for f in wanted)


def test_a_document_edited_elsewhere_syncs_the_factors(stack: Stack) -> None:
    """`sync_factors_from_markdown` (for an uploaded edit): a bullet deleted is removed
    (kept, marked), a new one added, an unchanged one keeps its author, the links read
    back; a heading that names no category is refused with its line and changes nothing."""
    incident = scripted_incident(stack)
    channel = incident.channel_id
    slash(stack, "postmortem factor process Config changes skip the canary", user=BOB,
          channel=channel)
    slash(stack, "postmortem factor technical Retries had no backoff", channel=channel)
    draft = _draft(stack, channel)
    assert draft is not None
    document = max(uploaded(stack), key=lambda f: f["name"])["content"]
    deps = stack.runtime.deps
    edited = document.replace("- Retries had no backoff\n",
                              "- Retries had no backoff (action item: #1)\n")
    edited = edited.replace("### Process\n", "### Organisational\n\n- One team knew the "
                                             "failover\n\n### Process\n")
    synced = sync_factors_from_markdown(1, CAROL, edited, uow=deps.uow, config=deps.config,
                                        now=datetime(2026, 12, 1, 9, tzinfo=UTC))
    assert sorted((f.category, f.description, f.action_items) for f in synced.added) == [
        ("organisational", "One team knew the failover", ()),
        ("technical", "Retries had no backoff", (1,))]
    assert [(f.description, f.removed_by) for f in synced.removed] == [
        ("Retries had no backoff", CAROL)]
    with deps.uow() as tx:
        standing = [f for f in tx.postmortems.factors(1) if not f.removed]
    assert [(f.description, f.added_by) for f in standing][0] == (
        "Config changes skip the canary", BOB)
    with pytest.raises(UserError, match=r"Line \d+: “### People”"):
        sync_factors_from_markdown(1, CAROL, edited.replace("### Process", "### People"),
                                   uow=deps.uow, config=deps.config,
                                   now=datetime(2026, 12, 1, 9, tzinfo=UTC))
    with deps.uow() as tx:
        assert len(tx.postmortems.factors(1)) == 4


def _told(stack: Stack, user: str, seen: int) -> str:
    found = stack.slack.wait_for(lambda: [e["text"] for e in stack.slack.ephemerals[seen:]
                                          if e["user"] == user], timeout=20)
    return str(found[0])


def test_an_uploaded_edit_adds_and_removes_factors(stack: Stack) -> None:
    """The round trip carries the structured factors: a bullet added under a category is
    a new factor (the uploader's), a bullet deleted removes one (kept, marked), the
    channel and the uploader hear how many; a file that only changes factors still makes
    a new draft; a heading that names no category refuses the whole file, nothing changed."""
    incident = scripted_incident(stack)
    channel = incident.channel_id
    slash(stack, "postmortem factor process Config changes skip the canary", user=BOB,
          channel=channel)
    slash(stack, "postmortem factor technical Retries had no backoff", channel=channel)
    draft = _draft(stack, channel)
    document = max(uploaded(stack), key=lambda f: f["name"])["content"]
    assert "### Process\n\n- Config changes skip the canary\n" in document
    edited = (document.replace("- Retries had no backoff\n",
                               "- Every region shares one config store\n")
              .replace("### Process\n", "### Organisational\n\n- One team knew the failover"
                                        " and Carol forgot to write it down\n\n### Process\n"))
    seen = len(stack.slack.ephemerals)
    stack.client.share_file(channel, CAROL, "postmortem-1-v1.md", edited)
    said = _told(stack, CAROL, seen)
    assert ("From `postmortem-1-v1.md`: 2 contributing factors added, 1 removed on the "
            "postmortem of *#1*. Draft v2: the draft message is updated.") in said
    assert "Blameless wording check" in said and "forgot" in said
    [summary] = stack.slack.wait_for(lambda: [
        m.text for m in stack.slack.channels[channel].messages.values()
        if "uploaded an edited postmortem" in m.text])
    assert "2 contributing factors added, 1 removed" in summary
    assert "Blameless" not in summary
    with stack.runtime.deps.uow() as tx:
        factors = tx.postmortems.factors(1)
    assert [(f.category, f.description, f.added_by, f.removed_by) for f in factors] == [
        ("process", "Config changes skip the canary", BOB, None),
        ("technical", "Retries had no backoff", ALICE, CAROL),
        ("technical", "Every region shares one config store", CAROL, None),
        ("organisational", "One team knew the failover and Carol forgot to write it down",
         CAROL, None)]
    newest = max(uploaded(stack), key=lambda f: f["name"])["content"]
    assert "- Every region shares one config store\n" in newest and "v2" in draft.text
    assert "Retries had no backoff" not in newest

    seen = len(stack.slack.ephemerals)
    stack.client.share_file(channel, CAROL, "postmortem-1-v2.md",
                            newest.replace("### Process", "### People"))
    said = _told(stack, CAROL, seen)
    assert "“### People” is not a contributing-factor category" in said
    with stack.runtime.deps.uow() as tx:
        assert len(tx.postmortems.factors(1)) == 4
    assert not stack.slack.violations
