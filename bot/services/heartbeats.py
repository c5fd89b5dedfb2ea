"""Heartbeats, the dead man's switch: a monitoring system pings
`POST /alerts/<integration>/heartbeat` every few minutes; when pings stop for longer
than the integration's window, Debrief raises an alert group of its own through the
integration's channel and escalation ("your monitoring is down"), and resolves it when
pings resume.

A ping updates one row in place (no history grows). The scheduler's tick judges every
heartbeat (`check_heartbeats`); raising an outage claims it in `notifications` in the
same transaction that stores its group, so across replicas and restarts each outage is
raised exactly once (a replica that dies before committing leaves it to the next tick).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from bot.config import AlertIntegration
from bot.domain.alerts import heartbeat_missed, heartbeat_notification
from bot.services.alerts import store_delivery, sync_message
from bot.services.ports import Deps, UnitOfWork

log = logging.getLogger(__name__)


def outage_key(integration: str, since: datetime) -> str:
    """The exactly-once claim of one outage: pings missing from `integration` since `since`."""
    return f"heartbeat-missed:{integration}:{since.isoformat()}"


def ping_heartbeat(integration: AlertIntegration, deps: Deps, now: datetime) -> int | None:
    """Record a ping (one UPDATE of the heartbeat's row). If an outage was open, its
    group is resolved in the same transaction; its id is returned so the caller brings
    the Slack message up to date."""
    with deps.uow() as tx:
        open_group = tx.heartbeats.ping(integration.name, now)
        if open_group is not None:
            _end_outage(tx, integration.name, open_group, now)
        tx.commit()
    return open_group


def _end_outage(tx: UnitOfWork, name: str, group_id: int, now: datetime) -> None:
    group = tx.alerts.get(group_id, for_update=True)
    if group is not None and group.status != "resolved":
        tx.alerts.save(replace(group, status="resolved", resolved_at=now, alerts_firing=0,
                               alerts_resolved=1, last_received_at=now,
                               notifications=group.notifications + 1,
                               version=group.version + 1))
        tx.alerts.add_event(group_id, "received", now, detail={
            "status": "resolved", "firing": 0, "resolved": 1, "heartbeat": "resumed"})
    tx.heartbeats.set_outage(name, None, None)


def check_heartbeats(deps: Deps, now: datetime | None = None,
                     up_since: datetime | None = None) -> list[str]:
    """Judge every heartbeat integration (each scheduler tick, every replica): raise an
    outage whose pings are missing for longer than its window, resolve one whose pings
    came back (should the ping itself not have done it). `up_since`: when this process
    started (see `heartbeat_missed`). Returns the outages raised by this call."""
    now = now or deps.now()
    beats = {name: integration for name, integration in
             deps.config.alerts.integrations.items() if integration.kind == "heartbeat"}
    if not beats:
        return []
    with deps.uow() as tx:
        tx.heartbeats.arm(beats, now)  # a heartbeat's clock starts when first configured
        rows = tx.heartbeats.all(beats)
        tx.commit()
    raised: list[str] = []
    for beat in rows:
        integration = beats[beat.integration]
        if beat.open_group_id is not None:
            if beat.last_ping_at and beat.missed_since and beat.last_ping_at > beat.missed_since:
                _resolve_resumed(integration, deps, now)
            continue
        since = heartbeat_missed(beat.last_ping_at, beat.armed_at,
                                 integration.heartbeat_window, now, up_since)
        if since is None:
            continue
        key = outage_key(integration.name, since)
        with deps.uow() as tx:
            current = tx.heartbeats.get(integration.name, for_update=True)
            if current is None or current.open_group_id is not None or since != heartbeat_missed(
                    current.last_ping_at, current.armed_at, integration.heartbeat_window, now,
                    up_since):
                continue  # pinged or raised meanwhile
            if not tx.notifications.claim(key, now):
                continue  # raised before (and answered by hand since): once per outage
            received = store_delivery(tx, integration, heartbeat_notification(
                integration.name, since, integration.heartbeat_window,
                never_pinged=current.last_ping_at is None), now)
            tx.heartbeats.set_outage(integration.name, received.group_id, since)
            tx.notifications.mark_sent(key, now)
            tx.commit()
        log.warning("heartbeat %s: no ping since %s; alert group %s raised",
                    integration.name, since.isoformat(), received.group_id)
        raised.append(key)
        sync_message(received.group_id, deps)
    return raised


def _resolve_resumed(integration: AlertIntegration, deps: Deps, now: datetime) -> None:
    with deps.uow() as tx:
        beat = tx.heartbeats.get(integration.name, for_update=True)
        if beat is None or beat.open_group_id is None or beat.last_ping_at is None or \
                beat.missed_since is None or beat.last_ping_at <= beat.missed_since:
            return
        group_id = beat.open_group_id
        _end_outage(tx, integration.name, group_id, now)
        tx.commit()
    sync_message(group_id, deps)
