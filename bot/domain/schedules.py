"""Schedules as code: validate the on-call YAML (errors name schedule, layer and field)
and convert layers to and from JSON for storage. Pure: the caller reads the file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.rotations import DAYS, UNITS, Era, Layer, Restriction
from bot.errors import ConfigError

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
_MEMBER = re.compile(r"^([UW][A-Z0-9]{2,}|[^@\s]+@[^@\s]+\.[^@\s]+)$")

# Bounds checked at `apply`, so a schedule that applied can be computed at any instant
# the bot asks about (now, a year ahead, a feed window) without overflowing a datetime.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)  # first handoffs and overrides lie in
LATEST = datetime(2100, 1, 1, tzinfo=UTC)    # [EARLIEST, LATEST)
MAX_TURN = timedelta(days=366)               # interval x unit: a turn lasts at most a year
MAX_SCHEDULES = 200
MAX_LAYERS = 20        # per schedule
MAX_MEMBERS = 500      # per layer
MAX_RESTRICTIONS = 50  # per layer
MAX_OVERRIDES = 2000   # per schedule, in the file
MAX_PRIORITY = 1000    # |priority|
MAX_ID = 254           # characters in a member, channel or user group (an e-mail's limit)


def check_instant(at: datetime, where: str) -> datetime:
    """`at` (aware) is within the years schedules may use; else a ConfigError naming it."""
    if not EARLIEST <= at < LATEST:
        raise ConfigError(f"{where} must be between {EARLIEST.year} and {LATEST.year - 1}, "
                          f"not {at:%Y-%m-%d}.")
    return at


def _count(items: Any, limit: int, where: str) -> None:
    if len(items) > limit:
        raise ConfigError(f"{where} has {len(items)} entries; at most {limit} are allowed.")


@dataclass(frozen=True)
class OverrideSpec:
    user: str
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        return f"{self.user}|{self.start.isoformat()}|{self.end.isoformat()}"


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    channel: str | None
    usergroup: str | None
    layers: tuple[Layer, ...]  # each with a single era (the roster as written)
    overrides: tuple[OverrideSpec, ...]


def _instant(value: Any, where: str) -> datetime:
    """An ISO 8601 instant with an offset (or Z)."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError as exc:
            raise ConfigError(f"{where} must be an ISO 8601 instant like "
                              f"2025-03-12T20:00:00Z, not {str(value)[:60]!r}.") from exc
    if parsed.tzinfo is None:
        raise ConfigError(f"{where} needs a UTC offset or Z (e.g. 2025-03-12T20:00:00Z).")
    try:
        return check_instant(parsed.astimezone(UTC), where)
    except OverflowError as exc:  # year 1 or 9999 with an offset
        raise ConfigError(f"{where} must be between {EARLIEST.year} and "
                          f"{LATEST.year - 1}.") from exc


def _wall(value: Any, where: str) -> datetime:
    """A local wall-clock time with no offset (first_handoff)."""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{where} must be a local time like 2025-03-03T09:00.") from exc
    if parsed.tzinfo is not None:
        raise ConfigError(f"{where} is wall-clock time in the layer's time_zone: "
                          "write it without an offset (2025-03-03T09:00).")
    check_instant(parsed.replace(tzinfo=UTC), where)
    return parsed


def _clock(value: Any, where: str) -> time:
    text = str(value)
    if isinstance(value, int):  # YAML reads 09:00 as sexagesimal 540 minutes
        text = f"{value // 60:02d}:{value % 60:02d}"
    try:
        return time.fromisoformat(text if len(text) > 4 else "0" + text)
    except ValueError as exc:
        raise ConfigError(f"{where} must be a time like \"09:00\".") from exc


def parse_schedules(raw: Any, source: str = "oncall.yaml") -> dict[str, ScheduleSpec]:
    if not isinstance(raw, dict) or not isinstance(raw.get("schedules"), dict):
        raise ConfigError(f"{source}: the top level needs a `schedules:` mapping.")
    specs: dict[str, ScheduleSpec] = {}
    _count(raw["schedules"], MAX_SCHEDULES, f"{source}: schedules")
    for name, body in raw["schedules"].items():
        here = f"{source}: schedule {name}"
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigError(f"{here}: the name must be lowercase letters, digits, - or _.")
        if not isinstance(body, dict):
            raise ConfigError(f"{here}: must be a mapping with `layers`.")
        unknown = sorted(set(body) - {"channel", "usergroup", "layers", "overrides"})
        if unknown:
            raise ConfigError(f"{here}: `{unknown[0]}` is not a known field.")
        layers_raw = body.get("layers")
        if not isinstance(layers_raw, list) or not layers_raw:
            raise ConfigError(f"{here}: `layers` must be a non-empty list.")
        _count(layers_raw, MAX_LAYERS, f"{here}: layers")
        layers = tuple(_layer(item, f"{here}, layer {i + 1}") for i, item in
                       enumerate(layers_raw))
        names = [layer.name for layer in layers]
        if len(set(names)) != len(names):
            raise ConfigError(f"{here}: two layers share a name.")
        overrides = []
        overrides_raw = body.get("overrides") or []
        if not isinstance(overrides_raw, list):
            raise ConfigError(f"{here}: `overrides` must be a list.")
        _count(overrides_raw, MAX_OVERRIDES, f"{here}: overrides")
        for i, item in enumerate(overrides_raw):
            where = f"{here}, override {i + 1}"
            if not isinstance(item, dict) or not _is_member(item.get("user", "")):
                raise ConfigError(f"{where}: `user` must be a Slack user id or an e-mail.")
            start = _instant(item.get("start"), f"{where}: start")
            end = _instant(item.get("end"), f"{where}: end")
            if end <= start:
                raise ConfigError(f"{where}: end must be after start.")
            overrides.append(OverrideSpec(str(item["user"]), start, end))
        channel = body.get("channel")
        usergroup = body.get("usergroup")
        for key, value in (("channel", channel), ("usergroup", usergroup)):
            if value is not None and (not isinstance(value, str) or len(value) > MAX_ID):
                raise ConfigError(f"{here}: `{key}` must be a name of at most {MAX_ID} "
                                  "characters.")
        specs[name] = ScheduleSpec(name, str(channel) if channel else None,
                                   str(usergroup).lstrip("@") if usergroup else None, layers,
                                   tuple(overrides))
    return specs


def _layer(raw: Any, here: str) -> Layer:
    if not isinstance(raw, dict):
        raise ConfigError(f"{here}: must be a mapping.")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"{here}: `name` must be lowercase letters, digits, - or _.")
    here = here.rsplit(", layer", 1)[0] + f", layer {name}"
    priority = raw.get("priority", 1)
    if not _whole(priority) or abs(priority) > MAX_PRIORITY:
        raise ConfigError(f"{here}: `priority` must be a whole number from -{MAX_PRIORITY} "
                          f"to {MAX_PRIORITY}.")
    zone = raw.get("time_zone")
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{here}: `time_zone` {zone!r} is not an IANA zone "
                          "(e.g. America/New_York).") from exc
    rotation = raw.get("rotation")
    if not isinstance(rotation, dict):
        raise ConfigError(f"{here}: `rotation` is required (unit, interval, first_handoff, members).")
    unit = rotation.get("unit")
    if unit not in UNITS:
        raise ConfigError(f"{here}: rotation.unit must be one of {', '.join(UNITS)}.")
    interval = rotation.get("interval", 1)
    most = MAX_TURN // UNITS[unit]
    if not _whole(interval) or not 1 <= interval <= most:
        raise ConfigError(f"{here}: rotation.interval must be a whole number of {unit} from 1 "
                          f"to {most} (a turn lasts at most {MAX_TURN.days} days).")
    first = _wall(rotation.get("first_handoff"), f"{here}: rotation.first_handoff")
    members = rotation.get("members")
    if not isinstance(members, list) or not members:
        raise ConfigError(f"{here}: rotation.members must be a non-empty list.")
    _count(members, MAX_MEMBERS, f"{here}: rotation.members")
    for member in members:
        if not _is_member(member):
            raise ConfigError(f"{here}: rotation.members has {str(member)[:60]!r}, which is neither a "
                              "Slack user id (U...) nor an e-mail.")
    start_index = rotation.get("start_index", 0)
    if not _whole(start_index) or not 0 <= start_index < len(members):
        raise ConfigError(f"{here}: rotation.start_index must be 0..{len(members) - 1}.")
    restrictions = []
    restrictions_raw = raw.get("restrictions") or []
    if not isinstance(restrictions_raw, list):
        raise ConfigError(f"{here}: `restrictions` must be a list.")
    _count(restrictions_raw, MAX_RESTRICTIONS, f"{here}: restrictions")
    for i, item in enumerate(restrictions_raw):
        where = f"{here}: restrictions[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where} must be a mapping (days, start, end).")
        days = item.get("days", list(DAYS))
        if not isinstance(days, list) or not days or any(d not in DAYS for d in days):
            raise ConfigError(f"{where}.days must list days from {', '.join(DAYS)}.")
        start = _clock(item.get("start", "00:00"), f"{where}.start")
        end = _clock(item.get("end", "00:00"), f"{where}.end")
        restrictions.append(Restriction(frozenset(DAYS.index(d) for d in days), start, end))
    return Layer(name=name, priority=priority, zone=str(zone), unit=unit, interval=interval,
                 first_handoff=first, eras=(Era(0, tuple(str(m) for m in members), start_index),),
                 restrictions=tuple(restrictions))


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_member(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_ID and bool(_MEMBER.match(value))


def layer_to_json(layer: Layer) -> dict[str, Any]:
    return {
        "name": layer.name, "priority": layer.priority, "zone": layer.zone, "unit": layer.unit,
        "interval": layer.interval, "first_handoff": layer.first_handoff.isoformat(),
        "eras": [{"k0": e.k0, "members": list(e.members), "offset": e.offset} for e in layer.eras],
        "restrictions": [{"days": sorted(r.days), "start": r.start.isoformat(),
                          "end": r.end.isoformat()} for r in layer.restrictions],
    }


def layer_from_json(data: dict[str, Any]) -> Layer:
    return Layer(
        name=data["name"], priority=data["priority"], zone=data["zone"], unit=data["unit"],
        interval=data["interval"], first_handoff=datetime.fromisoformat(data["first_handoff"]),
        eras=tuple(Era(e["k0"], tuple(e["members"]), e["offset"]) for e in data["eras"]),
        restrictions=tuple(Restriction(frozenset(r["days"]), time.fromisoformat(r["start"]),
                                       time.fromisoformat(r["end"]))
                           for r in data["restrictions"]),
    )


def same_rotation(a: Layer, b: Layer) -> bool:
    """Only the roster differs: the change is a member change (rule 5), not a redefinition."""
    return (a.zone, a.unit, a.interval, a.first_handoff) == (b.zone, b.unit, b.interval,
                                                             b.first_handoff)
