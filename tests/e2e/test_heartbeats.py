"""Heartbeats (issue 15): pings over real HTTP into the running app, under a fake clock;
missing pings raise one alert group through the integration's escalation (a DM with the
buttons), pings that resume resolve it and update its message; a ping costs one
statement however long pings have run."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine, text

from bot.config import load_config
from bot.scheduler import Scheduler
from bot.slack.ids import Action
from tests.conftest import Stack, start_stack
from tests.helpers import StatementCount

TOKEN = "watchdog-token-123"
CONFIG = """
alerts:
  integrations:
    watchdog:
      kind: heartbeat
      token_env: ALERTS_TOKEN
      window: 10m
      channel: "#alerts"
      escalation: page-alice
    prod-alertmanager:
      kind: alertmanager
      token_env: ALERTS_TOKEN
      channel: "#alerts"
  escalations:
    page-alice:
      - notify: {users: [U01ALICE]}
"""
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def beat_stack(engine: Engine, tmp_path: Path) -> Iterator[Stack]:
    path = tmp_path / "debrief.yaml"
    path.write_text(CONFIG)
    stack = start_stack(engine, load_config(path), alert_secrets={"ALERTS_TOKEN": TOKEN})
    stack.slack.add_channel("alerts")
    yield stack
    stack.close()
    assert stack.slack.violations == []


def ping(stack: Stack, body: bytes = b"", *, token: str | None = TOKEN,
         path: str = "/alerts/watchdog/heartbeat") -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        stack.server.url + path, data=body, method="POST",
        headers={"Authorization": f"Bearer {token}"} if token is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:  # waitress's own 413 past its cap is plain text
            return exc.code, {"error": raw.decode(errors="replace")}


def ping_too_large(stack: Stack) -> tuple[int, dict[str, Any]]:
    """A ping over the body limit: the server answers 413 as soon as it has the headers
    and may close while the body is still being sent, so read the answer regardless."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(stack.server.url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    try:
        try:
            conn.request("POST", "/alerts/watchdog/heartbeat", body=b"x" * (1024 * 1024 + 1),
                         headers={"Authorization": f"Bearer {TOKEN}"})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the answer is already on its way back
        response = conn.getresponse()
        return response.status, {"error": response.read().decode(errors="replace")}
    finally:
        conn.close()


def channel_messages(stack: Stack) -> list[Any]:
    channel = next(c for c in stack.slack.channels.values() if c.name == "alerts")
    with stack.slack.lock:
        return [m for m in channel.messages.values() if m.thread_ts is None]


def count(stack: Stack, table: str) -> int:
    with stack.runtime.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_missed_pings_raise_one_alert_that_pages_and_resolves_when_pings_resume(
        beat_stack: Stack, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Pinged at 10:01 with a 10-minute window: nothing at 10:10; at 10:11:30 one alert
    group ("your monitoring is down … since 10:01") is posted and Alice is paged by DM;
    later ticks add nothing; the next ping resolves it and updates the message; `debrief
    alerts list/show` show it like any alert group."""
    stack = beat_stack
    with freeze_time(T0, tick=True) as clock:
        scheduler = Scheduler(stack.runtime.deps)  # ticked by hand: its clock is the fake one
        assert scheduler.tick() == []
        clock.move_to(T0 + timedelta(minutes=1))
        assert ping(stack) == (202, {"ok": True, "counted": True})
        clock.move_to(T0 + timedelta(minutes=10))
        assert scheduler.tick() == [] and channel_messages(stack) == []
        clock.move_to(T0 + timedelta(minutes=11, seconds=30))
        fired = scheduler.tick()
        assert any(k.startswith("heartbeat-missed:watchdog:2026-12-01T10:01") for k in fired)
        [message] = stack.slack.wait_for(lambda: channel_messages(stack) or None)
        assert "Your monitoring is down: no heartbeat from watchdog since 2026-12-01 10:01 UTC" \
            in message.text and "FIRING" in message.text
        page = stack.slack.wait_for(lambda: stack.slack.channels.get("D01ALICE"))
        [dm] = list(page.messages.values())
        assert "You are being paged" in dm.text and "no heartbeat from watchdog" in dm.text
        assert Action.ALERT_ACK.value in json.dumps(dm.blocks)
        for minutes in (12, 20, 60):
            clock.move_to(T0 + timedelta(minutes=minutes))
            scheduler.tick()
        assert len(channel_messages(stack)) == 1 and count(stack, "alert_groups") == 1
        assert len(stack.slack.channels["D01ALICE"].messages) == 1

        assert ping(stack)[0] == 202
        stack.slack.wait_for(lambda: "RESOLVED" in channel_messages(stack)[0].text)
        with stack.runtime.deps.uow() as tx:
            [group] = tx.alerts.groups()
            beat = tx.heartbeats.get("watchdog")
        assert group.status == "resolved" and group.integration == "watchdog"
        # firing from when the window ran out (the fake clock ticks on: allow a second)
        assert abs(group.first_firing_at - (T0 + timedelta(minutes=11))) < timedelta(seconds=1)
        assert beat is not None and beat.open_group_id is None and beat.pings == 2
        clock.move_to(T0 + timedelta(minutes=65))
        assert scheduler.tick() == []  # pinged at 60: fine until 70

    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", stack.runtime.engine.url.render_as_string(
        hide_password=False))
    assert main(["alerts", "list"]) == 0
    assert "no heartbeat from watchdog" in capsys.readouterr().out
    assert main(["alerts", "show", str(group.id), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["integration"], shown["status"]) == ("watchdog", "resolved")
    assert [s["notified"] for s in shown["escalation_steps"]] == [["U01ALICE"]]


def test_a_never_pinged_heartbeat_alerts_one_window_after_it_was_configured(
        beat_stack: Stack) -> None:
    """The clock of a heartbeat nobody ever pinged starts when Debrief first ran with it
    configured: one window later it alerts ("no heartbeat … yet")."""
    stack = beat_stack
    with freeze_time(T0, tick=True) as clock:
        scheduler = Scheduler(stack.runtime.deps)
        scheduler.tick()
        clock.move_to(T0 + timedelta(minutes=9))
        assert scheduler.tick() == []
        clock.move_to(T0 + timedelta(minutes=10, seconds=5))
        scheduler.tick()
        [message] = stack.slack.wait_for(lambda: channel_messages(stack) or None)
        assert "no heartbeat from watchdog yet" in message.text


def test_a_restarted_replica_waits_one_window_before_judging(beat_stack: Stack) -> None:
    """Pings sent while Debrief was down went nowhere: a process that just started does
    not raise an alert for them until it has been up for a whole window."""
    stack = beat_stack
    with freeze_time(T0, tick=True) as clock:
        Scheduler(stack.runtime.deps).tick()
        assert ping(stack)[0] == 202
        clock.move_to(T0 + timedelta(hours=2))  # "down" for two hours, then started again
        restarted = Scheduler(stack.runtime.deps)
        assert restarted.tick() == []
        assert ping(stack)[0] == 202  # the sender's next ping arrives: all is well
        clock.move_to(T0 + timedelta(hours=2, minutes=15))
        assert len([k for k in restarted.tick() if k.startswith("heartbeat")]) == 1
    with stack.runtime.deps.uow() as tx:
        beat = tx.heartbeats.get("watchdog")
    assert beat is not None and beat.missed_since is not None  # since the ping after restart
    assert abs(beat.missed_since - (T0 + timedelta(hours=2))) < timedelta(seconds=1)


def test_a_ping_costs_one_statement_and_stores_no_history(beat_stack: Stack) -> None:
    """200 pings: each is one UPDATE of the heartbeat's row; no alert event, group or
    claim is stored for them."""
    stack = beat_stack
    assert ping(stack)[0] == 202  # the first ping may insert the row
    before = (count(stack, "alert_events"), count(stack, "notifications"))
    for _ in range(200):
        assert ping(stack)[0] == 202
    with StatementCount(stack.runtime.engine) as statements:
        assert ping(stack)[0] == 202
    assert len(statements) == 1, str(statements)
    assert (count(stack, "alert_events"), count(stack, "notifications")) == before
    assert count(stack, "heartbeats") == 1 and count(stack, "alert_groups") == 0
    with stack.runtime.deps.uow() as tx:
        beat = tx.heartbeats.get("watchdog")
    assert beat is not None and beat.pings == 202


@pytest.mark.parametrize("case", ["no token", "wrong token", "too large", "not heartbeat",
                                  "alerts path", "unknown"])
def test_bad_pings_are_refused_and_store_nothing(beat_stack: Stack, case: str) -> None:
    """Pings need the bearer token (401) and obey the body limit (413); a heartbeat's
    alert path and another kind's heartbeat path are refused with the reason."""
    stack = beat_stack
    body, token, path, expected = b"", TOKEN, "/alerts/watchdog/heartbeat", 401
    if case == "no token":
        token = None
    elif case == "wrong token":
        token = "nope"
    elif case == "too large":
        body, expected = b"x" * (1024 * 1024 + 1), 413
    elif case == "not heartbeat":
        path, expected = "/alerts/prod-alertmanager/heartbeat", 404
    elif case == "alerts path":
        path, body, expected = "/alerts/watchdog", b"{}", 400
    elif case == "unknown":
        path, expected = "/alerts/nope/heartbeat", 404
    status, answer = ping_too_large(stack) if case == "too large" else \
        ping(stack, body, token=token, path=path)
    assert status == expected and answer["error"], answer
    assert count(stack, "heartbeats") == 0 and count(stack, "alert_groups") == 0


def test_a_resolved_watchdog_notification_is_not_a_ping(beat_stack: Stack) -> None:
    """Alertmanager's webhook body counts as a ping while its Watchdog fires; a resolved
    one (the pipeline behind it stopped) does not."""
    stack = beat_stack
    firing = json.dumps({"version": "4", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "Watchdog"}}]}).encode()
    assert ping(stack, firing) == (202, {"ok": True, "counted": True})
    resolved = firing.replace(b'"firing"', b'"resolved"')
    assert ping(stack, resolved) == (202, {"ok": True, "counted": False})
    with stack.runtime.deps.uow() as tx:
        beat = tx.heartbeats.get("watchdog")
    assert beat is not None and beat.pings == 1


REPLICA_CONFIG = """
alerts:
  integrations:
    watchdog:
      kind: heartbeat
      token_env: ALERTS_TOKEN
      window: 3s
      channel: "#alerts"
      escalation: page-bob
  escalations:
    page-bob:
      - notify: {users: [U02BOB]}
"""


def test_two_replicas_raise_one_alert_and_resolve_it(postgres_url: str, engine: Engine,
                                                     tmp_path: Path) -> None:
    """Two `debrief run` replicas on one PostgreSQL, both ticking every 0.2 s, pinged
    through both: when pings stop, one alert group, one message and one page; when they
    resume, that message is updated to resolved."""
    import os
    import secrets
    import subprocess
    import sys
    import time

    from bot.standin.server import FakeSlack
    from tests.helpers import free_port

    (tmp_path / "debrief.yaml").write_text(REPLICA_CONFIG)
    slack = FakeSlack().start()
    slack.add_user("U02BOB", "bob")
    slack.add_channel("alerts")
    ports = (free_port(), free_port())
    replicas = []
    for name, port in zip("ab", ports, strict=True):
        env = {"PATH": os.environ.get("PATH", ""), "SLACK_BOT_TOKEN": slack.token,
               "SLACK_SIGNING_SECRET": secrets.token_hex(8), "SLACK_API_URL": slack.api_url,
               "DATABASE_URL": postgres_url, "DEBRIEF_SCHEDULER_INTERVAL": "0.2",
               "DEBRIEF_SLACK_PACE": "0", "PORT": str(port), "ALERTS_TOKEN": TOKEN,
               "DEBRIEF_CONFIG": str(tmp_path / "debrief.yaml")}
        with (tmp_path / f"{name}.log").open("w") as log:
            replicas.append(subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--host", "127.0.0.1"], cwd=tmp_path,
                env=env, text=True, stdout=log, stderr=subprocess.STDOUT))

    def send(port: int) -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/alerts/watchdog/heartbeat",
                                         data=b"", method="POST",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202

    def posted() -> list[Any]:
        return [c for c in slack.calls_of("chat.postMessage")
                if str(c.args.get("channel")) != "U02BOB"]

    def pages() -> list[Any]:
        return [c for c in slack.calls_of("chat.postMessage")
                if str(c.args.get("channel")) == "U02BOB"]

    try:
        # A replica arms the heartbeat at its first tick: ping every replica that is up
        # until both are, so a slow start of the second is not an outage.
        up = [False, False]
        deadline = time.monotonic() + 60
        while not all(up):
            assert time.monotonic() < deadline, "the replicas never became healthy"
            for i, (replica, port) in enumerate(zip(replicas, ports, strict=True)):
                assert replica.poll() is None, (tmp_path / f"{'ab'[i]}.log").read_text()
                up[i] = up[i] or _healthy(port)
                if up[i]:
                    send(port)
            time.sleep(0.3)  # polling starting processes; bounded by the deadline
        stopped = time.monotonic()
        slack.wait_for(lambda: posted() and pages(), timeout=60)
        assert time.monotonic() - stopped >= 3.0  # not before the window ran out
        # both replicas keep ticking (every 0.2 s) for a while: nothing more is raised
        slack.wait_for(lambda: slack.calls_of("chat.update") or None, timeout=30)
        deadline = time.monotonic() + 1.5
        slack.wait_for(lambda: time.monotonic() > deadline, timeout=5)
        assert len(posted()) == 1 and len(pages()) == 1
        send(ports[1])
        slack.wait_for(lambda: any("RESOLVED" in str(c.args.get("text"))
                                   for c in slack.calls_of("chat.update")), timeout=30)
        # (3 s after this last ping the next outage begins: that one is not counted here)
        with engine.connect() as conn:
            first = conn.execute(text("SELECT id, status FROM alert_groups "
                                      "WHERE id = (SELECT min(id) FROM alert_groups)")).one()
        assert first.status == "resolved"
        assert len([c for c in posted() if (c.args.get("metadata") or {}).get(
            "event_payload", {}).get("group") == first.id]) == 1
    finally:
        for replica in replicas:
            replica.terminate()
            replica.wait(timeout=15)
        slack.stop()
    for name in "ab":
        assert "Traceback" not in (tmp_path / f"{name}.log").read_text()


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False
