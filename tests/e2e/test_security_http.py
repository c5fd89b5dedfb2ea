"""The HTTP surface as an attacker sees it: nothing from an unverified request is acted on,
payloads of the wrong shape are refused, bodies are capped before they are read, logs
carry no request bodies and no forged lines, /metrics can be locked."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_bolt import BoltRequest
from sqlalchemy import Engine, inspect, text

from bot.config import Settings
from bot.server import MAX_BODY_BYTES
from bot.slack.replies import WORKER
from bot.standin.client import SlackClient, sign
from bot.standin.server import FakeSlack
from tests.conftest import Stack
from tests.helpers import FUZZ, JSON, free_port, stop, wait_healthy

MARKER = "zq-request-body-marker"


class Listener:
    """A local HTTP server standing for "any URL" an attacker could name as response_url."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                hits.append(self.path)
                self.send_response(200)
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def rows(engine: Engine) -> dict[str, int]:
    """Row counts of every table but Alembic's."""
    with engine.connect() as conn:
        return {t: conn.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one()
                for t in inspect(conn).get_table_names() if t != "alembic_version"}


def bodies(stack: Stack, hook: str) -> list[tuple[bytes, str]]:
    """A slash command, a button click and a message event, each naming `hook` or the
    person to write to, with MARKER in the user text."""
    slash = urlencode({"command": "/incident", "text": f"declare sev1 {MARKER}",
                       "user_id": "U01ALICE", "channel_id": stack.general,
                       "response_url": hook, "trigger_id": "t.1", "team_id": "T00000001"})
    click = {"type": "block_actions", "user": {"id": "U01ALICE"}, "response_url": hook,
             "team": {"id": "T00000001"}, "actions": [{"action_id": "incident-ack",
                                                       "value": MARKER}]}
    event = {"type": "event_callback", "team_id": "T00000001", "api_app_id": "A1",
             "event": {"type": "message", "channel": stack.general, "user": "U01ALICE",
                       "text": MARKER, "ts": "1700000000.000100"}, "event_id": "Ev1"}
    return [(slash.encode(), "application/x-www-form-urlencoded"),
            (urlencode({"payload": json.dumps(click)}).encode(),
             "application/x-www-form-urlencoded"),
            (json.dumps(event).encode(), "application/json")]


def _headers(case: str, secret: str, body: bytes) -> dict[str, str]:
    now = str(int(time.time()))
    match case:
        case "non-numeric timestamp":
            return {"X-Slack-Request-Timestamp": "abc",
                    "X-Slack-Signature": sign(secret, "abc", body)}
        case "empty timestamp":
            return {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": sign(secret, "", body)}
        case "missing timestamp":
            return {"X-Slack-Signature": sign(secret, now, body)}
        case "huge timestamp":
            huge = "9" * 40
            return {"X-Slack-Request-Timestamp": huge, "X-Slack-Signature": sign(secret, huge, body)}
        case "superscript digits":
            digits = "²³¹"  # str.isdigit() says yes, int() raises
            return {"X-Slack-Request-Timestamp": digits,
                    "X-Slack-Signature": sign(secret, digits, body)}
        case "stale timestamp":
            old = str(int(time.time()) - 301)
            return {"X-Slack-Request-Timestamp": old, "X-Slack-Signature": sign(secret, old, body)}
        case "missing signature":
            return {"X-Slack-Request-Timestamp": now}
        case "garbled signature":
            return {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=zz/" + "a" * 70}
        case "wrong secret":
            return {"X-Slack-Request-Timestamp": now,
                    "X-Slack-Signature": sign("not-the-secret", now, body)}
    raise AssertionError(case)


UNVERIFIED = ["non-numeric timestamp", "empty timestamp", "missing timestamp", "huge timestamp",
              "superscript digits", "stale timestamp", "missing signature", "garbled signature",
              "wrong secret"]


@pytest.mark.parametrize("case", UNVERIFIED)
def test_unverified_requests_get_401_and_nothing_is_acted_on(
        stack: Stack, listener: Listener, case: str, caplog: pytest.LogCaptureFixture) -> None:
    """A request failing verification for any reason gets 401: no Web API call, nothing
    posted to its response_url, no database write, and its body in no log line."""
    caplog.set_level(logging.DEBUG)
    calls, before = len(stack.slack.calls), rows(stack.runtime.engine)
    for body, content_type in bodies(stack, listener.url):
        reply = stack.client.post(body, content_type, signed=False,
                                  headers=_headers(case, stack.client.secret, body))
        assert reply.status == 401, reply.body
    WORKER.drain()
    assert stack.slack.calls[calls:] == []
    assert stack.slack.responses == [] and listener.hits == []
    assert rows(stack.runtime.engine) == before
    assert MARKER not in caplog.text
    assert "not verified" in caplog.text


def test_a_verified_request_still_works(stack: Stack, listener: Listener) -> None:
    """The same bodies, signed, are acted on (the 401s above are not an artefact)."""
    slash_body, content_type = bodies(stack, stack.slack.response_url())[0]
    reply = stack.client.post(slash_body, content_type)
    assert reply.status == 200
    stack.slack.wait_for(lambda: stack.slack.calls_of("conversations.create"))


BAD_SHAPES: dict[str, dict[str, Any]] = {
    "actions [null]": {"type": "block_actions", "actions": [None]},
    "actions not a list": {"type": "block_actions", "actions": "incident-ack"},
    "actions empty": {"type": "block_actions", "actions": []},
    "action without action_id": {"type": "block_actions", "actions": [{"value": "1"}]},
    "action_id not a string": {"type": "block_actions", "actions": [{"action_id": 7}]},
    "user not an object": {"type": "block_actions", "user": "U01ALICE",
                           "actions": [{"action_id": "incident-ack", "value": "1"}]},
    "team a number": {"type": "block_actions", "team": 5,
                      "actions": [{"action_id": "incident-ack", "value": "1"}]},
    "view.state a string": {"type": "view_submission",
                            "view": {"callback_id": "incident-declare", "state": "x"}},
    "view.state.values a list": {"type": "view_submission",
                                 "view": {"callback_id": "incident-declare",
                                          "state": {"values": [1]}}},
    "view a list": {"type": "view_submission", "view": []},
    "authorizations a number": {"type": "block_actions", "authorizations": 3,
                                "actions": [{"action_id": "incident-ack", "value": "1"}]},
    "payload a list": [1, 2],  # type: ignore[dict-item]
}


@pytest.mark.parametrize("name", list(BAD_SHAPES))
def test_signed_payloads_of_the_wrong_shape_get_400_and_do_nothing(
        stack: Stack, listener: Listener, name: str) -> None:
    """A signed interactive payload of the wrong shape is bad input: 400, nothing sent
    anywhere, nothing stored."""
    payload = BAD_SHAPES[name]
    if isinstance(payload, dict):
        payload = {"user": {"id": "U01ALICE"}, "response_url": listener.url,
                   "team": {"id": "T00000001"}, **payload}
    calls, before = len(stack.slack.calls), rows(stack.runtime.engine)
    reply = stack.client.interactive(payload)  # type: ignore[arg-type]
    assert reply.status == 400, reply.body
    WORKER.drain()
    assert stack.slack.calls[calls:] == [] and listener.hits == []
    assert rows(stack.runtime.engine) == before


def test_signed_non_utf8_and_non_json_bodies_get_400(stack: Stack) -> None:
    """Bytes that are not UTF-8, or broken JSON, are refused with 400 once verified."""
    assert stack.client.post(b"\xff\xfe payload", "application/x-www-form-urlencoded"
                             ).status == 400
    assert stack.client.post(b"{not json", "application/json").status == 400
    assert stack.client.post(b"payload=%7Bnot", "application/x-www-form-urlencoded"
                             ).status == 400


def _raw_post(port: int, headers: dict[str, str], body: Iterator[bytes], total: int,
              chunked: bool) -> dict[str, Any]:
    """POST a streamed body over a raw socket; the status (None if the server closed the
    connection before a status line reached us) and how many body bytes went out."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    head = "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {total}\r\n"
    sent = 0
    try:
        sock.sendall((head + "\r\n").encode())
        for chunk in body:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            sent += len(chunk)
        if chunked:
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server stopped reading and closed: expected for an oversized body
    status: int | None = None
    try:
        first = sock.recv(4096).split(b"\r\n", 1)[0].decode()
        status = int(first.split()[1]) if first.startswith("HTTP/") else None
    except OSError:
        pass
    finally:
        sock.close()
    return {"status": status, "sent": sent}


def _vm_rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]


def test_large_bodies_are_refused_before_they_are_read(tmp_path: Path) -> None:
    """Four concurrent 100 MiB bodies (Content-Length, then chunked) into a real `debrief
    run` each get 413 (or the connection closed before they were taken) and do not raise
    the process's memory by more than a few MiB."""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to read the process's memory")
    slack = FakeSlack().start()
    port, secret = free_port(), secrets.token_hex(8)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--host", "127.0.0.1"], cwd=tmp_path, text=True,
        env={"PATH": os.environ.get("PATH", ""), "SLACK_BOT_TOKEN": slack.token,
             "SLACK_SIGNING_SECRET": secret, "SLACK_API_URL": slack.api_url,
             "PORT": str(port)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    total, piece = 100 * 1024 * 1024, b"x" * (256 * 1024)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
        client = SlackClient(f"http://127.0.0.1:{port}", secret, slack)
        assert client.slash("help", user="U01ALICE").status == 200  # warm
        baseline, peak = _vm_rss_kib(process.pid), [0]
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _vm_rss_kib(process.pid))
                done.wait(0.01)

        watcher = threading.Thread(target=watch)
        watcher.start()
        results: list[dict[str, Any]] = []
        for chunked in (False, True):
            def one(chunked: bool = chunked) -> None:
                ts = str(int(time.time()))
                stream = (piece for _ in range(total // len(piece)))
                results.append(_raw_post(port, {"X-Slack-Request-Timestamp": ts,
                                                "X-Slack-Signature": "v0=" + "0" * 64,
                                                "Content-Type": "application/json"},
                                         stream, total, chunked))
            threads = [threading.Thread(target=one) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
        done.set()
        watcher.join()
        assert len(results) == 8
        for result in results:  # None: the connection was reset right after the 413
            assert result["status"] in (413, None), result
        grew_mib = (peak[0] - baseline) / 1024
        print(f"statuses {[r['status'] for r in results]}; "
              f"RSS {baseline / 1024:.1f} MiB -> peak {peak[0] / 1024:.1f} MiB "
              f"(+{grew_mib:.1f} MiB) over 8 x 100 MiB uploads")
        assert grew_mib < 5
        # and the server is still fine
        assert client.slash("help", user="U01ALICE").status == 200
    finally:
        stop(process)
        slack.stop()


def test_a_body_over_the_cap_gets_413_and_one_under_is_verified(stack: Stack) -> None:
    """The cap is MAX_BODY_BYTES (1 MiB): one byte more is 413 even when signed; a body
    just under it is checked for its signature as usual."""
    assert MAX_BODY_BYTES == 1024 * 1024
    port = int(stack.server.url.rsplit(":", 1)[1])
    ts = str(int(time.time()))
    big = b"x" * (MAX_BODY_BYTES + 1)
    over = _raw_post(port, {"X-Slack-Request-Timestamp": ts,
                            "X-Slack-Signature": sign(stack.client.secret, ts, big),
                            "Content-Type": "application/json"},
                     iter([big]), len(big), chunked=False)
    assert over["status"] in (413, None)  # None: closed (reset) right after the 413
    under = b"{" + b" " * (MAX_BODY_BYTES - 2) + b"}"
    assert stack.client.post(under, "application/json", secret="wrong").status == 401
    chunked = _raw_post(port, {"X-Slack-Request-Timestamp": str(int(time.time())),
                               "Content-Type": "application/json"},
                        iter([b"y" * 65536] * 20), 20 * 65536, chunked=True)
    assert chunked["status"] in (413, None)


def _run_process(env: dict[str, str], cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bot", "run", *args], cwd=cwd, text=True,
                            env={"PATH": os.environ.get("PATH", ""), **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_logs_of_a_real_process_carry_no_bodies_and_no_forged_lines(tmp_path: Path) -> None:
    """`debrief run` (text logs): unverified requests and payloads Bolt does not handle
    leave no trace of their bodies; a newline in something a person sent cannot start a
    new log line."""
    slack = FakeSlack().start()
    slack.add_channel("incidents")
    port, secret = free_port(), secrets.token_hex(8)
    process = _run_process({"SLACK_BOT_TOKEN": slack.token, "SLACK_SIGNING_SECRET": secret,
                            "SLACK_API_URL": slack.api_url, "PORT": str(port)}, tmp_path,
                           "--host", "127.0.0.1")
    forged = "2026-01-01 00:00:00,000 ERROR forged [req=None inc=None]: FORGED"
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
        client = SlackClient(f"http://127.0.0.1:{port}", secret, slack)
        assert client.slash(f"declare {MARKER}", user="U01ALICE", secret="wrong").status == 401
        # Payloads nobody handles: Bolt logs them ("Unhandled request (...)").
        assert client.interactive({"type": "dialog_submission", "callback_id": "d",
                                   "submission": {"field": MARKER},
                                   "user": {"id": "U01ALICE"}}).status < 500
        assert client.interactive({"type": "interactive_message", "callback_id": "c",
                                   "actions": [{"name": "n", "value": MARKER}],
                                   "user": {"id": "U01ALICE"}}).status < 500
        assert client.interactive({"type": "block_actions", "user": {"id": "U01ALICE"},
                                   "actions": [{"action_id": MARKER, "value": "v"}]}
                                  ).status < 500
        # A user id nobody knows, with a line break: logged by the time zone lookup.
        reply = client.slash("override platform <@U02BOB> today 18:00 to tomorrow 09:00",
                             user=f"U09\r\n{forged}", command="/oncall")
        assert reply.status == 200
        slack.wait_for(lambda: slack.calls_of("users.info", ok_only=False), timeout=20)
        client.reply_to(reply, timeout=20)
    finally:
        output = stop(process)
        slack.stop()
    assert MARKER not in output
    assert "request data withheld" in output
    assert not any(line.startswith("2026-01-01 00:00:00,000") for line in output.splitlines())
    assert "\\r\\n" + forged in output  # escaped, on the line it belongs to


def test_the_logging_config_masks_passwords_and_escapes_tracebacks(tmp_path: Path) -> None:
    """With the real logging set-up, a database URL's password is masked in messages and
    tracebacks, and a traceback's lines cannot pass for new records."""
    script = (
        "import logging\n"
        "from bot.runtime import configure_logging\n"
        "configure_logging('text')\n"
        "log = logging.getLogger('t')\n"
        "log.error('connecting to %s', 'postgresql://debrief:s3cret-pw@db:5432/x')\n"
        "try:\n"
        "    raise RuntimeError('postgresql://debrief:s3cret-pw@db/x\\n2026-01-01 00:00:00 X')\n"
        "except RuntimeError:\n"
        "    log.exception('failed')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, text=True,
                          capture_output=True, timeout=60,
                          env={"PATH": os.environ.get("PATH", ""),
                               "PYTHONPATH": str(Path(__file__).parents[2])})
    assert "s3cret-pw" not in done.stderr
    assert "postgresql://debrief:***@db:5432/x" in done.stderr
    assert not any(line.startswith("2026-01-01") for line in done.stderr.splitlines())


def test_settings_repr_hides_the_database_password() -> None:
    """repr(Settings) shows the database URL with the password masked, and no tokens."""
    settings = Settings.from_env({"DATABASE_URL": "postgresql://debrief:s3cret-pw@db/x",
                                  "SLACK_BOT_TOKEN": "xoxb-1-2", "DEBRIEF_METRICS_TOKEN": "m-tok"})
    shown = repr(settings)
    assert "s3cret-pw" not in shown and "xoxb-1-2" not in shown and "m-tok" not in shown
    assert "postgresql://debrief:***@db/x" in shown


def _get(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"}
                                     if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return int(error.code)


def test_metrics_token_and_listen_address(tmp_path: Path) -> None:
    """DEBRIEF_METRICS_TOKEN locks /metrics (401 without a token, 403 with a wrong one);
    DEBRIEF_HOST sets the listen address without --host."""
    slack = FakeSlack().start()
    port = free_port()
    process = _run_process({"SLACK_BOT_TOKEN": slack.token, "SLACK_SIGNING_SECRET": "s",
                            "SLACK_API_URL": slack.api_url, "PORT": str(port),
                            "DEBRIEF_HOST": "127.0.0.1", "DEBRIEF_METRICS_TOKEN": "m-tok"},
                           tmp_path)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
        metrics = f"http://127.0.0.1:{port}/metrics"
        assert _get(metrics) == 401
        assert _get(metrics, "wrong") == 403
        assert _get(metrics, "m-tok") == 200
    finally:
        output = stop(process)
        slack.stop()
    assert "listening on 127.0.0.1:" in output and "m-tok" not in output


def test_metrics_stay_open_without_a_token(stack: Stack) -> None:
    """Without DEBRIEF_METRICS_TOKEN /metrics answers anyone, as before."""
    assert _get(stack.server.url + "/metrics") == 200


@FUZZ
@given(where=st.sampled_from(["user", "team", "channel", "container", "message", "actions",
                              "actions.0", "actions.0.action_id", "actions.0.value",
                              "actions.0.selected_option", "view", "state", "response_url",
                              "trigger_id", "authorizations", "type"]),
       value=JSON)
def test_any_value_in_any_field_of_a_click_never_gives_a_5xx(stack: Stack, where: str,
                                                             value: Any) -> None:
    """A signed card click with any JSON value put in any of its fields answers below 500,
    and a refused (400) one leaves no trace in Slack."""
    incident_card_click: dict[str, Any] = {
        "type": "block_actions", "user": {"id": "U01ALICE"}, "team": {"id": "T00000001"},
        "channel": {"id": stack.general}, "response_url": stack.slack.response_url(),
        "actions": [{"action_id": "incident-ack", "value": "999"}]}
    target: Any = incident_card_click
    *path, last = where.split(".")
    for key in path:
        target = target[int(key)] if key.isdigit() else target[key]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    calls = len(stack.slack.calls)
    reply = stack.client.interactive(incident_card_click)
    assert reply.status < 500
    WORKER.drain()
    if reply.status == 400:
        assert stack.slack.calls[calls:] == []


def test_the_error_path_answers_only_verified_requests(stack: Stack, listener: Listener) -> None:
    """Second line of defence: should an unverified request ever reach Bolt and make it
    fail (here its verifier raises on a non-numeric timestamp), the error handler sends
    nothing to the body's response_url or user and answers 401."""
    body, content_type = bodies(stack, listener.url)[0]
    request = BoltRequest(body=body.decode(), headers={
        "content-type": content_type, "x-slack-request-timestamp": "abc",
        "x-slack-signature": sign(stack.client.secret, "abc", body)})
    calls = len(stack.slack.calls)
    response = stack.runtime.app.dispatch(request)
    WORKER.drain()
    assert response.status == 401
    assert listener.hits == [] and stack.slack.calls[calls:] == []
