"""Metrics (Prometheus text format at /metrics) and log context (request and incident
ids on every log line). One module so every counter has one obvious home."""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry()
REQUESTS = Counter("debrief_requests", "Slack requests by kind", ["kind"], registry=REGISTRY)
ACK_SECONDS = Histogram(
    "debrief_ack_seconds", "Time from request to ack response, by kind", ["kind"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 3, 5),
    registry=REGISTRY)
SLACK_CALLS = Counter("debrief_slack_api_calls", "Slack Web API calls by method and outcome",
                      ["method", "outcome"], registry=REGISTRY)
EVENTS_STORED = Counter("debrief_events_stored", "Timeline events stored from Slack",
                        registry=REGISTRY)
REMINDERS = Counter("debrief_reminders", "Timed notices by state (due, sent, failed, skipped)", ["state"],
                    registry=REGISTRY)
REFUSED = Counter("debrief_requests_refused",
                  "Requests refused before Bolt saw them (signature, too_large, malformed)",
                  ["reason"], registry=REGISTRY)
SCHEDULER_LAST_TICK = Gauge("debrief_scheduler_last_tick_timestamp_seconds",
                            "When the scheduler last finished a tick", registry=REGISTRY)
SCHEDULER_LAG = Gauge("debrief_scheduler_lag_seconds",
                      "How late the last scheduler tick started versus its plan", registry=REGISTRY)

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
incident: contextvars.ContextVar[int | None] = contextvars.ContextVar("incident", default=None)
request_kind: contextvars.ContextVar[str] = contextvars.ContextVar("request_kind",
                                                                  default="unknown")


def metrics_text() -> bytes:
    return generate_latest(REGISTRY)


def kind_of(body: Any) -> str:
    """A short, bounded label for a Slack payload (never user text)."""
    if not isinstance(body, dict):
        return "malformed"
    if body.get("command"):
        return f"command:{str(body['command'])[:20]}"
    kind = str(body.get("type") or "unknown")[:30]
    if kind == "event_callback" and isinstance(body.get("event"), dict):
        return f"event:{str(body['event'].get('type'))[:30]}"
    if kind == "block_actions" and isinstance(body.get("actions"), list) and body["actions"] \
            and isinstance(body["actions"][0], dict):
        return f"action:{str(body['actions'][0].get('action_id'))[:30]}"
    return kind


@contextmanager
def request_scope() -> Iterator[Callable[[], None]]:
    """Around one HTTP request: a request id for the logs; yields a function to record
    the ack time once the response exists."""
    token = request_id.set(uuid.uuid4().hex[:12])
    kind_token = request_kind.set("unknown")
    started = time.perf_counter()

    def done() -> None:
        kind = request_kind.get()
        REQUESTS.labels(kind).inc()
        ACK_SECONDS.labels(kind).observe(time.perf_counter() - started)

    try:
        yield done
    finally:
        request_id.reset(token)
        request_kind.reset(kind_token)


@contextmanager
def incident_scope(number: int) -> Iterator[None]:
    token = incident.set(number)
    try:
        yield
    finally:
        incident.reset(token)


class LogContext(logging.Filter):
    """Adds `request_id` and `incident` to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.incident = incident.get()
        return True


_SLACK_LOGGERS = ("slack_bolt", "slack_sdk", "debrief.bolt")
_BODY_MARKERS = re.compile(r"{|body|payload", re.IGNORECASE)


class NoRequestBodies(logging.Filter):
    """Bolt and slack_sdk put request bodies (people's messages, form input) into some of
    their log lines: "Unhandled request ({...})" at warning, "Invalid request signature
    detected (... body: ...)" at info, "Skipped self event: {...}" at debug, ... Their
    lines keep what comes before the first sign of a body; the rest is withheld."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(_SLACK_LOGGERS):
            return True
        message = record.getMessage()
        found = _BODY_MARKERS.search(message)
        if found:
            kept = message[:found.start()].rstrip(" (:,=\"'")
            record.msg, record.args = f"{kept} [request data withheld]", None
        return True
