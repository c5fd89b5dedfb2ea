"""Bolt listeners, one module per Slack surface, each with `register(app, deps)`.

A listener acks first (Slack's 3-second rule), parses the payload, calls one service,
and replies. Errors after the ack reach the app's single error handler (bot/app.py).
"""

from __future__ import annotations

import re

from slack_bolt import Ack, App

from bot.services.ports import Deps
from bot.slack.listeners import (
    buttons,
    corrections,
    events,
    home,
    nudges,
    oncall,
    pages,
    postmortems,
    slash,
    views,
)


def register_all(app: App, deps: Deps) -> None:
    for module in (slash, buttons, views, events, oncall, pages, corrections, postmortems,
                   home, nudges):
        module.register(app, deps)

    # Last, so it only sees what nothing above handled: an event we do not use is acked
    # with 200 (Bolt would answer 404 and Slack would retry it, then disable delivery).
    @app.event(re.compile(".*"))
    def ignore_other_events(ack: Ack) -> None:
        ack()
