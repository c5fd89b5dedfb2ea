"""A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`; `.ci/run` installs
it) with a webhook receiver pointing at the running app: alerts posted to its API v2
arrive grouped in the stand-in Slack, one message per group, are silenced through its
API (the silence is visible in Alertmanager) and are marked resolved when Alertmanager
resolves them."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.slack.ids import Action
from tests.conftest import Stack
from tests.e2e.test_alerts import CONFIG, alertmanager_payload, messages, post, start_alert_stack
from tests.helpers import free_port

TOKEN = "am-token-123"  # as tests/e2e/test_alerts.py configures it


def alertmanager_binary() -> str:
    found = shutil.which("alertmanager") or shutil.which("prometheus-alertmanager")
    if found is None:
        pytest.skip("Prometheus Alertmanager is not installed "
                    "(apt-get install prometheus-alertmanager; .ci/run does it)")
    return found


@pytest.fixture
def alertmanager(engine: Engine, tmp_path: Path) -> Iterator[tuple[Stack, str]]:
    binary = alertmanager_binary()
    port = free_port()
    path = tmp_path / "debrief.yaml"
    path.write_text(CONFIG.replace("http://127.0.0.1:9/", f"http://127.0.0.1:{port}"))
    stack = start_alert_stack(engine, path)
    config = tmp_path / "alertmanager.yml"
    config.write_text(f"""
route:
  receiver: debrief
  group_by: [alertname]
  group_wait: 200ms
  group_interval: 500ms
  repeat_interval: 1h
receivers:
  - name: debrief
    webhook_configs:
      - url: {stack.server.url}/alerts/prod-alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {TOKEN}
""")
    log = (tmp_path / "alertmanager.log").open("w")
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.path={tmp_path / 'am-data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
         "--log.level=warn"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        stack.slack.wait_for(lambda: _ready(url, process), timeout=30)
        yield stack, url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        stack.close()
    assert stack.slack.violations == []


def _ready(url: str, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"alertmanager exited with {process.returncode}")
    try:
        with urllib.request.urlopen(url + "/-/ready", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _post_alerts(url: str, alerts: list[dict[str, Any]]) -> None:
    request = urllib.request.Request(url + "/api/v2/alerts", data=json.dumps(alerts).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def _alert(name: str, instance: str, *, ends: datetime | None = None) -> dict[str, Any]:
    now = datetime.now(UTC)
    alert: dict[str, Any] = {
        "labels": {"alertname": name, "instance": instance, "severity": "critical"},
        "annotations": {"summary": f"{name} on {instance}"},
        "startsAt": (now - timedelta(minutes=1)).isoformat(),
        "generatorURL": "http://prometheus.example/graph"}
    if ends is not None:
        alert["endsAt"] = ends.isoformat()
    return alert


def test_real_alertmanager_groups_and_resolves(alertmanager: tuple[Stack, str]) -> None:
    """Three alerts in two groups make two messages; resolving them in Alertmanager marks
    both messages resolved, still two messages."""
    stack, url = alertmanager
    firing = [_alert("HighLatency", "web-1"), _alert("HighLatency", "web-2"),
              _alert("DiskFull", "db-1")]
    _post_alerts(url, firing)

    def shown() -> list[str]:
        return sorted(m.text for m in messages(stack))

    stack.slack.wait_for(lambda: len(shown()) == 2, timeout=20)
    latency = next(m for m in messages(stack) if "HighLatency" in m.text)
    stack.slack.wait_for(lambda: "2 firing" in json.dumps(
        next(m for m in messages(stack) if "HighLatency" in m.text).blocks), timeout=20)
    assert "FIRING" in latency.text
    # Silence 1h on the message: a real silence in Alertmanager, shown in the message
    channel = next(c.id for c in stack.slack.channels.values() if c.name == "alerts")
    group_id = next(b["elements"][0]["value"] for b in latency.blocks
                    if b["type"] == "actions")
    click = stack.client.click(Action.ALERT_SILENCE, user="U02BOB", channel=channel,
                               message_ts=latency.ts, value=group_id)
    assert "Alertmanager silence" in stack.client.reply_to(click)["text"]
    with urllib.request.urlopen(url + "/api/v2/silences", timeout=5) as response:
        [silence] = [s for s in json.loads(response.read()) if s["status"]["state"] == "active"]
    assert {"name": "alertname", "value": "HighLatency", "isRegex": False,
            "isEqual": True} in silence["matchers"]
    assert silence["createdBy"] == "U02BOB"
    stack.slack.wait_for(lambda: silence["id"] in json.dumps(
        next(m for m in messages(stack) if m.ts == latency.ts).blocks))
    # Alertmanager holds back a silenced group's notifications: end the silence (as it
    # would end on its own after the hour), then resolve everything.
    expire = urllib.request.Request(f"{url}/api/v2/silence/{silence['id']}", method="DELETE")
    with urllib.request.urlopen(expire, timeout=5) as response:
        assert response.status == 200
    past = datetime.now(UTC) - timedelta(seconds=1)
    _post_alerts(url, [{**a, "endsAt": past.isoformat()} for a in firing])
    stack.slack.wait_for(lambda: all("RESOLVED" in t for t in shown()) and len(shown()) == 2,
                         timeout=20)
    assert len(stack.slack.calls_of("chat.postMessage")) == 2
    with stack.runtime.deps.uow() as tx:
        groups = tx.alerts.groups()
    assert sorted(g.status for g in groups) == ["resolved", "resolved"]
    assert all(g.external_url and g.group_key.startswith("{}") for g in groups)


def test_a_silence_that_ends_asks_alertmanager_what_still_fires(
        alertmanager: tuple[Stack, str]) -> None:
    """Alertmanager sends no "resolved" for alerts that resolved while silenced. When the
    silence runs out, Debrief asks its API: a group whose alerts are gone is resolved
    (nobody paged); a group still firing fires again and escalation resumes."""
    from bot.services.alerts import end_silences

    stack, url = alertmanager
    gone, still = _alert("HighLatency", "web-1"), _alert("DiskFull", "db-1")
    _post_alerts(url, [gone, still])
    stack.slack.wait_for(lambda: len(messages(stack)) == 2, timeout=20)
    channel = next(c.id for c in stack.slack.channels.values() if c.name == "alerts")
    for message in messages(stack):
        value = next(b["elements"][0]["value"] for b in message.blocks
                     if b["type"] == "actions")
        click = stack.client.click(Action.ALERT_SILENCE, user="U02BOB", channel=channel,
                                   message_ts=message.ts, value=value)
        assert "Alertmanager silence" in stack.client.reply_to(click)["text"]
    again = stack.client.click(Action.ALERT_SILENCE, user="U02BOB", channel=channel,
                               message_ts=message.ts, value=value)
    assert "already silenced until" in stack.client.reply_to(again)["text"]
    with urllib.request.urlopen(url + "/api/v2/silences", timeout=5) as response:
        assert len([s for s in json.loads(response.read())
                    if s["status"]["state"] == "active"]) == 2  # one each, not three
    # HighLatency resolves in Alertmanager while silenced: no notification reaches us.
    past = datetime.now(UTC) - timedelta(seconds=1)
    _post_alerts(url, [{**gone, "endsAt": past.isoformat()}])
    dms_before = len(stack.slack.calls_of("chat.postMessage"))
    end_silences(stack.runtime.deps, datetime.now(UTC) + timedelta(hours=2))
    with stack.runtime.deps.uow() as tx:
        status = {g.labels["alertname"]: g.status for g in tx.alerts.groups()}
    assert status == {"HighLatency": "resolved", "DiskFull": "firing"}
    stack.slack.wait_for(lambda: sorted("RESOLVED" in m.text for m in messages(stack))
                         == [False, True], timeout=20)
    assert len(stack.slack.calls_of("chat.postMessage")) == dms_before


def test_an_alertmanager_that_never_answers_is_asked_once_per_tick(engine: Engine,
                                                                    tmp_path: Path) -> None:
    """Six silences end together and their Alertmanager accepts connections but never
    answers: it is asked once in the tick (one 2 s timeout, not six), the groups fire
    again (a page too many beats none), and paging is not held up behind them."""
    import socket
    import time
    from dataclasses import replace

    from bot.services.alerts import end_silences

    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(16)  # connections are queued, never accepted, never answered
    path = tmp_path / "debrief.yaml"
    path.write_text(CONFIG.replace("http://127.0.0.1:9/",
                                   f"http://127.0.0.1:{hole.getsockname()[1]}"))
    stack = start_alert_stack(engine, path)
    try:
        for n in range(6):
            assert post(stack, "/alerts/prod-alertmanager",
                        alertmanager_payload(key=f"group-{n}"))[0] == 202
        stack.slack.wait_for(lambda: len(messages(stack)) == 6, timeout=20)
        now = datetime.now(UTC)
        with stack.runtime.deps.uow() as tx:
            for group in tx.alerts.groups():
                tx.alerts.save(replace(group, status="silenced", silence_id="s",
                                       silenced_until=now - timedelta(seconds=1),
                                       version=group.version + 1))
            tx.commit()
        started = time.monotonic()
        end_silences(stack.runtime.deps, now)
        took = time.monotonic() - started
        with stack.runtime.deps.uow() as tx:
            assert {g.status for g in tx.alerts.groups()} == {"firing"}
        assert took < 6, f"asked more than once: {took:.1f} s"
    finally:
        stack.close()
        hole.close()
