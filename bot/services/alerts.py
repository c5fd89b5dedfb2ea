"""Alerts in: a delivery from a monitoring integration is stored first (one transaction:
the group is created or updated, the delivery recorded), answered, and only then shown
in Slack: the group's one message is posted, or updated in place, by a background
worker (`AlertSync`) and, as a safety net, by every scheduler tick (`sync_pending`), so a
crash between the two, or another replica's delivery, leaves nothing unshown.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config import AlertIntegration
from bot.domain.alerts import (
    AlertGroup,
    Destination,
    DueStep,
    Fired,
    Notification,
    Notify,
    Policy,
    apply_notification,
    attach_match,
    incident_change,
    incident_line_text,
    incident_severity,
    next_step,
    route,
)
from bot.domain.incidents import Incident
from bot.domain.rotations import Schedule, who
from bot.errors import ChatError, UserError
from bot.services.incidents import visible_to
from bot.services.ports import Deps, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)
LINE = "incident_line"  # an alert_events kind: a change to post in the incident's channel


@dataclass(frozen=True)
class Received:
    group_id: int
    created: bool
    status: str


def receive_alert(integration: AlertIntegration, notification: Notification, *,
                  uow: UnitOfWorkFactory, now: datetime) -> Received | None:
    """Store one delivery: a new group, or the existing group of the same key updated
    (title, labels, counts, status); the delivery is kept as an event. None: a
    "resolved" for a group never seen firing (sent before Debrief was set up, or after
    its group was forgotten), which would only post a resolved message as noise."""
    with uow() as tx:
        if notification.status == "resolved" and \
                tx.alerts.find(integration.name, notification.group_key) is None:
            return None
        received = store_delivery(tx, integration, notification, now)
        tx.commit()
    return received


def store_delivery(tx: UnitOfWork, integration: AlertIntegration, notification: Notification,
                   now: datetime) -> Received:
    """`receive_alert` inside the caller's transaction (which commits)."""
    destination = route(integration.routes, notification.labels,
                        Destination(integration.schedule, integration.channel,
                                    integration.escalation))
    firing = notification.status == "firing"
    created = tx.alerts.create({
        "integration": integration.name, "group_key": notification.group_key,
        "title": notification.title, "severity": notification.severity,
        "status": notification.status, "labels": dict(notification.labels),
        "links": [{"url": k.url, "text": k.text} for k in notification.links],
        "description": notification.description, "channel": destination.channel,
        "schedule": destination.schedule, "escalation": destination.escalation,
        "external_url": notification.external_url,
        "first_firing_at": notification.starts_at or now, "last_firing_at": now,
        "last_received_at": now, "alerts_firing": notification.alerts_firing,
        "alerts_resolved": notification.alerts_resolved, "notifications": 1,
        "alerts_truncated": notification.alerts_truncated,
        "resolved_at": None if firing else now, "version": 1, "synced_version": 0,
    })
    group = tx.alerts.find(integration.name, notification.group_key, for_update=True)
    assert group is not None  # created just now or before
    before = group
    if not created:
        status = apply_notification(group.status, notification)
        if group.status == "resolved" and status != "resolved":
            # Fired again after resolving: a new round of its escalation policy,
            # unanswered, from now (its earlier round's steps stay on record).
            group = replace(group, escalation_round=group.escalation_round + 1,
                            escalation_started_at=now, acknowledged_by=None,
                            acknowledged_at=None)
        group = replace(
            group, title=notification.title, severity=notification.severity,
            labels=dict(notification.labels), links=notification.links or group.links,
            description=notification.description or group.description,
            external_url=notification.external_url or group.external_url,
            status=status, last_received_at=now,
            last_firing_at=now if firing else group.last_firing_at,
            alerts_firing=notification.alerts_firing,
            alerts_resolved=notification.alerts_resolved,
            alerts_truncated=notification.alerts_truncated,
            notifications=group.notifications + 1,
            resolved_at=(group.resolved_at or now) if status == "resolved" else None,
            version=group.version + 1)
    group = _follow_incident(tx, before, group, created, now)
    if group != before:
        tx.alerts.save(group)
    tx.alerts.add_event(group.id, "received", now, detail={
        "status": notification.status, "firing": notification.alerts_firing,
        "resolved": notification.alerts_resolved})
    return Received(group.id, created, group.status)


def _follow_incident(tx: UnitOfWork, before: AlertGroup, group: AlertGroup, created: bool,
                     now: datetime) -> AlertGroup:
    """A delivery to a group attached to an open incident goes on that incident's
    timeline when it changes something (fired again, more alerts firing, resolved) and
    is queued for a line in its channel; nobody is paged (escalation skips attached
    groups). A group that starts firing unattached joins an open incident that already
    has a group of the same integration sharing its `alertname` or `service`."""
    if group.attached:
        what = "attached" if created else incident_change(before, group)
    elif group.status == "firing" and (created or before.status == "resolved"):
        number = attach_match(group.integration, group.labels,
                              tx.alerts.attached_to_open(group.integration))
        if number is None:
            return group
        what = "attached"
        group = replace(group, incident_number=number, version=group.version + 1)
        tx.alerts.add_event(group.id, "attached", now, detail={"incident": number,
                                                               "by": "labels"})
    else:
        return group
    if what is None or group.incident_number is None:
        return group
    _incident_line(tx, group, group.incident_number, what, now)
    return group


def _incident_line(tx: UnitOfWork, group: AlertGroup, number: int, what: str,
                   now: datetime, actor: str | None = None) -> None:
    """One change of an attached group: a timeline entry (kind `alert`, a key event)
    and an event that the sync posts once as a line in the incident's channel."""
    tx.timeline.add_note(number, now, actor,
                         incident_line_text(what, group.title, group.alerts_firing),
                         kind="alert")
    tx.alerts.add_event(group.id, LINE, now, actor=actor, detail={
        "incident": number, "what": what, "firing": group.alerts_firing})


def message_key(group_id: int) -> str:
    """The claim that makes one replica, once, post a group's first message."""
    return f"alert-message:{group_id}"


def sync_message(group_id: int, deps: Deps) -> bool:
    """Bring the group's Slack message up to its stored state: post it the first time
    (claimed, so two replicas never post it twice), else update it in place. True when
    the message now shows the latest version."""
    with deps.uow() as tx:
        group = tx.alerts.get(group_id)
    if group is None or group.synced_version >= group.version:
        return True
    if group.message_ts is None:
        key = message_key(group_id)
        with deps.uow() as tx:
            claimed = tx.notifications.claim(key, deps.now())
            tx.commit()
        if not claimed:
            return False  # another worker is posting it; its sync will catch up
        try:
            channel_id, ts = deps.chat.post_alert(group)
        except ChatError as exc:
            log.warning("alert group %s: message not posted (%s); will retry", group_id,
                        exc.code)
            with deps.uow() as tx:
                tx.notifications.release(key)
                tx.commit()
            return False
        with deps.uow() as tx:
            tx.notifications.mark_sent(key, deps.now())
            tx.alerts.mark_synced(group_id, group.version, channel_id, ts)
            tx.alerts.add_event(group_id, "posted", deps.now(), detail={"channel": channel_id,
                                                                         "ts": ts})
            tx.commit()
        post_incident_lines(group, deps)
        return True
    try:
        deps.chat.update_alert(group)
    except ChatError as exc:
        log.warning("alert group %s: message not updated (%s); will retry", group_id, exc.code)
        return False
    with deps.uow() as tx:
        tx.alerts.mark_synced(group_id, group.version)
        tx.commit()
    post_incident_lines(group, deps)
    return True


def line_key(event_id: int) -> str:
    """The claim that posts one incident line once, across replicas."""
    return f"alert-line:{event_id}"


def post_incident_lines(group: AlertGroup, deps: Deps) -> None:
    """Post the group's incident lines not yet posted (each claimed, so once) as compact
    lines in the incident's channel. A line whose incident is no longer the group's is
    skipped; one Slack refused is released and tried again on the group's next sync."""
    with deps.uow() as tx:
        lines = tx.alerts.lines_after(group.id, group.lines_posted)
    for event_id, _at, detail in lines:
        key = line_key(event_id)
        with deps.uow() as tx:
            claimed = tx.notifications.claim(key, deps.now())
            tx.commit()
        if not claimed:
            continue
        incident = group.incident
        if incident is not None and incident.number == detail.get("incident") and \
                incident.channel_id:
            try:
                deps.chat.post_alert_line(incident.channel_id, group,
                                          str(detail.get("what") or ""),
                                          int(detail.get("firing") or 0))
            except ChatError as exc:
                log.warning("alert group %s: incident line not posted (%s)", group.id,
                            exc.code)
                with deps.uow() as tx:
                    tx.notifications.release(key)
                    tx.commit()
                return
        with deps.uow() as tx:
            tx.notifications.mark_sent(key, deps.now())
            tx.alerts.mark_lines_posted(group.id, event_id)
            tx.commit()


def sync_pending(deps: Deps, limit: int = 100) -> int:
    """Every group whose message is behind its state (the scheduler's safety net)."""
    with deps.uow() as tx:
        ids = tx.alerts.unsynced(limit)
    return sum(sync_message(i, deps) for i in ids)


class AlertSync:
    """One background thread per process that shows stored groups in Slack. Ids queue
    up; a group queued many times while one post is under way is synced once with its
    latest state (a storm of deliveries to a few groups makes a few messages). Posts
    go through the gateway, which paces them per channel within Slack's limits."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._pending: set[int] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def kick(self, group_id: int) -> None:
        with self._lock:
            if group_id in self._pending:
                return
            self._pending.add(group_id)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="debrief-alerts",
                                                daemon=True)
                self._thread.start()
        self._queue.put(group_id)

    def idle(self) -> bool:
        with self._lock:
            return not self._pending

    def _run(self) -> None:
        while True:
            group_id = self._queue.get()
            if group_id is None:
                return
            with self._lock:
                self._pending.discard(group_id)
            try:
                sync_message(group_id, self.deps)
                escalate_group(group_id, self.deps)  # page now, not at the next tick
            except Exception:  # noqa: BLE001 - the scheduler's sweep retries it
                log.exception("alert group %s: sync failed", group_id)

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)


# --- reading ------------------------------------------------------------------------

def alert_list(uow: UnitOfWorkFactory, *, open_only: bool = False) -> list[AlertGroup]:
    with uow() as tx:
        return tx.alerts.groups(open_only=open_only)


def alert_report(group_id: int, uow: UnitOfWorkFactory) -> dict[str, Any]:
    """One group as `debrief alerts show --json` prints it."""
    with uow() as tx:
        group = tx.alerts.get(group_id)
        if group is None:
            raise UserError(f"There is no alert group {group_id}.")
        events = tx.alerts.events(group_id)
    report = group_summary(group)
    report.update(
        labels=dict(group.labels), links=[{"url": k.url, "text": k.text} for k in group.links],
        description=group.description, group_key=group.group_key, channel=group.channel,
        schedule=group.schedule, escalation=group.escalation,
        notifications=group.notifications, alerts_firing=group.alerts_firing,
        alerts_resolved=group.alerts_resolved, alerts_truncated=group.alerts_truncated,
        silence_id=group.silence_id,
        silenced_until=_iso(group.silenced_until), message_ts=group.message_ts,
        events=[{"at": _iso(at), "kind": kind, "actor": actor, "detail": detail}
                for at, kind, actor, detail in events])
    return report


def group_summary(group: AlertGroup) -> dict[str, Any]:
    return {
        "id": group.id, "integration": group.integration, "title": group.title,
        "severity": group.severity, "status": group.status,
        "first_firing_at": _iso(group.first_firing_at),
        "last_firing_at": _iso(group.last_firing_at), "resolved_at": _iso(group.resolved_at),
        "acknowledged_by": group.acknowledged_by,
        "acknowledged_at": _iso(group.acknowledged_at),
        "escalation_steps": [{"step": s.index, "notified": list(s.notified),
                              "target": s.target, "at": _iso(s.at),
                              "after_gap": s.after_gap} for s in group.steps],
        "incident": group.incident_number, "attached": group.attached,
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


# --- answering from Slack -----------------------------------------------------------

@dataclass(frozen=True)
class AlertAnswered:
    """What a button did: the group after it, and whether anything changed."""

    group: AlertGroup
    action: str  # acknowledged | resolved | silenced
    changed: bool


def answer_alert(group_id: int, action: str, user: str, deps: Deps) -> AlertAnswered:
    """Acknowledge (escalation stops) or resolve a group from Slack, recorded with who
    and when; the group's message is brought up to date. Answering twice changes
    nothing the second time."""
    now = deps.now()
    with deps.uow() as tx:
        group = tx.alerts.get(group_id, for_update=True)
        if group is None:
            raise UserError(f"There is no alert group {group_id}.")
        if action == "acknowledged":
            changed = group.status in ("firing", "silenced")
            if changed:
                group = replace(group, status="acknowledged", acknowledged_by=user,
                                acknowledged_at=now, version=group.version + 1)
        elif action == "resolved":
            changed = group.status != "resolved"
            if changed:
                group = replace(group, status="resolved", resolved_at=now,
                                version=group.version + 1)
        else:
            raise ValueError(action)
        if changed:
            tx.alerts.save(group)
            # An acknowledgement keeps how long it took and whose schedule it was: `stats`
            # reads only these, by time. From the round's first page (the alert's own
            # startsAt may be days old: a silence ended, a route added); unpaged, from
            # the round's start.
            paged_at = min((step.at for step in group.steps), default=group.round_started_at)
            detail = {"seconds": round(max((now - paged_at).total_seconds(), 0), 3),
                      "schedule": group.schedule} if action == "acknowledged" else None
            tx.alerts.add_event(group_id, action, now, actor=user, detail=detail)
            if action == "resolved" and group.attached and group.incident is not None:
                _incident_line(tx, group, group.incident.number, "resolved", now, user)
            tx.commit()
    if changed:
        sync_message(group_id, deps)
    return AlertAnswered(group, action, changed)


# --- escalation ---------------------------------------------------------------------

def step_key(group_id: int, index: int, round_: int = 0) -> str:
    """The exactly-once claim of one escalation step of one group (in one round: a
    group that fires again after resolving starts its policy over)."""
    return f"alert-step:{group_id}:{index}" if not round_ else \
        f"alert-step:{group_id}:r{round_}:{index}"


def escalate_due(deps: Deps, now: datetime | None = None) -> list[str]:
    """Fire every escalation step due now (the scheduler calls this each tick in every
    replica). Each step is claimed in `notifications` before anyone is notified, so it
    fires once across replicas and restarts; a step that reaches nobody (a gap in the
    schedule) is recorded as such and the next one fires at once. Returns the claims
    fired by this call."""
    now = now or deps.now()
    end_silences(deps, now)
    policies = deps.config.alerts.escalations
    with deps.uow() as tx:
        groups = [g for g in tx.alerts.escalating()
                  if g.escalation in policies and g.escalating]
    fired_keys: list[str] = []
    for group in groups:
        fired_keys += _escalate(group, policies[group.escalation or ""], deps, now)
    return fired_keys


def escalate_group(group_id: int, deps: Deps) -> list[str]:
    """Fire the steps of one group that are due now. `AlertSync` calls it right after
    showing a delivery, so the first page goes out within milliseconds of the webhook
    instead of at the next scheduler tick (up to its 30 s interval later); the tick
    still fires every later step, and the claims keep each step to once."""
    policies = deps.config.alerts.escalations
    if not policies:
        return []
    with deps.uow() as tx:
        group = tx.alerts.get(group_id)
    if group is None or not group.escalating or group.escalation not in policies:
        return []
    return _escalate(group, policies[group.escalation or ""], deps, deps.now())


def _escalate(group: AlertGroup, policy: Policy, deps: Deps, now: datetime) -> list[str]:
    fired = {s.index: Fired(s.at, len(s.notified)) for s in group.steps}
    fired_keys: list[str] = []
    for _ in range(len(policy.expanded())):
        due = next_step(policy, group.round_started_at, fired, now)
        if due is None:
            break
        key = step_key(group.id, due.index, group.escalation_round)
        with deps.uow() as tx:
            claimed = tx.notifications.claim(key, now)
            tx.commit()
        if not claimed:
            break  # another replica fires it (its record reaches us next tick)
        reached = _fire_step(group.id, due, deps, now, group.escalation_round)
        if reached is None:  # nothing sent (Slack refused): released, next tick retries
            break
        fired[due.index] = Fired(now, reached)
        fired_keys.append(key)
        if reached:
            break
    return fired_keys


def _fire_step(group_id: int, due: DueStep, deps: Deps, now: datetime, round_: int = 0,
               ) -> int | None:
    """Notify the step's people by DM (with the group's buttons), record whom it
    reached, and refresh the channel message (which mentions them). None: the group is
    no longer escalating or no DM went out; the claim is then released."""
    key = step_key(group_id, due.index, round_)
    with deps.uow() as tx:
        group = tx.alerts.get(group_id)
        schedule = tx.schedules.get(group.schedule) if group and group.schedule else None
    if group is None or not group.escalating or group.escalation_round != round_:
        with deps.uow() as tx:
            tx.notifications.mark_sent(key, now)
            tx.commit()
        return 0
    people = _recipients(due.step, schedule, deps, now)
    reached: list[str] = []
    for user in people:
        try:
            deps.chat.send_alert(user, group)
            reached.append(user)
        except ChatError as exc:
            log.warning("alert group %s step %s: DM to %s failed (%s)", group_id, due.index,
                        user, exc.code)
    if people and not reached:
        with deps.uow() as tx:
            tx.notifications.release(key)
            tx.commit()
        return None
    with deps.uow() as tx:
        current = tx.alerts.get(group_id, for_update=True)
        tx.notifications.mark_sent(key, now)
        tx.alerts.add_event(group_id, "escalated", now, detail={
            "index": due.index, "notified": reached, "target": due.step.describe(),
            "after_gap": due.after_gap, "round": round_})
        if current is not None:
            tx.alerts.save(replace(current, version=current.version + 1))
        tx.commit()
    sync_message(group_id, deps)
    return len(reached)


def unknown_schedules(deps: Deps) -> list[str]:
    """The alert settings that name an on-call schedule nobody has loaded: checked at
    start-up, since a misspelt name would page nobody and look like a gap for ever."""
    with deps.uow() as tx:
        known = set(tx.schedules.names())
    named = []
    for name, integration in deps.config.alerts.integrations.items():
        if integration.schedule:
            named.append((f"alerts.integrations.{name}.schedule", integration.schedule))
        named += [(f"alerts.integrations.{name}.routes[{i}].schedule", r.schedule)
                  for i, r in enumerate(integration.routes) if r.schedule]
    shown = ", ".join(sorted(known)[:10]) or "none loaded"
    return [f"{where}: no on-call schedule is named {schedule!r} (known: {shown})."
            for where, schedule in named if schedule not in known]


def _recipients(step: Notify, schedule: Schedule | None, deps: Deps, now: datetime,
                ) -> list[str]:
    """Slack user ids a step notifies now ([] for a gap: nobody on call, an empty group)."""
    members: list[str] = []
    if step.oncall and schedule is not None:
        answer = who(schedule, now)
        members = [answer.user] if answer.user else []
    elif step.layer and schedule is not None:
        layer = next((lay for lay in schedule.layers if lay.name == step.layer), None)
        user = layer.on_call(now) if layer is not None and layer.covers(now) else None
        members = [user] if user else []
    elif step.users:
        members = list(step.users)
    elif step.usergroup:
        try:
            members = sorted(deps.chat.usergroup_members(step.usergroup))
        except ChatError as exc:
            log.warning("user group %s could not be read (%s)", step.usergroup, exc.code)
    found: list[str] = []
    for member in members:
        user_id = deps.chat.resolve_user(member)
        if user_id and user_id not in found:
            found.append(user_id)
    return found


SILENCE = timedelta(hours=1)


def silence_alert(group_id: int, user: str, deps: Deps, duration: timedelta = SILENCE,
                  ) -> AlertAnswered:
    """"Silence 1h": escalation pauses for `duration`. For an Alertmanager group a real
    silence is created through its API v2 (the integration's `alertmanager_url`, else the
    payload's externalURL), matching the group's labels, so it expires on its own; its id
    is shown in the message. Other kinds are silenced here only."""
    now = deps.now()
    with deps.uow() as tx:
        group = tx.alerts.get(group_id)
    if group is None:
        raise UserError(f"There is no alert group {group_id}.")
    if group.status == "resolved":
        return AlertAnswered(group, "silenced", False)
    if group.status == "silenced" and group.silenced_until and group.silenced_until > now:
        raise UserError("This alert is already silenced until "
                        f"{group.silenced_until.astimezone(UTC):%H:%M} UTC.")
    integration = deps.config.alerts.integrations.get(group.integration)
    silence_id: str | None = None
    # One silence per state of the group: two clicks at once (two replicas) both read it
    # unsilenced; the claim lets one create the silence and tells the other.
    claim = f"silence:{group_id}:{group.version}"
    with deps.uow() as tx:
        claimed = tx.notifications.claim(claim, now)
        tx.commit()
    if not claimed:
        raise UserError("Someone is silencing this alert right now.")
    try:
        if integration is not None and integration.kind == "alertmanager":
            url = integration.alertmanager_url or group.external_url
            if not url or deps.silences is None:
                raise UserError("No Alertmanager address is known for this alert: set "
                                "alertmanager_url on its integration.")
            if not group.labels:
                raise UserError("This alert has no labels a silence could match: "
                                "silence it in Alertmanager.")
            silence_id = deps.silences.create(
                url, group.labels, now, now + duration, created_by=user,
                comment=f"Silenced from Slack via Debrief by {user}")
    except UserError:
        with deps.uow() as tx:
            tx.notifications.release(claim)
            tx.commit()
        raise
    with deps.uow() as tx:
        current = tx.alerts.get(group_id, for_update=True)
        assert current is not None
        group = replace(current, status="silenced" if current.status != "resolved"
                        else current.status, silence_id=silence_id,
                        silenced_until=now + duration, version=current.version + 1)
        tx.alerts.save(group)
        tx.alerts.add_event(group_id, "silenced", now, actor=user,
                            detail={"until": (now + duration).isoformat(),
                                    "silence_id": silence_id})
        tx.commit()
    sync_message(group_id, deps)
    return AlertAnswered(group, "silenced", True)


def end_silences(deps: Deps, now: datetime) -> None:
    """Silences that ran out: the group fires again (and escalation resumes) unless its
    source says it is over. Alertmanager sends no "resolved" for alerts that resolved
    while silenced, so an Alertmanager group is checked against its API first: none of
    its alerts left there means resolved, not a page for something long gone. When
    Alertmanager cannot be asked, the group fires again (a page too many beats none)."""
    with deps.uow() as tx:
        ids = tx.alerts.silenced_until_before(now)
    unreachable: set[str] = set()  # asked once per tick: a dead one must not stall paging
    for group_id in ids:
        with deps.uow() as tx:
            group = tx.alerts.get(group_id)
        if group is None or group.status != "silenced":
            continue
        still = _still_firing(group, deps, unreachable)
        with deps.uow() as tx:
            group = tx.alerts.get(group_id, for_update=True)
            if group is None or group.status != "silenced":
                continue
            if still is False:
                tx.alerts.save(replace(group, status="resolved", resolved_at=now,
                                       silenced_until=None, version=group.version + 1))
                tx.alerts.add_event(group_id, "resolved", now,
                                    detail={"why": "gone from Alertmanager when the "
                                                   "silence ended"})
                if group.attached and group.incident is not None:
                    _incident_line(tx, group, group.incident.number, "resolved", now, None)
            else:
                # Paging starts over as a new round from now: the policy may have been
                # spent before the silence, and time to acknowledge counts from its
                # first page, not from before the silence.
                tx.alerts.save(replace(group, status="firing", silenced_until=None,
                                       escalation_round=group.escalation_round + 1,
                                       escalation_started_at=now, acknowledged_by=None,
                                       acknowledged_at=None, version=group.version + 1))
                tx.alerts.add_event(group_id, "unsilenced", now)
            tx.commit()
        sync_message(group_id, deps)


def _still_firing(group: AlertGroup, deps: Deps, unreachable: set[str]) -> bool | None:
    """Whether the group's Alertmanager still has any of its alerts (None: not an
    Alertmanager group, or it could not be asked: an address that failed once in this
    tick is not asked again in it)."""
    integration = deps.config.alerts.integrations.get(group.integration)
    if integration is None or integration.kind != "alertmanager" or deps.silences is None:
        return None
    url = integration.alertmanager_url or group.external_url
    if not url or url in unreachable:
        return None
    try:
        return deps.silences.firing(url, group.labels)
    except UserError as exc:
        unreachable.add(url)
        log.warning("alert group %s: Alertmanager not asked (%s); it fires again",
                    group.id, exc)
        return None


# --- from alert to incident ---------------------------------------------------------

def alert_to_declare(group_id: int, deps: Deps) -> tuple[AlertGroup, str]:
    """The group a "Declare incident" click is about, and the severity its labels
    suggest; refused when it already has an incident."""
    with deps.uow() as tx:
        group = tx.alerts.get(group_id)
    if group is None:
        raise UserError(f"There is no alert group {group_id}.")
    if group.attached:
        raise UserError(f"This alert is already incident #{group.incident_number}.")
    return group, incident_severity(group.severity, deps.config.severity_names)


def claim_alert_declaration(group_id: int, deps: Deps) -> str | None:
    """Before a declare form from an alert is submitted: None when this submission may
    declare (claimed once per state of the group, so two people submitting together
    make one incident), else why not, in one line for the form."""
    with deps.uow() as tx:
        group = tx.alerts.get(group_id)
        if group is None:
            return f"There is no alert group {group_id}."
        if group.attached and group.incident is not None:
            return f"This alert is already incident #{group.incident.number}."
        claimed = tx.notifications.claim(f"alert-declare:{group_id}:{group.version}",
                                         deps.now())
        tx.commit()
    return None if claimed else "Someone is declaring an incident from this alert right now."


def release_alert_declaration(group_id: int, deps: Deps) -> None:
    """The declaration failed: free the claim `claim_alert_declaration` took."""
    with deps.uow() as tx:
        group = tx.alerts.get(group_id)
        if group is not None:
            tx.notifications.release(f"alert-declare:{group_id}:{group.version}")
            tx.commit()


def link_alert(group_id: int, number: int, user: str, first_entry: str, deps: Deps) -> None:
    """Link a group to the incident declared from it: the group's message names the
    incident, and the incident's timeline starts with the alert (`first_entry`, at its
    first firing time, so it sorts before the declaration)."""
    now = deps.now()
    with deps.uow() as tx:
        group = tx.alerts.get(group_id, for_update=True)
        if group is None or group.attached:
            return
        tx.alerts.save(replace(group, incident_number=number, version=group.version + 1))
        tx.alerts.add_event(group_id, "declared", now, actor=user, detail={"incident": number})
        tx.timeline.add_note(number, min(group.first_firing_at, now), user, first_entry,
                             kind="alert")
        tx.commit()
    sync_message(group_id, deps)


def attach_choices(group_id: int, user: str, deps: Deps) -> tuple[AlertGroup, list[Incident]]:
    """"Attach to incident": the group and the open incidents `user` may see (a private
    one only for its channel's members), newest first; refused when there is none or
    the group is attached already."""
    with deps.uow() as tx:
        group = tx.alerts.get(group_id)
        incidents = tx.incidents.list(open_only=True)
    if group is None:
        raise UserError(f"There is no alert group {group_id}.")
    if group.attached:
        raise UserError(f"This alert is already attached to incident #{group.incident_number}.")
    shown = visible_to(sorted(incidents, key=lambda i: -i.number), user, deps.chat)
    if not shown:
        raise UserError("There is no open incident you can attach this alert to.")
    return group, shown[:MAX_CHOICES]


MAX_CHOICES = 100  # a static select's limit


def attach_alert(group_id: int, number: int, user: str, deps: Deps) -> AlertGroup:
    """Attach a group to an open incident by hand: its alerts go to the incident's
    timeline and channel from now on, and nobody is paged for it while the incident is
    open. The incident must be open and one `user` may see."""
    with deps.uow() as tx:
        incident = tx.incidents.get(number)
    if incident is None or not visible_to([incident], user, deps.chat):
        raise UserError(f"There is no incident #{number}.")
    if incident.is_resolved:
        raise UserError(f"Incident #{number} is resolved: alerts attach only to open ones.")
    now = deps.now()
    with deps.uow() as tx:
        group = tx.alerts.get(group_id, for_update=True)
        if group is None:
            raise UserError(f"There is no alert group {group_id}.")
        if group.attached:
            raise UserError(
                f"This alert is already attached to incident #{group.incident_number}.")
        group = replace(group, incident_number=number, version=group.version + 1)
        tx.alerts.save(group)
        tx.alerts.add_event(group_id, "attached", now, actor=user,
                            detail={"incident": number, "by": "hand"})
        _incident_line(tx, group, number, "attached", now, user)
        tx.commit()
    sync_message(group_id, deps)
    with deps.uow() as tx:
        attached = tx.alerts.get(group_id)
    assert attached is not None
    return attached
