"""HTTP mode: a WSGI app (Slack at POST /slack/events, GET /healthz) served by waitress,
a production-grade multi-threaded server (Bolt's built-in one is for development).

Nothing from an unverified request is acted on: the body size is checked against
MAX_BODY_BYTES before it is read, the Slack signature is checked here, before Bolt
parses anything, by code that cannot raise, and a payload of the wrong shape is refused
before any listener runs. Only then does Bolt dispatch it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from waitress.server import create_server

from bot.app import VERIFIED
from bot.observability import REFUSED, metrics_text, request_scope
from bot.slack.payloads import payload_problem
from bot.slack.replies import HoldWorkUntilResponded

log = logging.getLogger(__name__)
StartResponse = Callable[..., Any]

MAX_BODY_BYTES = 1024 * 1024  # Slack's payloads are a few KiB; anything above is refused (413)
MAX_CLOCK_SKEW = 300  # seconds, as Slack asks: older or newer timestamps are replays
_TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}", re.ASCII)


def slack_signature_problem(secret: str, body: bytes, timestamp: str | None,
                            signature: str | None, now: float) -> str | None:
    """None when `signature` is Slack's `v0=` HMAC-SHA256 of `v0:{timestamp}:{body}` and
    the timestamp is within 5 minutes of `now`; otherwise the reason. Never raises, for
    any header value (slack_sdk's verifier raises on a non-numeric timestamp)."""
    if not secret:
        return "no signing secret is configured"
    if timestamp is None or not _TIMESTAMP.fullmatch(timestamp):
        return "missing or non-numeric timestamp"
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW:
        return "stale timestamp"
    if signature is None or not _SIGNATURE.fullmatch(signature):
        return "missing or malformed signature"
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "wrong signature"
    return None


def _plain(status: str, text: str, extra: list[tuple[str, str]] | None = None,
           ) -> tuple[str, list[tuple[str, str]], list[bytes]]:
    body = json.dumps({"error": text}).encode()
    return status, [("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))), *(extra or [])], [body]


_ALERT_PATH = re.compile(r"^/alerts/[a-z0-9][a-z0-9_-]{0,49}(?:/heartbeat)?$")
_REASONS = {202: "Accepted", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 413: "Content Too Large", 503: "Service Unavailable"}


def _json(code: int, answer: dict[str, Any]) -> tuple[str, list[tuple[str, str]], list[bytes]]:
    body = json.dumps(answer).encode()
    return f"{code} {_REASONS.get(code, 'OK')}", [("Content-Type", "application/json"),
                                                  ("Content-Length", str(len(body)))], [body]


def _content_length(environ: dict[str, Any]) -> int | None:
    text = str(environ.get("CONTENT_LENGTH") or "0").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


# /oncall/<schedule>/<secret token>.ics; without the token (or with a wrong one): 404
ICS = re.compile(r"^/oncall/([a-z0-9][a-z0-9_-]{0,49})(?:/([A-Za-z0-9_-]{1,100}))?\.ics$")


def make_wsgi_app(app: App | None, healthy: Callable[[], bool],
                  ical: Callable[[str, str, str | None], bytes | None] | None = None,
                  scheduler: Callable[[], dict[str, object]] | None = None,
                  *, signing_secret: str | None = None, metrics_token: str | None = None,
                  now: Callable[[], float] | None = None,
                  alerts: Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]]]
                  | None = None,
                  ) -> Callable[..., Iterable[bytes]]:
    """The WSGI app. `app` None (Socket Mode) serves everything but /slack/events;
    `signing_secret` defaults to the one the Bolt app was built with; with
    `metrics_token`, /metrics wants `Authorization: Bearer <token>`. Without a
    `signing_secret` every Slack request is refused (fail closed)."""

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO") or "", environ.get("REQUEST_METHOD")
        if path == "/metrics" and method == "GET":
            refused = _metrics_refusal(environ, metrics_token)
            if refused is not None:
                status, headers, body = refused
                start_response(status, headers)
                return body
            start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4")])
            return [metrics_text()]
        match = ICS.match(environ.get("PATH_INFO") or "")
        if match and ical is not None and environ.get("REQUEST_METHOD") == "GET":
            user = parse_qs(environ.get("QUERY_STRING") or "").get("user", [None])[0]
            try:
                feed = ical(match.group(1), match.group(2) or "", user)
            except Exception:  # noqa: BLE001 - e.g. the database is down
                # Handled here: waitress would log the path, and the path holds the secret.
                log.exception("iCal feed for schedule %s failed", match.group(1))
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                return [b"feed unavailable, try again later"]
            if feed is None:  # unknown schedule and wrong token look the same
                start_response("404 Not Found", [("Content-Type", "text/plain")])
                return [b"no such feed"]
            start_response("200 OK", [("Content-Type", "text/calendar; charset=utf-8")])
            return [feed]
        if path == "/healthz" and method == "GET":
            database = healthy()
            report: dict[str, object] = {"database": "reachable" if database else "unreachable"}
            ok = database
            if scheduler is not None:
                report["scheduler"] = scheduler()
                ok = ok and bool(report["scheduler"]["ok"])  # type: ignore[index]
            report["ok"] = ok
            start_response("200 OK" if ok else "503 Service Unavailable",
                           [("Content-Type", "application/json")])
            return [json.dumps(report).encode()]
        if alerts is not None and path.startswith("/alerts/") and _ALERT_PATH.match(path):
            code, answer = alerts(path.removeprefix("/alerts/"), environ)
            status, headers, body = _json(code, answer)
            start_response(status, headers)
            return body
        if app is None or path != "/slack/events":
            status, headers, body = _plain("404 Not Found", "not found")
            start_response(status, headers)
            return body
        if method != "POST":
            status, headers, body = _plain("405 Method Not Allowed", "POST only",
                                           [("Allow", "POST")])
            start_response(status, headers)
            return body
        return slack_events(app, signing_secret or "", environ, start_response,
                            now() if now else time.time())

    return wsgi


def _metrics_refusal(environ: dict[str, Any], token: str | None,
                     ) -> tuple[str, list[tuple[str, str]], list[bytes]] | None:
    """None when /metrics may be served: no token configured, or the right bearer token."""
    if not token:
        return None
    given = str(environ.get("HTTP_AUTHORIZATION") or "")
    if not given.startswith("Bearer "):
        return _plain("401 Unauthorized", "a bearer token is required",
                      [("WWW-Authenticate", 'Bearer realm="metrics"')])
    if not hmac.compare_digest(given.removeprefix("Bearer ").strip().encode(), token.encode()):
        return _plain("403 Forbidden", "wrong token")
    return None


def slack_events(app: App, secret: str, environ: dict[str, Any], start_response: StartResponse,
                 now: float) -> Iterable[bytes]:
    """POST /slack/events: size, signature, encoding and shape are checked, in that order,
    before Bolt sees the request; a refusal logs the reason, never the body."""

    def refuse(status: str, reason: str, label: str) -> Iterable[bytes]:
        REFUSED.labels(label).inc()
        log.warning("refused a Slack request: %s", reason)
        code, headers, body = _plain(status, "invalid request" if label == "signature"
                                     else reason)
        start_response(code, headers)
        return body

    length = _content_length(environ)
    if length is None:
        return refuse("400 Bad Request", "bad Content-Length", "malformed")
    if length > MAX_BODY_BYTES:
        # Refused before a byte of the body is read (waitress also caps chunked bodies).
        return refuse("413 Content Too Large",
                      f"body over the {MAX_BODY_BYTES} byte limit", "too_large")
    stream = environ.get("wsgi.input")
    raw = stream.read(length) if stream is not None and length else b""
    if len(raw) > MAX_BODY_BYTES:
        return refuse("413 Content Too Large",
                      f"body over the {MAX_BODY_BYTES} byte limit", "too_large")
    problem = slack_signature_problem(secret, raw, environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
                                      environ.get("HTTP_X_SLACK_SIGNATURE"), now)
    if problem is not None:
        return refuse("401 Unauthorized", f"not verified ({problem})", "signature")
    # From here on the request is Slack's own.
    try:
        text = raw.decode("utf-8")
        request = BoltRequest(body=text, query=environ.get("QUERY_STRING") or "",
                              headers=WsgiHttpRequest(environ).get_headers(),
                              context={VERIFIED: True})
    except Exception as exc:  # noqa: BLE001 - Bolt could not even parse it: bad input
        return refuse("400 Bad Request", f"malformed payload ({type(exc).__name__})",
                      "malformed")
    shape = payload_problem(request.body)
    if shape is not None:
        return refuse("400 Bad Request", f"malformed payload: {shape}", "malformed")
    try:
        with request_scope() as acked, HoldWorkUntilResponded() as hold:
            bolt = app.dispatch(request)
            response = WsgiHttpResponse(status=bolt.status, headers=bolt.headers,
                                        body=bolt.body)
            start_response(response.status, response.get_headers())
            chunks = list(response.get_body())
            acked()
        return ReleasingBody(chunks, hold.release)
    except Exception as exc:  # noqa: BLE001 - Bolt itself choked on the payload
        # Bolt handles listener errors itself; what escapes dispatch is a payload it
        # could not handle. That is bad input: 400 (the body is not logged).
        return refuse("400 Bad Request", f"malformed payload ({type(exc).__name__})",
                      "malformed")


class ReleasingBody:
    """A WSGI response body whose close() (called by the server once it has written the
    response) lets the listener's deferred work start."""

    def __init__(self, chunks: list[bytes], on_close: Callable[[], None]) -> None:
        self.chunks, self.on_close = chunks, on_close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        self.on_close()


class HttpServer:
    """waitress in a background thread, with a clean stop (for `run`, demo and tests)."""

    def __init__(self, wsgi: Callable[..., Iterable[bytes]], host: str = "127.0.0.1",
                 port: int = 0, threads: int = 8) -> None:
        # waitress refuses larger bodies itself (413), chunked ones included, before
        # they reach the app; it refuses a body *equal* to its limit, hence the + 1.
        self._server: Any = create_server(wsgi, host=host, port=port, threads=threads,
                                          ident="debrief",
                                          max_request_body_size=MAX_BODY_BYTES + 1)
        self.port: int = self._server.effective_port
        self.url = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None

    def serve_forever(self) -> None:
        self._server.run()

    def start(self) -> HttpServer:
        self._thread = threading.Thread(target=self.serve_forever, name="debrief-http",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close every socket from inside the server's own loop thread (closing them from
        here would race its select()), let the loop end, then stop the workers."""
        from waitress import wasyncore

        server = self._server
        pulled = False
        if self._thread is not None and self._thread.is_alive():
            try:
                server.trigger.pull_trigger(
                    lambda: wasyncore.close_all(server._map, ignore_all=True))
                pulled = True
            except OSError:  # the trigger's pipe is already gone (seen rarely in tests)
                log.warning("waitress's trigger was closed; closing its sockets directly")
        if not pulled:
            wasyncore.close_all(server._map, ignore_all=True)
        if self._thread is not None:
            self._thread.join(timeout=10)
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
