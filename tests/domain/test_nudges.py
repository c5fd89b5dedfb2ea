"""The nudge windows (bot/domain/nudges.py) on explicit datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.incidents import EventKind, EventRecord, Incident
from bot.domain.nudges import NudgeKind, NudgePolicy, first_due, next_due, nudge_due

T0 = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
POLICY = NudgePolicy()
M = timedelta(minutes=1)


def sev1(*events: EventRecord, commander: str | None = "U1", **kw: object) -> Incident:
    return Incident(number=7, title="Down", severity=kw.pop("severity", "SEV1"),  # type: ignore[arg-type]
                    status="investigating", description="", declared_at=T0, declared_by="U1",
                    roles={"commander": commander} if commander else {},
                    events=(EventRecord(T0, EventKind.DECLARED, "U1", {}), *events), **kw)  # type: ignore[arg-type]


def test_update_windows_are_every_threshold_from_the_last_update() -> None:
    """Due at 30, 60, 90 minutes (windows 1, 2, 3); an update restarts the clock."""
    assert nudge_due(sev1(), NudgeKind.UPDATE, POLICY, None, T0 + 29 * M) is None
    first = nudge_due(sev1(), NudgeKind.UPDATE, POLICY, None, T0 + 30 * M)
    assert first is not None and first.window == 1 and first.next_at == T0 + 60 * M
    assert first.key == "nudge-update:7:20261202T140000:1"
    later = nudge_due(sev1(), NudgeKind.UPDATE, POLICY, None, T0 + 95 * M)
    assert later is not None and later.window == 3 and later.due_at == T0 + 90 * M
    updated = sev1(EventRecord(T0 + 40 * M, EventKind.UPDATE, "U1", {"text": "x"}))
    assert nudge_due(updated, NudgeKind.UPDATE, POLICY, None, T0 + 60 * M) is None
    assert next_due(updated, NudgeKind.UPDATE, POLICY, None, T0 + 60 * M) == T0 + 70 * M
    assert first_due(updated, NudgeKind.UPDATE, POLICY) == T0 + 70 * M


def test_a_snooze_moves_the_clock_and_other_kinds_apply_when_they_should() -> None:
    snoozed = nudge_due(sev1(), NudgeKind.UPDATE, POLICY, T0 + 62 * M, T0 + 61 * M)
    assert snoozed is None
    after = nudge_due(sev1(), NudgeKind.UPDATE, POLICY, T0 + 62 * M, T0 + 62 * M)
    assert after is not None and after.since == T0 + 32 * M and after.window == 1
    assert first_due(sev1(severity="SEV3"), NudgeKind.UPDATE, POLICY) is None
    assert first_due(sev1(), NudgeKind.COMMANDER, POLICY) is None
    assert first_due(sev1(commander=None), NudgeKind.COMMANDER, POLICY) == T0 + 10 * M
    assert first_due(sev1(), NudgeKind.OPEN, POLICY) == T0 + timedelta(days=7)
    resolved = sev1(resolved_at=T0 + M)
    assert all(first_due(resolved, k, POLICY) is None for k in NudgeKind)
