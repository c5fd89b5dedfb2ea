"""Pacing posts per channel: Slack allows about one message per second per channel
(short bursts are tolerated). A token bucket per channel lets a burst through, then
spaces the rest, so a busy incident never trips HTTP 429 in the first place. The retry
handler still waits out any 429 that happens anyway."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class ChannelPacer:
    def __init__(self, rate: float = 1.0, burst: int = 4,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate, self.burst = rate, burst
        self.clock, self.sleep = clock, sleep
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, updated)

    def wait(self, channel: str) -> float:
        """Block until a post to `channel` is within the pace; returns seconds waited."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self.clock()
            tokens, updated = self._buckets.get(channel, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - updated) * self.rate)
            delay = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            # Reserve the token now so concurrent posts queue behind each other.
            self._buckets[channel] = (tokens - 1, now)
        if delay:
            self.sleep(delay)
        return delay
