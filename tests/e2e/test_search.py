"""`/incident search` and `debrief search` end to end (signed HTTP into the endpoint; the
same tests on PostgreSQL when DEBRIEF_TEST_DATABASE_URL is set): matches in a note, in
the latest postmortem version, filters, private incidents hidden from non-members,
cancelled and test incidents left out, paging."""

from __future__ import annotations

import json
from typing import Any

import pytest
from freezegun import freeze_time

from bot.cli import main
from tests.conftest import Stack
from tests.helpers import ALICE, BOB, all_pages, declare, slash


def search(stack: Stack, words: str, user: str = ALICE) -> dict[str, Any]:
    reply = stack.client.slash(f"search {words}", user=user, channel=stack.general)
    assert reply.status == 200, reply.body
    if reply.text:  # refused in the ack
        return {"text": reply.text, "blocks": []}
    return stack.client.reply_to(reply)


def numbers(reply: dict[str, Any]) -> list[int]:
    """The incident numbers listed, in order."""
    text = json.dumps(reply.get("blocks", []))
    return [int(part.split("*", 1)[0]) for part in text.split("*#")[1:]]


def cli(stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("DATABASE_URL", stack.runtime.settings.database_url)
    capsys.readouterr()
    code = main(["search", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _library(stack: Stack) -> None:
    """#1 checkout (note: thundering herd, tagged database), #2 disk (postmortem words),
    #3 private payroll (note: thundering), #4 cancelled, #5 a drill."""
    with freeze_time("2026-01-10 10:00:00", tick=True):
        one = declare(stack, "declare sev1 Checkout errors in EU").channel_id
        slash(stack, "note the retry storm became a thundering herd", channel=one)
        slash(stack, "tag database service:checkout", channel=one)
    with freeze_time("2026-03-02 10:00:00", tick=True):
        declare(stack, "declare sev2 Disk full on search nodes")
        deps = stack.runtime.deps
        with deps.uow() as tx:  # (the team's words, as the postmortem modal stores them)
            tx.postmortems.add_version(2, template="postmortem.md.j2",
                                       content="# Disk full\n\nWe got lucky: a zebra alarm",
                                       author=ALICE, now=deps.now())
            tx.postmortems.add_version(2, template="postmortem.md.j2",
                                       content="# Disk full\n\nLog rotation was never "
                                               "configured; compaction fell behind",
                                       author=ALICE, now=deps.now())
            tx.commit()
        secret = declare(stack, "declare --private sev1 Payroll export leaked").channel_id
        slash(stack, "note thundering herd on payroll too", channel=secret)
        cancelled = declare(stack, "declare sev3 Thundering herd false alarm").channel_id
        slash(stack, "cancel declared by mistake", channel=cancelled)
        declare(stack, "declare --test sev3 Thundering herd drill")


def test_search_finds_notes_postmortems_and_filters(stack: Stack) -> None:
    _library(stack)
    # A word said in a note; the private (#3), cancelled (#4) and test (#5) ones left out.
    assert numbers(search(stack, "thundering", user=BOB)) == [1]
    # The private incident's member finds it too.
    assert sorted(numbers(search(stack, "thundering herd"))) == [1, 3]
    # Words of the latest postmortem version only (`zebra` was in the first); prefixes.
    assert numbers(search(stack, "compact rotation")) == [2]
    assert "No incidents match" in search(stack, "zebra")["text"]
    # Filters, alone or with words; words anywhere in the incident (title + note).
    assert numbers(search(stack, "tag:database")) == [1]
    assert numbers(search(stack, "service:checkout")) == [1]
    assert numbers(search(stack, "checkout herd tag:database sev:sev1")) == [1]
    assert numbers(search(stack, "thundering sev:SEV2")) == []
    assert numbers(search(stack, "disk after:2026-02-01")) == [2]
    assert numbers(search(stack, "checkout after:2026-02-01")) == []


@pytest.mark.parametrize(("words", "fragment"), [
    ("", "What should I look for?"),
    ("sev:SEV9 disk", "I don't know severity"),
    ("after:yesterday disk", "as a date"),
    ("tag:data_base", "can only use letters, digits"),
])
def test_bad_searches_are_answered_in_the_ack(stack: Stack, words: str, fragment: str) -> None:
    assert fragment in search(stack, words)["text"]


def test_results_page_with_buttons(stack: Stack) -> None:
    for n in range(12):
        declare(stack, f"declare sev3 Flaky queue {n}")
    reply = stack.client.slash("search flaky queue", user=ALICE, channel=stack.general)
    first, second = all_pages(stack, reply, ALICE, stack.general)
    assert len(numbers(first)) == 10 and "12 incident(s) match" in first["text"]
    assert len(numbers(second)) == 2
    assert set(numbers(first)) | set(numbers(second)) == set(range(1, 13))
    # The button searches again as the clicker: a non-member never pages into a private one.
    declare(stack, "declare --private sev3 Flaky queue secret")
    reply = stack.client.slash("search flaky queue", user=BOB, channel=stack.general)
    assert 13 not in [n for page in all_pages(stack, reply, BOB, stack.general)
                      for n in numbers(page)]


def test_cli_search_json(stack: Stack, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    _library(stack)
    code, out, _ = cli(stack, monkeypatch, capsys, "thundering", "herd", "--json")
    found = json.loads(out)
    assert code == 0 and found["query"] == "thundering herd"
    # The operator's tool: the private incident is included; cancelled/test need --all.
    assert sorted(r["number"] for r in found["results"]) == [1, 3]
    one = next(r for r in found["results"] if r["number"] == 1)
    assert one["tags"] == ["database"] and one["services"] == ["checkout"]
    code, out, _ = cli(stack, monkeypatch, capsys, "thundering", "--all", "--json")
    assert sorted(r["number"] for r in json.loads(out)["results"]) == [1, 3, 4, 5]
    code, _, err = cli(stack, monkeypatch, capsys, "sev:nope")
    assert code == 2 and "I don't know severity" in err
