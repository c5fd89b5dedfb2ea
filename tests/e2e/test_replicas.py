"""Two `debrief run` replicas on one PostgreSQL: every reminder goes out exactly once,
and when one replica is killed partway the other finishes the work."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text

from bot.domain.action_items import ActionRequest
from bot.domain.incidents import Incident
from bot.standin.server import FakeSlack
from storage.uow import UnitOfWorkFactory
from tests.helpers import free_port

ZONES = ("Pacific/Kiritimati", "Asia/Tokyo", "Asia/Kolkata", "Europe/Berlin", "UTC",
         "America/Sao_Paulo", "America/New_York", "America/Los_Angeles", "Pacific/Honolulu",
         "Pacific/Pago_Pago")


def zone_past_nine(now: datetime) -> str:
    """A zone where it is now between 10:00 and 22:59, so today's 09:00 reminder is due."""
    return next(z for z in ZONES if 10 <= now.astimezone(ZoneInfo(z)).hour <= 22)


def start_replica(slack: FakeSlack, url: str, tmp_path: Path, name: str) -> subprocess.Popen[str]:
    env = {"PATH": os.environ.get("PATH", ""), "SLACK_BOT_TOKEN": slack.token,
           "SLACK_SIGNING_SECRET": secrets.token_hex(8), "SLACK_API_URL": slack.api_url,
           "DATABASE_URL": url, "DEBRIEF_SCHEDULER_INTERVAL": "0.2", "DEBRIEF_SLACK_PACE": "0",
           "PORT": str(free_port())}
    with (tmp_path / f"{name}.log").open("w") as log:  # the child keeps its own copy
        return subprocess.Popen([sys.executable, "-m", "bot", "run", "--host", "127.0.0.1"],
                                cwd=tmp_path, env=env, text=True, stdout=log,
                                stderr=subprocess.STDOUT)


def test_two_replicas_send_each_reminder_once_even_when_one_dies(
    postgres_url: str, engine: Engine, tmp_path: Path
) -> None:
    """300 reminders fall due; two replicas share the work; one is killed partway; every
    reminder is sent at most once and all but the killed replica's in-flight one are sent."""
    now = datetime.now(UTC)
    zone = zone_past_nine(now)
    today = now.astimezone(ZoneInfo(zone)).date()
    slack = FakeSlack().start()
    owners = [f"U{i:03d}OWNER" for i in range(30)]
    for owner in owners:
        slack.add_user(owner, owner.lower(), tz=zone)
    slack.delay("chat.postMessage", 0.02, times=1000)  # a realistic Slack round trip
    uow = UnitOfWorkFactory(engine)
    with uow() as tx:
        tx.incidents.add(Incident(number=1, title="t", severity="SEV3", status="resolved",
                                  description="", declared_at=now, declared_by="U000OWNER"))
        for i in range(300):
            tx.action_items.add(1, ActionRequest(f"item {i}", owners[i % 30], today, "prevent"),
                           "U000OWNER", now)
        tx.commit()
    replicas = [start_replica(slack, postgres_url, tmp_path, n) for n in ("a", "b")]
    try:
        def dms() -> list[str]:
            return [str(c.args.get("text")) for c in slack.calls_of("chat.postMessage")
                    if str(c.args.get("channel")) in owners]

        slack.wait_for(lambda: len(dms()) >= 100, timeout=60)
        replicas[0].send_signal(signal.SIGKILL)
        replicas[0].wait(timeout=10)

        def settled() -> bool:
            with engine.connect() as conn:
                rows = dict(conn.execute(text(
                    "SELECT status, count(*) FROM notifications GROUP BY status")).all())
            return rows.get("sent", 0) + rows.get("sending", 0) == 300 and \
                rows.get("sending", 0) <= 1 and len(dms()) >= 299
        slack.wait_for(settled, timeout=90)
    finally:
        for replica in replicas:
            if replica.poll() is None:
                replica.terminate()
                replica.wait(timeout=15)
        slack.stop()
    texts = dms()
    counts = Counter(t.split("due today: ")[1].split("\n")[0] for t in texts)
    assert max(counts.values()) == 1, "a reminder was sent twice"
    assert len(counts) >= 299  # at most the killed replica's in-flight reminder is lost
    with engine.connect() as conn:
        sending = conn.execute(text(
            "SELECT count(*) FROM notifications WHERE status = 'sending'")).scalar_one()
    assert len(counts) + sending >= 300
    assert "Traceback" not in (tmp_path / "b.log").read_text()
