"""Alerts from monitoring: the webhook payloads read into one shape, routing by labels,
and escalation steps computed from a policy, the group's start and what already fired.

Pure: the HTTP endpoint hands in the decoded JSON, storage hands in the stored group;
nothing here reads a clock, a file or the network. A payload that is not what its kind
promises raises `PayloadError` (one line, safe to return to the sender as a 400).

Payloads understood:
- `alertmanager`: Prometheus Alertmanager's webhook, version "4" (`receiver`, `status`,
  `alerts[]`, `groupLabels`, `commonLabels`, `commonAnnotations`, `externalURL`,
  `groupKey`, `truncatedAlerts`); one notification per group, keyed by `groupKey`.
- `grafana`: Grafana alerting's webhook contact point (the same shape, version "1", plus
  `title`, `message`, `state` and per-alert `dashboardURL` / `panelURL` / `silenceURL`);
  keyed by `groupKey`, else the first alert's `fingerprint`.
- `generic`: a small documented JSON object:
  `{"title": str, "status": "firing"|"resolved", "dedup_key": str, "severity": str?,
  "labels": {str: str}?, "links": [{"url": str, "text": str?} | str]?, "description": str?}`.
- `heartbeat`: no payload; a ping at `/alerts/<name>/heartbeat` only says "still alive".
  `heartbeat_missed` decides when the silence has lasted too long, and
  `heartbeat_notification` is the alert group Debrief then raises itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from bot.domain.tags import MAX_TAG, SERVICE, normalise_tag
from bot.errors import UserError

KINDS = ("alertmanager", "grafana", "generic", "heartbeat")
Status = Literal["firing", "resolved"]
MAX_TITLE = 150
MAX_LABELS = 50
MAX_LINKS = 10
MAX_TEXT = 500
MAX_KEY = 300


class PayloadError(ValueError):
    """The body is not a payload of the integration's kind: the sender gets 400 and this
    line; nothing is stored."""


@dataclass(frozen=True)
class Link:
    url: str
    text: str = ""


@dataclass(frozen=True)
class Notification:
    """One webhook delivery, whatever its source: the state of one alert group now."""

    group_key: str
    status: Status
    title: str
    severity: str | None
    labels: Mapping[str, str]          # the group's common labels
    links: tuple[Link, ...] = ()
    alerts_firing: int = 0
    alerts_resolved: int = 0
    alerts_truncated: int = 0          # Alertmanager's truncatedAlerts (its max_alerts)
    starts_at: datetime | None = None  # the earliest firing alert's start
    external_url: str | None = None    # Alertmanager's own address, for silences
    description: str = ""


# --- parsing ------------------------------------------------------------------------

def parse_payload(kind: str, payload: Any) -> Notification:
    """The notification in `payload` (already decoded JSON) for an integration of `kind`."""
    if not isinstance(payload, dict):
        raise PayloadError("the body must be a JSON object")
    payload = _without_nul(payload)
    if kind == "alertmanager":
        return _parse_alertmanager(payload, grafana=False)
    if kind == "grafana":
        return _parse_alertmanager(payload, grafana=True)
    if kind == "generic":
        return _parse_generic(payload)
    if kind == "heartbeat":
        raise PayloadError("a heartbeat integration takes pings at /alerts/<name>/heartbeat, "
                           "not alert payloads")
    raise PayloadError(f"integrations of kind {kind!r} take no alert payloads")


def _without_nul(value: Any) -> Any:
    """The payload with NUL characters dropped from every text: JSON allows "\\u0000",
    PostgreSQL's text does not (the delivery would fail on every retry), and no title
    or label means anything by it."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


_STATE = r"(?:FIRING|RESOLVED)(?::\s*\d+)?"
_STATE_PREFIX = re.compile(rf"^(\s*\[{_STATE}(?:\s*,\s*{_STATE})*\])+\s*", re.IGNORECASE)


def _text(value: Any, name: str, limit: int = MAX_TEXT, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise PayloadError(f"{name} must be {'non-empty ' if required else ''}text")
    return value.strip()[:limit]


def _labels(value: Any, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str | int | float | bool)
            for k, v in value.items()):
        raise PayloadError(f"{name} must be an object of text values")
    return {k[:100]: str(v)[:MAX_TEXT] for k, v in list(value.items())[:MAX_LABELS]}


def _count(value: Any) -> int:
    """A non-negative whole number, else 0 (a field nobody should fail a page over)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and \
        0 <= value < 10**9 else 0


def _status(value: Any, name: str = "status") -> Status:
    if value == "firing":
        return "firing"
    if value == "resolved":
        return "resolved"
    raise PayloadError(f"{name} must be 'firing' or 'resolved'")


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time, or None (Alertmanager sends year 1 for "no end")."""
    if not isinstance(value, str) or not value:
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip()).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None or moment.year < 1971:
        return None
    return moment.astimezone(UTC)


def _url(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith(("http://", "https://")) and \
            len(value) <= 2000 and not any(c in value for c in " <>|\n\r\t"):
        return value
    return None


def _parse_alertmanager(payload: dict[str, Any], *, grafana: bool) -> Notification:
    what = "Grafana" if grafana else "Alertmanager"
    version = payload.get("version")
    if not grafana and version not in ("4", None):
        raise PayloadError(f"only Alertmanager webhook version 4 is understood, not {version!r}")
    alerts = payload.get("alerts")
    if not isinstance(alerts, list) or not alerts or not all(isinstance(a, dict) for a in alerts):
        raise PayloadError(f"an {what} notification needs a non-empty 'alerts' list")
    status = _status(payload.get("status"))
    common = _labels(payload.get("commonLabels"), "commonLabels")
    group_labels = _labels(payload.get("groupLabels"), "groupLabels")
    annotations = _labels(payload.get("commonAnnotations"), "commonAnnotations")
    firing = resolved = 0
    starts: list[datetime] = []
    links: list[Link] = []
    for i, alert in enumerate(alerts):
        alert_status = _status(alert.get("status"), f"alerts[{i}].status")
        _labels(alert.get("labels"), f"alerts[{i}].labels")
        firing += alert_status == "firing"
        resolved += alert_status == "resolved"
        if (start := parse_time(alert.get("startsAt"))) is not None:
            starts.append(start)
        for key in ("generatorURL", "dashboardURL", "panelURL"):
            if (url := _url(alert.get(key))) and len(links) < MAX_LINKS and \
                    url not in {link.url for link in links}:
                links.append(Link(url, {"generatorURL": "Source", "dashboardURL": "Dashboard",
                                        "panelURL": "Panel"}[key]))
    raw_key = payload.get("groupKey")
    first = alerts[0].get("fingerprint")
    if isinstance(raw_key, str) and raw_key:
        key = raw_key
    elif grafana and isinstance(first, str) and first:
        key = first
    else:
        raise PayloadError(f"an {what} notification needs a 'groupKey'")
    first_labels = _labels(alerts[0].get("labels"), "alerts[0].labels")
    name = common.get("alertname") or first_labels.get("alertname") or ""
    # Grafana's title starts "[FIRING:2] ": the state is shown (and changes) apart.
    title = (_STATE_PREFIX.sub("", _text(payload.get("title"), "title", MAX_TITLE))
             if grafana else "") or \
        annotations.get("summary") or name or "Alert"
    if not grafana and name and annotations.get("summary") and name not in title:
        title = f"{name}: {title}"
    return Notification(
        group_key=key[:MAX_KEY], status=status, title=title[:MAX_TITLE],
        severity=common.get("severity") or group_labels.get("severity"),
        labels={**group_labels, **common}, links=tuple(links), alerts_firing=firing,
        alerts_resolved=resolved, starts_at=min(starts) if starts else None,
        alerts_truncated=_count(payload.get("truncatedAlerts")),
        external_url=_url(payload.get("externalURL")),
        description=annotations.get("description", "") or
        (_text(payload.get("message"), "message") if grafana else ""))


def _parse_generic(payload: dict[str, Any]) -> Notification:
    unknown = sorted(set(payload) - {"title", "status", "dedup_key", "severity", "labels",
                                     "links", "description"})
    if unknown:
        raise PayloadError(f"unknown field {unknown[0]!r} (known: title, status, dedup_key, "
                           "severity, labels, links, description)")
    links: list[Link] = []
    raw_links = payload.get("links") or []
    if not isinstance(raw_links, list):
        raise PayloadError("links must be a list")
    for i, item in enumerate(raw_links[:MAX_LINKS]):
        raw_url = item.get("url") if isinstance(item, dict) else item
        url = _url(raw_url)
        if url is None:
            raise PayloadError(f"links[{i}] must be an http(s) URL or {{\"url\", \"text\"}}")
        links.append(Link(url, _text(item.get("text"), f"links[{i}].text", 100)
                          if isinstance(item, dict) else ""))
    severity = payload.get("severity")
    status = _status(payload.get("status"))
    return Notification(
        group_key=_text(payload.get("dedup_key"), "dedup_key", MAX_KEY, required=True),
        status=status, title=_text(payload.get("title"), "title", MAX_TITLE, required=True),
        severity=_text(severity, "severity", 30) or None,
        labels=_labels(payload.get("labels"), "labels"), links=tuple(links),
        alerts_firing=int(status == "firing"), alerts_resolved=int(status == "resolved"),
        description=_text(payload.get("description"), "description"))


# --- routing ------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    """Where a matching notification goes: `match` is label -> value (all must hold;
    a value starting with `~` is a regular expression, fully matched)."""

    match: Mapping[str, str]
    schedule: str | None = None
    channel: str | None = None
    escalation: str | None = None


@dataclass(frozen=True)
class Destination:
    schedule: str | None
    channel: str
    escalation: str | None


def matches(match: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    for name, wanted in match.items():
        value = labels.get(name, "")
        if wanted.startswith("~"):
            if not re.fullmatch(wanted[1:], value):
                return False
        elif value != wanted:
            return False
    return True


def route(routes: Sequence[Route], labels: Mapping[str, str], default: Destination,
          ) -> Destination:
    """The first route whose matchers hold decides (its unset fields keep the
    integration's own); none: the integration's own destination."""
    for candidate in routes:
        if matches(candidate.match, labels):
            return Destination(candidate.schedule or default.schedule,
                               candidate.channel or default.channel,
                               candidate.escalation or default.escalation)
    return default


SEVERITY_LABELS = {"critical": 0, "page": 0, "high": 1, "error": 1, "major": 1,
                   "warning": 2, "medium": 2, "minor": 2, "low": 3, "info": 3}


def incident_severity(label: str | None, severities: Sequence[str]) -> str:
    """The incident severity an alert's `severity` label suggests: a name of the team's
    own (`SEV2`, case-insensitive) is kept; critical → the most severe, warning → the
    third, info → the last; anything else the least severe."""
    if not severities:
        return ""
    text = (label or "").strip()
    for name in severities:
        if name.lower() == text.lower():
            return name
    rank = SEVERITY_LABELS.get(text.lower())
    return severities[min(rank, len(severities) - 1)] if rank is not None else severities[-1]


# Labels that become the incident's tags when it is declared from the alert: the
# label's value, after the prefix (`service: payments` → `service:payments`,
# `team: SRE` → `team-sre`).
TAG_LABELS = {"service": SERVICE, "team": "team-"}


def alert_tags(labels: Mapping[str, str]) -> tuple[str, ...]:
    """The tags an alert's labels suggest for the incident declared from it (the declare
    form is prefilled with them, and they are checked again when it is submitted). A
    value is made a tag: lowercased, any run of other characters than letters, digits
    and `-` made one `-`, cut to the tag length; one with nothing left is dropped."""
    found: list[str] = []
    for label, prefix in TAG_LABELS.items():
        slug = re.sub(r"[^a-z0-9-]+", "-", str(labels.get(label) or "").lower()).strip("-")
        if not slug:
            continue
        word = (slug if prefix == SERVICE else prefix + slug)[:MAX_TAG].strip("-")
        try:
            found.append(normalise_tag((SERVICE if prefix == SERVICE else "") + word))
        except UserError:
            continue
    return tuple(found)


# --- escalation ---------------------------------------------------------------------

@dataclass(frozen=True)
class Notify:
    """Who a step notifies: whoever is on call for the group's schedule (`oncall`), a
    layer of that schedule, named people, or a user group."""

    oncall: bool = False
    users: tuple[str, ...] = ()
    usergroup: str | None = None
    layer: str | None = None

    def describe(self) -> str:
        if self.oncall:
            return "on call"
        if self.layer:
            return f"layer {self.layer}"
        if self.usergroup:
            return f"user group {self.usergroup}"
        return "named people"


@dataclass(frozen=True)
class Wait:
    delay: timedelta


@dataclass(frozen=True)
class Repeat:
    times: int  # the steps before it run this many more times


Step = Notify | Wait | Repeat


@dataclass(frozen=True)
class Policy:
    name: str
    steps: tuple[Step, ...]

    def expanded(self) -> tuple[Notify | Wait, ...]:
        """The steps with every `repeat` unrolled (each repeat repeats everything before
        it, itself excluded), so each notify has one position: its claim key."""
        return self._unrolled()[0]

    def repeat_waits(self) -> dict[int, timedelta]:
        """Position in `expanded()` -> the wait before it, where a repetition starts
        after a block that does not end with a wait: the block's last wait again, so a
        round does not start over straight after the step before (with a gap in the
        schedule that paged the same person twice at once)."""
        return self._unrolled()[1]

    def _unrolled(self) -> tuple[tuple[Notify | Wait, ...], dict[int, timedelta]]:
        done: list[Notify | Wait] = []
        waits: dict[int, timedelta] = {}
        for step in self.steps:
            if not isinstance(step, Repeat):
                done.append(step)
                continue
            block, inner = len(done), dict(waits)
            last = next((s.delay for s in reversed(done) if isinstance(s, Wait)), None)
            between = last if done and not isinstance(done[-1], Wait) else None
            for copy in range(1, step.times + 1):
                waits.update({i + block * copy: d for i, d in inner.items()})
                if between is not None:
                    waits[block * copy] = between
            done = done * (step.times + 1)
        return tuple(done), waits


@dataclass(frozen=True)
class Fired:
    """A notify step that fired: when, and how many people it reached (0: a gap)."""

    at: datetime
    reached: int


@dataclass(frozen=True)
class DueStep:
    index: int   # position in the expanded policy (the exactly-once key)
    step: Notify
    due_at: datetime
    after_gap: bool = False  # brought forward because the step before reached nobody


def next_step(policy: Policy, started_at: datetime, fired: Mapping[int, Fired],
              now: datetime) -> DueStep | None:
    """The one notify step due at `now`, or None. Waits count from when the previous
    step actually fired (so a step due while the bot was down fires on its return, once,
    and the next one waits its full delay after that); a step that reached nobody (a gap
    in the schedule) skips the wait after it and escalates straight on."""
    cursor = started_at
    gap = False
    between = policy.repeat_waits()
    for index, step in enumerate(policy.expanded()):
        if index in between and not gap:
            cursor += between[index]
        if isinstance(step, Wait):
            if not gap:
                cursor += step.delay
            continue
        done = fired.get(index)
        if done is not None:
            cursor, gap = done.at, done.reached == 0
            continue
        return DueStep(index, step, cursor, after_gap=gap) if cursor <= now else None
    return None


def plan(policy: Policy, started_at: datetime) -> list[tuple[int, Notify, datetime]]:
    """Each notify step with when it falls due if nothing is answered and nobody is
    missing: for the README, the demo and tests."""
    cursor, out = started_at, []
    between = policy.repeat_waits()
    for index, step in enumerate(policy.expanded()):
        cursor += between.get(index, timedelta(0))
        if isinstance(step, Wait):
            cursor += step.delay
        else:
            out.append((index, step, cursor))
    return out


@dataclass(frozen=True)
class LinkedIncident:
    """The incident a group is attached to, as the alert message and escalation need it.
    `open`: not resolved. While it is open the group's alerts are the incident's (its
    timeline and channel), and nobody is paged for them."""

    number: int
    title: str
    private: bool
    open: bool
    channel_id: str | None = None


@dataclass(frozen=True)
class AlertGroup:
    """An alert group as stored: what the channel message and the CLI show."""

    id: int
    integration: str
    group_key: str
    title: str
    severity: str | None
    status: str  # firing | acknowledged | resolved | silenced
    labels: Mapping[str, str]
    links: tuple[Link, ...]
    channel: str
    schedule: str | None
    escalation: str | None
    first_firing_at: datetime
    last_firing_at: datetime
    last_received_at: datetime
    alerts_firing: int = 0
    alerts_resolved: int = 0
    alerts_truncated: int = 0  # left out of the last notification by Alertmanager
    notifications: int = 1
    resolved_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    silence_id: str | None = None
    silenced_until: datetime | None = None
    incident_number: int | None = None
    message_channel_id: str | None = None
    message_ts: str | None = None
    external_url: str | None = None
    description: str = ""
    version: int = 1
    synced_version: int = 0
    escalation_round: int = 0  # +1 each time the group fires again after resolving
    escalation_started_at: datetime | None = None  # the round's start (None: first firing)
    lines_posted: int = 0  # the last incident line posted in the incident's channel
    notified: tuple[str, ...] = ()  # people escalation reached, in order (mentioned)
    steps: tuple[StepRecord, ...] = field(default=())  # this round's
    incident: LinkedIncident | None = None

    @property
    def is_open(self) -> bool:
        return self.status in ("firing", "acknowledged", "silenced")

    @property
    def attached(self) -> bool:
        """Attached to an incident that is still open: nobody is paged for it."""
        return self.incident is not None and self.incident.open

    @property
    def escalating(self) -> bool:
        """Escalation runs only while the group fires, nobody has answered and it is not
        attached to an open incident."""
        return self.status == "firing" and not self.attached

    @property
    def round_started_at(self) -> datetime:
        return self.escalation_started_at or self.first_firing_at


@dataclass(frozen=True)
class StepRecord:
    """An escalation step that fired: for `alerts show` and the message."""

    index: int
    at: datetime
    notified: tuple[str, ...]
    target: str
    after_gap: bool = False


def apply_notification(status: str, notification: Notification) -> str:
    """The group's status after a delivery: resolved when the sender says so; a firing
    delivery reopens a resolved group but keeps an acknowledgement or a silence."""
    if notification.status == "resolved":
        return "resolved"
    return "firing" if status == "resolved" else status


# --- attaching to incidents ---------------------------------------------------------

ATTACH_BY = ("alertname", "service")


@dataclass(frozen=True)
class Attached:
    """A group attached to an open incident: the candidates `attach_match` compares."""

    incident: int
    integration: str
    labels: Mapping[str, str]
    declared_at: datetime


def attach_match(integration: str, labels: Mapping[str, str], attached: Sequence[Attached],
                 by: Sequence[str] = ATTACH_BY) -> int | None:
    """The open incident a new alert group belongs to, or None: one that already has a
    group from the same integration sharing a value of one of the `by` labels (by
    default `alertname` or `service`); the most recently declared when several do."""
    best: Attached | None = None
    for other in attached:
        if other.integration != integration:
            continue
        if any(labels.get(name) and labels.get(name) == other.labels.get(name)
               for name in by):
            if best is None or other.declared_at > best.declared_at:
                best = other
    return None if best is None else best.incident


def incident_change(before: AlertGroup, after: AlertGroup) -> str | None:
    """What a delivery to an attached group means for its incident's timeline, or None
    (a repeat of the same state is only counted): `refired` (resolved, now firing
    again), `more` (more alerts firing in the group), `resolved`."""
    if after.status == "resolved" and before.status != "resolved":
        return "resolved"
    if before.status == "resolved" and after.status != "resolved":
        return "refired"
    if after.status != "resolved" and after.alerts_firing > before.alerts_firing:
        return "more"
    return None


def incident_line_text(what: str, title: str, firing: int) -> str:
    """An attached group's change as the incident's timeline records it (plain text)."""
    count = f" ({firing} firing)" if firing else ""
    match what:
        case "attached":
            return f"Alert attached: {title}{count}"
        case "refired":
            return f"Alert firing again: {title}{count}"
        case "more":
            return f"More alerts firing: {title}{count}"
        case "resolved":
            return f"Alert resolved: {title}"
        case _:
            return f"Alert: {title}{count}"


# --- heartbeats ---------------------------------------------------------------------

def ping_counts(payload: Any) -> bool:
    """Whether a heartbeat ping's body counts as "alive". Any body does (none, text, JSON)
    except a notification that says its alert is resolved: Alertmanager's Watchdog alert
    only resolves when the pipeline behind it stopped firing it."""
    return not (isinstance(payload, dict) and payload.get("status") == "resolved")


def heartbeat_missed(last_ping_at: datetime | None, armed_at: datetime, window: timedelta,
                     now: datetime, up_since: datetime | None = None) -> datetime | None:
    """Since when pings are missing, if they have been for longer than `window`; else None.

    The clock runs from the last ping; for a heartbeat never pinged, from `armed_at`
    (when Debrief first ran with it configured), so a sender that was never set up
    alerts one window after it was configured. `up_since` is when the judging process
    started: it judges nothing before it has itself been up for one window, because
    pings sent while Debrief was down went nowhere (another replica, up all along,
    judges meanwhile)."""
    since = max(last_ping_at, armed_at) if last_ping_at is not None else armed_at
    if now - since <= window:
        return None
    if up_since is not None and now - up_since <= window:
        return None
    return since


def heartbeat_notification(name: str, since: datetime, window: timedelta,
                           never_pinged: bool) -> Notification:
    """The alert group a missed heartbeat raises: one per outage (keyed by the moment
    pings stopped, so every replica computes the same key), firing from when the window
    ran out."""
    stamp = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = (f"Your monitoring is down: no heartbeat from {name} yet (expected since {stamp})"
             if never_pinged else
             f"Your monitoring is down: no heartbeat from {name} since {stamp}")
    minutes = int(window.total_seconds() // 60)
    every = f"{minutes} min" if minutes and not window.total_seconds() % 60 else \
        f"{int(window.total_seconds())} s"
    return Notification(
        group_key=f"heartbeat:{since.astimezone(UTC).isoformat()}", status="firing",
        title=title[:MAX_TITLE], severity="critical", labels={"heartbeat": name},
        alerts_firing=1, starts_at=since + window,
        description=f"Debrief expects a ping at /alerts/{name}/heartbeat at least every "
                    f"{every}. This alert resolves itself when pings resume.")


@dataclass(frozen=True)
class Heartbeat:
    """A heartbeat integration's state as stored: one row, updated by each ping."""

    integration: str
    armed_at: datetime
    last_ping_at: datetime | None = None
    pings: int = 0
    open_group_id: int | None = None   # the alert group of the outage still open
    missed_since: datetime | None = None
