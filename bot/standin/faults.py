"""Faults tests inject into the stand-in: failing calls, rate limits, revoked tokens and
slow answers, so the bot's handling of a misbehaving Slack is tested against real HTTP."""

from __future__ import annotations

import threading

from bot.standin.state import SlackFailure


class Faults:
    """What the next calls of a method do wrong; shares the workspace's lock."""

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self.revoked: set[str] = set()  # tokens Slack answers token_revoked for
        self._failures: dict[str, list[tuple[str, int, float]]] = {}
        self._delays: dict[str, list[float]] = {}
        self._lost: dict[str, list[int]] = {}  # method -> statuses of answers to lose

    def fail(self, method: str, error: str, times: int = 1, status: int = 200) -> None:
        """The next `times` calls of `method` answer `{"ok": false, "error": error}` (with
        HTTP `status`, e.g. 500 for a server error)."""
        with self.lock:
            self._failures.setdefault(method, []).extend([(error, status, 0.0)] * times)

    def delay(self, method: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls of `method` are answered after `seconds` (they still
        take effect, as a slow Slack would)."""
        with self.lock:
            self._delays.setdefault(method, []).extend([seconds] * times)

    def lose_answer(self, method: str, times: int = 1, status: int = 500, after: int = 0) -> None:
        """After `after` normal answers, the next `times` calls of `method` take effect but
        are answered HTTP `status` (Slack failing after doing the work): a caller that
        simply retries would do it twice."""
        with self.lock:
            self._lost.setdefault(method, []).extend([200] * after + [status] * times)

    def lost_answer(self, method: str) -> int:
        """The HTTP status to answer this (successful) call of `method` with: 200, or the
        status of an answer `lose_answer` said to lose."""
        with self.lock:
            return self._lost[method].pop(0) if self._lost.get(method) else 200

    def rate_limit(self, method: str, retry_after: float = 1, times: int = 1) -> None:
        """The next `times` calls of `method` answer HTTP 429 with Retry-After."""
        with self.lock:
            self._failures.setdefault(method, []).extend(
                [("ratelimited", 429, retry_after)] * times)

    def pause_for(self, method: str) -> float:
        """Seconds to wait before answering this call of `method` (0 for none)."""
        with self.lock:
            return self._delays[method].pop(0) if self._delays.get(method) else 0.0

    def check_token(self, token: str | None) -> None:
        if token and token in self.revoked:
            raise SlackFailure("token_revoked")

    def raise_injected(self, method: str) -> None:
        """Raises the next failure queued for `method`, if any."""
        with self.lock:
            queued = self._failures.get(method)
            if queued:
                error, status, retry_after = queued.pop(0)
                headers = {"Retry-After": str(int(retry_after))} if status == 429 else {}
                raise SlackFailure(error, status, headers)
