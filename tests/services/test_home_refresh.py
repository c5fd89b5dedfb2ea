"""Home tab refreshes stay within Slack's limit for views.publish (Tier 4: about 100 a
minute) and coalesce per person, whatever the churn: the scheduling rule is run on a
simulated clock, so the counts are exact."""

from __future__ import annotations

from bot.services.home import next_publish

EVERY, SPACING = 10.0, 0.75


def simulate(viewers: int, seconds: float, change_every: float,
             direct: str | None = None) -> list[tuple[float, str]]:
    """Everyone's tab is marked changed every `change_every` seconds (and `direct`'s
    directly, first); returns every publish as (time, person)."""
    people = [f"U{n:05d}" for n in range(viewers)]
    pending: dict[str, int] = {}
    published: dict[str, float] = {}
    last = float("-inf")
    now, next_change = 0.0, 0.0
    done: list[tuple[float, str]] = []
    while now < seconds:
        if now >= next_change:
            for person in people:
                pending.setdefault(person, 1)
            if direct:
                pending[direct] = 0
            next_change += change_every
        user, wait = next_publish(pending, published, last, now, every=EVERY, spacing=SPACING)
        if user is not None:
            done.append((now, user))
            published[user] = last = now
            del pending[user]
            continue
        now = min(now + wait, next_change)
    return done


def test_publishes_never_exceed_slacks_rate_under_constant_churn() -> None:
    """200 viewers, everything changing every second for five minutes: never more than 80
    publishes in any minute, never two closer than 0.75 s."""
    done = simulate(200, 300, 1.0)
    times = [t for t, _ in done]
    assert all(b - a >= SPACING - 1e-9 for a, b in zip(times, times[1:], strict=False))
    assert max(sum(1 for t in times if start <= t < start + 60) for start in times) <= 80
    assert len(done) >= 300 * 0.9 / SPACING  # and the budget is used, not wasted


def test_each_person_at_most_once_per_interval_and_changes_coalesce() -> None:
    """Three viewers, a change every 0.1 s for a minute: each tab is published at most
    once per 10 s (the first at once), not 600 times."""
    done = simulate(3, 60, 0.1)
    for person in {u for _, u in done}:
        times = [t for t, u in done if u == person]
        assert all(b - a >= EVERY - 1e-9 for a, b in zip(times, times[1:], strict=False))
        assert 6 <= len(times) <= 7
    assert done[0][0] == 0.0


def test_a_person_directly_concerned_goes_first() -> None:
    """Among many pending tabs, the one the change concerns directly is published first."""
    done = simulate(50, 1, 10.0, direct="U00042")
    assert done[0][1] == "U00042"


def test_nothing_pending_means_no_wait() -> None:
    assert next_publish({}, {}, 0.0, 5.0, every=EVERY, spacing=SPACING) == (None, float("inf"))
