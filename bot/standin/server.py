"""A stateful fake of Slack's Web API, served over real HTTP on 127.0.0.1.

`FakeSlack` is the one entry point: a workspace (`state.py`) answering Web API calls as
Slack does (`methods.py`), strict about Slack's limits (`limits.py`), told by tests to
misbehave (`faults.py`), and served here: `/api/<method>`, response_url posts
(`/response/<n>`), file uploads (`/upload/<file id>`) and private file downloads
(`/files-pri/...`, the files' `url_private`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

from bot.standin.limits import ResponseUrls, block_kit_problems, check_ack
from bot.standin.methods import APP_TOKEN, BOT_TOKEN, SPECS_DIR, WebApi
from bot.standin.state import BOT_USER, Call, Channel, Message, SlackFailure

__all__ = ["APP_TOKEN", "BOT_TOKEN", "BOT_USER", "SPECS_DIR", "Call", "Channel", "FakeSlack",
           "Message", "SlackFailure", "block_kit_problems"]


SIGN_IN_PAGE = b"<!DOCTYPE html><html><body>Sign in to Stand-in Slack</body></html>"


class FakeSlack(WebApi):
    """Start with `FakeSlack().start()`; point the bot's SLACK_API_URL at `api_url`."""

    def __init__(self, token: str = BOT_TOKEN, clock: Callable[[], float] = time.time) -> None:
        super().__init__(token, clock)
        self.revoked = self.faults.revoked  # tokens Slack answers token_revoked for
        self._response_urls = ResponseUrls(self)
        self._httpd: ThreadingHTTPServer | None = None

    # ----- faults (the next calls of a method fail, rate-limit or answer slowly) -----
    def fail(self, method: str, error: str, times: int = 1, status: int = 200) -> None:
        """The next `times` calls of `method` answer `{"ok": false, "error": error}` (with
        HTTP `status`, e.g. 500 for a server error)."""
        self.faults.fail(method, error, times, status)

    def delay(self, method: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls of `method` are answered after `seconds` (they still
        take effect, as a slow Slack would)."""
        self.faults.delay(method, seconds, times)

    def rate_limit(self, method: str, retry_after: float = 1, times: int = 1) -> None:
        """The next `times` calls of `method` answer HTTP 429 with Retry-After."""
        self.faults.rate_limit(method, retry_after, times)

    def lose_answer(self, method: str, times: int = 1, status: int = 500, after: int = 0) -> None:
        """After `after` normal answers, the next `times` calls of `method` take effect but
        are answered HTTP `status` (Slack failing after doing the work)."""
        self.faults.lose_answer(method, times, status, after)

    def check_ack(self, body: str) -> None:
        """An acknowledgement carrying a message is held to a message's limits too."""
        with self.lock:
            check_ack(self.violations, body)

    # ----- HTTP -----
    @property
    def url(self) -> str:
        assert self._httpd is not None, "call start() first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self) -> str:
        return f"{self.url}/response/{next(self._ids)}"

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                self._handle()

            def do_POST(self) -> None:  # noqa: N802
                self._handle()

            def _handle(self) -> None:
                parsed = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, headers, body = fake.handle(
                    parsed.path, parsed.query, raw, dict(self.headers.items()))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if isinstance(body, bytes):  # a file, or the sign-in page
                    data = body
                else:
                    data = json.dumps(body).encode()
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, name="fake-slack", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def handle(self, path: str, query: str, raw: bytes,
               headers: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any] | bytes]:
        lowered = {k.lower(): v for k, v in headers.items()}
        if path.startswith("/files-pri/"):
            auth = lowered.get("authorization", "")
            with self.changed:
                try:
                    return self.download(path, auth.removeprefix("Bearer ").strip() or None)
                finally:
                    self.changed.notify_all()
        if path == "/signin":
            return 200, {"Content-Type": "text/html; charset=utf-8"}, SIGN_IN_PAGE
        if path.startswith("/upload/"):
            file_id = path.removeprefix("/upload/")
            with self.changed:
                if file_id not in self.files:
                    return 404, {}, {"ok": False, "error": "unknown_upload"}
                self.files[file_id]["data"] = raw  # the bytes as sent
                try:  # text documents (postmortems) are also kept as text
                    self.files[file_id]["content"] = raw.decode("utf-8")
                except UnicodeDecodeError:
                    self.files[file_id]["content"] = None
                self.changed.notify_all()
            return 200, {}, {"ok": True}
        if path.startswith("/response/"):
            payload = json.loads(raw or b"{}")
            with self.changed:
                refused = self._response_urls.check(path, payload)
                if refused is not None:
                    self.changed.notify_all()
                    return refused
                self.responses.append({"url": path, **payload})
                self.changed.notify_all()
            return 200, {}, {"ok": True}
        if not path.startswith("/api/"):
            return 404, {}, {"ok": False, "error": "not_found"}
        method = path[len("/api/"):]
        args: dict[str, Any] = dict(parse_qsl(query))
        content_type = lowered.get("content-type", "")
        if raw:
            if "json" in content_type:
                args.update(json.loads(raw))
            else:
                args.update(parse_qsl(raw.decode()))
        auth = lowered.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth else args.get("token")
        pause = self.faults.pause_for(method)
        if pause:
            time.sleep(pause)  # simulating a slow Slack, outside the lock
        with self.changed:
            try:
                result = self.call(method, args, token)
                self.calls.append(Call(method, args, None))
                lost = self.faults.lost_answer(method)
                if lost != 200:
                    return lost, {}, {"ok": False, "error": "fatal_error"}
                return 200, {}, {"ok": True, **result}
            except SlackFailure as failure:
                self.calls.append(Call(method, args, failure.error))
                return failure.status, failure.headers, {"ok": False, "error": failure.error}
            finally:
                self.changed.notify_all()
