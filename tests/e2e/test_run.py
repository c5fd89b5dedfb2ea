"""`debrief run` as a real process: HTTP mode serves Slack and /healthz; Socket Mode
starts through SLACK_API_URL with the app token."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.standin.client import SlackClient
from bot.standin.methods import APP_TOKEN
from bot.standin.server import FakeSlack
from tests.helpers import free_port, start, stop, wait_healthy


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    fake.add_user("U01ALICE", "alice")
    fake.add_channel("incidents")
    yield fake
    fake.stop()


def test_http_mode_serves_slack_and_health(slack: FakeSlack, tmp_path: Path) -> None:
    """HTTP mode: the SQLite database is created and migrated, signed commands work."""
    port, secret = free_port(), secrets.token_hex(8)
    process = start({"SLACK_BOT_TOKEN": slack.token, "SLACK_SIGNING_SECRET": secret,
                     "SLACK_API_URL": slack.api_url, "PORT": str(port)}, tmp_path)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
        client = SlackClient(f"http://127.0.0.1:{port}", secret, slack)
        reply = client.slash("declare sev2 Real process", user="U01ALICE")
        assert reply.status == 200
        assert "Declared incident *#1*" in client.reply_to(reply, timeout=20)["text"]
        assert slack.calls_of("auth.test"), "auth.test must go to SLACK_API_URL"
    finally:
        output = stop(process)
    assert (tmp_path / "debrief.db").exists()
    assert slack.token not in output and secret not in output


def test_socket_mode_starts_through_slack_api_url(slack: FakeSlack, tmp_path: Path) -> None:
    """With SLACK_APP_TOKEN, run opens a Socket Mode connection via SLACK_API_URL."""
    process = start({"SLACK_BOT_TOKEN": slack.token, "SLACK_APP_TOKEN": APP_TOKEN,
                     "SLACK_API_URL": slack.api_url,
                     "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}, tmp_path)
    try:
        slack.wait_for(lambda: slack.calls_of("apps.connections.open"), timeout=30)
        assert slack.calls_of("auth.test")
    finally:
        output = stop(process)
    assert APP_TOKEN not in output and slack.token not in output
    assert json.dumps(slack.violations) == "[]"


def test_socket_mode_serves_health_and_metrics_on_port(slack: FakeSlack, tmp_path: Path) -> None:
    """In Socket Mode `run` also serves /healthz and /metrics on PORT (not /slack/events)
    while the socket client keeps trying to connect (the stand-in has no WebSocket)."""
    port = free_port()
    process = start({"SLACK_BOT_TOKEN": slack.token, "SLACK_APP_TOKEN": APP_TOKEN,
                     "SLACK_API_URL": slack.api_url, "PORT": str(port),
                     "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}, tmp_path)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            assert b"debrief_requests" in response.read()
        client = SlackClient(f"http://127.0.0.1:{port}", "any-secret", slack)
        assert client.slash("help", user="U01ALICE").status == 404
        # the start-up check, then the socket client itself
        slack.wait_for(lambda: len(slack.calls_of("apps.connections.open")) >= 2, timeout=30)
    finally:
        output = stop(process)
    assert "Socket Mode" in output and APP_TOKEN not in output


def test_socket_mode_takes_alerts_and_heartbeats_on_its_port(slack: FakeSlack,
                                                             tmp_path: Path) -> None:
    """In Socket Mode the alert endpoint and heartbeat pings are served on PORT: a
    delivery there is stored and posted to its channel, a ping is counted, a wrong token
    is refused."""
    channel = slack.add_channel("alerts")
    (tmp_path / "debrief.yaml").write_text("""
alerts:
  integrations:
    hooks: {kind: generic, token_env: ALERTS_TOKEN, channel: "#alerts"}
    watchdog: {kind: heartbeat, token_env: ALERTS_TOKEN, channel: "#alerts", window: 1h}
""")
    port = free_port()
    process = start({"SLACK_BOT_TOKEN": slack.token, "SLACK_APP_TOKEN": APP_TOKEN,
                     "SLACK_API_URL": slack.api_url, "PORT": str(port),
                     "ALERTS_TOKEN": "side-port-token",
                     "DEBRIEF_CONFIG": str(tmp_path / "debrief.yaml"),
                     "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}, tmp_path)

    def deliver(path: str, body: bytes, token: str = "side-port-token") -> int:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body,
                                         method="POST",
                                         headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
        body = json.dumps({"title": "Queue backlog", "status": "firing",
                           "dedup_key": "q1"}).encode()
        assert deliver("/alerts/hooks", body, token="wrong") == 401
        assert deliver("/alerts/hooks", body) == 202
        assert deliver("/alerts/watchdog/heartbeat", b"") == 202
        slack.wait_for(lambda: any("Queue backlog" in m.text
                                   for m in slack.channels[channel].messages.values()),
                       timeout=30)
    finally:
        output = stop(process)
    assert "Socket Mode" in output and "Traceback" not in output
    assert json.dumps(slack.violations) == "[]"


def _start_up_failure(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "bot", "run", "--host", "127.0.0.1",
                           "--port", str(free_port())], cwd=cwd, text=True,
                          env={"PATH": os.environ.get("PATH", ""), **env},
                          capture_output=True, timeout=60)
    return done.returncode, done.stderr


@pytest.mark.parametrize("case", ["wrong bot token", "revoked bot token", "wrong app token",
                                  "bot token as app token", "revoked app token",
                                  "unreachable Slack"])
def test_bad_tokens_stop_start_up_with_one_line(slack: FakeSlack, tmp_path: Path,
                                                case: str) -> None:
    """A bad, revoked or wrong-type token (or no Slack to ask) stops `run` before anything
    starts: one line on stderr naming the setting and the reason, exit 2, no traceback."""
    env = {"SLACK_BOT_TOKEN": slack.token, "SLACK_APP_TOKEN": APP_TOKEN,
           "SLACK_API_URL": slack.api_url, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    expected = {"wrong bot token": ("SLACK_BOT_TOKEN", "invalid_auth"),
                "revoked bot token": ("SLACK_BOT_TOKEN", "token_revoked"),
                "wrong app token": ("SLACK_APP_TOKEN", "invalid_auth"),
                "bot token as app token": ("SLACK_APP_TOKEN", "not_allowed_token_type"),
                "revoked app token": ("SLACK_APP_TOKEN", "token_revoked"),
                "unreachable Slack": ("SLACK_BOT_TOKEN", "cannot reach Slack")}[case]
    if case == "wrong bot token":
        env["SLACK_BOT_TOKEN"] = "xoxb-not-the-token"
    elif case == "revoked bot token":
        slack.revoked.add(slack.token)
    elif case == "wrong app token":
        env["SLACK_APP_TOKEN"] = "xapp-not-the-token"
    elif case == "bot token as app token":
        env["SLACK_APP_TOKEN"] = slack.token
    elif case == "unreachable Slack":
        env["SLACK_API_URL"] = f"http://127.0.0.1:{free_port()}/api/"
    else:
        slack.revoked.add(APP_TOKEN)
    status, stderr = _start_up_failure(env, tmp_path)
    assert status == 2, stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert expected[0] in stderr and expected[1] in stderr and "Traceback" not in stderr
    assert slack.token not in stderr and APP_TOKEN not in stderr
    assert not slack.calls_of("chat.postMessage")


def test_unreachable_database_stops_start_up_with_one_line(slack: FakeSlack,
                                                          tmp_path: Path) -> None:
    """An unreachable database at start-up: one line naming it (password masked), exit 2."""
    for url in (f"postgresql://debrief:s3cret-pw@127.0.0.1:{free_port()}/debrief",
                f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'x.db'}"):
        status, stderr = _start_up_failure({"SLACK_BOT_TOKEN": slack.token,
                                            "SLACK_SIGNING_SECRET": "s",
                                            "SLACK_API_URL": slack.api_url,
                                            "DATABASE_URL": url}, tmp_path)
        assert status == 2, stderr
        assert len(stderr.strip().splitlines()) == 1, stderr
        assert "database" in stderr and "Traceback" not in stderr
        assert "s3cret-pw" not in stderr


def test_alerts_naming_an_unknown_schedule_stop_start_up(slack: FakeSlack,
                                                        tmp_path: Path) -> None:
    """`schedule: platfrom` would page nobody and look like a gap for ever: `run` stops
    with one line naming the setting, the name and the schedules it knows."""
    (tmp_path / "oncall.yaml").write_text(
        "schedules:\n  platform:\n    layers:\n      - name: primary\n"
        "        time_zone: Europe/Berlin\n        rotation:\n          unit: days\n"
        "          interval: 1\n          first_handoff: 2025-03-03T09:00\n"
        "          members: [U01ALICE]\n")
    (tmp_path / "debrief.yaml").write_text(f"""
oncall: {{file: {tmp_path / 'oncall.yaml'}}}
alerts:
  integrations:
    am: {{kind: alertmanager, token_env: ALERTS_TOKEN, channel: "#incidents",
          schedule: platfrom}}
""")
    status, stderr = _start_up_failure({
        "SLACK_BOT_TOKEN": slack.token, "SLACK_SIGNING_SECRET": "s", "ALERTS_TOKEN": "t",
        "SLACK_API_URL": slack.api_url, "DEBRIEF_CONFIG": str(tmp_path / "debrief.yaml"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}, tmp_path)
    assert status == 2, stderr
    [said] = [line for line in stderr.splitlines() if line.startswith("debrief:")]
    assert stderr.strip().splitlines()[-1] == said  # the log of start-up, then this line
    assert "alerts.integrations.am.schedule" in said and "'platfrom'" in said
    assert "known: platform" in said and "Traceback" not in stderr
