"""Timeline ingest: N message events through the real HTTP endpoint vs plain Core inserts.

Starts the real app (waitress + Bolt) against the Slack stand-in on a temporary SQLite
database (or DATABASE_URL), declares one incident, then sends N signed `message` events
into its channel from a few concurrent clients. Reports events stored per second and
ack latency (median, p99), then inserts the same N rows with plain SQLAlchemy Core (one
transaction each: the floor one event per request would cost) and prints the ratio.
The two alternate `--repeat` times, so the noise of a shared machine hits both and
shows in the spread; the last line has the medians. Loopback only, bounded.

    python -m bench.timeline_ingest [--n 1000] [--clients 4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select

from bench.common import bench_app, pct
from bot.domain.timeline import ts_to_datetime
from storage.db import make_engine, upgrade
from storage.models import IncidentRow, TimelineEntryRow


def core_floor(engine: Engine, events: list[dict[str, Any]], channel: str) -> float:
    """Rows per second inserting `events` with plain Core, one transaction per row."""
    with engine.begin() as conn:
        incident_id = conn.execute(select(func.min(IncidentRow.id))).scalar()
        if incident_id is None:
            incident_id = conn.execute(insert(IncidentRow).values(
                number=1, title="reference", description="", severity="SEV3",
                status="investigating", declared_at=ts_to_datetime(events[0]["ts"]),
                declared_by="U01ALICE", summary="").returning(IncidentRow.id)).scalar_one()
    rows = [{"incident_id": incident_id, "channel_id": channel, "ts": e["ts"],
             "at": ts_to_datetime(e["ts"]), "kind": "message", "author": "U01ALICE",
             "text": e["text"], "pinned": False, "marked_by": [], "deleted": False,
             "history": [], "files": []} for e in events]
    started = time.perf_counter()
    for row in rows:
        with engine.begin() as conn:
            conn.execute(insert(TimelineEntryRow).values(**row))
    return len(rows) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rates: list[float] = []
    floors: list[float] = []
    acks: list[float] = []
    stored_total = 0
    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(folder)
        client, general, runtime, url = app.client, app.general, app.runtime, app.url
        reference_url = (f"sqlite:///{Path(folder) / 'core.db'}" if url.startswith("sqlite")
                         else url)
        engine = make_engine(reference_url)
        upgrade(engine)
        try:
            client.reply_to(client.slash("declare sev3 Ingest bench", user="U01ALICE",
                                         channel=general), timeout=30)
            with runtime.deps.uow() as tx:
                number = max(i.number for i in tx.incidents.list())
                channel = tx.incidents.get(number).channel_id
            base = time.time()

            def send(event: dict) -> float:
                reply = client.event(event)
                assert reply.status == 200, reply.body
                return reply.elapsed_ms

            for round_no in range(args.repeat):
                events = [{"type": "message", "channel": channel, "user": "U01ALICE",
                           "text": f"message {i} " + "x" * 80,
                           "ts": f"{base + round_no * 1000 + i / 1000:.6f}",
                           "channel_type": "channel"} for i in range(args.n)]
                started = time.perf_counter()
                with ThreadPoolExecutor(args.clients) as pool:
                    round_acks = list(pool.map(send, events))
                elapsed = time.perf_counter() - started
                with runtime.engine.connect() as conn:
                    stored = conn.execute(
                        select(func.count()).select_from(TimelineEntryRow)
                        .where(TimelineEntryRow.channel_id == channel)).scalar_one()
                new = stored - stored_total
                stored_total = stored
                rates.append(new / elapsed)
                floors.append(core_floor(engine, events, f"CREF{round_no}"))
                acks += round_acks
                print(f"round {round_no + 1}: endpoint {new}/{args.n} stored, "
                      f"{rates[-1]:.0f} events/s (ack median "
                      f"{statistics.median(round_acks):.1f} ms); plain Core "
                      f"{floors[-1]:.0f} rows/s; ratio {rates[-1] / floors[-1]:.2f}")
        finally:
            app.close()
            engine.dispose()
    db = url.split(":", 1)[0]
    ratios = [r / f for r, f in zip(rates, floors, strict=True)]
    rate, core_rate = statistics.median(rates), statistics.median(floors)
    print(f"endpoint: {stored_total}/{args.n * args.repeat} events stored, median "
          f"{rate:.0f} events/s ({args.clients} clients, {db})")
    print(f"ack latency: median {statistics.median(acks):.1f} ms, p99 {pct(acks, 99):.1f} ms, "
          f"max {max(acks):.1f} ms")
    print(f"plain SQLAlchemy Core, one transaction per row: median {core_rate:.0f} rows/s")
    print(f"RESULT events_per_s={rate:.0f} core_rows_per_s={core_rate:.0f} "
          f"ratio={statistics.median(ratios):.2f} ratios={'/'.join(f'{r:.2f}' for r in ratios)} "
          f"ack_median_ms={statistics.median(acks):.1f} ack_p99_ms={pct(acks, 99):.1f} "
          f"stored={stored_total}/{args.n * args.repeat}")


if __name__ == "__main__":
    main()
