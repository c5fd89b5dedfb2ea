"""Two `debrief run` replicas on one PostgreSQL, both due to post the weekly report on
their first tick: the report (text and chart) is posted once."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import Engine, text

from bot.standin.images import png_problem
from bot.standin.server import FakeSlack
from tests.helpers import free_port, wait_healthy

CONFIG = """
reports:
  weekly: {channel: "#incidents", day: monday, time: "09:00"}
"""


def _start(slack: FakeSlack, url: str, tmp_path: Path, name: str,
           port: int) -> subprocess.Popen[str]:
    env = {"PATH": os.environ.get("PATH", ""), "SLACK_BOT_TOKEN": slack.token,
           "SLACK_SIGNING_SECRET": secrets.token_hex(8), "SLACK_API_URL": slack.api_url,
           "DATABASE_URL": url, "DEBRIEF_SCHEDULER_INTERVAL": "0.2", "DEBRIEF_SLACK_PACE": "0",
           "PORT": str(port), "DEBRIEF_CONFIG": str(tmp_path / "debrief.yaml")}
    with (tmp_path / f"{name}.log").open("w") as log:
        return subprocess.Popen([sys.executable, "-m", "bot", "run", "--host", "127.0.0.1"],
                                cwd=tmp_path, env=env, text=True, stdout=log,
                                stderr=subprocess.STDOUT)


def _ticks(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        return int(json.loads(response.read())["scheduler"]["ticks"])


def test_two_replicas_post_the_weekly_report_once(postgres_url: str, engine: Engine,
                                                  tmp_path: Path) -> None:
    """Both replicas find the report due from their first tick and keep ticking; one
    message with one valid PNG reaches #incidents, and its claim is marked sent."""
    (tmp_path / "debrief.yaml").write_text(CONFIG)
    slack = FakeSlack().start()
    incidents = slack.add_channel("incidents")
    slack.delay("files.completeUploadExternal", 0.3, times=10)  # a slow share: a wide race
    ports = (free_port(), free_port())
    replicas = [_start(slack, postgres_url, tmp_path, n, p)
                for n, p in zip("ab", ports, strict=True)]
    try:
        for replica, port in zip(replicas, ports, strict=True):
            wait_healthy(f"http://127.0.0.1:{port}/healthz", replica, timeout=60)
        slack.wait_for(lambda: any(m.files for m in slack.channels[incidents].messages.values()),
                       timeout=60)
        # Both replicas go on ticking well past the post: nothing more is sent.
        targets = [_ticks(p) + 10 for p in ports]
        deadline = time.monotonic() + 60
        while any(_ticks(p) < t for p, t in zip(ports, targets, strict=True)):
            assert time.monotonic() < deadline, "the schedulers stopped ticking"
            time.sleep(0.1)  # polling the replicas' /healthz, bounded by the deadline
    finally:
        for replica in replicas:
            if replica.poll() is None:
                replica.terminate()
                replica.wait(timeout=15)
        slack.stop()
    reports = [m for m in slack.channels[incidents].messages.values() if m.files]
    assert len(reports) == 1 and "Weekly incident report" in reports[0].text
    assert len(slack.calls_of("files.getUploadURLExternal")) == 1
    [shared] = reports[0].files
    assert png_problem(slack.files[shared["id"]]["data"]) is None
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT key, status FROM notifications "
                                 "WHERE key LIKE 'weekly-report:%'")).all()
    assert [status for _, status in rows] == ["sent"]
    assert slack.violations == []
    for name in "ab":
        assert "Traceback" not in (tmp_path / f"{name}.log").read_text()
