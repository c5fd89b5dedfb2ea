"""Ack latency of Debrief's endpoint vs two bare Bolt apps that only ack.

Same server (waitress), same signed requests, same machine. Floors: a bare Bolt app in
its default mode (its listener runner polls for the ack every 10 ms) and one with
`process_before_response=True` (the response leaves when the listener returns).
Prints medians, p99s and the ratios of Debrief to each floor; the last line has them.

    python -m bench.ack_floor [--n 200]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
from pathlib import Path

from slack_bolt import App

from bench.common import pct
from bot.config import DebriefConfig, Settings
from bot.runtime import build_runtime
from bot.server import HttpServer, make_wsgi_app
from bot.slack.gateway import make_web_client
from bot.slack.replies import WORKER
from bot.standin.client import SlackClient
from bot.standin.server import FakeSlack


def bare_app(slack: FakeSlack, secret: str, fast: bool) -> HttpServer:
    app = App(client=make_web_client(slack.token, slack.api_url), signing_secret=secret,
              process_before_response=fast)

    @app.command("/incident")
    def only_ack(ack):  # type: ignore[no-untyped-def]
        ack()

    return HttpServer(make_wsgi_app(app, lambda: True, signing_secret=secret)).start()


def measure(client: SlackClient, text: str, n: int, wait: bool = False) -> list[float]:
    times = []
    for _ in range(n):
        reply = client.slash(text, user="U01ALICE", channel="C00000001")
        assert reply.status == 200
        times.append(reply.elapsed_ms)
        if wait:
            WORKER.drain()  # let the declare finish before the next one is timed
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    n = parser.parse_args().n
    slack = FakeSlack().start()
    slack.add_user("U01ALICE", "alice")
    slack.add_channel("general", members=("U01ALICE",))
    slack.add_channel("incidents")
    secret = secrets.token_hex(8)
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        runtime = build_runtime(Settings(bot_token=slack.token, signing_secret=secret,
                                         api_url=slack.api_url, slack_pace=0,
                                         database_url=f"sqlite:///{Path(folder) / 'b.db'}"),
                                DebriefConfig(), migrate=True)
        servers = {"debrief": runtime.http_server().start(),
                   "bolt-default": bare_app(slack, secret, fast=False),
                   "bolt-fast": bare_app(slack, secret, fast=True)}
        try:
            for name, server in servers.items():
                client = SlackClient(server.url, secret, slack)
                measure(client, "help", 20)  # warm up
                results[f"{name} help"] = measure(client, "help", n)
            client = SlackClient(servers["debrief"].url, secret, slack)
            results["debrief declare"] = measure(client, "declare sev3 Bench", n // 4, wait=True)
        finally:
            WORKER.drain()
            for server in servers.values():
                server.stop()
            runtime.engine.dispose()
            slack.stop()
    for name, values in results.items():
        print(f"{name:<22} median {statistics.median(values):6.2f} ms  p99 {pct(values, 99):6.2f} ms"
              f"  (n={len(values)})")
    ours = statistics.median(results["debrief help"])
    declare = statistics.median(results["debrief declare"])
    default = statistics.median(results["bolt-default help"])
    fast = statistics.median(results["bolt-fast help"])
    print(f"RESULT help_vs_fast_floor={ours / fast:.2f} help_vs_default_floor={ours / default:.2f}"
          f" declare_vs_fast_floor={declare / fast:.2f} declare_vs_default_floor="
          f"{declare / default:.2f}")


if __name__ == "__main__":
    main()
