"""The background loop that sends timed notices (bot/services/reminders.py).

Every replica of `debrief run` runs one; the notification claims in the database make
each notice go out once however many replicas tick at the same moment.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bot.observability import SCHEDULER_LAG, SCHEDULER_LAST_TICK
from bot.services.alerts import escalate_due, sync_pending
from bot.services.heartbeats import check_heartbeats
from bot.services.nudges import reconcile_nudges
from bot.services.ports import Deps
from bot.services.reminders import send_due

log = logging.getLogger(__name__)
UNHEALTHY_AFTER = 3  # consecutive failed ticks: one can be a blip, three is a fault


class Scheduler:
    def __init__(self, deps: Deps, interval: float = 30.0,
                 after_first_tick: Callable[[], None] | None = None) -> None:
        self.deps = deps
        self.interval = interval
        # Start-up chores that may be slow (Slack look-ups) but must not hold readiness:
        # run once on this thread after the first tick, whose success /healthz waits for.
        self.after_first_tick = after_first_tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="debrief-scheduler", daemon=True)
        self.ticks = 0
        self.last_error: str | None = None
        self.failures = 0  # consecutive failed ticks
        self.last_tick: float | None = None  # monotonic time of the last finished tick
        # Heartbeats are judged only after this process has been up for their window:
        # pings sent while it was down went nowhere (bot/domain/alerts.py: heartbeat_missed).
        self.up_since = deps.now()
        self._reconciled = False

    def start(self) -> Scheduler:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def tick(self) -> list[str]:
        try:
            if not self._reconciled:  # nudges follow this start's configuration
                reconcile_nudges(self.deps)
                self._reconciled = True
            sent = send_due(self.deps)
            if self.deps.config.alerts.integrations:
                sent += check_heartbeats(self.deps, up_since=self.up_since)
                sent += escalate_due(self.deps)
                sync_pending(self.deps)  # messages a crash or a Slack failure left behind
            self.last_error = None
            self.failures = 0
            return sent
        except Exception as exc:  # noqa: BLE001 - keep ticking; the next tick retries
            self.failures += 1
            self.last_error = _one_line(exc)
            log.exception("scheduler tick failed (%d in a row)", self.failures)
            return []
        finally:
            self.ticks += 1
            self.last_tick = time.monotonic()
            SCHEDULER_LAST_TICK.set_to_current_time()

    def health(self) -> dict[str, object]:
        """Healthy while ticks keep coming (three missed intervals is unhealthy) and
        succeed (UNHEALTHY_AFTER failures in a row is unhealthy: a tick that keeps
        failing sends no reminder at all, which a probe should see)."""
        age = None if self.last_tick is None else time.monotonic() - self.last_tick
        ok = (self._thread.is_alive() and age is not None and age < 3 * self.interval + 5
              and self.failures < UNHEALTHY_AFTER)
        return {"ok": ok, "ticks": self.ticks, "seconds_since_tick": age,
                "failed_ticks_in_a_row": self.failures, "last_error": self.last_error}

    def _loop(self) -> None:
        planned = time.monotonic()
        while not self._stop.is_set():
            SCHEDULER_LAG.set(max(time.monotonic() - planned, 0.0))
            sent = self.tick()
            planned = time.monotonic() + self.interval
            if sent:
                log.info("sent %d notice(s): %s", len(sent), ", ".join(sent))
            chore, self.after_first_tick = self.after_first_tick, None
            if chore is not None:
                try:
                    chore()
                except Exception:  # noqa: BLE001 - a chore must not stop the reminders
                    log.exception("start-up chore failed")
            self._stop.wait(self.interval)


def _one_line(exc: BaseException) -> str:
    """`Type: first line of the message`, short enough for /healthz (the log has it all)."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}"[:160].rstrip(": ")
