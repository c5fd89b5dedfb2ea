"""Turning errors into words for the person who asked.

A `UserError` is shown as is; anything else is logged with context and the person
gets a short apology. Listeners are wrapped in `guarded` rather than letting errors
reach Bolt: in Bolt's default mode an exception raised right after `ack()` can reset
the ack before the HTTP response is written (Slack then sees a 404 and shows
"dispatch_failed"), so errors after the ack must be handled inside the listener.
`bot/app.py` registers the same reporter as Bolt's error handler for anything else.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk import WebClient

from bot.errors import ChatError, UserError

log = logging.getLogger(__name__)
APOLOGY = (
    "Sorry, something went wrong on Debrief's side and that didn't finish. "
    "Anything already recorded is kept; try again in a moment."
)
F = TypeVar("F", bound=Callable[..., Any])


def report_error(error: BaseException, body: Any, respond: Any, client: WebClient | None) -> None:
    if isinstance(error, UserError):
        text = str(error)
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
        if user_id and client is not None:
            # Modal submissions have no response_url: a direct message reaches the person.
            client.chat_postMessage(channel=user_id, text=text)
    except Exception:  # noqa: BLE001 - the error path itself must never raise
        log.exception("could not tell the user about an error")


def describe(body: Any) -> str:
    if not isinstance(body, dict):
        return "a malformed request"
    return str(body.get("command") or body.get("type") or "a request")


def guarded(listener: F) -> F:
    """Report any error from `listener` to the person instead of raising it into Bolt.

    The listener must take `body` and `client` (Bolt injects arguments by name)."""

    @functools.wraps(listener)
    def wrapper(**kwargs: Any) -> Any:
        try:
            return listener(**kwargs)
        except Exception as exc:  # noqa: BLE001 - reported to the person and logged
            ack = kwargs.get("ack")
            if ack is not None and getattr(ack, "response", None) is None:
                ack()  # Slack must still get its acknowledgement
            report_error(exc, kwargs.get("body"), kwargs.get("respond"), kwargs.get("client"))
            return None

    return wrapper  # type: ignore[return-value]
