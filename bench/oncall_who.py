"""On-call `who` cost vs the rotation's age, and a year of shifts.

`who` computes the turn index arithmetically, so a schedule whose first handoff was
ten years ago should cost the same as one that started last week (ratio near 1).
Pure domain code: no database, no Slack.

    python -m bench.oncall_who [--n 20000]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from bot.domain.rotations import Era, Layer, Restriction, Schedule, next_change, shifts, who


def schedule(first: datetime) -> Schedule:
    business = Restriction(frozenset(range(5)), datetime.min.time().replace(hour=9),
                           datetime.min.time().replace(hour=17))
    return Schedule("bench", (
        Layer("primary", 1, "America/New_York", "days", 1, first,
              (Era(0, tuple(f"U{i:04d}" for i in range(7)), 0),)),
        Layer("daytime", 2, "Europe/London", "weeks", 1, first,
              (Era(0, ("UA", "UB", "UC"), 0),), (business,)),
    ))


def per_call(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    n = parser.parse_args().n
    now = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    old = schedule(datetime(2016, 11, 21, 9, 0))
    new = schedule(datetime(2026, 11, 16, 9, 0))
    old_us = per_call(lambda: who(old, now), n)
    new_us = per_call(lambda: who(new, now), n)
    old_next = per_call(lambda: next_change(old, now), n // 10)
    new_next = per_call(lambda: next_change(new, now), n // 10)
    started = time.perf_counter()
    year = shifts(old, now, now + timedelta(days=365))
    year_ms = (time.perf_counter() - started) * 1000
    print(f"who, 10 years of history: {old_us:.1f} µs/call")
    print(f"who, 1 week of history:   {new_us:.1f} µs/call   ratio {old_us / new_us:.2f}")
    print(f"next_change: 10 years {old_next:.1f} µs, 1 week {new_next:.1f} µs, "
          f"ratio {old_next / new_next:.2f}")
    print(f"shifts for a whole year: {len(year)} shifts in {year_ms:.1f} ms")
    print(f"RESULT who_10y_us={old_us:.1f} who_1w_us={new_us:.1f} ratio={old_us / new_us:.2f} "
          f"next_ratio={old_next / new_next:.2f} year_shifts={len(year)} year_ms={year_ms:.1f}")


if __name__ == "__main__":
    main()
