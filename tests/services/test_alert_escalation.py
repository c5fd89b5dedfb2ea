"""Escalation under a frozen clock, against the real database and the fake chat: steps
fire in order, once each, waiting from when the previous one fired; a step due while
the bot was down fires on return, once; a gap in the schedule escalates straight on;
acknowledging stops it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from bot.config import parse_config
from bot.domain.alerts import parse_payload
from bot.domain.rotations import who
from bot.services.alerts import answer_alert, escalate_due, receive_alert
from bot.services.oncall import apply_schedules, load_schedule_file
from bot.services.ports import Deps
from storage.uow import UnitOfWorkFactory
from tests.fakes import FakeChat
from tests.helpers import SCHEDULE

T0 = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
CONFIG = {"alerts": {
    "integrations": {"hooks": {"kind": "generic", "token_env": "T", "channel": "#alerts",
                               "schedule": "platform", "escalation": "default"}},
    "escalations": {"default": [{"notify": "oncall"}, {"wait": "5m"},
                                {"notify": {"users": ["U02BOB"]}}, {"repeat": 1}]}}}
GAP = """
schedules:
  platform:
    layers:
      - name: primary
        priority: 1
        time_zone: UTC
        rotation: {unit: days, interval: 1, first_handoff: 2026-11-23T09:00, members: [U01ALICE]}
        restrictions:
          - {days: [SA, SU], start: "09:00", end: "17:00"}
"""


def _deps(engine: Engine, tmp_path: Path, schedule: str = SCHEDULE) -> Deps:
    file = tmp_path / "oncall.yaml"
    file.write_text(schedule)
    uow = UnitOfWorkFactory(engine)
    apply_schedules(load_schedule_file(file), effective=T0 - timedelta(days=30), uow=uow,
                    now=T0)
    chat = FakeChat()
    chat.emails["bob@example.com"] = "U02BOB"
    return Deps(uow=uow, chat=chat, config=parse_config(CONFIG), now=lambda: T0)


def _fire(deps: Deps, title: str = "Queue backlog") -> int:
    integration = deps.config.alerts.integrations["hooks"]
    notification = parse_payload("generic", {"title": title, "status": "firing",
                                             "dedup_key": title})
    received = receive_alert(integration, notification, uow=deps.uow, now=T0)
    assert received is not None
    return received.group_id


def test_steps_fire_in_order_once_each_waiting_from_the_last(engine: Engine,
                                                             tmp_path: Path) -> None:
    """Step 1 at once (whoever is on call), step 2 five minutes later (Bob), then the
    repeat; ticks in between fire nothing, and no step fires twice."""
    deps = _deps(engine, tmp_path)
    chat: FakeChat = deps.chat  # type: ignore[assignment]
    group = _fire(deps)
    with deps.uow() as tx:
        oncall = who(tx.schedules.get("platform"), T0).user  # type: ignore[arg-type]
    oncall_id = chat.resolve_user(oncall or "")
    assert escalate_due(deps, T0) == [f"alert-step:{group}:0"]
    assert chat.alert_pages == [(oncall_id, group)]
    for minutes in (0, 1, 4):
        assert escalate_due(deps, T0 + minutes * MIN) == []
    assert escalate_due(deps, T0 + 5 * MIN) == [f"alert-step:{group}:2"]
    assert chat.alert_pages[-1] == ("U02BOB", group)
    assert escalate_due(deps, T0 + 9 * MIN) == []  # the repeat waits the 5 minutes again
    assert escalate_due(deps, T0 + 10 * MIN) == [f"alert-step:{group}:3"]
    assert escalate_due(deps, T0 + 14 * MIN) == []
    assert escalate_due(deps, T0 + 15 * MIN) == [f"alert-step:{group}:5"]
    assert escalate_due(deps, T0 + 60 * MIN) == []  # the policy is spent
    assert len(chat.alert_pages) == 4
    with deps.uow() as tx:
        steps = tx.alerts.get(group).steps  # type: ignore[union-attr]
    assert [(s.index, s.at - T0) for s in steps] == [
        (0, timedelta(0)), (2, 5 * MIN), (3, 10 * MIN), (5, 15 * MIN)]


def test_a_step_due_while_down_fires_once_on_return(engine: Engine, tmp_path: Path) -> None:
    """Down from minute 1 to minute 42: on return the second step fires once, and the
    next waits its full five minutes from then."""
    deps = _deps(engine, tmp_path)
    group = _fire(deps)
    escalate_due(deps, T0)
    assert escalate_due(deps, T0 + 42 * MIN) == [f"alert-step:{group}:2"]
    assert escalate_due(deps, T0 + 42 * MIN) == []
    assert escalate_due(deps, T0 + 47 * MIN) == [f"alert-step:{group}:3"]  # the repeat
    assert escalate_due(deps, T0 + 51 * MIN) == []
    assert escalate_due(deps, T0 + 52 * MIN) == [f"alert-step:{group}:5"]


def test_a_gap_escalates_straight_on_and_says_so(engine: Engine, tmp_path: Path) -> None:
    """Nobody on call (a weekday outside the weekend-only layer): the first step reaches
    nobody, is recorded as a gap, and Bob is paged in the same tick."""
    deps = _deps(engine, tmp_path, GAP)
    chat: FakeChat = deps.chat  # type: ignore[assignment]
    group = _fire(deps)
    assert escalate_due(deps, T0) == [f"alert-step:{group}:0", f"alert-step:{group}:2"]
    assert chat.alert_pages == [("U02BOB", group)]
    with deps.uow() as tx:
        steps = tx.alerts.get(group).steps  # type: ignore[union-attr]
    assert [s.notified for s in steps] == [(), ("U02BOB",)] and steps[1].after_gap
    assert chat.alert_messages[group].steps[0].notified == ()  # the message says so
    # The repeat waits its 5 minutes before starting over: Bob is not paged twice at once.
    assert escalate_due(deps, T0 + 4 * MIN) == []
    assert escalate_due(deps, T0 + 5 * MIN) == [f"alert-step:{group}:3",
                                                f"alert-step:{group}:5"]
    assert chat.alert_pages == [("U02BOB", group), ("U02BOB", group)]


def test_acknowledging_stops_escalation(engine: Engine, tmp_path: Path) -> None:
    """Once acknowledged, no further step fires; a Slack failure releases the claim and
    the step fires on the next tick instead."""
    deps = _deps(engine, tmp_path)
    chat: FakeChat = deps.chat  # type: ignore[assignment]
    group = _fire(deps)
    chat.fail("send_alert", "ratelimited")
    assert escalate_due(deps, T0) == []
    assert escalate_due(deps, T0) == [f"alert-step:{group}:0"]
    answer_alert(group, "acknowledged", "U03CAROL", deps)
    assert escalate_due(deps, T0 + 30 * MIN) == []
    assert len(chat.alert_pages) == 1


def test_when_a_silence_ends_paging_starts_over(engine: Engine, tmp_path: Path) -> None:
    """The policy was spent before the silence: when it ends and the group still fires,
    a new round pages from its first step, and time to acknowledge counts from that page,
    not from before the silence."""
    from dataclasses import replace

    from bot.services.alerts import silence_alert

    deps = _deps(engine, tmp_path)
    chat: FakeChat = deps.chat  # type: ignore[assignment]
    group = _fire(deps)
    for minutes in (0, 5, 10, 15):
        escalate_due(deps, T0 + minutes * MIN)
    assert len(chat.alert_pages) == 4 and escalate_due(deps, T0 + 50 * MIN) == []
    silence_alert(group, "U03CAROL", replace(deps, now=lambda: T0 + 50 * MIN))
    assert escalate_due(deps, T0 + 80 * MIN) == []  # silenced: nothing
    back = T0 + 111 * MIN  # the hour is over
    assert escalate_due(deps, back) == [f"alert-step:{group}:r1:0"]
    assert len(chat.alert_pages) == 5
    answer_alert(group, "acknowledged", "U03CAROL", replace(deps, now=lambda: back + 2 * MIN))
    with deps.uow() as tx:
        [(_, who_acked, seconds)] = tx.alerts.acknowledgements(T0, back + 3 * MIN)
    assert (who_acked, seconds) == ("U03CAROL", 120)
