"""Bounded input: backdated notes, schedules as code, YAML files, and the scheduler's
health when its ticks fail (issue 9, "Bounded work")."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine

from bot.config import DebriefConfig, TimelineConfig, parse_config
from bot.errors import ConfigError
from storage.uow import UnitOfWorkFactory
from tests.conftest import Stack, start_stack
from tests.helpers import BOB, declare, join, slash


def notes(stack: Stack) -> list[Any]:
    with stack.runtime.deps.uow() as tx:
        return [e for e in tx.timeline.entries(1) if e.kind == "note"]


def test_backdated_notes_are_bounded_by_the_declaration_and_now(engine: Engine) -> None:
    """A note may go back 7 days before the declaration (the default) and not past a
    minute from now; out of range gets a one-line reply and stores nothing."""
    with freeze_time("2026-11-26 15:00:00", tick=True):
        stack = start_stack(engine)
        stack.slack.users[BOB]["tz"] = "Europe/Berlin"
        try:
            channel = declare(stack).channel_id
            join(stack, channel, BOB)
            refused = {
                "note at 2026-11-19 15:59 eight days back": "more than 7 days before",
                "note at 2025-11-26 12:00 a year back": "more than 7 days before",
                "note at 0001-01-01 00:00 the first day": "too far back",
                "note at 9999-12-31 23:59 the last day": "in the future",
                "note at 2026-11-26 16:10 an hour ahead": "in the future",
            }
            for text, why in refused.items():
                reply = slash(stack, text, user=BOB, channel=channel)
                assert why in reply and "\n" not in reply, (text, reply)
            assert notes(stack) == []
            assert "Noted" in slash(stack, "note at 2026-11-19 16:01 just inside", user=BOB,
                                    channel=channel)
            assert "Noted" in slash(stack, "note at 16:00 right now", user=BOB, channel=channel)
        finally:
            stack.close()
        assert [n.text for n in notes(stack)] == ["just inside", "right now"]
        assert stack.slack.violations == []


def test_the_backdate_window_is_configurable(engine: Engine) -> None:
    """`timeline.backdate_limit: 2d` allows two days before the declaration, not three."""
    config = parse_config({"timeline": {"backdate_limit": "2d"}})
    assert config.timeline.backdate_limit == timedelta(days=2)
    with freeze_time("2026-11-26 15:00:00", tick=True):
        stack = start_stack(engine, config)
        try:
            channel = declare(stack).channel_id
            join(stack, channel, BOB)
            reply = slash(stack, "note at 2026-11-23 14:00 three days back", channel=channel)
            assert "more than 2 days before" in reply and "2026-11-24 15:00 UTC" in reply
            assert "Noted" in slash(stack, "note at 2026-11-24 16:00 two days back",
                                    channel=channel)
        finally:
            stack.close()
        assert [n.text for n in notes(stack)] == ["two days back"]


@pytest.mark.parametrize("value, ok", [
    ("7d", timedelta(days=7)), ("48h", timedelta(hours=48)), ("30m", timedelta(minutes=30)),
    ("0m", timedelta(0)), ("365d", timedelta(days=365)),
    ("366d", None), ("a week", None), ("-1d", None), (7, None),
])
def test_backdate_limit_setting_is_validated(value: object, ok: timedelta | None) -> None:
    """`timeline.backdate_limit` takes 7d / 48h / 30m up to a year; anything else names the key."""
    if ok is None:
        with pytest.raises(ConfigError, match=r"timeline\.backdate_limit"):
            parse_config({"timeline": {"backdate_limit": value}})
    else:
        assert parse_config({"timeline": {"backdate_limit": value}}).timeline.backdate_limit == ok
    assert DebriefConfig().timeline == TimelineConfig()
    assert TimelineConfig().backdate_limit == timedelta(days=7)


def test_parse_when_at_the_calendars_edge_is_a_user_error() -> None:
    """Year 1 and year 9999 in a zone with an offset are explained, not a crash."""
    from zoneinfo import ZoneInfo

    from bot.domain.when import parse_when
    from bot.errors import UserError

    now = datetime(2026, 11, 26, 15, tzinfo=UTC)
    for text, zone in (("0001-01-01 00:00", "Europe/Berlin"),
                       ("9999-12-31 23:59", "America/Los_Angeles"),
                       ("9999-12-31T23:59", "America/Los_Angeles")):
        with pytest.raises(UserError, match="too far"):
            parse_when(text, now, ZoneInfo(zone))


# --- Schedules as code -------------------------------------------------------------

def _schedule_yaml(rotation: str = "", layer: str = "", schedule: str = "") -> str:
    rotation = rotation or ("unit: days\n          interval: 1\n"
                            "          first_handoff: 2025-03-03T09:00\n"
                            "          members: [U01ALICE, U02BOB]")
    return (f"schedules:\n  platform:\n{schedule}    layers:\n      - name: primary\n"
            f"        time_zone: Europe/Berlin\n{layer}        rotation:\n          {rotation}\n")


@pytest.mark.parametrize("rotation, field", [
    ("unit: hours\n          interval: 1000000000000\n          first_handoff: 2025-03-03T09:00"
     "\n          members: [U01ALICE]", "rotation.interval"),
    ("unit: weeks\n          interval: 53\n          first_handoff: 2025-03-03T09:00"
     "\n          members: [U01ALICE]", "rotation.interval"),
    ("unit: days\n          interval: 367\n          first_handoff: 2025-03-03T09:00"
     "\n          members: [U01ALICE]", "rotation.interval"),
    ("unit: days\n          interval: true\n          first_handoff: 2025-03-03T09:00"
     "\n          members: [U01ALICE]", "rotation.interval"),
    ("unit: days\n          first_handoff: 0001-01-01T00:00\n          members: [U01ALICE]",
     "rotation.first_handoff"),
    ("unit: days\n          first_handoff: 9999-12-31T23:00\n          members: [U01ALICE]",
     "rotation.first_handoff"),
    ("unit: days\n          first_handoff: 2025-03-03T09:00\n          members: ["
     + ", ".join(f"U{i:08d}" for i in range(501)) + "]", "rotation.members"),
    ("unit: days\n          first_handoff: 2025-03-03T09:00\n          members: ["
     + "a" * 300 + "@example.com]", "rotation.members"),
])
def test_schedule_bounds_name_the_field(rotation: str, field: str) -> None:
    """Out-of-bounds rotations are refused at parse time with the field named, in one line."""
    import yaml as pyyaml

    from bot.domain.schedules import parse_schedules

    with pytest.raises(ConfigError) as info:
        parse_schedules(pyyaml.safe_load(_schedule_yaml(rotation)))
    message = str(info.value)
    assert field in message and "\n" not in message and len(message) < 300, message


@pytest.mark.parametrize("extra, field", [
    ("    overrides:\n      - {user: U01ALICE, start: 2026-01-01T00:00:00Z, "
     "end: 9999-12-31T23:59:59Z}\n", "override 1: end"),
    ("    overrides:\n      - {user: U01ALICE, start: 0001-01-01T00:00:00+01:00, "
     "end: 2026-01-01T00:00:00Z}\n", "override 1: start"),
    ("    overrides:\n" + "".join(
        f"      - {{user: U01ALICE, start: 2026-01-01T{i % 24:02d}:00:00Z, "
        f"end: 2026-01-02T00:00:00Z}}\n" for i in range(2001)), "overrides"),
])
def test_override_bounds_name_the_field(extra: str, field: str) -> None:
    """An override ending in 9999 (or starting in year 1, or too many of them) is refused."""
    import yaml as pyyaml

    from bot.domain.schedules import parse_schedules

    with pytest.raises(ConfigError, match=field):
        parse_schedules(pyyaml.safe_load(_schedule_yaml(schedule=extra)))


def test_priority_and_layer_count_are_bounded() -> None:
    """priority is at most ±1000; a schedule has at most 20 layers."""
    import yaml as pyyaml

    from bot.domain.schedules import parse_schedules

    with pytest.raises(ConfigError, match="priority"):
        parse_schedules(pyyaml.safe_load(_schedule_yaml(layer="        priority: 10000000\n")))
    text = _schedule_yaml()
    layer = text.split("    layers:\n", 1)[1]
    many = text.split("    layers:\n", 1)[0] + "    layers:\n" + "".join(
        layer.replace("name: primary", f"name: l{i}") for i in range(21))
    with pytest.raises(ConfigError, match="layers has 21 entries"):
        parse_schedules(pyyaml.safe_load(many))



def debrief(*args: str, env: dict[str, str], cwd: Path,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The CLI as a subprocess (what a person at a terminal sees)."""
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=timeout,
                          env={"PATH": os.environ.get("PATH", ""), **env})


BOMB = "".join(f"{c}: &{c} [" + ",".join([f"*{p}"] * 9 if p else ['"lol"'] * 9) + "]\n"
               for p, c in zip(["", *"abcdefgh"], "abcdefghi", strict=True)) + "schedules: *i\n"


def test_apply_refuses_out_of_bounds_schedules_with_one_line(engine: Engine,
                                                             tmp_path: Path) -> None:
    """`debrief oncall apply` refuses an absurd interval, an override ending in 9999, an
    alias bomb (fast), a binary and a non-UTF-8 file: one line each, exit 2, nothing stored."""
    env = {"DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    huge = _schedule_yaml("unit: hours\n          interval: 1000000000000\n"
                          "          first_handoff: 2025-03-03T09:00\n          members: [U01ALICE]")
    forever = _schedule_yaml(schedule="    overrides:\n      - {user: U01ALICE, start: "
                                      "2026-01-01T00:00:00Z, end: 9999-12-31T23:59:59Z}\n")
    cases = {"huge.yaml": (huge.encode(), "rotation.interval"),
             "forever.yaml": (forever.encode(), "override 1: end"),
             "bomb.yaml": (BOMB.encode(), "an alias bomb"),
             "binary.yaml": (bytes(range(256)) * 4, "not UTF-8"),
             "latin1.yaml": ("schedules:\n  café: {}\n".encode("latin-1"), "not UTF-8"),
             "big.yaml": (b"# padding\n" * 110_000, "larger than 1024 KiB")}
    for name, (content, expected) in cases.items():
        (tmp_path / name).write_bytes(content)
        started = time.monotonic()
        result = debrief("oncall", "apply", name, env=env, cwd=tmp_path)
        elapsed = time.monotonic() - started
        assert result.returncode == 2, (name, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0] and "Traceback" not in result.stderr, \
            (name, result.stderr)
        assert elapsed < 10, (name, elapsed)
    with UnitOfWorkFactory(engine)() as tx:
        assert tx.schedules.names() == []


def test_debrief_yaml_is_read_with_the_same_bounds(tmp_path: Path) -> None:
    """A non-UTF-8, binary or alias-bomb debrief.yaml is one line and exit 2."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "DEBRIEF_CONFIG": "debrief.yaml"}
    for content, expected in ((b"announce_channel: \xe9t\xe9\n", "not UTF-8"),
                              (b"\x00\x01\x02PNG\r\n", "not valid YAML"),
                              (BOMB.replace("schedules", "roles").encode(), "an alias bomb")):
        (tmp_path / "debrief.yaml").write_bytes(content)
        result = debrief("incident", "list", env=env, cwd=tmp_path)
        assert result.returncode == 2, result
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "debrief.yaml" in lines[0] and expected in lines[0], \
            result.stderr


def test_yaml_loader_limits_are_cheap_and_exact() -> None:
    """The expanded size counts aliases as their subtrees; self-reference and deep nesting
    are refused; anchors used a few times (the normal case) load as before."""
    from bot.yamlfile import parse_yaml

    normal = "team: &t [U01ALICE, U02BOB]\nschedules: {a: *t, b: *t}\n"
    assert parse_yaml(normal, "x") == {"team": ["U01ALICE", "U02BOB"],
                                       "schedules": {"a": ["U01ALICE", "U02BOB"],
                                                     "b": ["U01ALICE", "U02BOB"]}}
    started = time.monotonic()
    with pytest.raises(ConfigError, match="an alias bomb"):
        parse_yaml(BOMB, "x")
    assert time.monotonic() - started < 1
    with pytest.raises(ConfigError, match="refers to itself"):
        parse_yaml("&a [*a]", "x")
    with pytest.raises(ConfigError, match="nested too deeply"):
        parse_yaml("[" * 3000 + "]" * 3000, "x")
    with pytest.raises(ConfigError, match="more than 1000 aliases"):
        parse_yaml("a: &a 1\nb: [" + ", ".join(["*a"] * 1001) + "]\n", "x")


EDGES = [datetime(1, 1, 1, tzinfo=UTC), datetime(1, 1, 2, 12, tzinfo=UTC),
         datetime(1969, 12, 31, 23, tzinfo=UTC), datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
         datetime(2099, 12, 31, 23, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC),
         datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)]


@pytest.mark.parametrize("unit, interval", [("hours", 1), ("hours", 8784), ("days", 366),
                                            ("weeks", 52)])
@pytest.mark.parametrize("first", ["1970-01-01T00:00", "2099-12-31T23:30"])
@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12", "Europe/Berlin"])
def test_rotation_maths_never_overflows_within_the_bounds(unit: str, interval: int, first: str,
                                                          zone: str) -> None:
    """A layer at the edges of what `apply` accepts answers who / next change / shifts /
    a member change at any instant, year 1 to 9999, without raising."""
    from bot.domain.rotations import (
        Era,
        Layer,
        Override,
        Restriction,
        Schedule,
        change_members,
        next_change,
        shifts,
        who,
    )
    from bot.domain.schedules import LATEST

    layer = Layer("l", 1, zone, unit, interval, datetime.fromisoformat(first),
                  (Era(0, ("A", "B", "C"), 0),),
                  (Restriction(frozenset({0, 1, 2, 3, 4}), datetime.min.time().replace(hour=9),
                               datetime.min.time().replace(hour=17)),))
    schedule = Schedule("s", (layer,), (Override("Z", LATEST - timedelta(days=1), LATEST),))
    for at in EDGES:
        who(schedule, at)
        next_change(schedule, at)
        shifts(schedule, at, at + min(timedelta(days=30), EDGES[-1] - at))
        change_members(layer, ("B", "D"), at)



def test_a_bad_stored_schedule_does_not_break_the_tick(stack: Stack, tmp_path: Path) -> None:
    """A schedule stored without today's bounds (interval 10^12 hours, as older versions
    accepted) is skipped and logged; the other schedule's handoff and an action item's
    reminder still go out on the same tick."""
    from bot.domain.rotations import Era, Layer, Schedule
    from bot.services.oncall import apply_schedules, load_schedule_file
    from bot.services.reminders import send_due

    stack.slack.add_channel("platform-oncall")
    path = tmp_path / "oncall.yaml"
    path.write_text('schedules:\n  platform:\n    channel: "#platform-oncall"\n    layers:\n'
                    "      - name: primary\n        time_zone: UTC\n        rotation:\n"
                    "          unit: days\n          first_handoff: 2026-11-23T09:00\n"
                    "          members: [U01ALICE, U02BOB]\n")
    now = datetime(2026, 11, 24, 9, 0, 30, tzinfo=UTC)
    uow = stack.runtime.deps.uow
    apply_schedules(load_schedule_file(path), effective=now, uow=uow, now=now)
    broken = Layer("primary", 1, "UTC", "hours", 10**12, datetime(2025, 3, 3, 9),
                   (Era(0, ("U01ALICE",), 0),))
    with uow() as tx:
        tx.schedules.save(Schedule("aaa-legacy", (broken,), channel="#platform-oncall"), now)
        tx.commit()
    with freeze_time("2026-11-24 08:00:00", tick=True):
        incident = declare(stack)
        slash(stack, "action Rotate keys <@U02BOB|bob> due 2026-11-24", channel=incident.channel_id)
    sent = send_due(stack.runtime.deps, now)
    assert sorted(sent) == ["action-due:1:2026-11-24",
                            "nudge-update:1:20261124T080000:1",  # the SEV2, 60 min on
                            "oncall-handoff:platform:20261124T090000Z"]


def test_healthz_turns_unhealthy_when_ticks_keep_failing(engine: Engine, tmp_path: Path) -> None:
    """`debrief run`: when every scheduler tick fails (a table the tick reads is gone),
    GET /healthz answers 503 with the scheduler's last error; once ticks succeed again it
    is 200."""
    import json
    import urllib.error
    import urllib.request

    from bot.standin.server import FakeSlack
    from tests.helpers import free_port, wait_healthy

    slack = FakeSlack().start()
    port = free_port()
    url = f"http://127.0.0.1:{port}/healthz"
    log_file = tmp_path / "run.log"
    # Output goes to a file: an undrained pipe would fill up with the failing ticks'
    # tracebacks and stall the process, which is not what this test is about.
    with log_file.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--host", "127.0.0.1"], cwd=tmp_path,
            stdout=sink, stderr=subprocess.STDOUT,
            env={"PATH": os.environ.get("PATH", ""), "SLACK_BOT_TOKEN": slack.token,
                 "SLACK_SIGNING_SECRET": "s3cret", "SLACK_API_URL": slack.api_url,
                 "PORT": str(port), "DEBRIEF_SCHEDULER_INTERVAL": "0.05",
                 "DATABASE_URL": engine.url.render_as_string(hide_password=False)})

    def health() -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def wait_for(status: int) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            code, report = health()
            if code == status:
                return report
            time.sleep(0.05)  # polling a running process; bounded by the deadline
        raise AssertionError(f"/healthz never answered {status}: {report}")  # noqa: B023

    try:
        wait_healthy(url, process)
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE action_items RENAME TO action_items_away")
        report = wait_for(503)
        assert report["database"] == "reachable" and report["scheduler"]["ok"] is False
        assert report["scheduler"]["failed_ticks_in_a_row"] >= 3
        assert "action_items" in report["scheduler"]["last_error"]
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE action_items_away RENAME TO action_items")
        report = wait_for(200)
        assert report["scheduler"]["last_error"] is None
    finally:
        process.terminate()
        process.wait(timeout=15)
        slack.stop()
    assert "scheduler tick failed (3 in a row)" in log_file.read_text()


def test_overrides_from_slack_and_the_cli_are_bounded(engine: Engine, tmp_path: Path) -> None:
    """An override ending in 9999 is refused with one line, from /oncall and from the CLI;
    nothing is stored."""
    from tests.helpers import SCHEDULE, apply

    stack = start_stack(engine)
    try:
        stack.slack.add_channel("platform-oncall")
        stack.slack.add_usergroup("platform-oncall")
        apply(stack, tmp_path, SCHEDULE)
        reply = stack.client.reply_to(stack.client.slash(
            "override platform <@U02BOB|bob> today 18:00 to 9999-12-30 23:00", user=BOB,
            command="/oncall"))
        assert "between 1970 and 2099" in reply["text"], reply
    finally:
        stack.close()
    env = {"DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    result = debrief("oncall", "override", "platform", "U02BOB", "--start",
                     "2030-01-01T00:00:00Z", "--end", "9999-12-31T23:00:00Z", env=env,
                     cwd=tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0 and len(lines) == 1 and "between 1970 and 2099" in lines[0], \
        result.stderr
    with UnitOfWorkFactory(engine)() as tx:
        assert tx.schedules.get("platform").overrides == ()
