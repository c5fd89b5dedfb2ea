"""`parse_incident_command`: one typed value per subcommand, and every refusal the text
alone can justify (these are answered in the ack, before any I/O). Pure: no Slack, no
database, no clock."""

from __future__ import annotations

from datetime import time

import pytest

from bot.config import DebriefConfig
from bot.domain.commands import (
    MAX_TEXT,
    Ack,
    AddActionItem,
    Cancel,
    Declare,
    Edit,
    Help,
    List,
    ListActionItems,
    Note,
    Postmortem,
    PostmortemFactor,
    PostmortemFactors,
    PostmortemReview,
    PostmortemStep,
    RemoveFactor,
    Resolve,
    Retitle,
    Retry,
    Role,
    Severity,
    Stats,
    Status,
    Tag,
    Timeline,
    TimelineRebuild,
    Update,
    parse_incident_command,
)
from bot.domain.timeline import NoteClock
from bot.errors import UserError

CONFIG = DebriefConfig()


def parse(text: str) -> object:
    return parse_incident_command(text, CONFIG)


def refusal(text: str) -> str:
    with pytest.raises(UserError) as info:
        parse(text)
    return str(info.value)


def test_help() -> None:
    """Nothing, `help`, or an unknown word (named back) ask for help."""
    assert parse("") == Help()
    assert parse("help") == Help()
    assert parse("dance now") == Help(unknown="dance")


def test_declare() -> None:
    """`declare [severity] <title>`; no title opens the form; `new`/`open` are aliases."""
    assert parse("declare SEV2 Checkout errors") == Declare(title="Checkout errors",
                                                            severity="SEV2")
    assert parse("new Checkout errors") == Declare(title="Checkout errors")
    assert parse("open") == Declare()


def test_list_and_stats() -> None:
    """`list` takes nothing; `stats` takes an optional period word."""
    assert parse("list") == List()
    assert parse("stats") == Stats()
    assert parse("stats 30d") == Stats(period="30d")


def test_ack_and_retry_take_a_bare_number() -> None:
    """`ack 4` and `retry #4` name incident 4; without a number, this channel's."""
    assert parse("ack 4") == Ack(ref=4)
    assert parse("acknowledge") == Ack()
    assert parse("retry #4") == Retry(ref=4)


def test_status() -> None:
    """`status [#N] <status> [note]`."""
    assert parse("status #3 monitoring Fix deployed") == Status(
        status="monitoring", note="Fix deployed", ref=3)


def test_severity() -> None:
    """`severity`/`sev` normalise the name."""
    assert parse("sev sev1") == Severity(severity="SEV1")


def test_role() -> None:
    """`role <role> @person` keeps the mentioned user id."""
    assert parse("role comms <@U02BOB|bob>") == Role(role="comms", user_id="U02BOB")


def test_update_and_resolve() -> None:
    """Free text becomes plain text; a bare number in an update is text, not a reference."""
    assert parse("update 3 pods &amp; a cache") == Update(text="3 pods & a cache")
    assert parse("resolve #2 Rolled back") == Resolve(summary="Rolled back", ref=2)
    assert parse("resolve") == Resolve()


def test_note_now_and_backdated() -> None:
    """`note <text>`, or `note at <time> <text>` with the time's syntax already read."""
    assert parse("note Paged the DB team") == Note(text="Paged the DB team",
                                                   body="Paged the DB team")
    cmd = parse("note #5 at yesterday 23:40 Paged")
    assert cmd == Note(text="at yesterday 23:40 Paged", body="Paged", ref=5,
                       at=NoteClock("23:40", time(23, 40), days_back=1))
    cmd = parse("note at 2026-11-20 09:15 Paged")
    assert isinstance(cmd, Note) and cmd.at is not None
    assert (cmd.at.on_text, cmd.at.time_of_day, cmd.body) == ("2026-11-20", time(9, 15), "Paged")


def test_timeline_and_rebuild() -> None:
    """`timeline` shows it; `timeline rebuild` re-reads the channel."""
    assert parse("timeline #2") == Timeline(ref=2)
    assert parse("timeline rebuild") == TimelineRebuild()


def test_postmortem_and_its_steps() -> None:
    """`postmortem` drafts; `review`, `publish` and `reopen` are steps."""
    assert parse("pm") == Postmortem()
    assert parse("postmortem #7 publish") == PostmortemStep(step="publish", ref=7)
    assert parse("postmortem reopen") == PostmortemStep(step="reopen")


def test_postmortem_review_takes_mentions() -> None:
    """`review @a @b` names the reviewers (each once); anything else is refused."""
    assert parse("postmortem review <@U02BOB|bob> U03CAROL <@U02BOB>") == PostmortemReview(
        reviewers=("U02BOB", "U03CAROL"))
    assert parse("postmortem #4 review") == PostmortemReview(ref=4)
    with pytest.raises(UserError) as refused:
        parse("postmortem review <@U02BOB|bob> &lt;!channel&gt;")
    assert "Mention the reviewers" in str(refused.value)
    assert "<!channel>" in [p.text for p in refused.value.parts if hasattr(p, "text")]
    with pytest.raises(UserError, match="review @alice @bob"):
        parse("postmortem publish now")


def test_postmortem_factor_commands() -> None:
    """`factor <category> <text>` adds; a category alone or text alone opens the form;
    `factors` lists; `factor remove N` removes; bad input is refused in the ack."""
    assert parse("postmortem #3 factor Technical Pool had &lt;no&gt; limit") == \
        PostmortemFactor(category="technical", text="Pool had <no> limit", ref=3)
    assert parse("postmortem factor organizational") == \
        PostmortemFactor(category="organisational")
    assert parse("postmortem factor Retries had no backoff") == \
        PostmortemFactor(text="Retries had no backoff")
    assert parse("postmortem factor") == PostmortemFactor()
    assert parse("postmortem factors") == PostmortemFactors()
    assert parse("postmortem factor remove #4") == RemoveFactor(4)
    assert "Which factor?" in refusal("postmortem factor remove")
    assert "keep it to 1,000" in refusal("postmortem factor process " + "x" * 1001)
    assert "choose links in the form" in refusal(
        "postmortem factor process slow (action items: #2)")


def test_action_and_actions() -> None:
    """`action` keeps the owner's mention intact; `actions` lists an incident's items."""
    assert parse("action Add an alert <@U1|al> due friday") == AddActionItem(
        text="Add an alert <@U1|al> due friday")
    assert parse("todo #3 Fix errors due to the retry storm") == AddActionItem(
        text="Fix errors due to the retry storm", ref=3)
    assert parse("actions #3") == ListActionItems(ref=3)


@pytest.mark.parametrize("text, message", [
    ("status", "Which status?"),
    ("status flying", "I don't know status `flying`"),
    ("severity SEV9", "I don't know severity `SEV9`"),
    ("role pilot <@U1>", "I don't know role `pilot`"),
    ("role comms", "Who should be comms?"),
    ("update", "What's the update?"),
    ("note", "What should the note say?"),
    ("note at 25:99 Paged", "I couldn't read `25:99` as a time"),
    ("note at 2026-02-30 10:00 Paged", "I couldn't read `10:00` as a time"),
    ("note at soon Paged", "I couldn't read a time there"),
    ("note at 14:05", "What happened at 14:05?"),
    ("timeline later", "Use `/incident timeline`"),
    ("postmortem ship", "Use `/incident postmortem`"),
    ("action", "What needs doing?"),
    ("action Fix it due", "Due when?"),
    ("action Fix it due blorp", "I couldn't read `blorp` as a date"),
    ("action Fix it due 2026-13-45", "I couldn't read `2026-13-45` as a date"),
    ("action Fix it type someday", "Type `someday` isn't one I know"),
    ("action <@U1|al>", "What needs doing?"),
    ("action " + "x" * 501, "Keep an action item under 500 characters"),
    ("update " + "x" * (MAX_TEXT + 1), "That update is 2,901 characters"),
    ("note " + "x" * (MAX_TEXT + 1), "That note is 2,901 characters"),
    ("declare " + "x" * 4001, "That command is"),
])
def test_refusals_from_the_text_alone(text: str, message: str) -> None:
    """Malformed text is a `UserError` from the parser, so the listener answers in the ack."""
    assert message in refusal(text)


@pytest.mark.parametrize("text", [
    "action Fix errors due to the retry storm",  # a `due` that is no date stays text
    "action Rotate keys due feb 29",  # a leap day: only the author's year can tell
    "action Rotate keys due 2020-01-01",  # in the past: needs the author's today
    "note at 23:59 Paged",  # in the future? needs the author's zone
])
def test_what_needs_the_persons_day_or_zone_waits_for_the_ack(text: str) -> None:
    """Only what depends on the person's today or time zone is left for after the ack."""
    parse(text)


@pytest.mark.parametrize("text, expected", [
    ("title Checkout errors in EU", Retitle("Checkout errors in EU")),
    ("title #4   Two   spaces", Retitle("Two spaces", ref=4)),
    ("edit", Edit()),
    ("edit 4", Edit(ref=4)),
    ("cancel", Cancel()),
    ("cancel #4 declared by mistake", Cancel("declared by mistake", ref=4)),
    ("declare --test sev1 Failover drill", Declare("Failover drill", "SEV1", test=True)),
    ("declare —test Failover drill", Declare("Failover drill", None, test=True)),
    ("declare sev1 Failover drill", Declare("Failover drill", "SEV1")),
])
def test_corrections_parse(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("text, fragment", [
    ("title", "What should the title be?"),
    ("title " + "x" * 200, "keep it under 151"),
    ("declare --test", "A drill needs a title"),
])
def test_corrections_refused_in_the_ack(text: str, fragment: str) -> None:
    with pytest.raises(UserError, match=fragment):
        parse(text)


@pytest.mark.parametrize("text, expected", [
    ("tag Database #EU-West-1", Tag(add=("database", "eu-west-1"))),
    ("tag #4 service:Payments database database", Tag(add=("service:payments", "database"),
                                                      ref=4)),
    ("tag remove database", Tag(remove=("database",))),
    ("tag #4 remove service:payments", Tag(remove=("service:payments",), ref=4)),
])
def test_tags_parse_normalised(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("text, fragment", [
    ("tag", "Which tags?"),
    ("tag remove", "Which tags?"),
    ("tag data_base", "can only use letters, digits and `-`"),
    ("tag service:", "at least one letter or digit"),
    ("tag " + "x" * 31, "too long: at most 30 characters"),
    ("tag " + " ".join(f"t{n}" for n in range(21)), "at most 20 tags"),
])
def test_bad_tags_are_refused_in_the_ack(text: str, fragment: str) -> None:
    with pytest.raises(UserError, match=fragment):
        parse(text)
