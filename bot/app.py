"""Builds the Bolt app. Nothing is built at import time: `create_app` is called by the
composition root (bot/runtime.py, for `debrief run`), the demo and the tests."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.observability import NoRequestBodies, kind_of, request_kind
from bot.services.ports import Deps
from bot.slack.listeners import register_all
from bot.slack.payloads import payload_problem
from bot.slack.replies import report_error

log = logging.getLogger(__name__)
VERIFIED = "debrief_verified"  # set in Bolt's context by bot/server.py after its checks


def create_app(*, client: WebClient, signing_secret: str, deps: Deps,
               token_verification: bool = True) -> App:
    bolt_log = logging.getLogger("debrief.bolt")
    if not any(isinstance(f, NoRequestBodies) for f in bolt_log.filters):
        # Bolt copies these filters to the loggers of its middleware as it builds them.
        bolt_log.addFilter(NoRequestBodies())
    app = App(
        client=client,
        signing_secret=signing_secret,
        token_verification_enabled=token_verification,
        logger=bolt_log,
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
                      request: BoltRequest) -> BoltResponse | None:
        """Whatever escapes a listener (or happens before one runs) is reported the same way,
        but only to a request known to come from Slack: one the HTTP layer verified, or one
        that came over Socket Mode's authenticated connection. Anything else gets 401 and
        nothing is sent (its response_url and user id are an attacker's choice). A payload
        of the wrong shape is bad input: 400, nothing sent."""
        if not (request.mode == "socket_mode" or request.context.get(VERIFIED) is True):
            log.warning("error on an unverified request (%s): nothing sent", type(error).__name__)
            return BoltResponse(status=401, body='{"error": "invalid request"}')
        if payload_problem(body) is not None:
            return BoltResponse(status=400, body='{"error": "malformed request"}')
        report_error(error, body, respond, deps.chat)
        return None

    return app
