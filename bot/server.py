"""HTTP mode: a WSGI app (Slack at POST /slack/events, GET /healthz) served by waitress,
a production-grade multi-threaded server (Bolt's built-in one is for development)."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

from bot.observability import metrics_text, request_scope
from bot.slack.replies import HoldWorkUntilResponded

log = logging.getLogger(__name__)
StartResponse = Callable[..., Any]


# /oncall/<schedule>/<secret token>.ics; without the token (or with a wrong one): 404
ICS = re.compile(r"^/oncall/([a-z0-9][a-z0-9_-]{0,49})(?:/([A-Za-z0-9_-]{1,100}))?\.ics$")


def make_wsgi_app(app: App, healthy: Callable[[], bool],
                  ical: Callable[[str, str, str | None], bytes | None] | None = None,
                  scheduler: Callable[[], dict[str, object]] | None = None,
                  ) -> Callable[..., Iterable[bytes]]:
    slack = SlackRequestHandler(app, path="/slack/events")

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO") or "", environ.get("REQUEST_METHOD")
        if path == "/metrics" and method == "GET":
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
        try:
            with request_scope() as acked, HoldWorkUntilResponded() as hold:
                response = list(slack(environ, start_response))
                acked()
            return ReleasingBody(response, hold.release)
        except Exception:  # noqa: BLE001 - Bolt itself choked on the payload
            # Bolt handles listener errors itself; what escapes dispatch is a payload it
            # could not even parse (e.g. a view without a type). That is bad input: 400.
            log.warning("malformed Slack request rejected", exc_info=True)
            start_response("400 Bad Request", [("Content-Type", "application/json")])
            return [b'{"error": "malformed request"}']

    return wsgi


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
        self._server: Any = create_server(wsgi, host=host, port=port, threads=threads,
                                          ident="debrief")
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
        if self._thread is not None and self._thread.is_alive():
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map, ignore_all=True))
            self._thread.join(timeout=10)
        else:
            wasyncore.close_all(server._map, ignore_all=True)
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
