"""Alerts in: webhook ingest rate through the real endpoint vs a bare insert floor, and
the time from a webhook to the first page (the on-call's DM) in the stand-in Slack.

Starts the real app (waitress, `POST /alerts/<integration>`) against the Slack stand-in
on a temporary SQLite database (or DATABASE_URL), with the scheduler running at its
production interval (30 s).

1. Ingest: N Alertmanager notifications (webhook version 4, two alerts each) spread
   over G groups, sent by C concurrent senders on keep-alive connections, each stored
   before its 202. Floor: the same N rows inserted into `alert_events` with plain
   SQLAlchemy Core, one transaction each (what storing a delivery cannot go below).
   Endpoint and floor alternate `--rounds` times.
2. First page: P new groups, one at a time, to an integration whose policy pages a
   person at once; the time from sending the webhook until the DM is in the stand-in.
   Floor: one bare `chat.postMessage` from the same Web API client to the stand-in.

The last line has the medians and ratios. Loopback only, bounded.

    python -m bench.alerts [--n 1000] [--groups 20] [--clients 4] [--rounds 3] [--pages 20]
    python -m bench.alerts --tick-only   # the first page waits for a scheduler tick, as
                                         # before the alert worker paged at once
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import Engine, insert, select

from bench.common import bench_app, pct
from bot.config import parse_config
from bot.scheduler import Scheduler
from storage.db import make_engine, upgrade
from storage.models import AlertEventRow, AlertGroupRow

TOKEN = "bench-alerts-token"
RETRIED: list[str] = []  # deliveries answered 503 and sent again
CONFIG = {"alerts": {
    "integrations": {
        "ingest": {"kind": "alertmanager", "token_env": "ALERTS_TOKEN", "channel": "#alerts"},
        "paging": {"kind": "alertmanager", "token_env": "ALERTS_TOKEN", "channel": "#alerts",
                   "escalation": "page"}},
    "escalations": {"page": [{"notify": {"users": ["U01ALICE"]}}, {"wait": "5m"},
                             {"notify": {"users": ["U01ALICE"]}}]}}}


def payload(key: str, i: int) -> bytes:
    """Alertmanager's webhook body, version 4 (as tests/e2e/test_alerts.py sends it)."""
    common = {"alertname": "HighLatency", "severity": "critical", "service": key}
    return json.dumps({
        "version": "4", "groupKey": key, "truncatedAlerts": 0, "status": "firing",
        "receiver": "debrief", "groupLabels": {"service": key}, "commonLabels": common,
        "commonAnnotations": {"summary": f"p99 latency over 2s ({i})"},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [{"status": "firing", "labels": {**common, "instance": f"web-{n}"},
                    "annotations": {"summary": "p99 latency over 2s"},
                    "startsAt": "2026-12-01T14:00:00.123456789Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus.example/graph?g0.expr=x",
                    "fingerprint": f"f{n:015d}"} for n in range(2)]}).encode()


class Sender:
    """One keep-alive connection, as Alertmanager keeps one per receiver."""

    def __init__(self, base: str) -> None:
        url = urlsplit(base)
        self.conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)

    def post(self, path: str, body: bytes) -> float:
        """Milliseconds until the 202; a 503 (not stored: SQLite's lock wait ran out) is
        sent again, as Alertmanager does, and counted."""
        started = time.perf_counter()
        while True:
            self.conn.request("POST", path, body=body, headers={
                "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
            response = self.conn.getresponse()
            response.read()
            if response.status != 503:
                break
            RETRIED.append(path)
        assert response.status == 202, response.status
        return (time.perf_counter() - started) * 1000


def core_floor(engine: Engine, n: int) -> float:
    """Rows per second inserting n `alert_events` rows with plain Core, one transaction each."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        group_id = conn.execute(select(AlertGroupRow.id).where(
            AlertGroupRow.group_key == "floor")).scalar()
        if group_id is None:
            group_id = conn.execute(insert(AlertGroupRow).values(
                integration="floor", group_key="floor", title="floor", status="firing",
                labels={}, links=[], description="", channel="#floor", first_firing_at=now,
                last_firing_at=now, last_received_at=now, alerts_firing=0, alerts_resolved=0,
                notifications=0, version=1, synced_version=1).returning(AlertGroupRow.id)
            ).scalar_one()
    started = time.perf_counter()
    for i in range(n):
        with engine.begin() as conn:
            conn.execute(insert(AlertEventRow).values(
                group_id=group_id, at=now, kind="received",
                detail={"status": "firing", "firing": 2, "resolved": 0, "n": i}))
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--tick-only", action="store_true")
    args = parser.parse_args()
    if args.tick_only:
        import bot.services.alerts as alerts

        alerts.escalate_group = lambda group_id, deps: []  # type: ignore[assignment]
    rates: list[float] = []
    floors: list[float] = []
    acks: list[float] = []
    pages: list[float] = []
    posts: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(folder, parse_config(CONFIG), {"ALERTS_TOKEN": TOKEN})
        slack, runtime, url = app.slack, app.runtime, app.url
        slack.add_channel("alerts")
        reference_url = (f"sqlite:///{Path(folder) / 'core.db'}" if url.startswith("sqlite")
                         else url)
        engine = make_engine(reference_url)
        upgrade(engine)
        scheduler = Scheduler(runtime.deps).start()  # production interval: 30 s
        local = threading.local()

        def send(item: tuple[str, bytes]) -> float:
            if not hasattr(local, "sender"):
                local.sender = Sender(app.server.url)
            return float(local.sender.post(*item))

        try:
            for round_no in range(args.rounds):
                items = [("/alerts/ingest", payload(f"r{round_no}-g{i % args.groups}", i))
                         for i in range(args.n)]
                started = time.perf_counter()
                with ThreadPoolExecutor(args.clients) as pool:
                    round_acks = list(pool.map(send, items))
                rates.append(args.n / (time.perf_counter() - started))
                acks += round_acks
                floors.append(core_floor(engine, args.n))
                print(f"round {round_no + 1}: endpoint {rates[-1]:.0f} deliveries/s (ack "
                      f"median {statistics.median(round_acks):.1f} ms, p99 "
                      f"{pct(round_acks, 99):.1f} ms); plain Core {floors[-1]:.0f} rows/s; "
                      f"ratio {rates[-1] / floors[-1]:.2f}")
            with runtime.deps.uow() as tx:  # (on PostgreSQL the floor's table is the same)
                groups = [g for g in tx.alerts.groups() if g.integration != "floor"]
            slack.wait_for(lambda: len(slack.calls_of("chat.postMessage")) >= len(groups),
                           timeout=120)
            stored = sum(g.notifications for g in groups)

            def dms() -> int:
                return sum(1 for c in slack.calls_of("chat.postMessage")
                           if c.args.get("channel") == "U01ALICE")

            sender = Sender(app.server.url)
            client = runtime.app.client
            for i in range(args.pages):
                before = dms()
                started = time.perf_counter()
                sender.post("/alerts/paging", payload(f"page-{i}", i))
                slack.wait_for(lambda before=before: dms() > before, timeout=60)
                pages.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                client.chat_postMessage(channel="alerts", text=f"floor {i}")
                posts.append((time.perf_counter() - started) * 1000)
        finally:
            scheduler.stop()
            app.close()
            engine.dispose()
    db = url.split(":", 1)[0]
    ratios = [r / f for r, f in zip(rates, floors, strict=True)]
    rate, core_rate = statistics.median(rates), statistics.median(floors)
    page_ms, post_ms = statistics.median(pages), statistics.median(posts)
    print(f"endpoint: {stored}/{args.n * args.rounds} deliveries stored in "
          f"{len(groups)} groups, median {rate:.0f} deliveries/s ({args.clients} senders, {db}); "
          f"{len(RETRIED)} answered 503 and sent again")
    print(f"ack latency: median {statistics.median(acks):.1f} ms, p99 {pct(acks, 99):.1f} ms, "
          f"max {max(acks):.1f} ms")
    print(f"plain SQLAlchemy Core, one transaction per row: median {core_rate:.0f} rows/s")
    print(f"webhook -> first DM: median {page_ms:.1f} ms, p99 {pct(pages, 99):.1f} ms, max "
          f"{max(pages):.1f} ms; bare chat.postMessage {post_ms:.1f} ms")
    print(f"RESULT deliveries_per_s={rate:.0f} core_rows_per_s={core_rate:.0f} "
          f"ratio={statistics.median(ratios):.2f} "
          f"ratios={'/'.join(f'{r:.2f}' for r in ratios)} "
          f"ack_median_ms={statistics.median(acks):.1f} ack_p99_ms={pct(acks, 99):.1f} "
          f"first_dm_median_ms={page_ms:.1f} first_dm_max_ms={max(pages):.1f} "
          f"post_floor_ms={post_ms:.1f} first_dm_ratio={page_ms / post_ms:.1f} "
          f"retried_503={len(RETRIED)}")


if __name__ == "__main__":
    main()
