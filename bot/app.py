"""Builds the Bolt app. Nothing is built at import time: `create_app` is called by the
composition root (bot/__main__.py), the demo and the tests."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot.observability import kind_of, request_kind
from bot.services.ports import Deps
from bot.slack.listeners import register_all
from bot.slack.replies import report_error


def create_app(*, client: WebClient, signing_secret: str, deps: Deps,
               token_verification: bool = True) -> App:
    app = App(
        client=client,
        signing_secret=signing_secret,
        token_verification_enabled=token_verification,
        logger=logging.getLogger("debrief.bolt"),
        # Unmatched requests (events we don't subscribe to) are acked quietly.
        raise_error_for_unhandled_request=False,
        # Respond as soon as the listener function returns: `guarded` returns the moment
        # ack() is called and leaves the rest to a worker (Bolt's default mode instead
        # polls for the ack every 10 ms).
        process_before_response=True,
    )
    @app.middleware
    def label_request(body: dict[str, Any], next: Any) -> None:  # noqa: A002
        """Name the request's kind for metrics (never user text)."""
        request_kind.set(kind_of(body))
        next()

    register_all(app, deps)

    @app.error
    def handle_errors(error: Exception, body: dict[str, Any], respond: Any,
                      client: WebClient) -> BoltResponse | None:
        """Whatever escapes a listener (or happens before one runs) is reported the same way.
        An envelope whose event is not an object breaks Bolt's own middleware: bad input, 400."""
        if isinstance(body, dict) and "event" in body and not isinstance(body["event"], dict):
            return BoltResponse(status=400, body="malformed event")
        report_error(error, body, respond, client)
        return None

    return app
