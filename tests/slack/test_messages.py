"""The sentences people read in Slack, built in `bot/slack/messages.py`, and the
plain-text wording of the same event kinds (`lifecycle_text`): every kind has its own
wording in each, and user text is made inert in Slack's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.incidents import EventKind, EventRecord, Incident
from bot.domain.permissions import Act, Party
from bot.domain.timeline import lifecycle_text
from bot.services.incidents import Outcome, Problem, Stopped
from bot.slack.messages import (
    ACT_WORDS,
    PARTY_WORDS,
    event_text,
    outcome_text,
    thread_text,
    topic_text,
)

AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
INCIDENT = Incident(number=4, title="Checkout <errors>", severity="SEV2", status="investigating",
                    description="", declared_at=AT, declared_by="U1", channel_id="C1")
TYPED = "<!channel> & co"  # what a person might type: must not ping or inject markup
DETAIL = {"title": TYPED, "severity": "SEV2", "from": "investigating", "to": "monitoring",
          "note": TYPED, "role": "commander", "user": "U2", "text": TYPED,
          "schedule": TYPED, "summary": TYPED, "reason": TYPED,
          "title_was": TYPED, "severity_was": "SEV3", "summary_was": TYPED,
          "added": "database service:payments", "removed": "network",
          "step": "changes_requested", "comment": TYPED, "version": "2"}


@pytest.mark.parametrize("kind", list(EventKind))
def test_every_event_kind_has_its_own_slack_wording(kind: EventKind) -> None:
    """No kind falls through to a generic "<kind> by @someone": each says what happened,
    with what a person typed escaped."""
    text = event_text(INCIDENT, EventRecord(AT, kind, "U1", DETAIL))
    assert text != f"{kind} by <@U1>" and not text.startswith(f"{kind} by")
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; &amp; co" in text or kind in (
        EventKind.ACKNOWLEDGED, EventKind.SEVERITY, EventKind.ROLE,
        EventKind.TAGGED)  # tags are [a-z0-9:-] only (bot/domain/tags.py)


@pytest.mark.parametrize("kind", list(EventKind))
def test_every_event_kind_has_its_own_plain_wording(kind: EventKind) -> None:
    """The timeline/postmortem wording covers every kind too, in plain text (no mrkdwn)."""
    text = lifecycle_text(kind, DETAIL)
    assert text and text != kind.value
    assert "<@" not in text and "&lt;" not in text


@pytest.mark.parametrize("step", ["requested", "approved", "changes_requested", "published",
                                  "reopened", "archived", "factor_added", "factor_removed"])
def test_every_review_step_has_its_own_wording(step: str) -> None:
    """Each postmortem review step says what happened, in Slack and in plain text, and a
    requested reviewer is mentioned in Slack."""
    detail = {"step": step, "reviewers": "U2 U3", "version": "2", "comment": TYPED,
              "factor": "7", "category": "process", "text": TYPED}
    slack = event_text(INCIDENT, EventRecord(AT, EventKind.POSTMORTEM, "U1", detail))
    plain = lifecycle_text(EventKind.POSTMORTEM, detail)
    assert "<!channel>" not in slack and "<@U1>" in slack
    others = {s: lifecycle_text(EventKind.POSTMORTEM, {**detail, "step": s})
              for s in ("requested", "approved", "changes_requested", "published", "reopened",
                        "archived", "factor_added", "factor_removed") if s != step}
    assert plain not in others.values()
    if step == "requested":
        assert "<@U2>, <@U3>" in slack and plain.endswith("U2, U3")


def test_the_two_wordings_of_a_kind_are_keyed_by_the_same_enum() -> None:
    """Stored kinds are the enum's values, so a kind read back from the database (a plain
    string) selects the same wording as the enum member."""
    for kind in EventKind:
        assert lifecycle_text(EventKind(kind.value), DETAIL) == lifecycle_text(kind, DETAIL)


def test_the_thread_names_the_incident_escaped() -> None:
    """The announcement thread's copy starts with the incident, its title made inert."""
    text = thread_text(INCIDENT, EventRecord(AT, EventKind.ACKNOWLEDGED, "U1", {}))
    assert text == "*#4 Checkout &lt;errors&gt;* — :eyes: <@U1> acknowledged the incident."


def test_the_topic_shows_severity_status_and_commander() -> None:
    """The channel topic: severity · status · commander (a mention), or no commander."""
    led = Incident(number=3, title="t", severity="SEV2", status="identified", description="",
                   declared_at=AT, declared_by="U1", roles={"commander": "U2"})
    assert topic_text(led) == "SEV2 · identified · Commander: <@U2>"
    assert topic_text(INCIDENT) == "SEV2 · investigating · Commander: no commander"


def test_outcomes_are_worded_in_slack() -> None:
    """Services return what happened (problems, a stop, a busy set-up); the words, with
    Slack's explanation of each error code, are built here."""
    change = EventRecord(AT, EventKind.ACKNOWLEDGED, "U1", {})
    assert outcome_text(Outcome(INCIDENT, event=change)) == "Acknowledged *#4*."
    assert outcome_text(Outcome(INCIDENT, [Problem("topic", "is_archived")], event=change)) == (
        "Saved, but Slack didn't take every change (topic: `is_archived` (the channel is "
        "archived)). `/incident retry #4` repairs the channel set-up.")
    assert outcome_text(Outcome(INCIDENT)) == "Declared incident *#4* in <#C1>."
    assert outcome_text(Outcome(INCIDENT, stopped=Stopped("creating its channel", "slack",
                                                          "restricted_action"))) == (
        "Incident *#4* was recorded, but setting it up in Slack stopped at creating its "
        "channel (Slack said `restricted_action` (a workspace setting does not allow it)). "
        "Run `/incident retry #4` to finish it.")
    assert "being set up right now" in outcome_text(Outcome(INCIDENT, busy=True))


def test_every_act_and_party_has_words_and_a_readme_row() -> None:
    """A new act or party cannot reach people without a sentence, nor teams without a row
    in the README's permission table."""
    assert set(ACT_WORDS) == set(Act) and set(PARTY_WORDS) == set(Party)
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme.split("### Who may do what", 1)[1].split("\n\n- ", 1)[0]
    for act in Act:
        assert f"| `{act.value}` —" in table, act
    for party in Party:
        assert f"`{party.value}`" in table, party
