"""Alerts in (issue 15): monitoring's webhooks over real HTTP into the running app, the
group's one Slack message posted and updated in the stand-in, refusals that store
nothing, a storm that makes one message per group, and the CLI."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from bot.config import load_config
from bot.slack.ids import Action
from tests.conftest import Stack, start_stack

TOKEN, SECRET = "am-token-123", "hmac-secret-456"
CONFIG = """
alerts:
  integrations:
    prod-alertmanager:
      kind: alertmanager
      token_env: ALERTS_TOKEN
      schedule: platform
      channel: "#alerts"
      alertmanager_url: http://127.0.0.1:9/
      routes:
        - match: {team: db}
          channel: "#db-alerts"
    grafana:
      kind: grafana
      token_env: ALERTS_TOKEN
      channel: "#alerts"
    hooks:
      kind: generic
      token_env: ALERTS_TOKEN
      secret_env: HOOKS_SECRET
      channel: "#alerts"
"""


def alertmanager_payload(status: str = "firing", key: str = '{}:{alertname="HighLatency"}',
                         n: int = 2, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """Alertmanager's webhook body, version 4 (shape from its docs and notify/webhook)."""
    common = {"alertname": "HighLatency", "severity": "critical", **(labels or {})}
    return {
        "version": "4", "groupKey": key, "truncatedAlerts": 0, "status": status,
        "receiver": "debrief", "groupLabels": {"alertname": "HighLatency"},
        "commonLabels": common,
        "commonAnnotations": {"summary": "p99 latency over 2s <!channel>"},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [{"status": status, "labels": {**common, "instance": f"web-{i}"},
                    "annotations": {"summary": "p99 latency over 2s"},
                    "startsAt": "2026-12-01T14:00:00.123456789Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus.example/graph?g0.expr=x",
                    "fingerprint": f"f{i:015d}"} for i in range(n)],
    }


def grafana_payload(status: str = "firing") -> dict[str, Any]:
    """Grafana alerting's webhook contact point body (version 1)."""
    return {
        "receiver": "debrief", "status": status, "orgId": 1, "version": "1",
        "groupKey": '{}/{}:{alertname="DiskFull"}', "truncatedAlerts": 0,
        "title": "[FIRING:1] DiskFull", "state": "alerting", "message": "Disk is 95% full",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull", "severity": "warning"},
        "commonAnnotations": {}, "externalURL": "http://grafana.example/",
        "alerts": [{"status": status, "labels": {"alertname": "DiskFull"}, "annotations": {},
                    "startsAt": "2026-12-01T14:05:00Z", "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://grafana.example/alerting/1/edit",
                    "fingerprint": "c6eadffa33fcdf37",
                    "dashboardURL": "http://grafana.example/d/abc",
                    "panelURL": "http://grafana.example/d/abc?viewPanel=1",
                    "values": {"B": 95.0}}],
    }


def running_alert_stack(engine: Engine, tmp_path: Path, config: str) -> Iterator[Stack]:
    """A fixture's body: the stack on `config`, closed after, with no Slack misuse."""
    path = tmp_path / "debrief.yaml"
    path.write_text(config)
    s = start_alert_stack(engine, path)
    yield s
    s.close()
    assert s.slack.violations == []


@pytest.fixture
def alerts_stack(engine: Engine, tmp_path: Path) -> Iterator[Stack]:
    yield from running_alert_stack(engine, tmp_path, CONFIG)


def start_alert_stack(engine: Engine, path: Path, pace: float = 0) -> Stack:
    stack = start_stack(engine, load_config(path), pace=pace,
                        alert_secrets={"ALERTS_TOKEN": TOKEN, "HOOKS_SECRET": SECRET})
    stack.slack.add_channel("alerts")
    stack.slack.add_channel("db-alerts")
    return stack


def post(stack: Stack, path: str, body: Any, *, token: str | None = TOKEN,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    if len(raw) > 1024 * 1024:
        return _post_too_large(stack, path, raw, token)
    request = urllib.request.Request(stack.server.url + path, data=raw, method="POST",
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"}
                                                 if token is not None else {}),
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:  # waitress's own 413 for a body past its cap is plain text
            return exc.code, {"error": raw.decode(errors="replace")}


def _post_too_large(stack: Stack, path: str, raw: bytes, token: str | None,
                    ) -> tuple[int, dict[str, Any]]:
    """The server answers 413 once it has the headers and may close while the body is
    still being sent (urllib then reports a broken pipe): read the answer regardless."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(stack.server.url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    try:
        try:
            conn.request("POST", path, body=raw, headers={"Authorization": f"Bearer {token}"})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the answer is already on its way back
        response = conn.getresponse()
        return response.status, {"error": response.read().decode(errors="replace")}
    finally:
        conn.close()


def messages(stack: Stack, name: str = "alerts") -> list[Any]:
    channel = next(c for c in stack.slack.channels.values() if c.name == name)
    with stack.slack.lock:
        return [m for m in channel.messages.values() if m.thread_ts is None]


def stored(stack: Stack) -> int:
    with stack.runtime.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM alert_groups")).scalar_one())


def synced(stack: Stack) -> bool:
    with stack.runtime.engine.connect() as conn:
        return not conn.execute(text(
            "SELECT count(*) FROM alert_groups WHERE synced_version < version")).scalar_one()


def test_alertmanager_group_posts_once_updates_in_place_and_resolves(alerts_stack: Stack,
                                                                     ) -> None:
    """A group's first notification posts one message; re-sent it updates that message
    (chat.update), and the resolved notification marks it resolved."""
    stack = alerts_stack
    status, answer = post(stack, "/alerts/prod-alertmanager", alertmanager_payload())
    assert (status, answer["status"]) == (202, "firing")
    [message] = stack.slack.wait_for(lambda: messages(stack) or None)
    shown = json.dumps(message.blocks)
    assert "HighLatency" in message.text and "FIRING" in message.text
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown  # escaped
    assert "2 firing" in shown and Action.ALERT_ACK.value in shown
    assert post(stack, "/alerts/prod-alertmanager", alertmanager_payload(n=3))[0] == 202
    stack.slack.wait_for(lambda: "3 firing" in json.dumps(messages(stack)[0].blocks))
    assert post(stack, "/alerts/prod-alertmanager",
                alertmanager_payload("resolved"))[0] == 202
    stack.slack.wait_for(lambda: "RESOLVED" in messages(stack)[0].text)
    assert len(messages(stack)) == 1 and len(stack.slack.calls_of("chat.postMessage")) == 1
    assert len(stack.slack.calls_of("chat.update")) >= 1
    assert Action.ALERT_ACK.value not in json.dumps(messages(stack)[0].blocks)
    stack.slack.wait_for(lambda: synced(stack))
    with stack.runtime.deps.uow() as tx:
        [group] = tx.alerts.groups()
    assert group.status == "resolved" and group.notifications == 3
    assert group.first_firing_at.isoformat() == "2026-12-01T14:00:00.123456+00:00"
    assert group.external_url == "http://alertmanager.example:9093"


def test_routes_by_label_and_groups_by_key(alerts_stack: Stack) -> None:
    """A label matcher routes a group to its own channel; different group keys make
    different messages."""
    stack = alerts_stack
    post(stack, "/alerts/prod-alertmanager", alertmanager_payload(key="a"))
    post(stack, "/alerts/prod-alertmanager",
         alertmanager_payload(key="b", labels={"team": "db"}))
    stack.slack.wait_for(lambda: messages(stack) and messages(stack, "db-alerts"))
    assert len(messages(stack)) == 1 and len(messages(stack, "db-alerts")) == 1


def test_grafana_payload_is_grouped_and_linked(alerts_stack: Stack) -> None:
    """Grafana's webhook: title, dashboard and panel links; a resend updates in place."""
    stack = alerts_stack
    assert post(stack, "/alerts/grafana", grafana_payload())[0] == 202
    [message] = stack.slack.wait_for(lambda: messages(stack) or None)
    shown = json.dumps(message.blocks)
    # Grafana's own "[FIRING:1] " is dropped: the state is the message's, said once.
    assert "DiskFull" in message.text and "[FIRING:1]" not in message.text
    assert message.text.count("FIRING") == 1 and "Dashboard" in shown
    assert "Disk is 95% full" in shown
    post(stack, "/alerts/grafana", grafana_payload("resolved"))
    stack.slack.wait_for(lambda: "RESOLVED" in messages(stack)[0].text)
    assert len(messages(stack)) == 1 and messages(stack)[0].text.count("RESOLVED") == 1


def test_a_resolved_for_a_group_never_seen_firing_posts_nothing(alerts_stack: Stack) -> None:
    """Alertmanager's "resolved" for a group Debrief never saw fire (it resolved before
    the webhook was set up) is answered 202 and ignored: no [RESOLVED] message as noise."""
    stack = alerts_stack
    status, answer = post(stack, "/alerts/prod-alertmanager", alertmanager_payload("resolved"))
    assert status == 202 and answer.get("ignored"), answer
    raw, headers = _signed({"title": "t", "status": "resolved", "dedup_key": "never"})
    assert post(stack, "/alerts/hooks", raw, headers=headers)[0] == 202
    assert stored(stack) == 0
    post(stack, "/alerts/prod-alertmanager", alertmanager_payload())  # fires: one message
    stack.slack.wait_for(lambda: messages(stack) or None)
    assert len(stack.slack.calls_of("chat.postMessage")) == 1


def test_alerts_alertmanager_left_out_are_counted(alerts_stack: Stack) -> None:
    """`truncatedAlerts` (Alertmanager's max_alerts): the message says how many more
    there are, not "2 firing" of 502."""
    stack = alerts_stack
    assert post(stack, "/alerts/prod-alertmanager",
                {**alertmanager_payload(), "truncatedAlerts": 500})[0] == 202
    [message] = stack.slack.wait_for(lambda: messages(stack) or None)
    assert "2 firing (+500 more not listed by the sender)" in json.dumps(message.blocks)
    for bad in (-1, "500", True, None):  # anything else counts as none, and is stored
        body = {**alertmanager_payload(key=f"k{bad}"), "truncatedAlerts": bad}
        assert post(stack, "/alerts/prod-alertmanager", body)[0] == 202


def test_nul_characters_are_dropped_not_a_failed_delivery(alerts_stack: Stack) -> None:
    """JSON may carry "\\u0000"; PostgreSQL's text may not: dropped, so the delivery is
    stored (on both databases) rather than answered 503 on every retry."""
    stack = alerts_stack
    body = alertmanager_payload(key="nul\u0000key")
    body["commonAnnotations"] = {"summary": "Disk\u0000 full"}
    status, answer = post(stack, "/alerts/prod-alertmanager", body)
    assert status == 202, answer
    [message] = stack.slack.wait_for(lambda: messages(stack) or None)
    assert "Disk full" in message.text and "\x00" not in json.dumps(message.blocks)


def _signed(body: dict[str, Any], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    return raw, {"X-Debrief-Signature":
                 "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()}


def test_generic_payload_with_hmac(alerts_stack: Stack) -> None:
    """The generic schema, signed: stored and posted; the dedup key groups resends."""
    stack = alerts_stack
    body = {"title": "Queue backlog", "severity": "high", "status": "firing",
            "dedup_key": "queue-1", "labels": {"queue": "orders"},
            "links": [{"url": "https://runbooks.example/queue", "text": "Runbook"}]}
    raw, headers = _signed(body)
    assert post(stack, "/alerts/hooks", raw, headers=headers)[0] == 202
    raw, headers = _signed({**body, "status": "resolved"})
    assert post(stack, "/alerts/hooks", raw, headers=headers)[0] == 202
    stack.slack.wait_for(lambda: messages(stack) and "RESOLVED" in messages(stack)[0].text)
    assert "Runbook" in json.dumps(messages(stack)[0].blocks) and stored(stack) == 1


@pytest.mark.parametrize("case", ["no token", "wrong token", "basic auth", "bad signature",
                                  "no signature", "not json", "not an object", "no alerts",
                                  "bad status", "wrong version", "unknown field",
                                  "too large", "unknown integration", "GET",
                                  "nested too deeply"])
def test_refusals_are_clear_4xx_and_store_nothing(alerts_stack: Stack, case: str) -> None:
    """Bad tokens (401), bad signatures (401), malformed or wrongly shaped bodies (400),
    oversized bodies (413): one JSON error line, nothing stored, nothing posted."""
    stack = alerts_stack
    good = alertmanager_payload()
    generic = {"title": "t", "status": "firing", "dedup_key": "k"}
    path, body, token, headers = "/alerts/prod-alertmanager", good, TOKEN, {}
    expected = 400
    if case == "no token":
        token, expected = None, 401
    elif case == "wrong token":
        token, expected = TOKEN + "x", 401
    elif case == "basic auth":
        token, headers, expected = None, {"Authorization": "Basic YTpi"}, 401
    elif case == "bad signature":
        path, (body, headers) = "/alerts/hooks", _signed(generic, "wrong")
        expected = 401
    elif case == "no signature":
        path, body, expected = "/alerts/hooks", generic, 401
    elif case == "not json":
        body = b"{not json"
    elif case == "not an object":
        body = [1, 2]
    elif case == "no alerts":
        body = {**good, "alerts": []}
    elif case == "bad status":
        body = {**good, "status": "exploding"}
    elif case == "wrong version":
        body = {**good, "version": "3"}
    elif case == "unknown field":
        path, (body, headers) = "/alerts/hooks", _signed({**generic, "colour": "red"})
    elif case == "too large":
        body, expected = b"x" * (1024 * 1024 + 1), 413
    elif case == "nested too deeply":
        body = b"[" * 100_000 + b"]" * 100_000
    elif case == "unknown integration":
        path, expected = "/alerts/nope", 404
    status, answer = (post(stack, path, body, token=token, headers=headers)
                      if case != "GET" else _get(stack, path))
    if case == "GET":
        expected = 405
    assert status == expected, answer
    assert isinstance(answer.get("error"), str) and answer["error"]
    assert stored(stack) == 0
    assert not stack.slack.calls_of("chat.postMessage")


def _get(stack: Stack, path: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(stack.server.url + path,
                                     headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_storm_of_deliveries_makes_one_message_per_group_paced(engine: Engine,
                                                               tmp_path: Path) -> None:
    """1,000 deliveries from 8 senders across 20 groups: 20 messages, each showing its
    group's last state, posted at the channel's pace (10/s here, bursts of 4)."""
    path = tmp_path / "debrief.yaml"
    path.write_text(CONFIG)
    stack = start_alert_stack(engine, path, pace=10)
    try:
        def sender(worker: int) -> None:
            for i in range(worker, 1000, 8):
                body = {"title": f"Storm group {i % 20}", "status": "firing",
                        "dedup_key": f"storm-{i % 20}", "labels": {"n": str(i)}}
                raw, headers = _signed(body)
                status, _ = post(stack, "/alerts/hooks", raw, headers=headers)
                assert status == 202

        threads = [threading.Thread(target=sender, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        stack.slack.wait_for(lambda: synced(stack), timeout=60)
        shown = messages(stack)
        assert len(shown) == 20 and len(stack.slack.calls_of("chat.postMessage")) == 20
        with stack.runtime.deps.uow() as tx:
            groups = tx.alerts.groups()
        assert sum(g.notifications for g in groups) == 1000
        stamps = sorted(float(m.ts) for m in shown)
        assert stamps[-1] - stamps[0] >= (20 - 4) / 10 * 0.9, "posts were not paced"
        for group in groups:  # each message shows its group's last delivery
            message = next(m for m in shown if m.ts == group.message_ts)
            assert f"Updates*\\n{group.notifications}" in json.dumps(message.blocks)
    finally:
        stack.close()
    assert stack.slack.violations == []


def test_acknowledge_and_resolve_buttons_record_who_and_when(alerts_stack: Stack) -> None:
    """Acknowledge on the alert's message records who and when and updates the message;
    Resolve closes it; a second Acknowledge changes nothing."""
    stack = alerts_stack
    post(stack, "/alerts/prod-alertmanager", alertmanager_payload())
    [message] = stack.slack.wait_for(lambda: messages(stack) or None)
    channel = next(c.id for c in stack.slack.channels.values() if c.name == "alerts")
    click = stack.client.click(Action.ALERT_ACK, user="U02BOB", channel=channel,
                               message_ts=message.ts, value="1")
    assert click.status == 200
    assert "acknowledged" in stack.client.reply_to(click)["text"]
    stack.slack.wait_for(lambda: "ACKNOWLEDGED" in messages(stack)[0].text)
    assert "<@U02BOB>" in json.dumps(messages(stack)[0].blocks)
    again = stack.client.click(Action.ALERT_ACK, user="U01ALICE", channel=channel,
                               message_ts=message.ts, value="1")
    assert "already acknowledged" in stack.client.reply_to(again)["text"]
    done = stack.client.click(Action.ALERT_RESOLVE, user="U01ALICE", channel=channel,
                              message_ts=message.ts, value="1")
    assert "resolved" in stack.client.reply_to(done)["text"]
    stack.slack.wait_for(lambda: "RESOLVED" in messages(stack)[0].text)
    with stack.runtime.deps.uow() as tx:
        group = tx.alerts.get(1)
    assert group is not None and group.acknowledged_by == "U02BOB"
    assert group.acknowledged_at is not None and group.status == "resolved"


def test_cli_lists_and_shows_alert_groups(alerts_stack: Stack, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """`debrief alerts list --open --json` and `alerts show ID --json`."""
    from bot.cli import main

    stack = alerts_stack
    post(stack, "/alerts/prod-alertmanager", alertmanager_payload())
    post(stack, "/alerts/grafana", grafana_payload())
    post(stack, "/alerts/grafana", grafana_payload("resolved"))
    stack.slack.wait_for(lambda: synced(stack))
    monkeypatch.setenv("DATABASE_URL", stack.runtime.engine.url.render_as_string(
        hide_password=False))
    assert main(["alerts", "list", "--open", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["integration"] == "prod-alertmanager" and listed["status"] == "firing"
    assert main(["alerts", "show", str(listed["id"]), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    for key in ("integration", "title", "status", "first_firing_at", "last_firing_at",
                "acknowledged_by", "acknowledged_at", "escalation_steps", "incident"):
        assert key in shown
    assert [e["kind"] for e in shown["events"]] == ["received", "posted"]
    assert main(["alerts", "list"]) == 0
    assert "DiskFull" in capsys.readouterr().out
    assert main(["alerts", "show", "999"]) == 2


ESCALATING = CONFIG.replace("""    hooks:
      kind: generic""", """    paging:
      kind: generic
      token_env: ALERTS_TOKEN
      channel: "#alerts"
      escalation: default
    hooks:
      kind: generic""") + """  escalations:
    default:
      - notify: {users: [U01ALICE]}
      - wait: 5m
      - notify: {users: [U02BOB]}
"""


def test_escalation_pages_by_dm_past_an_unanswered_step_until_acknowledged(
        engine: Engine, tmp_path: Path) -> None:
    """Alice is paged by DM (with the buttons) right after the delivery, without waiting
    for a scheduler tick, and does not answer; five minutes later Bob is paged; his
    Acknowledge in the DM stops the escalation and is shown in the channel message,
    which mentions both."""
    from datetime import timedelta

    from bot.services.alerts import escalate_due

    path = tmp_path / "debrief.yaml"
    path.write_text(ESCALATING)
    stack = start_alert_stack(engine, path)
    try:
        body = {"title": "Checkout 5xx", "status": "firing", "dedup_key": "checkout"}
        assert post(stack, "/alerts/paging", body)[0] == 202
        stack.slack.wait_for(lambda: synced(stack))
        deps = stack.runtime.deps
        alice_dm = stack.slack.wait_for(lambda: stack.slack.channels.get("D01ALICE"))

        def recorded() -> bool:  # the DM is out; wait for the step's record too
            with deps.uow() as tx:
                group = tx.alerts.get(1)
            return group is not None and len(group.steps) == 1

        stack.slack.wait_for(recorded)
        start = deps.now()
        assert escalate_due(deps, start) == []  # step 0 went out already
        [page] = list(alice_dm.messages.values())
        assert "You are being paged" in page.text
        assert Action.ALERT_ACK.value in json.dumps(page.blocks)
        assert escalate_due(deps, start + timedelta(minutes=4)) == []
        assert escalate_due(deps, start + timedelta(minutes=5)) == ["alert-step:1:2"]
        bob_dm = stack.slack.wait_for(lambda: stack.slack.channels.get("D02BOB"))
        [bob_page] = list(bob_dm.messages.values())
        click = stack.client.click(Action.ALERT_ACK, user="U02BOB", channel="D02BOB",
                                   message_ts=bob_page.ts, value="1")
        assert "escalation stops" in stack.client.reply_to(click)["text"]
        stack.slack.wait_for(lambda: "ACKNOWLEDGED" in messages(stack)[0].text)
        shown = json.dumps(messages(stack)[0].blocks)
        assert "<@U01ALICE>" in shown and "<@U02BOB>" in shown
        assert escalate_due(deps, start + timedelta(hours=1)) == []
    finally:
        stack.close()
    assert stack.slack.violations == []


def test_declare_from_alert_prefills_links_and_starts_the_timeline(alerts_stack: Stack,
                                                                    ) -> None:
    """"Declare incident" on the alert opens the declare form with the alert's title, the
    severity its labels suggest (critical → SEV1) and the tags its `service` and `team`
    labels suggest; submitting declares the incident with them, links the group (the
    message names it, no second Declare) and the timeline starts with the alert."""
    from bot.services.timeline import timeline_of
    from bot.slack.ids import Block, Field

    stack = alerts_stack
    post(stack, "/alerts/prod-alertmanager",
         alertmanager_payload(labels={"service": "Checkout API", "team": "SRE"}))
    [message] = stack.slack.wait_for(lambda: messages(stack) or None)
    channel = next(c.id for c in stack.slack.channels.values() if c.name == "alerts")
    click = stack.client.click(Action.ALERT_DECLARE, user="U01ALICE", channel=channel,
                               message_ts=message.ts, value="1")
    assert click.status == 200
    view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
    title_block = next(b for b in view["blocks"] if b["block_id"] == Block.TITLE.value)
    severity_block = next(b for b in view["blocks"] if b["block_id"] == Block.SEVERITY.value)
    assert "HighLatency" in title_block["element"]["initial_value"]
    assert severity_block["element"]["initial_option"]["value"] == "SEV1"
    tags_block = next(b for b in view["blocks"] if b["block_id"] == Block.TAGS.value)
    assert tags_block["element"]["initial_value"] == "service:checkout-api team-sre"
    values = {Block.TITLE: {Field.TITLE: {"type": "plain_text_input",
                                          "value": title_block["element"]["initial_value"]}},
              Block.SEVERITY: {Field.SEVERITY: {"type": "static_select",
                                                "selected_option": {"value": "SEV1"}}},
              Block.TAGS: {Field.TAGS: {"type": "plain_text_input",
                                        "value": tags_block["element"]["initial_value"]}}}
    # Bob opened the same form meanwhile; Alice submits first.
    stack.client.click(Action.ALERT_DECLARE, user="U02BOB", channel=channel,
                       message_ts=message.ts, value="1")
    bobs = stack.slack.wait_for(lambda: stack.slack.views[-1]
                                if stack.slack.views[-1]["id"] != view["id"] else None)
    assert stack.client.submit(view, values, user="U01ALICE").status == 200
    stack.slack.wait_for(lambda: "Incident #1" in json.dumps(messages(stack)[0].blocks))
    late = stack.client.submit(bobs, values, user="U02BOB").json()  # one incident, not two
    assert late["response_action"] == "errors"
    assert "already incident #1" in json.dumps(late["errors"])
    with stack.runtime.deps.uow() as tx:
        assert tx.incidents.get(2) is None
    assert Action.ALERT_DECLARE.value not in json.dumps(messages(stack)[0].blocks)
    incident, items = timeline_of(1, stack.runtime.deps.uow)
    assert (incident.severity, incident.tags) == ("SEV1", ("service:checkout-api", "team-sre"))
    assert "Alert from prod-alertmanager" in items[0].text, [i.text for i in items]
    with stack.runtime.deps.uow() as tx:
        assert tx.alerts.get(1).incident_number == 1  # type: ignore[union-attr]
    again = stack.client.click(Action.ALERT_DECLARE, user="U01ALICE", channel=channel,
                               message_ts=message.ts, value="1")
    assert "already incident #1" in stack.client.reply_to(again)["text"]


def test_declare_from_alert_suggests_related_incidents(alerts_stack: Stack) -> None:
    """An incident declared from an alert gets the related past incidents too: here the
    one with the service its `service` label names."""
    from bot.slack.ids import Block, Field
    from tests.helpers import declare

    stack = alerts_stack
    past = declare(stack, "declare sev2 Checkout API slow service:checkout-api")
    post(stack, "/alerts/prod-alertmanager",
         alertmanager_payload(labels={"service": "checkout-api"}))
    [message] = stack.slack.wait_for(lambda: messages(stack) or None)
    channel = next(c.id for c in stack.slack.channels.values() if c.name == "alerts")
    stack.client.click(Action.ALERT_DECLARE, user="U01ALICE", channel=channel,
                       message_ts=message.ts, value="1")
    view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
    values = {Block.TITLE: {Field.TITLE: {"type": "plain_text_input", "value": "p99 latency"}},
              Block.TAGS: {Field.TAGS: {"type": "plain_text_input",
                                        "value": "service:checkout-api"}}}
    assert stack.client.submit(view, values, user="U01ALICE").status == 200
    incident = stack.slack.wait_for(lambda: (i := stack.incident(2)) and i.channel_id and i)

    def suggested() -> list[str]:
        with stack.slack.lock:
            return [m.text for m in stack.slack.channels[incident.channel_id].messages.values()
                    if "Related past incidents" in (m.text or "")]
    [text] = stack.slack.wait_for(lambda: suggested() or None)
    assert f"*#{past.number}*" in text and "shares `service:checkout-api`" in text


def test_home_tab_lists_the_open_alerts_that_paged_you(engine: Engine, tmp_path: Path) -> None:
    """Alice is paged for one group of seven firing: her Home tab lists it (firing, since
    when, its channel), Bob's does not; when Bob is paged and acknowledges, Alice's open
    tab follows by itself; resolved, it is gone. Seven groups paging her: five shown and
    a "see all" line, within Slack's limits."""
    from datetime import timedelta

    from bot.services.alerts import escalate_due
    from bot.slack.home import home_as_text
    from bot.standin.limits import block_kit_problems

    path = tmp_path / "debrief.yaml"
    path.write_text(ESCALATING)
    stack = start_alert_stack(engine, path)

    def home(user: str, after: str | None = None) -> dict[str, Any]:
        if after is None:
            assert stack.client.open_home(user).status == 200
        view: dict[str, Any] = stack.slack.wait_for(
            lambda: (v := stack.slack.homes.get(user)) is not None and v["id"] != after and v)
        return view

    try:
        body = {"title": "Checkout 5xx <!channel>", "status": "firing", "dedup_key": "checkout"}
        assert post(stack, "/alerts/paging", body)[0] == 202
        stack.slack.wait_for(lambda: synced(stack))
        deps = stack.runtime.deps
        start = deps.now()

        def paged(prefix: str, count: int) -> bool:  # the worker pages the first step at once
            with deps.uow() as tx:  # (ids: PostgreSQL's sequence skips on upserts)
                groups = [g for g in tx.alerts.groups() if g.title.startswith(prefix)]
            return len(groups) == count and all(g.steps for g in groups)

        stack.slack.wait_for(lambda: paged("Checkout", 1))
        assert escalate_due(deps, start) == []  # step 0 went out already
        with deps.uow() as tx:  # the wait counts from when it went out (after `start`)
            [first] = [g for g in tx.alerts.groups() if g.title.startswith("Checkout")]
        paged_at = first.steps[0].at
        alice = home("U01ALICE")
        text = home_as_text(alice)
        assert "OPEN ALERTS THAT PAGED YOU" in text
        assert ":rotating_light: Checkout 5xx <!channel> · *firing* · since" in text
        assert "&lt;!channel&gt;" in json.dumps(alice["blocks"])  # escaped: pings nobody
        assert "OPEN ALERTS" not in home_as_text(home("U02BOB"))

        assert escalate_due(deps, paged_at + timedelta(minutes=5)) == [
            f"alert-step:{first.id}:2"]
        bob_dm = stack.slack.wait_for(lambda: stack.slack.channels.get("D02BOB"))
        [page] = list(bob_dm.messages.values())
        stack.client.click(Action.ALERT_ACK, user="U02BOB", channel="D02BOB",
                           message_ts=page.ts, value="1")
        alice = stack.slack.wait_for(lambda: (v := stack.slack.homes["U01ALICE"]) and
                                     "acknowledged by" in home_as_text(v) and v, timeout=30)
        assert "acknowledged by @U02BOB" in home_as_text(alice)
        # Bob's tab (opened before) follows too: he was paged.
        stack.slack.wait_for(lambda: "OPEN ALERTS" in home_as_text(stack.slack.homes["U02BOB"]),
                             timeout=30)
        assert post(stack, "/alerts/paging", {**body, "status": "resolved"})[0] == 202
        stack.slack.wait_for(lambda: synced(stack))
        stack.slack.wait_for(lambda: "OPEN ALERTS" not in home_as_text(
            stack.slack.homes["U01ALICE"]), timeout=30)

        for i in range(7):
            assert post(stack, "/alerts/paging", {"title": f"Disk {i}", "status": "firing",
                                                  "dedup_key": f"disk-{i}"})[0] == 202
        stack.slack.wait_for(lambda: synced(stack))
        later = start + timedelta(hours=1)
        escalate_due(deps, later)  # what the worker has not paged yet (claims: once each)
        stack.slack.wait_for(lambda: paged("Disk", 7), timeout=30)
        view = stack.slack.wait_for(lambda: (v := stack.slack.homes["U01ALICE"]) and
                                    "Disk" in home_as_text(v) and v, timeout=30)
        text = home_as_text(view)
        assert text.count(":rotating_light: Disk") == 5
        assert "…and 2 more: see all with the alert channels (or `debrief alerts list " \
            "--open`)." in text
        assert block_kit_problems(view["blocks"], 100) == []
    finally:
        stack.close()
    assert stack.slack.violations == []
