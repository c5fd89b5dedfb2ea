"""Socket Mode ack latency: Debrief vs a bare Bolt app, same WebSocket server, same run.

A local Socket Mode endpoint (bot/standin/socket_mode.py) serves both apps, each
connected through the Socket Mode client it would use in production. The endpoint
sends `/incident help` envelopes one at a time and times each until its ack frame
arrives. Floors: a bare Bolt app that only acks, in Bolt's default mode and with
`process_before_response=True`. Rounds alternate the apps so machine noise hits all.

    python -m bench.socket_ack [--n 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from slack_bolt import App

from bench.common import fresh_database, pct
from bot.config import DebriefConfig, Settings
from bot.runtime import build_runtime, socket_mode_handler
from bot.slack.gateway import make_web_client
from bot.slack.replies import WORKER
from bot.standin.server import FakeSlack
from bot.standin.socket_mode import Connection, SocketModeServer

APP_TOKEN = "xapp-1-A00000001-bench"


def bare_app(slack: FakeSlack, fast: bool) -> App:
    app = App(client=make_web_client(slack.token, slack.api_url),
              process_before_response=fast)

    @app.command("/incident")
    def only_ack(ack):  # type: ignore[no-untyped-def]
        ack()

    return app


def slash(slack: FakeSlack, text: str) -> dict[str, Any]:
    return {"token": "", "team_id": "T00000001", "team_domain": "standin",
            "channel_id": "C00000001", "channel_name": "general", "user_id": "U01ALICE",
            "user_name": "alice", "command": "/incident", "text": text,
            "api_app_id": "A00000001", "is_enterprise_install": "false",
            "response_url": slack.response_url(), "trigger_id": f"trig.{time.time_ns()}"}


def measure(connection: Connection, slack: FakeSlack, n: int, text: str = "help") -> list[float]:
    times = []
    for i in range(n):
        elapsed, _body = connection.request("slash_commands",
                                            slash(slack, text.format(i=i)))
        times.append(elapsed)
        if text != "help":
            WORKER.drain()  # let a declare finish before the next one is timed
    WORKER.drain()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    slack = FakeSlack().start()
    slack.add_user("U01ALICE", "alice")
    slack.add_channel("general", members=("U01ALICE",))
    slack.add_channel("incidents")
    server = SocketModeServer().start()
    folder = tempfile.mkdtemp(prefix="debrief-socket-")
    url = f"sqlite:///{Path(folder) / 'bench.db'}"
    fresh_database(url)
    runtime = build_runtime(Settings(bot_token=slack.token, app_token=APP_TOKEN,
                                     api_url=slack.api_url, database_url=url, slack_pace=0),
                            DebriefConfig())
    apps = {"Bolt, default mode": bare_app(slack, fast=False),
            "Bolt, process_before_response": bare_app(slack, fast=True),
            "Debrief /incident help": runtime.app, "Debrief /incident declare": runtime.app}
    handlers = []
    connections: dict[str, Connection] = {}
    try:
        for i, (name, app) in enumerate(apps.items()):
            handler = socket_mode_handler(app, APP_TOKEN)
            handler.client.wss_uri = server.url  # what apps.connections.open would answer
            handler.connect()
            handlers.append(handler)
            connections[name] = server.wait_for_connections(i + 1)[i]
        for connection in connections.values():
            measure(connection, slack, 10)  # warm-up
        results: dict[str, list[float]] = {name: [] for name in apps}
        for round_no in range(args.rounds):
            for name, connection in connections.items():
                declare = "declare" in name
                results[name] += measure(connection, slack, args.n // 10 if declare else args.n,
                                         "declare sev3 Socket bench {i}" if declare else "help")
            print(f"round {round_no + 1} done")
    finally:
        for handler in handlers:
            handler.client.auto_reconnect_enabled = False
        server.stop()  # first: each client's blocking read then ends at once
        for handler in handlers:
            handler.close()
        slack.stop()
        runtime.engine.dispose()
    medians = {name: statistics.median(times) for name, times in results.items()}
    for name, times in results.items():
        print(f"{name}: median {medians[name]:.2f} ms, p99 {pct(times, 99):.2f} ms "
              f"({len(times)} acks)")
    debrief = medians["Debrief /incident help"]
    default, fast = medians["Bolt, default mode"], medians["Bolt, process_before_response"]
    print(f"Debrief /incident help: {debrief / default:.2f}x Bolt's default mode, "
          f"{debrief / fast:.2f}x Bolt with process_before_response")
    print(f"RESULT debrief_median_ms={debrief:.2f} bolt_default_median_ms={default:.2f} "
          f"bolt_fast_median_ms={fast:.2f} ratio_to_default={debrief / default:.2f} "
          f"ratio_to_fast={debrief / fast:.2f}")


if __name__ == "__main__":
    main()
