"""On-call use cases: apply schedules as code, answer who/next/shifts, overrides, iCal."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from bot.domain.rotations import (
    Answer,
    Schedule,
    Shift,
    change_members,
    moved_users,
    next_change,
    shifts,
    who,
)
from bot.domain.schedules import ScheduleSpec, parse_schedules, same_rotation
from bot.domain.text import escape_mrkdwn, quote
from bot.errors import ChatError, ConfigError, UserError
from bot.services.ports import Chat, UnitOfWorkFactory

log = logging.getLogger(__name__)


def load_schedule_file(path: Path) -> dict[str, ScheduleSpec]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read as YAML ({exc.__class__.__name__}).") from exc
    return parse_schedules(raw, source=str(path))


@dataclass
class ApplyReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    not_in_file: list[str] = field(default_factory=list)
    moved: dict[str, set[str]] = field(default_factory=dict)  # schedule -> people told
    overrides_added: int = 0


def apply_schedules(specs: dict[str, ScheduleSpec], *, effective: datetime,
                    uow: UnitOfWorkFactory, now: datetime) -> ApplyReport:
    """Make the stored schedules match the file. A changed member list becomes a new
    roster era at the first handoff at or after `effective` (the past is never
    rewritten); a changed zone, unit, interval or first handoff redefines the layer."""
    report = ApplyReport()
    with uow() as tx:
        report.not_in_file = [n for n in tx.schedules.names() if n not in specs]
        for name, spec in specs.items():
            stored = tx.schedules.get(name, for_update=True)
            if stored is None:
                schedule = Schedule(name, spec.layers, (), spec.channel, spec.usergroup)
                report.created.append(name)
            else:
                layers = []
                moved: set[str] = set()
                old_by_name = {layer.name: layer for layer in stored.layers}
                for layer in spec.layers:
                    old = old_by_name.get(layer.name)
                    if old is None or not same_rotation(old, layer):
                        layers.append(layer)
                        continue
                    members = layer.eras[-1].members
                    current = old.eras[-1].members
                    kept = replace(old, priority=layer.priority,
                                   restrictions=layer.restrictions)
                    if members != current:
                        changed = change_members(kept, members, effective)
                        moved |= moved_users(kept, changed, effective)
                        kept = changed
                    layers.append(kept)
                schedule = Schedule(name, tuple(layers), stored.overrides, spec.channel,
                                    spec.usergroup)
                if schedule == stored:
                    report.unchanged.append(name)
                else:
                    report.updated.append(name)
                if moved:
                    report.moved[name] = moved
            tx.schedules.save(schedule, now)
            for override in spec.overrides:
                report.overrides_added += tx.schedules.add_override(
                    name, override.user, override.start, override.end, now=now,
                    spec_key=override.key)
        tx.commit()
    return report


def get_schedule(name: str, uow: UnitOfWorkFactory) -> Schedule:
    with uow() as tx:
        schedule = tx.schedules.get(name)
        known = tx.schedules.names()
    if schedule is None:
        more = f" and {len(known) - 20} more" if len(known) > 20 else ""
        hint = f" Known: {escape_mrkdwn(', '.join(known[:20]))}{more}." if known else \
            " Load schedules with `debrief oncall apply oncall.yaml`."
        raise UserError(f"There is no on-call schedule `{quote(name, 50)}`.{hint}")
    return schedule


@dataclass(frozen=True)
class WhoAnswer:
    schedule: str
    at: datetime
    answer: Answer
    next_change: datetime | None
    next_on_call: str | None

    def as_dict(self) -> dict[str, object]:
        def iso(t: datetime | None) -> str | None:
            return t.isoformat().replace("+00:00", "Z") if t else None

        return {"schedule": self.schedule, "at": iso(self.at), "on_call": self.answer.user,
                "source": self.answer.source, "next_change": iso(self.next_change),
                "next_on_call": self.next_on_call}


def who_is_on_call(name: str, at: datetime, uow: UnitOfWorkFactory) -> WhoAnswer:
    schedule = get_schedule(name, uow)
    found = next_change(schedule, at)
    return WhoAnswer(name, at, who(schedule, at), found[0] if found else None,
                     found[1].user if found else None)


def shifts_of(name: str, start: datetime, end: datetime, uow: UnitOfWorkFactory) -> list[Shift]:
    if end <= start:
        raise UserError("The end must be after the start.")
    if end - start > timedelta(days=3660):
        raise UserError("Ask for at most ten years of shifts at a time.")
    return shifts(get_schedule(name, uow), start, end)


def add_override(name: str, user: str, start: datetime, end: datetime, *, created_by: str | None,
                 uow: UnitOfWorkFactory, now: datetime) -> Schedule:
    if end <= start:
        raise UserError("An override must end after it starts.")
    if end <= now:
        raise UserError("That override would be over already.")
    get_schedule(name, uow)
    with uow() as tx:
        tx.schedules.add_override(name, user, start, end, now=now, created_by=created_by)
        tx.commit()
    return get_schedule(name, uow)


def ical_feed(name: str, uow: UnitOfWorkFactory, now: datetime, *, user: str | None = None,
              days: int = 90) -> bytes:
    """The next `days` of shifts (from a week ago) as an iCalendar feed."""
    from icalendar import Calendar, Event

    start = now - timedelta(days=7)
    calendar = Calendar()
    calendar.add("prodid", "-//Debrief//on-call//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"On call: {name}")
    for shift in shifts_of(name, start, now + timedelta(days=days), uow):
        if shift.user is None or (user and shift.user != user):
            continue
        event = Event()
        event.add("uid", f"{name}-{shift.user}-{int(shift.start.timestamp())}@debrief")
        event.add("summary", f"On call: {name} ({shift.user})")
        event.add("dtstart", shift.start)
        event.add("dtend", shift.end)
        event.add("dtstamp", now)
        event.add("description", f"Source: {shift.source}")
        calendar.add_component(event)
    return calendar.to_ical()


def tell_moved(report: ApplyReport, chat: Chat) -> list[str]:
    """DM everyone whose upcoming turns a roster change moved; returns who was told."""
    told: list[str] = []
    for name, people in report.moved.items():
        for member in sorted(people):
            try:
                user = chat.resolve_user(member)
                if user:
                    chat.send_direct(user, f":calendar: Your upcoming on-call turns for "
                                           f"*{escape_mrkdwn(name)}* changed. "
                                           f"`/oncall {name}` shows the new schedule.")
                    told.append(user)
            except ChatError as exc:
                log.warning("could not tell %s about %s: %s", member, name, exc.code)
    return told
