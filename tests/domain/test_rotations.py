"""The rotation engine: DST in three hemispheres' zones, member changes, restrictions,
priorities, overrides. Explicit instants; no clock."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

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
from bot.domain.schedules import parse_schedules
from bot.errors import ConfigError


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def layer(zone: str = "America/New_York", unit: str = "days", interval: int = 1,
          first: str = "2025-03-03T09:00", members: tuple[str, ...] = ("A", "B", "C"),
          start_index: int = 0, priority: int = 1, name: str = "primary",
          restrictions: tuple[Restriction, ...] = ()) -> Layer:
    return Layer(name, priority, zone, unit, interval, datetime.fromisoformat(first),
                 (Era(0, members, start_index),), restrictions)


def turn_lengths(lay: Layer, first_k: int, count: int) -> list[float]:
    return [(lay.turn_start(k + 1) - lay.turn_start(k)).total_seconds() / 3600
            for k in range(first_k, first_k + count)]


@pytest.mark.parametrize("zone, first, spring, fall", [
    ("America/New_York", "2025-03-03T09:00", "2025-03-09", "2025-11-02"),
    ("Europe/London", "2025-03-24T09:00", "2025-03-30", "2025-10-26"),
    ("Australia/Sydney", "2025-03-31T09:00", "2025-10-05", "2025-04-06"),  # southern
])
def test_daily_handoff_stays_at_local_time_across_dst(zone: str, first: str, spring: str,
                                                      fall: str) -> None:
    """A 09:00 handoff stays 09:00 local; the turn containing the change is 23 h or 25 h."""
    lay = layer(zone=zone, first=first)
    start = datetime.fromisoformat(first).date()
    # The turn that contains the change starts at 09:00 the day before it.
    spring_k = (datetime.fromisoformat(spring).date() - start).days - 1
    fall_k = (datetime.fromisoformat(fall).date() - start).days - 1
    for k in range(0, 400):
        local = lay.turn_start(k).astimezone(ZoneInfo(zone))
        assert (local.hour, local.minute) == (9, 0)
    assert turn_lengths(lay, spring_k, 1) == [23.0]
    assert turn_lengths(lay, fall_k, 1) == [25.0]
    assert turn_lengths(lay, spring_k + 1, 3) == [24.0, 24.0, 24.0]


def test_weekly_turns_are_167_or_169_hours_across_dst() -> None:
    """Weekly Monday 09:00 New York: the week with a change is 167 h or 169 h."""
    lay = layer(unit="weeks", first="2025-03-03T09:00")
    lengths = turn_lengths(lay, 0, 40)
    assert lengths[0] == 167.0 and lengths[34] == 169.0  # week of 27 Oct holds 2 Nov
    assert set(lengths) == {167.0, 168.0, 169.0}


def test_twelve_hour_turns_keep_8_and_20_local() -> None:
    """12-hour turns stay at 08:00 and 20:00 local across both changes in London."""
    lay = layer(zone="Europe/London", unit="hours", interval=12, first="2025-03-01T08:00")
    hours = {lay.turn_start(k).astimezone(ZoneInfo("Europe/London")).hour for k in range(500)}
    assert hours == {8, 20}


def test_handoff_in_a_gap_moves_forward_and_repeated_hour_takes_the_first() -> None:
    """02:30 on the spring-forward night becomes 03:30 EDT; 01:30 on the fall-back night is
    the first (EDT) 01:30."""
    gap = layer(first="2025-03-07T02:30")
    assert gap.turn_start(2) == utc("2025-03-09T07:30")  # 03:30 EDT
    assert gap.turn_start(3) == utc("2025-03-10T06:30")  # 02:30 EDT again
    fold = layer(first="2025-10-31T01:30")
    assert fold.turn_start(2) == utc("2025-11-02T05:30")  # 01:30 EDT, the first one


def test_half_open_turns_and_start_index() -> None:
    """At the exact handoff the incoming person is on call; before the first handoff nobody;
    start_index picks who goes first."""
    lay = layer(start_index=1)
    assert who(Schedule("s", (lay,)), utc("2025-03-03T13:59:59")).user is None
    assert lay.on_call(utc("2025-03-03T14:00")) == "B"
    assert lay.on_call(utc("2025-03-04T13:59:59")) == "B"
    assert lay.on_call(utc("2025-03-04T14:00")) == "C"
    assert lay.on_call(utc("2025-03-05T14:00")) == "A"


def test_two_day_interval() -> None:
    """interval: 2 days gives 48-hour turns (47 h across spring forward)."""
    lay = layer(interval=2, first="2025-03-01T09:00")
    assert lay.on_call(utc("2025-03-02T20:00")) == "A"
    assert lay.on_call(utc("2025-03-03T14:00")) == "B"
    assert turn_lengths(lay, 3, 2) == [47.0, 48.0]  # 7 Mar 09:00 EST -> 9 Mar 09:00 EDT


def test_turn_index_is_arithmetic_and_matches_iteration() -> None:
    """Ten years in, the arithmetic turn index equals counting handoffs one by one."""
    lay = layer(first="2015-01-05T09:00")
    at = utc("2025-06-18T03:00")
    k = 0
    while lay.turn_start(k + 1) <= at:
        k += 1
    assert lay.turn_index(at) == k
    assert lay.on_call(at) == ("A", "B", "C")[k % 3]


def test_member_change_takes_effect_at_the_next_handoff_with_the_successor() -> None:
    """The turn in progress finishes; the successor (in the new list) of the last holder goes
    next; then round-robin in the new list; the past is unchanged."""
    lay = layer(members=("A", "B", "C", "D"))
    effective = utc("2025-03-05T20:00")  # during turn 2 (C)
    changed = change_members(lay, ("A", "C", "E", "D"), effective)
    assert changed.on_call(utc("2025-03-05T23:00")) == "C"  # not cut short
    assert [changed.member(k) for k in range(0, 8)] == ["A", "B", "C", "E", "D", "A", "C", "E"]


def test_member_change_when_the_last_holder_was_removed() -> None:
    """If the person before the change was removed, the next person in the old order who
    is still present goes first."""
    lay = layer(members=("A", "B", "C", "D"))
    changed = change_members(lay, ("D", "A", "X"), utc("2025-03-04T20:00"))  # B holds turn 1
    assert [changed.member(k) for k in range(0, 6)] == ["A", "B", "D", "A", "X", "D"]


def test_member_change_at_a_handoff_instant_and_before_the_start() -> None:
    """Effective exactly at a handoff: that turn is the first under the new list."""
    lay = layer(members=("A", "B"))
    changed = change_members(lay, ("B", "C"), utc("2025-03-05T14:00"))  # turn 2 starts
    assert [changed.member(k) for k in range(0, 5)] == ["A", "B", "C", "B", "C"]
    early = change_members(lay, ("Z", "Y"), utc("2025-01-01T00:00"))
    assert [early.member(k) for k in range(0, 3)] == ["Z", "Y", "Z"]


def test_restrictions_mask_and_the_rotation_keeps_advancing() -> None:
    """A weekday 09-17 layer covers nothing at night or at weekends, and turns advance anyway."""
    business = Restriction(frozenset(range(5)), datetime.min.time().replace(hour=9),
                           datetime.min.time().replace(hour=17))
    lay = layer(restrictions=(business,), first="2025-03-03T00:00")
    schedule = Schedule("s", (lay,))
    assert who(schedule, utc("2025-03-03T15:00")).user == "A"   # Mon 10:00 EST
    assert who(schedule, utc("2025-03-03T23:00")).user is None  # Mon 18:00
    assert who(schedule, utc("2025-03-08T15:00")).user is None  # Saturday
    assert who(schedule, utc("2025-03-10T14:00")).user == "B"   # Mon 10:00 EDT: turn 7 = B


def test_overnight_restriction_window() -> None:
    """end <= start means the window ends the next day (22:00-06:00)."""
    night = Restriction(frozenset({0}), datetime.min.time().replace(hour=22),
                        datetime.min.time().replace(hour=6))
    assert night.covers(datetime(2025, 3, 3, 23, 0))      # Monday 23:00
    assert night.covers(datetime(2025, 3, 4, 5, 59))      # Tuesday 05:59
    assert not night.covers(datetime(2025, 3, 4, 6, 0))
    assert not night.covers(datetime(2025, 3, 4, 23, 0))  # Tuesday night not listed


def test_follow_the_sun_priorities_and_gaps() -> None:
    """Two regional layers, each covering its working day; the higher priority wins where
    they overlap; where neither covers, the gap is reported as nobody."""
    def day(hour_from: int, hour_to: int) -> Restriction:
        return Restriction(frozenset(range(7)), datetime.min.time().replace(hour=hour_from),
                           datetime.min.time().replace(hour=hour_to))

    europe = layer(zone="Europe/London", members=("EU1", "EU2"), name="europe", priority=2,
                   first="2025-03-03T00:00", restrictions=(day(8, 18),))
    america = layer(zone="America/New_York", members=("US1", "US2"), name="america",
                    first="2025-03-03T00:00", restrictions=(day(8, 18),))
    schedule = Schedule("sun", (america, europe))
    assert who(schedule, utc("2025-03-04T09:00")) .user == "EU2"   # London 09:00
    assert who(schedule, utc("2025-03-04T14:00")).source == "layer:europe"  # both cover
    assert who(schedule, utc("2025-03-04T20:00")).user == "US2"    # NY 15:00
    assert who(schedule, utc("2025-03-05T02:00")).user is None     # nobody: a gap
    found = shifts(schedule, utc("2025-03-04T00:00"), utc("2025-03-05T00:00"))
    assert [(s.start.hour, s.user) for s in found] == [(0, None), (8, "EU2"), (18, "US2"),
                                                       (23, None)]


def test_overrides_beat_layers_newest_wins_and_rotation_continues() -> None:
    """Overrides cover [start, end); the newest wins where they overlap; after one ends
    the layers' answer at that instant applies."""
    lay = layer()
    overrides = (Override("Z", utc("2025-03-04T10:00"), utc("2025-03-06T10:00"), 1),
                 Override("Y", utc("2025-03-05T00:00"), utc("2025-03-05T06:00"), 2))
    schedule = Schedule("s", (lay,), overrides)
    assert who(schedule, utc("2025-03-04T09:59")).user == "A"  # turn 0 until 14:00 UTC
    assert who(schedule, utc("2025-03-04T10:00")) .user == "Z"
    assert who(schedule, utc("2025-03-05T03:00")).user == "Y"
    assert who(schedule, utc("2025-03-05T06:00")).user == "Z"
    assert who(schedule, utc("2025-03-06T10:00")).user == "C"  # turn 2 ran underneath
    assert next_change(schedule, utc("2025-03-05T03:00"))[0] == utc("2025-03-05T06:00")


def test_next_change_skips_changes_that_change_nothing() -> None:
    """An override for the person already on call is not a change; one member never changes."""
    lay = layer(members=("A", "B"))
    same = Schedule("s", (lay,), (Override("A", utc("2025-03-03T15:00"),
                                           utc("2025-03-03T16:00"), 1),))
    assert next_change(same, utc("2025-03-03T14:30"))[0] == utc("2025-03-04T14:00")
    assert next_change(Schedule("s", (layer(members=("A",)),)), utc("2025-03-10T00:00")) is None


def test_schedule_yaml_errors_name_schedule_layer_and_field() -> None:
    """Mistakes in the schedules file say where they are."""
    good = {"schedules": {"platform": {"layers": [{
        "name": "primary", "time_zone": "America/New_York",
        "rotation": {"unit": "days", "first_handoff": "2025-03-03T09:00",
                     "members": ["U01ALICE", "bob@example.com"]},
        "restrictions": [{"days": ["MO"], "start": "09:00", "end": "17:00"}]}]}}}
    assert parse_schedules(good)["platform"].layers[0].eras[0].members == ("U01ALICE",
                                                                          "bob@example.com")
    cases = [
        (("layers", 0, "time_zone"), "Mars/Base", "layer primary: `time_zone`"),
        (("layers", 0, "rotation", "unit"), "fortnights", "rotation.unit"),
        (("layers", 0, "rotation", "first_handoff"), "2025-03-03T09:00+01:00", "without an offset"),
        (("layers", 0, "rotation", "members"), ["not a person"], "rotation.members"),
        (("layers", 0, "restrictions"), [{"days": ["XX"]}], "restrictions[0].days"),
    ]
    import copy
    for path, value, message in cases:
        raw = copy.deepcopy(good)
        target = raw["schedules"]["platform"]
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        with pytest.raises(ConfigError) as info:
            parse_schedules(raw, "oncall.yaml")
        assert "schedule platform" in str(info.value) and message in str(info.value)
