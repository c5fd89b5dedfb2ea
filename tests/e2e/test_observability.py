"""Metrics at /metrics, health with the scheduler, JSON logs with request and incident ids."""

from __future__ import annotations

import json
import secrets
import urllib.request
from pathlib import Path

from bot.standin.client import SlackClient
from bot.standin.server import FakeSlack
from tests.conftest import Stack
from tests.helpers import declare, free_port, slash, start, stop, wait_healthy


def test_metrics_count_requests_acks_slack_calls_and_events(stack: Stack) -> None:
    """Prometheus text exposes requests and ack latency by kind, Slack calls by method and
    outcome, and events stored."""
    incident = declare(stack)
    stack.slack.fail("chat.update", "ratelimited")
    slash(stack, "status identified hello", channel=incident.channel_id)
    stack.client.say(incident.channel_id, "U02BOB", "a message")
    with urllib.request.urlopen(stack.server.url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    assert 'debrief_requests_total{kind="command:/incident"}' in text
    assert 'debrief_ack_seconds_bucket{kind="command:/incident",le="0.005"}' in text
    assert 'debrief_slack_api_calls_total{method="conversations.create",outcome="ok"}' in text
    assert 'debrief_slack_api_calls_total{method="chat.update",outcome="ratelimited"}' in text
    assert "debrief_events_stored_total" in text
    assert 'debrief_requests_total{kind="event:message"}' in text


def test_debrief_run_logs_json_with_ids_and_reports_scheduler_health(tmp_path: Path) -> None:
    """In JSON mode each log line is an object; lines about an incident carry its number and
    the request id; /healthz includes the scheduler; no token is ever printed."""
    slack = FakeSlack().start()
    slack.add_user("U01ALICE", "alice")
    slack.add_channel("incidents")
    port, secret = free_port(), secrets.token_hex(8)
    process = start({"SLACK_BOT_TOKEN": slack.token, "SLACK_SIGNING_SECRET": secret,
                     "SLACK_API_URL": slack.api_url, "PORT": str(port),
                     "DEBRIEF_LOG_FORMAT": "json", "DEBRIEF_SCHEDULER_INTERVAL": "0.2"}, tmp_path)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            health = json.load(response)
        assert health["ok"] and health["scheduler"]["ok"] and health["scheduler"]["ticks"] >= 1
        slack.fail("conversations.create", "restricted_action")
        client = SlackClient(f"http://127.0.0.1:{port}", secret, slack)
        reply = client.slash("declare sev1 Logged", user="U01ALICE")
        assert "restricted_action" in client.reply_to(reply, timeout=20)["text"]
    finally:
        output = stop(process)
        slack.stop()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    [warning] = [line for line in lines if "not created" in line["message"]]
    assert warning["incident"] == 1 and len(warning["request_id"]) == 12
    assert slack.token not in output and secret not in output
