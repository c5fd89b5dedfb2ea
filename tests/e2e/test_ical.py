"""iCal feeds over real HTTP: secret per-schedule URLs (rotatable from the CLI), people's
names instead of Slack ids, events that stay the same from fetch to fetch, and a bounded
size even for an hourly rotation."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from freezegun import freeze_time
from icalendar import Calendar
from sqlalchemy import Engine, text

from bot.services.oncall import (
    FEED_MAX_EVENTS,
    apply_schedules,
    feed_path,
    feed_token,
    load_schedule_file,
)
from bot.standin.server import FakeSlack
from storage.db import downgrade, upgrade
from tests.conftest import USERS, Stack
from tests.helpers import free_port, start, stop, wait_healthy

WEEKLY = """
schedules:
  platform:
    layers:
      - name: primary
        priority: 1
        time_zone: Europe/London
        rotation: {unit: weeks, interval: 1, first_handoff: 2026-01-05T09:00,
                   members: [U01ALICE, bob@example.com, U03CAROL, U09GHOST]}
  solo:
    layers:
      - name: only
        priority: 1
        time_zone: UTC
        rotation: {unit: days, interval: 1, first_handoff: 2025-01-01T00:00,
                   members: [U01ALICE]}
"""
HOURLY = """
schedules:
  busy:
    layers:
      - name: hourly
        priority: 1
        time_zone: UTC
        rotation: {unit: hours, interval: 1, first_handoff: 2026-01-01T00:00,
                   members: [U01ALICE, U02BOB, U03CAROL]}
"""


def apply(stack: Stack, tmp_path: Path, schedule: str) -> None:
    path = tmp_path / "oncall.yaml"
    path.write_text(schedule)
    apply_schedules(load_schedule_file(path), effective=datetime(2026, 1, 1, tzinfo=UTC),
                    uow=stack.runtime.deps.uow, now=datetime.now(UTC))


def get(stack: Stack, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(stack.server.url + path, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def events(body: bytes) -> dict[str, tuple[datetime, datetime, str]]:
    """UID -> (DTSTART, DTEND, SUMMARY) of every event in a feed."""
    found = {}
    for event in Calendar.from_ical(body).walk("VEVENT"):
        found[str(event["uid"])] = (event.decoded("dtstart"), event.decoded("dtend"),
                                    str(event["summary"]))
    return found


def debrief(stack: Stack, tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    url = stack.runtime.engine.url.render_as_string(hide_password=False)
    return subprocess.run([sys.executable, "-m", "bot", *argv], cwd=tmp_path, text=True,
                          capture_output=True, timeout=60,
                          env={"PATH": os.environ.get("PATH", ""), "DATABASE_URL": url, **env})


def test_feed_url_is_secret_and_rotatable(stack: Stack, tmp_path: Path) -> None:
    """Without the schedule's token (missing, wrong, another schedule's, or rotated away)
    the feed is 404, the same as an unknown schedule; `oncall ical-url --rotate` replaces it."""
    apply(stack, tmp_path, WEEKLY)
    shown = debrief(stack, tmp_path, "oncall", "ical-url", "platform")
    assert shown.returncode == 0, shown.stderr
    path = shown.stdout.strip()
    token = path.removeprefix("/oncall/platform/").removesuffix(".ics")
    assert path == feed_path("platform", token) and len(token) >= 43
    assert get(stack, path)[0] == 200
    assert debrief(stack, tmp_path, "oncall", "ical-url", "platform").stdout.strip() == path
    solo = feed_token("solo", stack.runtime.deps.uow)
    missing = get(stack, "/oncall/platform.ics")
    unknown = get(stack, f"/oncall/nope/{token}.ics")
    assert missing == unknown == (404, b"no such feed")
    for wrong in ("/oncall/platform/" + token[:-1] + ("A" if token[-1] != "A" else "B") + ".ics",
                  f"/oncall/platform/{solo}.ics", "/oncall/platform/x.ics",
                  f"/oncall/platform/{token}.ics/", f"/oncall/platform/{token[:20]}.ics"):
        assert get(stack, wrong)[0] == 404, wrong
    rotated = debrief(stack, tmp_path, "oncall", "ical-url", "platform", "--rotate")
    assert rotated.returncode == 0, rotated.stderr
    new_path = rotated.stdout.strip()
    assert new_path != path
    assert get(stack, path)[0] == 404
    assert get(stack, new_path)[0] == 200
    assert get(stack, f"/oncall/solo/{solo}.ics")[0] == 200  # other schedules unaffected
    nope = debrief(stack, tmp_path, "oncall", "ical-url", "nope")
    assert nope.returncode == 2 and nope.stderr.count("\n") == 1


@pytest.mark.parametrize("schedule", ["platform", "solo"])
def test_events_are_stable_across_fetches(stack: Stack, tmp_path: Path, schedule: str) -> None:
    """Fetched at different times, every event keeps its UID, DTSTART and DTEND: the
    first one starts at a real handoff, not at the moment of the fetch."""
    apply(stack, tmp_path, WEEKLY)
    path = feed_path(schedule, feed_token(schedule, stack.runtime.deps.uow))
    feeds = []
    for at in ("2026-12-01 10:17:03", "2026-12-03 15:43:59", "2026-12-06 23:59:00",
               "2026-12-09 08:00:00"):
        with freeze_time(at, tick=True):
            status, body = get(stack, path)
        assert status == 200
        feeds.append(events(body))
    same_week = feeds[:3]
    assert same_week[0] == same_week[1] == same_week[2]  # byte-for-byte the same events
    for uid in feeds[2].keys() & feeds[3].keys():
        assert feeds[2][uid] == feeds[3][uid]
    assert len(feeds[2].keys() & feeds[3].keys()) >= len(feeds[3]) - 2
    if schedule == "platform":
        starts = sorted(start for start, _, _ in feeds[0].values())
        assert all((s.weekday(), s.hour, s.minute) == (0, 9, 0) for s in starts)  # handoffs
        assert starts[0] <= datetime(2026, 11, 17, tzinfo=UTC)  # two weeks back, whole
        assert starts[-1] >= datetime(2027, 2, 20, tzinfo=UTC)  # twelve weeks ahead
        assert len({uid for f in feeds for uid in f}) == len({s for f in feeds
                                                              for s, _, _ in f.values()})


def test_events_show_display_names_without_calling_slack(stack: Stack, tmp_path: Path) -> None:
    """`oncall apply` with a token stores display names (users.info); the feed shows
    them, falls back to the id for someone Slack does not know, and is served without a
    single Slack call. `?user=` matches a person by id even where the schedule names
    them by e-mail."""
    (tmp_path / "oncall.yaml").write_text(WEEKLY)
    applied = debrief(stack, tmp_path, "oncall", "apply", "oncall.yaml",
                      SLACK_BOT_TOKEN=stack.slack.token, SLACK_API_URL=stack.slack.api_url)
    assert applied.returncode == 0, applied.stderr
    assert "display names looked up in Slack: 3" in applied.stdout
    path = feed_path("platform", feed_token("platform", stack.runtime.deps.uow))
    calls = len(stack.slack.calls)
    with freeze_time("2026-12-01 12:00:00", tick=True):
        found = events(get(stack, path)[1])
        bobs = events(get(stack, path + "?user=U02BOB")[1])
    assert len(stack.slack.calls) == calls, "the feed must not call Slack"
    names = {summary for _, _, summary in found.values()}
    assert names == {"On call: platform (Alice)", "On call: platform (Bob)",
                     "On call: platform (Carol)", "On call: platform (U09GHOST)"}
    assert bobs and {summary for _, _, summary in bobs.values()} == {"On call: platform (Bob)"}
    assert not any("@" in uid.removesuffix("@debrief") for uid in found)  # no e-mails in UIDs


def test_hourly_rotation_feed_is_bounded(stack: Stack, tmp_path: Path) -> None:
    """An hourly rotation lists at most FEED_MAX_EVENTS shifts around now, not thousands."""
    apply(stack, tmp_path, HOURLY)
    path = feed_path("busy", feed_token("busy", stack.runtime.deps.uow))
    with freeze_time("2026-12-01 12:30:00", tick=True):
        started = time.perf_counter()
        status, body = get(stack, path)
        elapsed = time.perf_counter() - started
    found = events(body)
    print(f"hourly rotation feed: {len(found)} events, {len(body) / 1024:.0f} KiB, "
          f"{elapsed * 1000:.0f} ms")
    assert status == 200 and len(found) == FEED_MAX_EVENTS
    assert len(body) < 128 * 1024
    starts = sorted(start for start, _, _ in found.values())
    now = datetime(2026, 12, 1, 12, 30, tzinfo=UTC)
    assert starts[0] < now < starts[-1]
    assert sum(s > now for s in starts) > 5 * sum(s < now for s in starts)  # mostly ahead


def test_migration_gives_existing_schedules_a_token(engine: Engine) -> None:
    """Schedules applied before the upgrade get their own random feed token."""
    downgrade(engine, "0004")
    with engine.begin() as conn:
        for name in ("a", "b"):
            conn.execute(text("INSERT INTO oncall_schedules (name, layers, applied_at) "
                              "VALUES (:name, '[]', :at)"),
                         {"name": name, "at": datetime(2026, 1, 1)})
    upgrade(engine)
    with engine.connect() as conn:
        tokens = conn.execute(text("SELECT feed_token FROM oncall_schedules")).scalars().all()
    assert len(set(tokens)) == 2 and all(len(t) >= 43 for t in tokens)


def test_failing_feed_is_503_and_never_logs_its_secret(stack: Stack, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    """When the database fails while a feed is served the answer is 503, and no log line
    carries the URL's token (waitress would log the path of a request that raised)."""
    apply(stack, tmp_path, WEEKLY)
    token = feed_token("platform", stack.runtime.deps.uow)
    with stack.runtime.engine.begin() as conn:
        conn.execute(text("DROP TABLE slack_users"))
    with caplog.at_level("DEBUG"):
        status, _ = get(stack, feed_path("platform", token))
    assert status == 503
    assert "iCal feed for schedule platform failed" in caplog.text
    assert token not in caplog.text


@pytest.mark.parametrize("how", ["schedules file", "applied beforehand without a token"])
def test_run_learns_names_at_start_up_and_serves_the_feed(tmp_path: Path, how: str) -> None:
    """A real `debrief run` (with a schedules file, or with schedules a tokenless
    `debrief oncall apply` stored earlier) looks up the names once at start-up and serves
    the secret feed with them (no Slack call per fetch)."""
    slack = FakeSlack().start()
    for user_id, name in USERS.items():
        slack.add_user(user_id, name)
    slack.add_channel("incidents")
    (tmp_path / "oncall.yaml").write_text(WEEKLY)
    port, url = free_port(), f"sqlite:///{tmp_path / 'run.db'}"
    if how == "schedules file":
        (tmp_path / "debrief.yaml").write_text("oncall: {file: oncall.yaml}\n")
    else:
        applied = subprocess.run([sys.executable, "-m", "bot", "oncall", "apply", "oncall.yaml"],
                                 cwd=tmp_path, text=True, capture_output=True, timeout=60,
                                 env={"PATH": os.environ.get("PATH", ""), "DATABASE_URL": url})
        assert applied.returncode == 0, applied.stderr
    process = start({"SLACK_BOT_TOKEN": slack.token, "SLACK_SIGNING_SECRET": "s3cret",
                     "SLACK_API_URL": slack.api_url, "PORT": str(port), "DATABASE_URL": url},
                    tmp_path)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
        shown = subprocess.run([sys.executable, "-m", "bot", "oncall", "ical-url", "platform"],
                               cwd=tmp_path, text=True, capture_output=True, timeout=60,
                               env={"PATH": os.environ.get("PATH", ""), "DATABASE_URL": url})
        assert shown.returncode == 0, shown.stderr
        # The names are learned in the background after the first tick (readiness does
        # not wait for Slack look-ups): wait for them, then fetch without a Slack call.
        wait_for(lambda: {"On call: platform (Alice)", "On call: platform (Bob)"} <= {
            summary for _, _, summary in fetch(port, shown.stdout.strip()).values()},
            timeout=30)
        calls = len(slack.calls)
        found = fetch(port, shown.stdout.strip())
        assert len(slack.calls) == calls
        assert {"On call: platform (Alice)", "On call: platform (Bob)"} <= {
            summary for _, _, summary in found.values()}
    finally:
        output = stop(process)
        slack.stop()
    assert "Traceback" not in output


def fetch(port: int, path: str) -> dict[str, tuple[datetime, datetime, str]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
        return events(response.read())


def wait_for(condition: Callable[[], bool], timeout: float) -> None:
    """Re-check `condition` until it holds (fail after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)
