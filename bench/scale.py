"""Scale: what periodic and interactive work costs as the history grows.

Seeds databases of 1,000 / 10,000 / 100,000 incidents (about ten a day, each with events,
chat, two action items and a postmortem with two versions) through `debrief incident
import` of a generated export file, then for each size measures a real `debrief run`
(HTTP mode, stand-in Slack): start to /healthz 200, `/incident stats 30d`, `/incident
list`, RSS idle and after the stats, and — in this process, on the same database — a
scheduler tick's time and SQL statement count (an engine event). The window of the last
30 days holds about 300 incidents at every size, so the goal is a ratio near 1 to the
smallest size. Rounds run the sizes in turn (interleaved on SQLite; one size after the
other with --database) so the noise of a shared machine shows as a min–max range.

    python -m bench.scale [--sizes 1000,10000,100000] [--rounds 2] [--repeat 3] [--database URL]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.common import fresh_database
from bench.load import rss_mb
from bot.clock import utcnow
from bot.config import DebriefConfig, Settings
from bot.domain.archive import iso
from bot.runtime import build_runtime
from bot.services.archive import dump_line
from bot.services.reminders import send_due
from bot.standin.client import SlackClient
from bot.standin.server import FakeSlack
from storage.db import make_engine

PER_DAY = 10
USERS = [f"U{i:02d}BENCH" for i in range(8)]
# Tags and services per incident, cycled by number (bench/search.py filters on them).
TAG_SETS = [["database", "service:checkout"], ["network"], [], ["deploy", "service:payments"],
            ["database", "service:search"]]
TEXT = ("The checkout service returned errors after the configuration push; the on-call "
        "engineer rolled back and the error rate recovered. ")


def records(n: int, now: datetime) -> Iterator[dict[str, Any]]:
    """`n` incidents ending now, about PER_DAY a day; the newest three still open."""
    rng = random.Random(n)
    step = timedelta(days=1) / PER_DAY
    for number in range(1, n + 1):
        declared = now - step * (n - number) - timedelta(minutes=rng.randint(5, 120))
        who = USERS[number % len(USERS)]
        channel = f"CB{number:08d}"
        is_open = number > n - 3
        acked = declared + timedelta(minutes=rng.randint(2, 30))
        mitigated = acked + timedelta(minutes=rng.randint(10, 120))
        resolved = None if is_open else mitigated + timedelta(minutes=rng.randint(10, 240))
        events = [
            {"at": iso(declared), "kind": "declared", "actor": who,
             "detail": {"severity": f"SEV{1 + number % 3}"}},
            {"at": iso(declared), "kind": "role", "actor": who,
             "detail": {"role": "commander", "user": who}},
            {"at": iso(acked), "kind": "acknowledged", "actor": who, "detail": {}},
            {"at": iso(mitigated), "kind": "status", "actor": who,
             "detail": {"from": "investigating", "to": "monitoring"}},
        ]
        if resolved:
            events.append({"at": iso(resolved), "kind": "resolved", "actor": who,
                           "detail": {"from": "monitoring", "to": "resolved",
                                      "summary": "rolled back"}})
        old = declared < now - timedelta(days=60)
        items = [{"text": f"Follow-up {k} of #{number}", "owner": USERS[(number + k) % 8],
                  "due": (declared + timedelta(days=7 * k)).date().isoformat(),
                  "type": "fix", "status": "done" if old else "open",
                  "created_at": iso(mitigated), "created_by": who,
                  "closed_at": iso(mitigated + timedelta(days=3)) if old else None,
                  "closed_by": who if old else None} for k in (1, 2)]
        entries = [{"at": iso(at), "kind": "message", "author": USERS[(number + k) % 8],
                    "text": f"update {k}: {TEXT[:60]}", "channel_id": channel,
                    "ts": f"{at.timestamp():.6f}", "thread_ts": None, "pinned": k == 0,
                    "marked_by": [], "deleted": False, "hidden": False, "history": [], "files": []}
                   for k, at in ((k, declared + timedelta(minutes=3 * k + 1)) for k in range(4))]
        postmortem = None
        if resolved:
            published = resolved + timedelta(days=2)
            versions = [{"version": v, "template": "postmortem.md.j2",
                         "content": f"# Incident {number} v{v}\n\n" + TEXT * 8,
                         "created_at": iso(resolved + timedelta(days=1, hours=v)),
                         "created_by": who, "file_id": None, "message_ts": None} for v in (1, 2)]
            done = published < now
            postmortem = {"status": "published" if done else "draft",
                          "created_at": versions[0]["created_at"],
                          "updated_at": iso(published if done else resolved),
                          "published_at": iso(published) if done else None,
                          "versions": versions}
        yield {
            "number": number, "title": f"Checkout errors {number}", "description": "",
            "severity": f"SEV{1 + number % 3}",
            "status": "investigating" if is_open else "resolved",
            "channel_id": channel, "channel_name": f"inc-{number}-checkout-errors",
            "declared_at": iso(declared), "declared_by": who, "acknowledged_at": iso(acked),
            "acknowledged_by": who, "resolved_at": iso(resolved), "summary": "",
            "roles": {"commander": who}, "events": events, "action_items": items,
            "card_ts": None, "announce_channel_id": None, "announce_ts": None, "private": False,
            "tags": TAG_SETS[number % len(TAG_SETS)],
            "timeline_entries": entries, "postmortem": postmortem,
            "postmortem_sections": [],
            "postmortem_reviews": [],
            "postmortem_factors": [],
        }


def seed(url: str, n: int, folder: Path, now: datetime) -> float:
    """Write the export file and import it with `debrief incident import`; seconds taken."""
    path = folder / f"incidents-{n}.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for record in records(n, now):
            out.write(dump_line(record))
    fresh_database(url)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bot", "incident", "import", str(path)],
                          env={**os.environ, "DATABASE_URL": url}, capture_output=True,
                          text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"import failed: {done.stderr.strip()}")
    seconds = time.perf_counter() - started
    print(f"seeded {n} incidents ({path.stat().st_size / 1e6:.0f} MB file) in {seconds:.1f} s: "
          f"{done.stdout.strip()}", flush=True)
    path.unlink()
    return seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure(url: str, slack: FakeSlack, general: str, folder: Path,
            repeat: int = 3) -> dict[str, float]:
    """One round on one database: a fresh `debrief run`, its figures, then a stop."""
    port, secret = free_port(), secrets.token_hex(8)
    env = {"PATH": os.environ.get("PATH", ""), "SLACK_BOT_TOKEN": slack.token,
           "SLACK_SIGNING_SECRET": secret, "SLACK_API_URL": slack.api_url,
           "DATABASE_URL": url, "PORT": str(port), "DEBRIEF_SLACK_PACE": "0"}
    figures: dict[str, float] = {}
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "bot", "run", "--host", "127.0.0.1"],
                              cwd=folder, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.perf_counter() - started > 300:
                raise SystemExit("debrief run did not become ready in 300 s")
            time.sleep(0.02)  # polling a starting process, bounded above
        figures["start_to_healthz_s"] = time.perf_counter() - started
        time.sleep(1)  # settle before the idle reading
        figures["rss_idle_mb"] = rss_mb(server.pid)[0]
        client = SlackClient(base, secret, slack)
        for name, words in (("stats_30d_s", "stats 30d"), ("list_s", "list")):
            times = []
            for _ in range(repeat):
                begun = time.perf_counter()
                reply = client.slash(words, user=USERS[0], channel=general)
                if not reply.text:
                    client.reply_to(reply, timeout=300)
                times.append(time.perf_counter() - begun)
            figures[name] = statistics.median(times)
        figures["rss_after_stats_mb"] = rss_mb(server.pid)[0]
        figures["rss_peak_mb"] = rss_mb(server.pid)[1]
    finally:
        server.terminate()
        server.wait(timeout=60)
    figures.update(tick(url, slack))
    return figures


def tick(url: str, slack: FakeSlack) -> dict[str, float]:
    """A steady scheduler tick in this process (after one that sends what is due)."""
    engine = make_engine(url)
    runtime = build_runtime(Settings(bot_token=slack.token, signing_secret="x",
                                     api_url=slack.api_url, database_url=url, slack_pace=0),
                            DebriefConfig(), engine=engine)
    counted: list[str] = []
    listener = lambda *args: counted.append(args[2])  # noqa: E731
    try:
        send_due(runtime.deps)
        event.listen(engine, "before_cursor_execute", listener)
        times = []
        for _ in range(3):
            counted.clear()
            begun = time.perf_counter()
            send_due(runtime.deps)
            times.append(time.perf_counter() - begun)
        event.remove(engine, "before_cursor_execute", listener)
    finally:
        engine.dispose()
    return {"tick_s": statistics.median(times), "tick_statements": float(len(counted))}


UNITS = {"start_to_healthz_s": ("start → /healthz 200", "s"),
         "stats_30d_s": ("/incident stats 30d", "s"), "list_s": ("/incident list", "s"),
         "tick_s": ("scheduler tick (steady)", "s"),
         "tick_statements": ("SQL statements per tick", ""),
         "rss_idle_mb": ("RSS idle", "MB"), "rss_after_stats_mb": ("RSS after the stats", "MB"),
         "rss_peak_mb": ("RSS peak", "MB")}


def report(results: dict[int, list[dict[str, float]]], seeded: dict[int, float]) -> None:
    sizes = sorted(results)
    base = sizes[0]
    print(f"\n{'':28}" + "".join(f"{n:>30,}" for n in sizes))
    for key, (label, unit) in UNITS.items():
        cells = []
        base_median = statistics.median(r[key] for r in results[base])
        for n in sizes:
            values = [r[key] for r in results[n]]
            median = statistics.median(values)
            low, high = f"{min(values):.3g}", f"{max(values):.3g}"
            shown = f"{low}–{high}" if low != high else low
            ratio = f" ({median / base_median:.2f}×)" if base_median else ""
            cells.append(f"{shown} {unit}{ratio}")
        print(f"{label:28}" + "".join(f"{c:>30}" for c in cells))
    print(f"{'import (debrief incident import)':28}"
          + "".join(f"{f'{seeded[n]:.1f} s, {n / seeded[n]:,.0f}/s':>30}" for n in sizes))
    summary = " ".join(
        f"{key}@{n}={statistics.median(r[key] for r in results[n]):.3g}"
        for n in sizes for key in ("stats_30d_s", "tick_s", "tick_statements",
                                   "start_to_healthz_s", "rss_after_stats_mb"))
    print(f"RESULT {summary}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="incident counts, comma-separated; the first is the base")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3,
                        help="stats and list commands per round (RSS is read after them)")
    parser.add_argument("--database", help="one SQLAlchemy URL used for each size in turn "
                        "(default: a temporary SQLite file per size, rounds interleaved)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="debrief-scale-"))
    now = utcnow()
    slack = FakeSlack().start()
    for user in USERS:
        slack.add_user(user, user.lower())
    general = slack.add_channel("general", members=tuple(USERS))
    slack.add_channel("incidents")
    results: dict[int, list[dict[str, float]]] = defaultdict(list)
    seeded: dict[int, float] = {}
    try:
        if args.database:
            for n in sizes:
                seeded[n] = seed(args.database, n, folder, now)
                for _ in range(args.rounds):
                    results[n].append(measure(args.database, slack, general, folder, args.repeat))
                    print(f"{n}: {results[n][-1]}", flush=True)
        else:
            urls = {n: f"sqlite:///{folder / f'scale-{n}.db'}" for n in sizes}
            for n in sizes:
                seeded[n] = seed(urls[n], n, folder, now)
            for _ in range(args.rounds):
                for n in sizes:
                    results[n].append(measure(urls[n], slack, general, folder, args.repeat))
                    print(f"{n}: {results[n][-1]}", flush=True)
    finally:
        slack.stop()
    report(results, seeded)


if __name__ == "__main__":
    main()
