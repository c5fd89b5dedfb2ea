"""Load test: a real `debrief run` (HTTP mode, waitress) under a mix of slash commands
and thousands of message events from concurrent clients. Loopback only, bounded in
count and time; it stops by itself.

Reports acks (median, p99, max, how many within Slack's 3 s), events stored exactly
once, errors, and the server's resident memory idle and after each round.

    python -m bench.load [--database URL] [--events 3000] [--clients 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text

from bench.common import fresh_database, pct
from bot.standin.client import SlackClient
from bot.standin.server import FakeSlack
from storage.db import make_engine

DEADLINE = 600  # seconds: the whole run stops by itself


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text()
                  .splitlines() if ":" in line)
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--events", type=int, default=3000, help="message events per round")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    started = time.monotonic()
    folder = tempfile.mkdtemp(prefix="debrief-load-")
    url = args.database or f"sqlite:///{folder}/load.db"
    fresh_database(url)
    slack = FakeSlack().start()
    users = [f"U{i:03d}LOAD" for i in range(20)]
    for user in users:
        slack.add_user(user, user.lower())
    general = slack.add_channel("general", members=tuple(users))
    slack.add_channel("incidents")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    secret = secrets.token_hex(8)
    env = {"PATH": os.environ.get("PATH", ""), "SLACK_BOT_TOKEN": slack.token,
           "SLACK_SIGNING_SECRET": secret, "SLACK_API_URL": slack.api_url,
           "DATABASE_URL": url, "PORT": str(port), "DEBRIEF_SLACK_PACE": "0"}
    server = subprocess.Popen([sys.executable, "-m", "bot", "run", "--host", "127.0.0.1"],
                              cwd=folder, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    client = SlackClient(base, secret, slack)
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).close()
                break
            except OSError:
                if time.monotonic() - started > 60:
                    raise SystemExit("debrief run did not start") from None
                time.sleep(0.1)  # polling a starting process, bounded above
        time.sleep(1)  # let it settle before the idle reading
        idle = rss_mb(server.pid)
        print(f"idle: RSS {idle[0]:.1f} MB (peak {idle[1]:.1f} MB)")
        channels = []
        for i in range(4):
            reply = client.slash(f"declare sev3 Load {i}", user=users[i], channel=general)
            client.reply_to(reply, timeout=30)
        deadline = time.monotonic() + 30
        while len(channels) < 4 and time.monotonic() < deadline:
            channels = [c.id for c in slack.channels.values() if c.name.startswith("inc-")]
        all_acks: list[float] = []
        errors = 0
        memory = []
        sent_ts: list[tuple[str, str]] = []
        for round_no in range(args.rounds):
            jobs = []
            for i in range(args.events):
                channel = channels[i % len(channels)]
                ts = f"{1_800_000_000 + round_no * 100_000 + i}.{i % 1_000_000:06d}"
                sent_ts.append((channel, ts))
                jobs.append(("event", {"type": "message", "channel": channel,
                                       "user": users[i % 20], "text": f"msg {i} " + "x" * 60,
                                       "ts": ts, "channel_type": "channel"}))
                if i % 50 == 0:
                    jobs.append(("slash", ("status monitoring" if i % 100 else "help",
                                           users[i % 20], channel)))

            def run(job: tuple[str, object]) -> tuple[float, int]:
                kind, payload = job
                if kind == "event":
                    reply = client.event(payload)  # type: ignore[arg-type]
                else:
                    words, user, channel = payload  # type: ignore[misc]
                    reply = client.slash(words, user=user, channel=channel)
                return reply.elapsed_ms, reply.status

            with ThreadPoolExecutor(args.clients) as pool:
                results = list(pool.map(run, jobs))
            all_acks += [ms for ms, _ in results]
            errors += sum(1 for _, status in results if status != 200)
            time.sleep(1)  # let deferred work finish before reading memory
            memory.append(rss_mb(server.pid))
            print(f"round {round_no + 1}: {len(jobs)} requests, RSS {memory[-1][0]:.1f} MB "
                  f"(peak {memory[-1][1]:.1f} MB)")
            if time.monotonic() - started > DEADLINE:
                print("stopping early: time budget spent")
                break
        engine = make_engine(url)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*), count(DISTINCT channel_id || ts) "
                                       "FROM timeline_entries")).one()
        engine.dispose()
    finally:
        server.terminate()
        server.wait(timeout=30)
        slack.stop()
    within = sum(1 for ms in all_acks if ms < 3000)
    db = url.split(":", 1)[0].split("+")[0]
    print(f"acks: median {statistics.median(all_acks):.1f} ms, p99 {pct(all_acks, 99):.1f} ms, "
          f"max {max(all_acks):.1f} ms; {within}/{len(all_acks)} within 3 s; errors {errors}")
    print(f"events: {len(sent_ts)} sent, {stored[0]} stored, {stored[1]} distinct")
    print(f"RESULT db={db} requests={len(all_acks)} ack_median_ms={statistics.median(all_acks):.1f}"
          f" ack_p99_ms={pct(all_acks, 99):.1f} ack_max_ms={max(all_acks):.1f} "
          f"within_3s={within} errors={errors} events_sent={len(sent_ts)} stored={stored[0]} "
          f"distinct={stored[1]} rss_idle_mb={idle[0]:.1f} "
          f"rss_rounds_mb={'/'.join(f'{m[0]:.0f}' for m in memory)}")


if __name__ == "__main__":
    main()
