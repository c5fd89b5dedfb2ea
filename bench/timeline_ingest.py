"""Timeline ingest: N message events through the real HTTP endpoint vs plain Core inserts.

Starts the real app (waitress + Bolt) against the Slack stand-in on a temporary SQLite
database (or DATABASE_URL), declares one incident, then sends N signed `message` events
into its channel from a few concurrent clients. Reports events stored per second and
ack latency (median, p99), then inserts the same N rows with plain SQLAlchemy Core (one
transaction each, as the endpoint does) and prints the ratio. Loopback only, bounded.

    python -m bench.timeline_ingest [--n 1000] [--clients 4]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.common import bench_app, pct
from bot.domain.timeline import ts_to_datetime
from storage.db import make_engine, upgrade
from storage.models import IncidentRow, TimelineEntryRow


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(folder)
        client, general, runtime, url = app.client, app.general, app.runtime, app.url
        try:
            client.reply_to(client.slash("declare sev3 Ingest bench", user="U01ALICE",
                                         channel=general), timeout=30)
            with runtime.deps.uow() as tx:
                number = max(i.number for i in tx.incidents.list())
                channel = tx.incidents.get(number).channel_id
            base = time.time()
            events = [{"type": "message", "channel": channel, "user": "U01ALICE",
                       "text": f"message {i} " + "x" * 80, "ts": f"{base + i / 1000:.6f}",
                       "channel_type": "channel"} for i in range(args.n)]

            def send(event: dict) -> float:
                reply = client.event(event)
                assert reply.status == 200, reply.body
                return reply.elapsed_ms

            started = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                acks = list(pool.map(send, events))
            elapsed = time.perf_counter() - started
            with runtime.engine.connect() as conn:
                stored = conn.execute(select(func.count()).select_from(TimelineEntryRow)
                                      .where(TimelineEntryRow.channel_id == channel)).scalar_one()
        finally:
            app.close()
        reference_url = (f"sqlite:///{Path(folder) / 'core.db'}" if url.startswith("sqlite")
                         else url)
        engine = make_engine(reference_url)
        upgrade(engine)
        with engine.begin() as conn:
            incident_id = conn.execute(select(func.min(IncidentRow.id))).scalar()
            if incident_id is None:
                incident_id = conn.execute(insert(IncidentRow).values(
                    number=1, title="reference", description="", severity="SEV3",
                    status="investigating", declared_at=ts_to_datetime(f"{base:.6f}"),
                    declared_by="U01ALICE", summary="").returning(IncidentRow.id)).scalar_one()
        rows = [{"incident_id": incident_id, "channel_id": "CREF", "ts": e["ts"],
                 "at": ts_to_datetime(e["ts"]), "kind": "message", "author": "U01ALICE",
                 "text": e["text"], "pinned": False, "marked_by": [], "deleted": False,
                 "history": [], "files": []} for e in events]
        core_started = time.perf_counter()
        for row in rows:
            with engine.begin() as conn:
                conn.execute(insert(TimelineEntryRow).values(**row))
        core_elapsed = time.perf_counter() - core_started
        engine.dispose()
    db = url.split(":", 1)[0]
    rate, core_rate = stored / elapsed, args.n / core_elapsed
    print(f"endpoint: {stored}/{args.n} events stored in {elapsed:.2f}s = {rate:.0f} events/s "
          f"({args.clients} clients, {db})")
    print(f"ack latency: median {statistics.median(acks):.1f} ms, p99 {pct(acks, 99):.1f} ms, "
          f"max {max(acks):.1f} ms")
    print(f"plain SQLAlchemy Core, one transaction per row: {core_rate:.0f} rows/s")
    print(f"RESULT events_per_s={rate:.0f} core_rows_per_s={core_rate:.0f} "
          f"ratio={rate / core_rate:.2f} ack_median_ms={statistics.median(acks):.1f} "
          f"ack_p99_ms={pct(acks, 99):.1f} stored={stored}/{args.n}")


if __name__ == "__main__":
    main()
