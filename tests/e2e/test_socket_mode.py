"""Socket Mode end to end: the app connected through the same Socket Mode client `debrief
run` uses to a local Socket Mode WebSocket endpoint (bot/standin/socket_mode.py), with
Web API calls answered by the stand-in Slack."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.config import DebriefConfig, Settings
from bot.runtime import build_runtime, socket_mode_handler
from bot.slack.replies import WORKER
from bot.standin.server import FakeSlack
from bot.standin.socket_mode import Connection, SocketModeServer
from tests.helpers import ALICE, BOB

APP_TOKEN = "xapp-1-A00000001-test"


@pytest.fixture
def socket_app(engine: Engine) -> Iterator[tuple[FakeSlack, Connection, Any]]:
    slack = FakeSlack().start()
    slack.add_user(ALICE, "alice")
    slack.add_user(BOB, "bob")
    slack.add_channel("general", members=(ALICE, BOB))
    slack.add_channel("incidents")
    server = SocketModeServer().start()
    runtime = build_runtime(Settings(bot_token=slack.token, app_token=APP_TOKEN,
                                     api_url=slack.api_url, slack_pace=0,
                                     database_url=engine.url.render_as_string(
                                         hide_password=False)),
                            DebriefConfig(), engine=engine)
    handler = socket_mode_handler(runtime.app, APP_TOKEN)
    handler.client.wss_uri = server.url  # what apps.connections.open answers in Slack
    handler.connect()
    try:
        yield slack, server.wait_for_connections(1)[0], runtime
    finally:
        WORKER.drain()
        handler.client.auto_reconnect_enabled = False
        server.stop()  # first: the client's blocking read then ends at once
        handler.close()
        slack.stop()


def command(slack: FakeSlack, text: str, user: str = ALICE,
            channel: str = "C00000001") -> dict[str, Any]:
    return {"token": "", "team_id": "T00000001", "team_domain": "standin",
            "channel_id": channel, "channel_name": slack.name_of(channel), "user_id": user,
            "user_name": "alice", "command": "/incident", "text": text,
            "api_app_id": "A00000001", "is_enterprise_install": "false",
            "response_url": slack.response_url(), "trigger_id": f"trig.{time.time_ns()}"}


def test_help_is_answered_in_the_ack(socket_app: tuple[FakeSlack, Connection, Any]) -> None:
    slack, connection, _ = socket_app
    _, ack = connection.request("slash_commands", command(slack, "help"))
    assert "/incident declare" in ack["text"] and ack["response_type"] == "ephemeral"


def test_declare_and_a_message_event_over_the_socket(
        socket_app: tuple[FakeSlack, Connection, Any]) -> None:
    """A declare acked over the socket sets the incident up; a message event in its
    channel is stored before its ack."""
    slack, connection, runtime = socket_app
    payload = command(slack, "declare sev2 Checkout errors")
    connection.request("slash_commands", payload)
    WORKER.drain()
    with runtime.deps.uow() as tx:
        incident = tx.incidents.get(1)
    assert incident.card_ts and incident.channel_id in slack.channels
    ts = slack.human_message(incident.channel_id, BOB, "5xx from the EU pool").ts
    connection.request("events_api", {
        "type": "event_callback", "team_id": "T00000001", "api_app_id": "A00000001",
        "event_id": "Ev1", "event_time": int(time.time()),
        "event": {"type": "message", "channel": incident.channel_id, "user": BOB,
                  "text": "5xx from the EU pool", "ts": ts, "channel_type": "channel"}})
    with runtime.deps.uow() as tx:  # stored before the ack: no waiting needed
        assert [e.text for e in tx.timeline.entries(1)] == ["5xx from the EU pool"]
