"""Every error a user can cause at the command line is one line on stderr and exit status
2, never a traceback (the README's promise); run as a real process with a clean
environment, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.clock import utcnow
from bot.config import DebriefConfig
from bot.services.incidents import DeclareRequest, declare_incident
from bot.standin.server import FakeSlack
from storage.uow import UnitOfWorkFactory
from tests.fakes import FakeChat

SCHEDULE = """
schedules:
  platform:
    layers:
      - name: primary
        priority: 1
        time_zone: Europe/London
        rotation: {unit: days, interval: 1, first_handoff: 2026-11-23T09:00,
                   members: [U01ALICE, U02BOB]}
"""


def debrief(*argv: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *argv], cwd=cwd, text=True,
                          capture_output=True, timeout=60,
                          env={"PATH": os.environ.get("PATH", ""), **env})


def assert_one_line(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("debrief"), result.stderr
    for text in expected:
        assert text in lines[0], lines[0]


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def with_incident(engine: Engine) -> str:
    """A migrated database holding incident #1; returns its URL."""
    declare_incident(DeclareRequest(title="Disk full", severity="SEV3", declared_by="U1"),
                     uow=UnitOfWorkFactory(engine), chat=FakeChat(), config=DebriefConfig(),
                     now=utcnow())
    return url_of(engine)


@pytest.mark.parametrize("target", ["missing/folder/pm.md", ".", "/dev/full"])
def test_render_to_an_unwritable_file(with_incident: str, tmp_path: Path, target: str) -> None:
    """`postmortem render -o` to a missing folder, a folder or a full device: one line."""
    if target == "/dev/full" and not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    result = debrief("postmortem", "render", "1", "-o", target, cwd=tmp_path,
                     DATABASE_URL=with_incident)
    assert_one_line(result, f"cannot write {target}")


def test_render_writes_the_file(with_incident: str, tmp_path: Path) -> None:
    """The happy path still writes the document and says where."""
    result = debrief("postmortem", "render", "1", "-o", "pm.md", cwd=tmp_path,
                     DATABASE_URL=with_incident)
    assert result.returncode == 0, result.stderr
    assert "# Postmortem: #1 Disk full" in (tmp_path / "pm.md").read_text()


@pytest.mark.parametrize("argv", [["postmortem", "render", "99999999999999999999"],
                                  ["incident", "show", "99999999999999999999"],
                                  ["incident", "show", "-3"]])
def test_incident_number_out_of_range(with_incident: str, tmp_path: Path,
                                      argv: list[str]) -> None:
    """A number the database cannot hold is refused before any query, in one line."""
    assert_one_line(debrief(*argv, cwd=tmp_path, DATABASE_URL=with_incident),
                    "not an incident number")


def test_unknown_incident_is_a_user_error(with_incident: str, tmp_path: Path) -> None:
    """`render` and `show` of a missing incident exit 2 like every user error."""
    for argv in (["postmortem", "render", "7"], ["incident", "show", "7"]):
        assert_one_line(debrief(*argv, cwd=tmp_path, DATABASE_URL=with_incident), "#7")


@pytest.mark.parametrize("content", [b"\xff\xfeschedules: {}\n", b"\x00\x01\x02\x03binary\x00"])
def test_non_utf8_or_binary_yaml(tmp_path: Path, content: bytes) -> None:
    """A schedules file or debrief.yaml that is not UTF-8 text (or is binary): one line."""
    (tmp_path / "bad.yaml").write_bytes(content)
    url = f"sqlite:///{tmp_path / 'd.db'}"
    assert_one_line(debrief("oncall", "apply", "bad.yaml", cwd=tmp_path, DATABASE_URL=url))
    assert_one_line(debrief("incident", "list", cwd=tmp_path, DATABASE_URL=url,
                            DEBRIEF_CONFIG="bad.yaml"))


def test_override_ending_in_year_9999(engine: Engine, tmp_path: Path) -> None:
    """An end in year 9999 (with or without an offset) is one line, as is a user id the
    database column cannot hold; shifts at the calendar's edge still compute, and an
    override within 1970-2099 is stored and `who` answers with it."""
    (tmp_path / "oncall.yaml").write_text(SCHEDULE)
    url = url_of(engine)
    assert debrief("oncall", "apply", "oncall.yaml", cwd=tmp_path,
                   DATABASE_URL=url).returncode == 0
    assert_one_line(debrief("oncall", "override", "platform", "U09ZED", "--start",
                            "2030-01-01T00:00:00Z", "--end", "9999-12-31T23:59:59-05:00",
                            cwd=tmp_path, DATABASE_URL=url), "--end is out of range")
    assert_one_line(debrief("oncall", "override", "platform", "U09ZED", "--start",
                            "2030-01-01T00:00:00Z", "--end", "9999-12-31T23:59:59Z",
                            cwd=tmp_path, DATABASE_URL=url), "between 1970 and 2099")
    assert_one_line(debrief("oncall", "override", "platform", "U" * 121, "--start",
                            "2030-01-01T00:00:00Z", "--end", "2030-01-02T00:00:00Z",
                            cwd=tmp_path, DATABASE_URL=url), "at most 120 characters")
    shifts = debrief("oncall", "shifts", "platform", "--from", "9999-12-30T00:00:00Z",
                     "--to", "9999-12-31T12:00:00Z", cwd=tmp_path, DATABASE_URL=url)
    assert shifts.returncode == 0 and "9999-12-31T12:00:00Z" in shifts.stdout, shifts.stderr
    stored = debrief("oncall", "override", "platform", "U09ZED", "--start",
                     "2030-01-01T00:00:00Z", "--end", "2099-12-31T23:59:59Z",
                     cwd=tmp_path, DATABASE_URL=url)
    assert stored.returncode == 0, stored.stderr
    who = debrief("oncall", "who", "platform", "--at", "2031-01-01T00:00:00Z", cwd=tmp_path,
                  DATABASE_URL=url)
    assert who.returncode == 0 and "U09ZED (override)" in who.stdout, who.stderr


@pytest.mark.parametrize(("url", "command", "expected"), [
    ("nonsense", "incident list", "DATABASE_URL is not a database URL"),
    ("postgresql://nohost.invalid/x", "db upgrade", "the database cannot be used"),
    ("nosuchdriver://x/y", "db upgrade", "DATABASE_URL is not a database URL"),
    ("postgresql+nosuchdriver://x/y", "stats", "DATABASE_URL is not a database URL"),
    ("mysql://x/y", "incident list", "driver that is not installed"),
    ("sqlite:////nonexistent-folder/debrief.db", "incident list", "the database cannot be used"),
    ("sqlite:///notes.txt", "incident list", "file is not a database"),
])
def test_bad_database_url(tmp_path: Path, url: str, command: str, expected: str) -> None:
    """A database URL that cannot be parsed, loaded or reached (or names a file that is
    not a database): one line saying so."""
    (tmp_path / "notes.txt").write_text("not a database, just some notes\n" * 100)
    assert_one_line(debrief(*command.split(), cwd=tmp_path, DATABASE_URL=url), expected)


def test_postgres_schema_behind_says_run_db_upgrade(bare_engine: Engine, tmp_path: Path,
                                                    postgres_url: str) -> None:
    """PostgreSQL is upgraded explicitly: a command on an empty database says how."""
    assert_one_line(debrief("incident", "list", cwd=tmp_path, DATABASE_URL=postgres_url),
                    "debrief db upgrade")


def test_bad_slack_token(tmp_path: Path) -> None:
    """`oncall apply` with a bad or revoked token stops before changing anything."""
    slack = FakeSlack().start()
    try:
        (tmp_path / "oncall.yaml").write_text(SCHEDULE)
        url = f"sqlite:///{tmp_path / 'd.db'}"
        result = debrief("oncall", "apply", "oncall.yaml", cwd=tmp_path, DATABASE_URL=url,
                         SLACK_BOT_TOKEN="xoxb-not-the-right-one", SLACK_API_URL=slack.api_url)
        assert_one_line(result, "invalid_auth", "SLACK_BOT_TOKEN")
        listed = debrief("oncall", "who", "platform", cwd=tmp_path, DATABASE_URL=url)
        assert_one_line(listed, "no on-call schedule `platform`")  # nothing was applied
    finally:
        slack.stop()


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    """argparse's own errors (unknown option, missing argument) are one line too."""
    for argv in (["incident", "list", "--bogus"], [], ["oncall", "override", "platform"]):
        assert_one_line(debrief(*argv, cwd=tmp_path), "--help")


def test_sqlite_commands_create_the_schema(tmp_path: Path) -> None:
    """On the embedded default, `oncall apply` on a fresh file creates the schema itself."""
    (tmp_path / "oncall.yaml").write_text(SCHEDULE)
    result = debrief("oncall", "apply", "oncall.yaml", cwd=tmp_path)
    assert result.returncode == 0 and "created: platform" in result.stdout, result.stderr
    assert (tmp_path / "debrief.db").exists()
    who = debrief("oncall", "who", "platform", "--at", "2026-11-24T12:00:00Z", cwd=tmp_path)
    assert "U02BOB (layer:primary)" in who.stdout, who.stderr


def test_output_to_a_full_device(tmp_path: Path) -> None:
    """Standard output on a full disk: one line, no 'Exception ignored' at exit."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    (tmp_path / "oncall.yaml").write_text(SCHEDULE)
    assert debrief("oncall", "apply", "oncall.yaml", cwd=tmp_path).returncode == 0
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "bot", "oncall", "ical", "platform"],
                                cwd=tmp_path, text=True, stdout=full, stderr=subprocess.PIPE,
                                timeout=60, env={"PATH": os.environ.get("PATH", "")})
    assert_one_line(result, "cannot write the output")
