"""Use cases with a fake chat and a real database: outcomes, not calls."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine

from bot.clock import utcnow
from bot.config import DebriefConfig
from bot.domain.commands import parse_incident_command
from bot.domain.permissions import Admins, Policy
from bot.errors import UserError
from bot.services.dispatch import Caller, run_incident_command
from bot.services.incidents import DeclareRequest, declare_incident
from bot.services.ports import Deps
from bot.slack.messages import command_reply
from storage.uow import UnitOfWorkFactory
from tests.fakes import FakeChat

CONFIG = DebriefConfig()


@pytest.fixture
def deps(engine: Engine) -> Deps:
    return Deps(uow=UnitOfWorkFactory(engine), chat=FakeChat(), config=CONFIG, now=utcnow)


def run(deps: Deps, text: str, user: str = "U1", channel: str | None = None) -> str:
    reply = command_reply(run_incident_command(parse_incident_command(text, CONFIG),
                                               Caller(user, channel), deps=deps,
                                               pages=None))  # type: ignore[arg-type]
    assert reply is not None
    return reply.text


def get(deps: Deps, number: int = 1):  # type: ignore[no-untyped-def]
    with deps.uow() as tx:
        return tx.incidents.get(number)


@freeze_time("2026-03-08 06:59:30")
def test_declare_sets_everything_up(deps: Deps) -> None:
    """Declaring records the incident and makes channel, invite, topic, pinned card, announcement."""
    chat: FakeChat = deps.chat  # type: ignore[assignment]
    message = run(deps, "declare sev2 Checkout errors", user="U7")
    incident = get(deps)
    assert incident.declared_at == datetime(2026, 3, 8, 6, 59, 30, tzinfo=UTC)
    assert incident.channel_name == "inc-20260308-1-checkout-errors"
    assert chat.channels[incident.channel_id] == incident.channel_name
    assert chat.members[incident.channel_id] == {"U7"}
    assert chat.topics[incident.channel_id] == "SEV2 · investigating · Commander: <@U7>"
    assert incident.card_ts in chat.pins
    assert chat.announcements[0][0] == "#incidents"
    assert incident.roles == {"commander": "U7"}
    assert [e.kind for e in incident.events] == ["declared", "role"]
    assert f"<#{incident.channel_id}>" in message


def test_commander_can_be_someone_else(deps: Deps) -> None:
    """The declarer may name another commander; both end up in the channel."""
    outcome = declare_incident(
        DeclareRequest(title="DB failover", severity="SEV1", declared_by="U1", commander="U2"),
        uow=deps.uow, chat=deps.chat, config=CONFIG, now=utcnow())
    assert outcome.incident.roles == {"commander": "U2"}
    assert deps.chat.members[outcome.incident.channel_id] == {"U1", "U2"}  # type: ignore[attr-defined]


def test_name_taken_picks_the_next_name_deterministically(deps: Deps) -> None:
    """If the channel name exists, `-2`, `-3`, ... are tried in order."""
    chat: FakeChat = deps.chat  # type: ignore[assignment]
    day = f"{utcnow():%Y%m%d}"
    chat.taken_names |= {f"inc-{day}-1-dns", f"inc-{day}-1-dns-2"}
    run(deps, "declare DNS")
    assert get(deps).channel_name == f"inc-{day}-1-dns-3"


def test_channel_failure_keeps_the_incident_and_retry_finishes(deps: Deps) -> None:
    """Slack refusing the channel leaves a recorded incident; retry completes it, once."""
    chat: FakeChat = deps.chat  # type: ignore[assignment]
    chat.fail("create_channel", "restricted_action")
    message = run(deps, "declare sev1 Login broken")
    assert "restricted_action" in message and "/incident retry #1" in message
    incident = get(deps)
    assert incident is not None and incident.channel_id is None
    assert chat.channels == {} and chat.announcements == []
    message = run(deps, "retry #1")
    incident = get(deps)
    assert incident.channel_id in chat.channels and incident.card_ts in chat.pins
    assert len(chat.channels) == 1 and len(chat.announcements) == 1
    run(deps, "retry #1")  # nothing left to do: no second channel, card or announcement
    assert len(chat.channels) == 1 and len(chat.announcements) == 1 and len(chat.cards) == 1


def test_card_failure_is_reported_and_retried(deps: Deps) -> None:
    """A failed card post is named in the reply; retry posts it without a second channel."""
    chat: FakeChat = deps.chat  # type: ignore[assignment]
    chat.fail("post_card", "ratelimited")
    message = run(deps, "declare Queue backlog")
    assert "summary card: `ratelimited`" in message
    assert get(deps).card_ts is None
    run(deps, "retry #1")
    assert get(deps).card_ts in chat.pins and len(chat.channels) == 1


def test_lifecycle_records_who_and_when(deps: Deps) -> None:
    """ack, status, severity, role, update, resolve: each is stored with actor and time."""
    chat: FakeChat = deps.chat  # type: ignore[assignment]
    # U2 and U3 work in the channel; U2, an incident admin, may change the severity.
    deps = replace(deps, config=replace(deps.config, permissions=Policy(
        incident_admins=Admins(users=frozenset({"U2"})))))
    with freeze_time("2026-11-26 10:00:00") as frozen:
        run(deps, "declare sev3 Slow search", user="U1")
        channel = get(deps).channel_id
        chat.members[channel] |= {"U2", "U3"}
        for text, user in [("ack", "U2"), ("status identified index rebuild", "U1"),
                           ("severity sev2", "U2"), ("role comms <@U3|c>", "U1"),
                           ("update reindexing", "U3"), ("resolve reindexed", "U1")]:
            frozen.tick(timedelta(minutes=5))
            run(deps, text, user=user, channel=channel)
    incident = get(deps)
    assert incident.acknowledged_at == datetime(2026, 11, 26, 10, 5, tzinfo=UTC)
    assert incident.acknowledged_by == "U2"
    assert incident.resolved_at == datetime(2026, 11, 26, 10, 30, tzinfo=UTC)
    assert (incident.status, incident.severity, incident.summary) == ("resolved", "SEV2", "reindexed")
    assert incident.roles == {"commander": "U1", "comms": "U3"}
    kinds = [(e.kind, e.actor, e.at.minute) for e in incident.events]
    assert kinds == [("declared", "U1", 0), ("role", "U1", 0), ("acknowledged", "U2", 5),
                     ("status", "U1", 10), ("severity", "U2", 15), ("role", "U1", 20),
                     ("update", "U3", 25), ("resolved", "U1", 30)]
    assert chat.cards[incident.card_ts].status == "resolved"
    assert "U3" in chat.members[channel]
    announced = [kind for _, kind, announce in chat.posted if announce]
    assert announced == ["status", "severity", "update", "resolved"]


@pytest.mark.parametrize("text, message", [
    ("ack", "isn't an incident channel"),
    ("status #99 monitoring", "no incident #99"),
])
def test_commands_need_an_incident(deps: Deps, text: str, message: str) -> None:
    """Outside an incident channel a command needs a number that exists."""
    with pytest.raises(UserError, match=message):
        run(deps, text, channel="CRANDOM")


def test_repeated_changes_are_refused_and_change_nothing(deps: Deps) -> None:
    """A second ack, the same status or resolving twice explains itself and stores nothing."""
    run(deps, "declare Thing")
    run(deps, "ack #1")
    before = len(get(deps).events)
    for text in ("ack #1", "status #1 investigating", "severity #1 sev4"):
        with pytest.raises(UserError):
            run(deps, text)
    run(deps, "resolve #1")
    with pytest.raises(UserError, match="already resolved"):
        run(deps, "resolve #1")
    assert len(get(deps).events) == before + 1


def test_status_after_resolve_reopens(deps: Deps) -> None:
    """Setting an open status on a resolved incident reopens it."""
    run(deps, "declare Thing")
    run(deps, "resolve #1 done")
    run(deps, "status #1 investigating it came back")
    incident = get(deps)
    assert incident.resolved_at is None and incident.status == "investigating"
    assert incident.events[-1].kind == "reopened"


def test_slack_failure_after_commit_keeps_the_change(deps: Deps) -> None:
    """If Slack fails after the change is stored, the change stands and the reply says so."""
    chat: FakeChat = deps.chat  # type: ignore[assignment]
    run(deps, "declare Thing")
    chat.fail("update_card", "ratelimited")
    message = run(deps, "status #1 monitoring")
    assert "Saved" in message and "ratelimited" in message
    assert get(deps).status == "monitoring"
