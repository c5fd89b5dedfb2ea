"""Ack latency of /incident through the real HTTP endpoint, and declare end-to-end time.

Runs the real app (waitress + Bolt) against the Slack stand-in on a temporary SQLite
database (or DATABASE_URL), sends signed slash commands and prints the figures; the
last line holds the headline numbers. Loopback only, bounded in count.

    python -m bench.ack_latency [--n 50]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from bench.common import bench_app, pct


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(folder)
        slack, client, general, url = app.slack, app.client, app.general, app.url
        try:
            help_ms = [client.slash("help", user="U01ALICE", channel=general).elapsed_ms
                       for _ in range(n)]
            ack_ms, done_ms = [], []
            calls_before = len(slack.calls)
            for i in range(n):
                started = time.perf_counter()
                reply = client.slash(f"declare sev3 Bench {i}", user="U01ALICE", channel=general)
                ack_ms.append(reply.elapsed_ms)
                client.reply_to(reply, timeout=30)
                done_ms.append((time.perf_counter() - started) * 1000)
            calls_per_declare = (len(slack.calls) - calls_before) / n
        finally:
            app.close()
    db = url.split(":", 1)[0]
    for name, values in (("help ack", help_ms), ("declare ack", ack_ms),
                         ("declare fully set up", done_ms)):
        print(f"{name:<22} median {statistics.median(values):7.1f} ms   "
              f"p99 {pct(values, 99):7.1f} ms   max {max(values):7.1f} ms   (n={n}, {db})")
    print(f"Slack Web API calls per declare: {calls_per_declare:.1f}")
    print(f"RESULT help_ack_median_ms={statistics.median(help_ms):.1f} "
          f"declare_ack_median_ms={statistics.median(ack_ms):.1f} "
          f"declare_ack_p99_ms={pct(ack_ms, 99):.1f} "
          f"declare_done_median_ms={statistics.median(done_ms):.1f} "
          f"calls_per_declare={calls_per_declare:.1f}")


if __name__ == "__main__":
    main()
