"""`debrief run` as a real process: HTTP mode serves Slack and /healthz; Socket Mode
starts through SLACK_API_URL with the app token."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slack.standin.client import SlackClient
from bot.slack.standin.server import APP_TOKEN, FakeSlack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    fake.add_user("U01ALICE", "alice")
    fake.add_channel("incidents")
    yield fake
    fake.stop()


def start(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--host", "127.0.0.1"], cwd=cwd, text=True,
        env={"PATH": os.environ.get("PATH", ""), **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


def wait_healthy(url: str, process: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"debrief run exited: {process.stdout.read()}")  # type: ignore[union-attr]
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)  # polling a starting process; bounded by the deadline
    raise AssertionError("debrief run never became healthy")


def stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        out, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out


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
