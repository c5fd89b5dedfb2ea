"""Slack as an unreliable dependency: rate limits, pacing, archived channels, removed
bot, deleted channels, revoked tokens, 5xx and timeouts — each handled on purpose."""

from __future__ import annotations

import json

from sqlalchemy import Engine

from bot.slack.pacing import ChannelPacer
from tests.conftest import Stack, start_stack
from tests.helpers import declare, slash


def test_pacer_lets_a_burst_through_then_spaces_posts() -> None:
    """A token bucket per channel: `burst` posts at once, then one per 1/rate seconds."""
    now = [0.0]
    waits: list[float] = []
    pacer = ChannelPacer(rate=1.0, burst=3, clock=lambda: now[0],
                         sleep=lambda s: (waits.append(s), now.__setitem__(0, now[0] + s)))
    assert [pacer.wait("C1") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert pacer.wait("C1") == 1.0 and pacer.wait("C1") == 1.0
    assert pacer.wait("C2") == 0.0  # channels are paced separately
    now[0] += 10
    assert pacer.wait("C1") == 0.0
    assert ChannelPacer(rate=0).wait("C1") == 0.0


def test_posts_to_one_channel_are_paced(engine: Engine) -> None:
    """With pacing on, a burst of updates to one channel goes out at about the pace."""
    stack = start_stack(engine, pace=4.0)
    try:
        incident = declare(stack)
        for i in range(10):
            slash(stack, f"update step {i}", channel=incident.channel_id)
        posts = [c for c in stack.slack.calls_of("chat.postMessage")
                 if c.args["channel"] == incident.channel_id]
        ts = sorted(float(m.ts) for m in stack.slack.channels[incident.channel_id]
                    .messages.values())
    finally:
        stack.close()
    assert len(posts) == 11  # the card and ten updates, each once
    # 4 go in a burst, the remaining 7 at 4/s: at least ~1.75 s from first to last.
    assert ts[-1] - ts[0] >= 1.5


def test_rate_limits_lose_and_duplicate_nothing(stack: Stack) -> None:
    """HTTP 429s with Retry-After on every kind of post are waited out; each message
    exists exactly once."""
    stack.slack.rate_limit("conversations.create", retry_after=1)
    stack.slack.rate_limit("chat.postMessage", retry_after=1, times=2)
    incident = declare(stack)
    stack.slack.rate_limit("chat.update", retry_after=1)
    slash(stack, "status monitoring mitigated", channel=incident.channel_id)
    texts = [m.text for m in stack.slack.channels[incident.channel_id].messages.values()]
    assert sum("mitigated" in t for t in texts) == 1
    assert len(stack.slack.channels) == 3  # general, incidents, one incident channel
    assert stack.slack.channels[incident.channel_id].messages[incident.card_ts].edited == 1


def test_bot_removed_from_the_channel_joins_back(stack: Stack) -> None:
    """`not_in_channel`: the bot joins the (public) incident channel and posts."""
    incident = declare(stack)
    stack.slack.channels[incident.channel_id].members.discard("UDEBRIEFBOT")
    assert "is now *monitoring*" in slash(stack, "status monitoring", channel=incident.channel_id)
    assert stack.slack.calls_of("conversations.join")
    assert "UDEBRIEFBOT" in stack.slack.channels[incident.channel_id].members


def test_deleted_channel_and_revoked_token_are_explained(stack: Stack) -> None:
    """A deleted channel or a revoked token: the change is kept and the person is told why."""
    incident = declare(stack)
    stack.slack.fail("chat.update", "channel_not_found")
    stack.slack.fail("conversations.setTopic", "channel_not_found")
    stack.slack.fail("chat.postMessage", "channel_not_found")
    message = slash(stack, "status monitoring", channel=incident.channel_id)
    assert "Saved" in message and "the channel no longer exists" in message
    assert stack.incident().status == "monitoring"
    stack.slack.fail("chat.update", "token_revoked", times=3)
    stack.slack.fail("chat.postMessage", "token_revoked", times=3)
    message = slash(stack, "severity sev1", channel=incident.channel_id)
    assert "reinstall the app" in message and stack.incident().severity == "SEV1"


def test_server_errors_are_retried(stack: Stack) -> None:
    """HTTP 5xx from Slack is retried by the client; the declare completes once."""
    stack.slack.fail("conversations.create", "internal_error", status=500)
    stack.slack.fail("chat.postMessage", "service_unavailable", status=503)
    incident = declare(stack)
    assert incident.card_ts and incident.announce_ts
    assert len(stack.slack.calls_of("conversations.create")) == 1


def test_a_slow_slack_times_out_without_duplicates(stack: Stack) -> None:
    """A post that times out is reported, not retried blindly (it may have gone through):
    the message is never duplicated."""
    incident = declare(stack)
    stack.runtime.deps.chat.client.timeout = 1  # type: ignore[attr-defined]
    stack.slack.delay("chat.postMessage", 2.5)
    message = slash(stack, "update slow slack", channel=incident.channel_id)
    assert "Saved, but" in message and "`unreachable`" in message
    # The slow call still lands in Slack; a blind retry would have landed before it.
    stack.slack.wait_for(lambda: [c for c in stack.slack.calls_of("chat.postMessage")
                                  if "slow slack" in str(c.args.get("text"))], timeout=10)
    texts = [m.text for m in stack.slack.channels[incident.channel_id].messages.values()]
    assert sum("slow slack" in t for t in texts) == 1
    assert stack.incident().events[-1].detail == {"text": "slow slack"}
    assert json.dumps(stack.slack.violations) == "[]"
