"""The postmortem round trip: someone downloads the draft, edits it and uploads the
Markdown to the incident channel (Slack's `file_shared`, signed, over HTTP); Debrief
downloads it from the stand-in (files.info, then url_private with the bot token), stores
the changed sections as the uploader's, re-drafts, tells the channel what changed and
the uploader privately the rest. Every refusal changes nothing."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

from bot.services.postmortems import render_document
from bot.slack.replies import WORKER
from tests.conftest import Stack
from tests.helpers import ALICE, BOB, CAROL, scripted_incident, slash

STRANGER = "U09DAVE"


def _drafted(stack: Stack) -> tuple[str, str]:
    """(channel, the Markdown Debrief uploaded) after `/incident postmortem`."""
    incident = scripted_incident(stack)
    channel = incident.channel_id
    stack.client.reply_to(stack.client.slash("postmortem", user=ALICE, channel=channel),
                          timeout=20)
    return channel, _latest_draft(stack)


def _latest_draft(stack: Stack) -> str:
    drafts = [f for f in stack.slack.files.values()
              if f["shared_in"] and f["name"].startswith("postmortem-")
              and f.get("user") is None]
    return str(max(drafts, key=lambda f: int(f["name"].split("-v")[1][:-3]))["content"])


def _told(stack: Stack, user: str, seen: int = 0) -> str:
    """The next thing only `user` was told (an ephemeral, or a DM when they are not in
    the channel)."""
    def private() -> list[str]:
        said = [e["text"] for e in stack.slack.ephemerals if e["user"] == user]
        dm = stack.slack.channels.get("D" + user[1:])
        said += [m.text for m in dm.messages.values()] if dm else []
        return said[seen:]
    return str(stack.slack.wait_for(private, timeout=20)[0])


def _state(stack: Stack) -> tuple[Any, ...]:
    """What an upload may change: stored sections and versions."""
    with stack.runtime.deps.uow() as tx:
        postmortem = tx.postmortems.get(1)
        return (tuple(sorted((k, s.text, s.version, s.author)
                             for k, s in tx.postmortems.sections(1).items())),
                len(postmortem.versions) if postmortem else 0)


def _summaries(stack: Stack, channel: str) -> list[str]:
    return [m.text for m in stack.slack.channels[channel].messages.values()
            if "uploaded an edited postmortem" in m.text]


def test_an_uploaded_edit_is_stored_summarised_and_checked(stack: Stack) -> None:
    """Bob edits the downloaded draft (two sections written, a timeline line changed, an
    extra heading, one heading deleted) and uploads it: the event is acknowledged before
    the download; the sections are stored as Bob's in a new version; the draft message is
    updated with the new document in its thread; the channel sees which sections
    changed; only Bob sees the checker's finding, what was ignored and why, and what
    was kept. The same file again changes nothing."""
    channel, document = _drafted(stack)
    draft_ts = next(m.ts for m in stack.slack.channels[channel].messages.values()
                    if "Postmortem draft" in m.text)
    impact = "EU shoppers could not pay by card for 40 minutes."
    went_well = "- The rollback was one command.\n- Bob found the config push quickly."
    edited = (document
              .replace("- **Who and what was affected:** _customers, regions, features; how "
                       "many; what they saw._", impact)
              .replace("## What went well\n\n- \n",
                       f"## What went well\n\n{went_well}\n")
              .replace("## Where we got lucky\n\n- \n",
                       "## Where we got lucky\n\n- Carol carelessly pushed to the wrong "
                       "region, which happened to be idle.\n")
              .replace("5xx started right after the config push", "5xx started at 14:00")
              .replace("## Open questions\n\n- \n", "")
              + "\n## Lessons\n\nValidate configs before pushing.\n")
    assert edited.count("## ") == document.count("## ")  # one heading gone, one new

    stack.slack.delay("files.info", 3)  # a slow Slack: the event is acked regardless
    started = time.monotonic()
    file_id, reply = stack.client.share_file(channel, BOB, "postmortem-1-v1.md", edited)
    assert reply.status == 200 and time.monotonic() - started < 2.5
    said = _told(stack, BOB)

    assert "Saved *Impact*, *What went well*, *Where we got lucky* from `postmortem-1-v1.md`: " \
        "postmortem draft v2 for *#1* is stored and the draft message is updated." in said
    assert "Not in the file, so kept as they were (a missing heading doesn't delete a " \
        "section): *Open questions*" in said
    assert "“Lessons”" in said and "*not* saved" in said
    assert "Your edits to *Timeline (UTC)* were ignored" in said and "/incident note" in said
    assert "Blameless wording check" in said and "carelessly" in said

    with stack.runtime.deps.uow() as tx:
        sections = tx.postmortems.sections(1)
        versions = tx.postmortems.get(1).versions  # type: ignore[union-attr]
    assert {k: (s.text, s.author) for k, s in sections.items()} == {
        "impact": (impact, BOB), "went_well": (went_well, BOB),
        "got_lucky": ("- Carol carelessly pushed to the wrong region, which happened to be "
                      "idle.", BOB)}
    assert [v.version for v in versions] == [1, 2] and versions[-1].created_by == BOB
    assert {v.message_ts for v in versions} == {draft_ts}  # the same draft message
    newest = _latest_draft(stack)
    assert f"## Impact\n\n{impact}\n\n- **Impact started:**" in newest
    assert "5xx started right after the config push" in newest  # the record, not the file
    assert [m.text for m in stack.slack.channels[channel].messages.values()
            if m.thread_ts == draft_ts and m.files] == [""]
    [summary] = _summaries(stack, channel)
    assert summary == (":page_facing_up: <@U02BOB> uploaded an edited postmortem "
                       "(`postmortem-1-v1.md`): *Impact*, *What went well*, *Where we got "
                       "lucky* changed; postmortem draft v2 is in the draft message's "
                       "thread.")
    public = json.dumps([m.text for c in stack.slack.channels.values()
                         for m in c.messages.values()])
    assert "Blameless wording check" not in public and "“Lessons”" not in public
    assert [c.args["file"] for c in stack.slack.calls_of("files.info")] == [file_id]
    assert [c.args["file"] for c in stack.slack.downloads if c.error is None] == [file_id]

    # The document as it is now, uploaded unchanged: nothing to store, nobody else told.
    before = _state(stack)
    stack.client.share_file(channel, CAROL, "postmortem-1-v2.md", newest)
    assert _told(stack, CAROL).startswith("No changes: `postmortem-1-v2.md` says what the "
                                          "postmortem of *#1* already says.")
    assert _state(stack) == before and len(_summaries(stack, channel)) == 1
    # Slack delivering the same event twice reads the file once.
    stack.client.event({"type": "file_shared", "file_id": file_id, "user_id": BOB,
                        "file": {"id": file_id}, "channel_id": channel,
                        "event_ts": "1.0"})
    stack.client.share_file(channel, BOB, "screenshot.png", b"\x89PNG\r\n", filetype="png",
                            mimetype="image/png")
    assert WORKER.drain(timeout=20)  # every event's work is done
    assert len(stack.slack.calls_of("files.info")) == 4
    assert len([c for c in stack.slack.downloads if c.error is None]) == 2  # not the repeat, not the PNG
    assert len(stack.slack.ephemerals) == 2  # Bob's and Carol's answers only


def test_upload_command_says_how_and_checks_who_may(stack: Stack) -> None:
    """`/incident postmortem upload` explains the round trip to whoever may draft."""
    channel, _ = _drafted(stack)
    said = slash(stack, "postmortem upload", user=BOB, channel=channel)
    assert "drop the Markdown file" in said and "*#1*" in said
    stack.slack.add_user(STRANGER, "dave")
    refused = slash(stack, "postmortem #1 upload", user=STRANGER)
    assert "can't" in refused.lower()


def _edited(document: str, **texts: str) -> str:
    for heading, text in texts.items():
        document = document.replace(f"## {heading}\n\n- \n", f"## {heading}\n\n{text}\n")
    return document


def test_refusals_change_nothing(stack: Stack) -> None:
    """Each refused upload gets one clear private line and leaves the postmortem as it was:
    someone who may not draft it, a section over 3,000 characters, a file over 200 KB,
    not UTF-8, another incident's postmortem or no recognisable one, a heading twice,
    none of the headings."""
    channel, document = _drafted(stack)
    good = _edited(document, **{"What went well": "The rollback was quick."})
    before = _state(stack)
    stack.slack.add_user(STRANGER, "dave")
    cases: list[tuple[str, str, bytes | str, str]] = [
        (STRANGER, "postmortem-1-v1.md", good, "can't"),
        (BOB, "postmortem-1-v1.md", _edited(document, **{"What was hard": "x" * 3001}),
         "What was hard is 3,001 characters in `postmortem-1-v1.md`; a section holds at "
         "most 3,000"),
        (BOB, "postmortem-1-v1.md", good + "\n" + "padding " * 26_000,
         "a postmortem upload may be at most 200 KB, so nothing changed"),
        (BOB, "postmortem-1-v1.md", good.encode("utf-16"), "is not UTF-8 text"),
        (BOB, "postmortem-1-v1.md", "\u00e9t\u00e9".encode("latin-1") + good.encode(),
         "is not UTF-8 text"),
        (BOB, "pm.md", good.replace("# Postmortem: #1 ", "# Postmortem: #7 "),
         "`pm.md` is the postmortem of #7, not of #1 (this channel's incident), so nothing "
         "changed."),
        (BOB, "notes.md", good.replace("# Postmortem: #1 ", "# Notes on "),
         "I can't tell that `notes.md` is the postmortem of #1"),
        (BOB, "postmortem-1-v1.md", good + "\n## What went well\n\nTwice.\n",
         "“## What went well” more than once"),
        (BOB, "postmortem-1-v1.md", "# Postmortem: #1 x\n\n## Risks\n\nMany.\n",
         "has none of the postmortem's section headings"),
    ]
    for seen, (user, name, data, expected) in enumerate(cases):
        if user == BOB:
            seen = sum(1 for c in cases[:seen] if c[0] == BOB)
        else:
            seen = 0
        stack.client.share_file(channel, user, name, data)
        said = _told(stack, user, seen)
        assert expected in said, (name, said)
        assert _state(stack) == before, name
    assert _summaries(stack, channel) == []
    read = [c for c in stack.slack.downloads if c.error is None]
    assert len(read) == len(cases) - 2  # not the stranger's, not the one too big


def test_a_published_postmortem_is_not_changed_by_an_upload(stack: Stack) -> None:
    """Drafting after publish is refused until reopened; so is an upload."""
    channel, document = _drafted(stack)
    with stack.runtime.deps.uow() as tx:
        tx.postmortems.set_status(1, "published", datetime.now(UTC))
        tx.commit()
    before = _state(stack)
    stack.client.share_file(channel, BOB, "postmortem-1-v1.md",
                            _edited(document, **{"What went well": "Quick rollback."}))
    assert "`/incident postmortem reopen` first" in _told(stack, BOB)
    assert _state(stack) == before and _summaries(stack, channel) == []
    assert "reopen" in slash(stack, "postmortem upload", user=BOB, channel=channel)


def test_the_stand_in_guards_files_like_slack(stack: Stack) -> None:
    """url_private without the bot token redirects to the sign-in page; files.info needs
    `files:read`, so a manifest without it fails the upload (the uploader is told)."""
    channel, document = _drafted(stack)
    file_id, _ = stack.client.share_file(channel, BOB, "postmortem-1-v1.md", document)
    _told(stack, BOB)
    url = stack.slack.file_json(file_id)["url_private"]
    no_redirects = urllib.request.build_opener(type("Stay", (urllib.request.HTTPRedirectHandler,),
                                                    {"redirect_request": lambda *a, **k: None}))
    for headers in ({}, {"Authorization": "Bearer xoxb-someone-else"}):
        try:
            no_redirects.open(urllib.request.Request(url, headers=headers), timeout=5)
            raise AssertionError("downloaded without the bot token")
        except urllib.error.HTTPError as exc:
            assert exc.code == 302 and "/signin" in exc.headers["Location"]
    answer = urllib.request.urlopen(urllib.request.Request(  # noqa: S310 - the stand-in
        url, headers={"Authorization": f"Bearer {stack.slack.token}"}), timeout=5)
    assert answer.read() == document.encode()

    stack.slack.scopes = stack.slack.scopes - {"files:read"}
    stack.client.share_file(channel, BOB, "postmortem-1-v1.md",
                            _edited(document, **{"What went well": "Quick."}))
    assert "Slack would not let me read the file" in _told(stack, BOB, 1)
    assert stack.slack.violations == ["files.info: needs one of files:read; the manifest "
                                      "grants none"]
    stack.slack.violations.clear()


def test_render_document_can_stand_in_texts(stack: Stack) -> None:
    """The parser's marked and blank renders: given texts replace the stored ones."""
    scripted_incident(stack)
    deps = stack.runtime.deps
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    _, marked = render_document(1, uow=deps.uow, config=deps.config, now=now,
                                section_texts={"impact": "@@x@@"})
    assert "## Impact\n\n@@x@@\n\n- **Impact started:**" in marked
