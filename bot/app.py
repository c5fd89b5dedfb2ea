"""Builds the Bolt app. Nothing is built at import time: `create_app` is called by the
composition root (bot/__main__.py), the demo and the tests."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot.errors import ChatError, UserError
from bot.services.ports import Deps
from bot.slack.gateway import call
from bot.slack.listeners import register_all

log = logging.getLogger(__name__)
APOLOGY = (
    "Sorry, something went wrong on Debrief's side and that didn't finish. "
    "Anything already recorded is kept; try again in a moment."
)


def create_app(*, client: WebClient, signing_secret: str, deps: Deps,
               token_verification: bool = True) -> App:
    app = App(
        client=client,
        signing_secret=signing_secret,
        token_verification_enabled=token_verification,
        logger=logging.getLogger("debrief.bolt"),
        # Unmatched requests (events we don't subscribe to) are acked quietly.
        raise_error_for_unhandled_request=False,
    )
    register_all(app, deps)

    @app.error
    def handle_errors(error: Exception, body: dict[str, Any], respond: Any,
                      client: WebClient) -> BoltResponse | None:
        """One place turns errors into words: `UserError` as is, anything else apologised for."""
        if isinstance(error, UserError):
            text = str(error)
        else:
            kind = error.code if isinstance(error, ChatError) else type(error).__name__
            log.error("listener failed (%s) for %s", kind, _describe(body), exc_info=error)
            text = APOLOGY
        _tell(body, respond, client, text)
        return None

    return app


def _describe(body: dict[str, Any]) -> str:
    if not isinstance(body, dict):
        return "a malformed request"
    return str(body.get("command") or body.get("type") or "a request")


def _tell(body: dict[str, Any], respond: Any, client: WebClient, text: str) -> None:
    try:
        if respond is not None and isinstance(body, dict) and body.get("response_url"):
            respond(response_type="ephemeral", replace_original=False, text=text)
            return
        user = body.get("user") if isinstance(body, dict) else None
        user_id = user.get("id") if isinstance(user, dict) else None
        if user_id:
            # Modal submissions have no response_url: a direct message reaches the person.
            call("chat.postMessage", lambda: client.chat_postMessage(channel=user_id, text=text))
    except Exception:  # noqa: BLE001 - never let the error path itself raise
        log.exception("could not tell the user about an error")
