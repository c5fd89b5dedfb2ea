"""Helpers shared by test modules, in one place so that test modules never import each
other: people, driving the stack over signed HTTP, on-call schedules, postmortem
scripts, paging through replies, `debrief run` as a subprocess, and fuzzing settings.
Fixtures (the database, `stack`) live in tests/conftest.py."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event

from bot.services.oncall import apply_schedules, load_schedule_file
from bot.slack.ids import Action
from bot.standin.client import Reply
from bot.standin.limits import block_kit_problems
from tests.conftest import Stack, start_stack

ALICE, BOB, CAROL = "U01ALICE", "U02BOB", "U03CAROL"


# --- driving the stack over signed HTTP ------------------------------------------------

def slash(stack: Stack, text: str, user: str = ALICE, channel: str | None = None) -> str:
    """Run a slash command; return what the person sees (ack text or the later reply)."""
    reply = stack.client.slash(text, user=user, channel=channel or stack.general)
    assert reply.status == 200, reply.body
    if reply.text:
        return reply.text
    return str(stack.client.reply_to(reply).get("text", ""))


def declare(stack: Stack, text: str = "declare sev2 Checkout errors", user: str = ALICE) -> Any:
    message = slash(stack, text, user=user)
    assert "Declared incident" in message, message
    return stack.incident(int(message.split("#", 1)[1].split("*", 1)[0]))


def all_text(stack: Stack) -> str:
    """Everything the bot ever sent to Slack, as one string."""
    return json.dumps([c.args for c in stack.slack.calls])


def mrkdwn_texts(node: Any) -> list[str]:
    """Every string Slack would parse as mrkdwn: message `text` and mrkdwn text objects."""
    found: list[str] = []
    if isinstance(node, dict):
        if isinstance(node.get("text"), str) and node.get("type") in (None, "mrkdwn"):
            found.append(node["text"])
        for value in node.values():
            found += mrkdwn_texts(json.loads(value) if isinstance(value, str)
                                  and value.startswith("[") else value)
    elif isinstance(node, list):
        for item in node:
            found += mrkdwn_texts(item)
    return found


# --- counting SQL statements -------------------------------------------------------------

class StatementCount:
    """Counts the SQL statements sent through `engine` while in the `with` block. Not
    counted: transaction control (BEGIN, SAVEPOINT, RELEASE), which SQLite's driver
    receives as statements and psycopg sends unasked, so both dialects count the same."""

    _CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK")

    def __init__(self, engine: Engine, *, this_thread: bool = False) -> None:
        """`this_thread`: only statements sent from the thread that made this counter."""
        self.engine = engine
        self.statements: list[str] = []
        self.thread = threading.get_ident() if this_thread else None

    def _seen(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
              executemany: bool) -> None:
        if self.thread is not None and threading.get_ident() != self.thread:
            return
        if not statement.lstrip().upper().startswith(self._CONTROL):
            self.statements.append(" ".join(statement.split())[:100])

    def __enter__(self) -> StatementCount:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def __len__(self) -> int:
        return len(self.statements)

    def __str__(self) -> str:
        return "\n".join(self.statements)


# --- paging through replies ------------------------------------------------------------

def responses_to(stack: Stack, url: str) -> list[dict[str, Any]]:
    path = urlparse(url).path
    return [r for r in stack.slack.responses if r["url"] == path]


def next_button(page: dict[str, Any]) -> dict[str, Any] | None:
    for block in page.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == Action.PAGE_NEXT.value:
                return element
    return None


def all_pages(stack: Stack, reply: Reply, user: str, channel: str) -> list[dict[str, Any]]:
    """The first page a command answered, then every page reached by clicking its
    next-page button; checks each response_url was answered exactly once."""
    pages = [stack.client.reply_to(reply)]
    while (button := next_button(pages[-1])) is not None:
        click = stack.client.click(Action.PAGE_NEXT, user=user, channel=channel,
                                   message_ts="1.000001", value=button["value"])
        assert click.status == 200
        pages.append(stack.client.reply_to(click))
        assert len(responses_to(stack, str(click.response_url))) == 1
        assert len(pages) < 100, "the pages never end"
    assert len(responses_to(stack, str(reply.response_url))) == 1
    for page in pages:
        assert block_kit_problems(page.get("blocks") or []) == []
    return pages


# --- on-call ----------------------------------------------------------------------------

SCHEDULE = """
schedules:
  platform:
    channel: "#platform-oncall"
    usergroup: platform-oncall
    layers:
      - name: primary
        priority: 1
        time_zone: Europe/London
        rotation:
          unit: days
          interval: 1
          first_handoff: 2026-11-23T09:00
          members: [U01ALICE, bob@example.com, U03CAROL]
"""


def apply(stack: Stack, tmp_path: Path, text: str = SCHEDULE,
          effective: str = "2026-11-23T00:00:00+00:00") -> object:
    path = tmp_path / "oncall.yaml"
    path.write_text(text)
    return apply_schedules(load_schedule_file(path), effective=datetime.fromisoformat(effective),
                           uow=stack.runtime.deps.uow, now=datetime.now(UTC))


# --- postmortems ------------------------------------------------------------------------

def scripted_incident(stack: Stack) -> Any:
    """A small incident with chat, a key message, a blameful one, and action items."""
    incident = declare(stack, "declare sev1 Checkout errors in EU")
    channel = incident.channel_id
    join(stack, channel, BOB, CAROL)
    clue = stack.client.say(channel, BOB, "5xx started right after the config push")
    stack.client.react(channel, clue, ALICE, "pushpin")
    blame = stack.client.say(channel, CAROL, "Bob forgot to run the config validator")
    stack.client.pin(channel, blame, CAROL)
    slash(stack, "ack", user=BOB, channel=channel)
    slash(stack, "status monitoring rolled back", channel=channel)
    slash(stack, "action Validate configs in CI <@U02BOB|bob> due 2026-12-15 type prevent",
          channel=channel)
    slash(stack, "action Alert on EU checkout 5xx type detect", channel=channel)
    slash(stack, "resolve rolled back the config", channel=channel)
    return stack.incident()


def uploaded(stack: Stack) -> list[dict[str, Any]]:
    return [f for f in stack.slack.files.values() if f["shared_in"]]


def custom_stack(engine: Engine, tmp_path: Path, template: str) -> Stack:
    """A stack whose SEV1 postmortems use `template` from a team's own folder."""
    folder = tmp_path / "my-templates"
    folder.mkdir()
    (folder / "full.md.j2").write_text(template)
    config_file = tmp_path / "debrief.yaml"
    config_file.write_text("postmortem:\n  templates_dir: my-templates\n"
                           "  template_by_severity: {SEV1: full.md.j2}\n")
    from bot.config import load_config

    return start_stack(engine, load_config(config_file))


# --- `debrief run` as a subprocess ------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--host", "127.0.0.1"], cwd=cwd, text=True,
        env={"PATH": os.environ.get("PATH", ""), **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


def wait_healthy(url: str, process: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"debrief run exited: {process.stdout.read()}")  # type: ignore[union-attr]
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)  # polling a starting process; bounded by the deadline
    raise AssertionError("debrief run never became healthy")


def stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        out, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out


# --- fuzzing ----------------------------------------------------------------------------

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=12,
)


def join(stack: Stack, channel: str, *users: str) -> None:
    """People join a channel as in Slack: the stand-in's member list changes and the bot
    receives `member_joined_channel` for each (which drops its cached member list)."""
    for user in users:
        with stack.slack.lock:
            stack.slack.channels[channel].members.add(user)
        reply = stack.client.event({"type": "member_joined_channel", "user": user,
                                    "channel": channel, "channel_type": "C",
                                    "event_ts": f"{time.time():.6f}"})
        assert reply.status == 200, reply.body


def leave(stack: Stack, channel: str, user: str) -> None:
    """Someone leaves a channel: `member_left_channel` reaches the bot."""
    with stack.slack.lock:
        stack.slack.channels[channel].members.discard(user)
    reply = stack.client.event({"type": "member_left_channel", "user": user, "channel": channel,
                                "channel_type": "C", "event_ts": f"{time.time():.6f}"})
    assert reply.status == 200, reply.body
