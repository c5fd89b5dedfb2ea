"""Turning errors into words for the person who asked.

A `UserError` is shown as is; anything else is logged with context and the person
gets a short apology. Listeners are wrapped in `guarded` rather than letting errors
reach Bolt: in Bolt's default mode an exception raised right after `ack()` can reset
the ack before the HTTP response is written (Slack then sees a 404 and shows
"dispatch_failed"), so errors after the ack must be handled inside the listener.
`bot/app.py` registers the same reporter as Bolt's error handler for anything else.
`guarded` also moves the work after the ack onto a worker (see its docstring).
"""

from __future__ import annotations

import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

from bot.domain.permissions import Refused
from bot.errors import ChatError, UserError
from bot.services.ports import Chat
from bot.slack.messages import refusal_text
from bot.slack.text import error_text

log = logging.getLogger(__name__)
APOLOGY = (
    "Sorry, something went wrong on Debrief's side and that didn't finish. "
    "Anything already recorded is kept; try again in a moment."
)
F = TypeVar("F", bound=Callable[..., Any])


def report_error(error: BaseException, body: Any, respond: Any, chat: Chat | None) -> None:
    if isinstance(error, Refused):
        text = refusal_text(error)
    elif isinstance(error, UserError):
        text = error_text(error)
    elif isinstance(error, ChatError):
        log.error("Slack call failed (%s) for %s", error.code, describe(body))
        text = f"Sorry, Slack refused that: {error.explained}. Anything already recorded is kept."
    else:
        kind = error.code if isinstance(error, ChatError) else type(error).__name__
        log.error("listener failed (%s) for %s", kind, describe(body), exc_info=error)
        text = APOLOGY
    try:
        if respond is not None and isinstance(body, dict) and body.get("response_url"):
            respond(response_type="ephemeral", replace_original=False, text=text)
            return
        user = body.get("user") if isinstance(body, dict) else None
        user_id = user.get("id") if isinstance(user, dict) else None
        if user_id and chat is not None:
            # Modal submissions have no response_url: a direct message reaches the person.
            chat.send_direct(user_id, text)
    except Exception:  # noqa: BLE001 - the error path itself must never raise
        log.exception("could not tell the user about an error")


def describe(body: Any) -> str:
    if not isinstance(body, dict):
        return "a malformed request"
    return str(body.get("command") or body.get("type") or "a request")


class Worker:
    """Where listeners do their work after the ack: a thread pool, with a way to wait
    until it is idle (tests and shutdown)."""

    def __init__(self, threads: int = 16) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="debrief-work")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], None]) -> None:
        # The work runs with the request's context (request id, incident) for the logs.
        future = self._pool.submit(contextvars.copy_context().run, fn)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until no work is in flight; False if some is still running at the timeout."""
        with self._lock:
            pending = list(self._pending)
        done, not_done = wait(pending, timeout=timeout)
        return not not_done


WORKER = Worker()
_request = threading.local()


class HoldWorkUntilResponded:
    """Used by the WSGI layer around one request: work a listener left for the worker
    starts only once the server has sent the ack (`release`, called from the response
    iterable's close(), which WSGI servers call after writing it), so the work does not
    compete with the ack for the interpreter. Leaving the block releases anything not
    yet released, so nothing can be held forever."""

    def __enter__(self) -> HoldWorkUntilResponded:
        _request.held = []
        self.held: list[threading.Event] = _request.held
        return self

    def __exit__(self, *exc: object) -> None:
        _request.held = None
        if exc and exc[0] is not None:
            self.release()

    def release(self) -> None:
        for event in self.held:
            event.set()
ACK_BUDGET = 2.5  # seconds: Slack's deadline is 3
FLUSH_GRACE = 0.001  # seconds the deferred work waits after the ack is written


def _run(listener: Callable[..., Any], kwargs: dict[str, Any], chat: Chat) -> None:
    try:
        listener(**kwargs)
    except Exception as exc:  # noqa: BLE001 - reported to the person and logged
        ack = kwargs.get("ack")
        if ack is not None and getattr(ack, "response", None) is None:
            ack()  # Slack must still get its acknowledgement
        report_error(exc, kwargs.get("body"), kwargs.get("respond"), chat)


def guarded(chat: Chat) -> Callable[[F], F]:
    """`@guarded(deps.chat)` on every listener: see `_guard`. Errors the person cannot be
    answered about through `response_url` (a modal submission) reach them through `chat`,
    the same gateway every other Slack call goes through."""
    def decorate(listener: F) -> F:
        return _guard(listener, chat)
    return decorate


def _guard(listener: F, chat: Chat) -> F:
    """Run `listener` on the worker and return to Bolt as soon as it has acked.

    The app runs Bolt with `process_before_response=True` (the HTTP response is sent
    when the listener function returns); this wrapper returns the moment `ack()` is
    called, so the ack leaves in well under a millisecond of our own time while the
    work continues on the worker. Errors are reported to the person (never raised
    into Bolt). The listener must take `body` (Bolt injects arguments by name)."""

    @functools.wraps(listener)
    def wrapper(**kwargs: Any) -> Any:
        ack = kwargs.get("ack")
        if ack is None or getattr(ack, "response", None) is not None:
            WORKER.submit(lambda: _run(listener, kwargs, chat))  # already acked (events)
            return None
        acked = threading.Event()

        returned = threading.Event()

        def ack_now(*args: Any, **options: Any) -> Any:
            try:
                return ack(*args, **options)
            finally:
                acked.set()
                # Start the slow part only once the server has written the ack, and a
                # moment later still, while its I/O thread flushes it to the socket:
                # otherwise both compete for the interpreter and the ack waits.
                returned.wait(ACK_BUDGET)
                time.sleep(FLUSH_GRACE)

        def work() -> None:
            try:
                _run(listener, {**kwargs, "ack": ack_now}, chat)
            finally:
                acked.set()

        WORKER.submit(work)
        if not acked.wait(ACK_BUDGET):
            log.error("%s did not ack within %.1f s", listener.__name__, ACK_BUDGET)
        if getattr(_request, "held", None) is not None:
            _request.held.append(returned)  # released once the HTTP response is built
        else:
            returned.set()
        return None

    return wrapper  # type: ignore[return-value]
