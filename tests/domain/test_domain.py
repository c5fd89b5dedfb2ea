"""Pure domain: naming, parsing. Explicit values, no I/O."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.config import DebriefConfig
from bot.domain.commands import (
    Ack,
    Declare,
    Help,
    Resolve,
    Role,
    Severity,
    Status,
    Update,
    parse_incident_command,
)
from bot.domain.incidents import EventRecord, Incident, as_dict, channel_name, slugify
from bot.domain.text import parse_user_ref, plain_from_slack
from bot.errors import UserError

CONFIG = DebriefConfig()
AT = datetime(2026, 3, 8, 1, 30, tzinfo=UTC)
VALID = re.compile(r"^[a-z0-9_-]{1,80}$")


@pytest.mark.parametrize("title", [
    "Checkout returns 500", "ÜBER wichtig: Zahlungen schlagen fehl", "🔥🔥🔥", "",
    "a" * 500, "<!channel> db down", "--- spaced   out ---", "日本語のタイトル",
    "x-" * 60, "UPPER_case and_underscores",
])
def test_channel_names_are_always_valid(title: str) -> None:
    """Whatever the title, the channel name is lowercase a-z0-9-_ and at most 80 chars."""
    for attempt in range(5):
        name = channel_name("inc", AT, 12345, title, attempt)
        assert VALID.match(name), name
        assert name.startswith("inc-20260308-12345")


def test_channel_name_shape_and_retry_suffix() -> None:
    """`<prefix>-<yyyymmdd>-<number>-<slug>`, and a deterministic suffix after name_taken."""
    assert channel_name("inc", AT, 7, "Checkout returns 500!") == "inc-20260308-7-checkout-returns-500"
    assert channel_name("inc", AT, 7, "Checkout returns 500!", 1) == "inc-20260308-7-checkout-returns-500-2"
    assert channel_name("inc", AT, 7, "Checkout", 1) == channel_name("inc", AT, 7, "Checkout", 1)
    long = channel_name("inc", AT, 7, "word " * 40, 3)
    assert len(long) <= 80 and long.endswith("-4")
    assert channel_name("inc", AT, 7, "🔥") == "inc-20260308-7"


def test_slugify_folds_accents() -> None:
    """Accented letters keep their base letter instead of vanishing."""
    assert slugify("Zahlungsausfall Über Köln") == "zahlungsausfall-uber-koln"


def test_plain_from_slack_neutralises_control_sequences() -> None:
    """Slack's escaped mentions become inert labels; entities are unescaped once."""
    assert plain_from_slack("<!channel> db down") == "@channel db down"
    assert plain_from_slack("<!here|here> and <!subteam^S1|@oncall>") == "here and @oncall"
    assert plain_from_slack("ask <@U123|bob> in <#C1|ops>") == "ask @bob in #ops"
    assert plain_from_slack("a &amp; b &lt;tag&gt;") == "a & b <tag>"


def test_parse_user_ref() -> None:
    """Escaped mentions and bare ids are users; anything else is not."""
    assert parse_user_ref("<@U02BOB|bob>") == "U02BOB"
    assert parse_user_ref("<@W123>") == "W123"
    assert parse_user_ref("U02BOB") == "U02BOB"
    assert parse_user_ref("@bob") is None
    assert parse_user_ref("<#C123|x>") is None


def test_parse_declare_with_and_without_severity() -> None:
    """`declare [sevN] <title>`; no title means: open the form."""
    cmd = parse_incident_command("declare sev1 Payments down", CONFIG)
    assert cmd == Declare(title="Payments down", severity="SEV1")
    cmd = parse_incident_command("declare Payments down", CONFIG)
    assert cmd == Declare(title="Payments down", severity=None)
    assert parse_incident_command("declare", CONFIG) == Declare(title="")
    assert parse_incident_command("declare SEV2", CONFIG) == Declare(title="", severity="SEV2")
    assert parse_incident_command("declare <!channel> db &amp; cache", CONFIG) == Declare(
        title="@channel db & cache")


@pytest.mark.parametrize("text, fragment", [
    ("declare sev9 Something", "severity `sev9`"),
    ("declare " + "x" * 151, "under 151"),
    ("status", "Which status?"),
    ("status bogus", "status `bogus`"),
    ("severity", "Which severity?"),
    ("severity sev7", "severity `sev7`"),
    ("role", "Usage"),
    ("role pilot <@U1>", "role `pilot`"),
    ("role comms", "Who should be comms?"),
    ("role comms bob", "Who should be comms?"),
    ("update", "What's the update?"),
    ("status <!channel>", "`@channel`"),
])
def test_bad_input_is_a_user_error(text: str, fragment: str) -> None:
    """Malformed commands raise UserError with a helpful message (and never echo markup)."""
    with pytest.raises(UserError) as info:
        parse_incident_command(text, CONFIG)
    assert fragment in str(info.value)
    assert "<!" not in str(info.value)


def test_parse_references_and_arguments() -> None:
    """`#N` names an incident anywhere; a bare number only where it cannot be text."""
    cmd = parse_incident_command("status #12 monitoring fix is out", CONFIG)
    assert cmd == Status(ref=12, status="monitoring", note="fix is out")
    assert parse_incident_command("ack 4", CONFIG) == Ack(ref=4)
    cmd = parse_incident_command("update 3 servers restarted", CONFIG)
    assert cmd == Update(ref=None, text="3 servers restarted")
    cmd = parse_incident_command("update #3 servers restarted", CONFIG)
    assert cmd == Update(ref=3, text="servers restarted")
    cmd = parse_incident_command("role #2 Comms <@U02BOB|bob>", CONFIG)
    assert cmd == Role(ref=2, role="comms", user_id="U02BOB")
    assert parse_incident_command("sev SEV1", CONFIG) == Severity(severity="SEV1")
    assert parse_incident_command("resolve", CONFIG) == Resolve(summary="")


def test_unknown_subcommand_asks_for_help() -> None:
    """An unknown word is not an error: it answers with usage, naming the word."""
    cmd = parse_incident_command("frobnicate now", CONFIG)
    assert cmd == Help(unknown="frobnicate")
    assert parse_incident_command("", CONFIG) == Help()


def test_json_shape() -> None:
    """The JSON has every documented key."""
    incident = Incident(number=3, title="t", severity="SEV2", status="identified",
                        description="", declared_at=AT, declared_by="U1",
                        roles={"commander": "U2"},
                        events=(EventRecord(AT, "declared", "U1", {"title": "t"}),))
    data = as_dict(incident)
    for key in ("number", "title", "severity", "status", "channel_id", "channel_name",
                "declared_at", "declared_by", "acknowledged_at", "resolved_at", "roles", "events"):
        assert key in data
    assert data["declared_at"] == "2026-03-08T01:30:00Z"
    assert data["events"] == [{"at": "2026-03-08T01:30:00Z", "kind": "declared", "actor": "U1",
                               "detail": {"title": "t"}}]
