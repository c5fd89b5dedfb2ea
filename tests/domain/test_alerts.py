"""Alert payload parsing, routing, severity mapping and escalation steps (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config import parse_config
from bot.domain.alerts import (
    Destination,
    Fired,
    Notify,
    PayloadError,
    Policy,
    Repeat,
    Route,
    Wait,
    alert_tags,
    heartbeat_missed,
    heartbeat_notification,
    incident_severity,
    next_step,
    parse_payload,
    ping_counts,
    plan,
    route,
)
from bot.errors import ConfigError

T0 = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_generic_payload_fields_and_limits() -> None:
    """The generic schema: required title, status and dedup key; links must be http(s)."""
    n = parse_payload("generic", {"title": "Disk", "status": "resolved", "dedup_key": "d1",
                                  "links": ["https://x.example/a"], "severity": "low"})
    assert (n.group_key, n.status, n.severity, n.links[0].url) == (
        "d1", "resolved", "low", "https://x.example/a")
    for bad in ({"status": "firing", "dedup_key": "d"}, {"title": "t", "dedup_key": "d"},
                {"title": "t", "status": "firing"},
                {"title": "t", "status": "firing", "dedup_key": "d",
                 "links": ["javascript:alert(1)"]},
                {"title": "t", "status": "firing", "dedup_key": "d", "labels": {"a": [1]}}):
        with pytest.raises(PayloadError):
            parse_payload("generic", bad)


def test_grafana_without_group_key_groups_by_fingerprint() -> None:
    """Grafana without a groupKey: the first alert's fingerprint is the group."""
    n = parse_payload("grafana", {"status": "firing", "title": "T", "alerts": [
        {"status": "firing", "labels": {}, "fingerprint": "abc"}]})
    assert n.group_key == "abc" and n.title == "T"


def test_routes_match_labels_in_order() -> None:
    """The first route whose matchers hold wins; `~` is a full regular expression."""
    default = Destination("platform", "#alerts", "default")
    routes = (Route({"team": "db"}, channel="#db"), Route({"env": "~prod-.*"}, schedule="prod"))
    assert route(routes, {"team": "db"}, default).channel == "#db"
    assert route(routes, {"env": "prod-eu"}, default) == Destination("prod", "#alerts", "default")
    assert route(routes, {"env": "xprod-eu"}, default) == default


def test_severity_mapping() -> None:
    """critical → most severe, warning → third, a team's own name kept, else the least."""
    names = ("SEV1", "SEV2", "SEV3", "SEV4")
    assert [incident_severity(x, names) for x in ("critical", "warning", "sev2", "odd", None)] \
        == ["SEV1", "SEV3", "SEV2", "SEV4", "SEV4"]


POLICY = Policy("default", (Notify(oncall=True), Wait(5 * MIN), Notify(users=("U02BOB",)),
                            Repeat(1)))


def test_repeat_unrolls_everything_before_it() -> None:
    """`repeat: 1` runs the steps before it once more: four notifies, waits between,
    and the block's last wait again before it starts over."""
    assert [(i, at - T0) for i, _, at in plan(POLICY, T0)] == [
        (0, timedelta(0)), (2, 5 * MIN), (3, 10 * MIN), (5, 15 * MIN)]


def test_next_step_waits_from_when_the_previous_step_fired() -> None:
    """Under a frozen clock: the first step is due at once, the second 5 minutes after
    the first actually fired (so after downtime it fires once, on return)."""
    assert next_step(POLICY, T0, {}, T0).index == 0  # type: ignore[union-attr]
    fired = {0: Fired(T0 + MIN, 1)}
    assert next_step(POLICY, T0, fired, T0 + 5 * MIN) is None
    due = next_step(POLICY, T0, fired, T0 + 6 * MIN)
    assert due is not None and due.index == 2 and due.due_at == T0 + 6 * MIN
    # down for an hour: on return only the next step is due, not every missed one
    late = next_step(POLICY, T0, fired, T0 + 60 * MIN)
    assert late is not None and late.index == 2
    # the repeat starts over after the block's last wait (5 minutes), then waits again
    again = {**fired, 2: Fired(T0 + 60 * MIN, 1)}
    assert next_step(POLICY, T0, again, T0 + 64 * MIN) is None
    assert next_step(POLICY, T0, again, T0 + 65 * MIN).index == 3  # type: ignore[union-attr]
    assert next_step(POLICY, T0, {**again, 3: Fired(T0 + 65 * MIN, 1)}, T0 + 66 * MIN) is None


def test_a_gap_escalates_straight_on() -> None:
    """A step that reached nobody (a gap in the schedule) skips the wait after it; the
    next round still waits, so the person after the gap is not paged twice at once."""
    due = next_step(POLICY, T0, {0: Fired(T0, 0)}, T0)
    assert due is not None and due.index == 2 and due.after_gap
    paged = {0: Fired(T0, 0), 2: Fired(T0, 1)}
    assert next_step(POLICY, T0, paged, T0 + 4 * MIN) is None
    again = next_step(POLICY, T0, paged, T0 + 5 * MIN)
    assert again is not None and again.index == 3
    after = next_step(POLICY, T0, {**paged, 3: Fired(T0 + 5 * MIN, 0)}, T0 + 5 * MIN)
    assert after is not None and after.index == 5 and after.after_gap


def test_alerts_config_is_checked_with_the_key_named() -> None:
    """The README's example parses; mistakes name their key."""
    config = parse_config({"alerts": {
        "integrations": {"prod-alertmanager": {
            "kind": "alertmanager", "token_env": "ALERTS_TOKEN", "schedule": "platform",
            "channel": "#alerts", "escalation": "default",
            "alertmanager_url": "http://alertmanager:9093"}},
        "escalations": {"default": [{"notify": "oncall"}, {"wait": "5m"},
                                    {"notify": {"users": ["U02BOB"]}}, {"repeat": 2}]}}})
    integration = config.alerts.integrations["prod-alertmanager"]
    assert integration.escalation == "default" and integration.kind == "alertmanager"
    assert len(config.alerts.escalations["default"].expanded()) == 9
    for raw, key in (({"x": {"kind": "nagios", "token_env": "T", "channel": "#a"}}, "kind"),
                     ({"x": {"kind": "generic", "channel": "#a"}}, "token_env"),
                     ({"x": {"kind": "generic", "token_env": "T", "channel": "#a",
                             "escalation": "nope"}}, "escalation"),
                     ({"Bad Name": {"kind": "generic", "token_env": "T", "channel": "#a"}},
                      "Bad Name")):
        with pytest.raises(ConfigError, match=key):
            parse_config({"alerts": {"integrations": raw}})
    with pytest.raises(ConfigError, match=r"escalations\.burst\[2\]\.repeat needs a wait"):
        parse_config({"alerts": {"escalations": {"burst": [
            {"notify": "oncall"}, {"notify": {"users": ["U02BOB"]}}, {"repeat": 2}]}}})


@pytest.mark.parametrize("labels, tags", [
    ({"service": "payments", "team": "SRE"}, ("service:payments", "team-sre")),
    ({"service": "Payments API", "alertname": "X"}, ("service:payments-api",)),
    ({"team": "___", "service": "x" * 40}, ("service:" + "x" * 30,)),
    ({"instance": "db1:9100"}, ()),
])
def test_alert_labels_suggest_tags(labels: dict[str, str], tags: tuple[str, ...]) -> None:
    """`service` and `team` labels become valid tags; what cannot be one is dropped."""
    assert alert_tags(labels) == tags


def test_attach_match_same_integration_and_a_shared_grouping_label() -> None:
    """A new group joins the open incident that has a group of the same integration
    sharing its alertname or service (the most recently declared of several)."""
    from bot.domain.alerts import Attached, attach_match

    t0 = datetime(2026, 12, 1, 12, tzinfo=UTC)
    open_groups = [
        Attached(1, "am", {"alertname": "HighLatency", "service": "checkout"}, t0),
        Attached(2, "am", {"alertname": "DiskFull", "service": "search"},
                 t0 + timedelta(hours=1)),
        Attached(3, "grafana", {"alertname": "Errors", "service": "billing"}, t0),
    ]
    assert attach_match("am", {"alertname": "HighLatency", "zone": "b"}, open_groups) == 1
    assert attach_match("am", {"alertname": "Other", "service": "search"}, open_groups) == 2
    assert attach_match("am", {"alertname": "HighLatency", "service": "search"},
                        open_groups) == 2  # both match: the later declared
    assert attach_match("am", {"alertname": "Errors"}, open_groups) is None  # other source
    assert attach_match("am", {"alertname": "", "service": ""}, open_groups) is None
    assert attach_match("am", {"team": "db"}, open_groups, by=("team",)) is None


def test_incident_change_records_only_what_changed() -> None:
    from dataclasses import replace

    from bot.domain.alerts import AlertGroup, incident_change

    t0 = datetime(2026, 12, 1, 12, tzinfo=UTC)
    firing = AlertGroup(id=1, integration="am", group_key="k", title="T", severity=None,
                        status="firing", labels={}, links=(), channel="#a", schedule=None,
                        escalation=None, first_firing_at=t0, last_firing_at=t0,
                        last_received_at=t0, alerts_firing=2)
    assert incident_change(firing, firing) is None  # a repeat
    assert incident_change(firing, replace(firing, alerts_firing=3)) == "more"
    assert incident_change(firing, replace(firing, alerts_firing=1)) is None
    resolved = replace(firing, status="resolved")
    assert incident_change(firing, resolved) == "resolved"
    assert incident_change(resolved, firing) == "refired"
    assert incident_change(resolved, resolved) is None


def test_heartbeat_missed_counts_from_the_last_ping_or_from_arming() -> None:
    """Missed once the window has passed since the last ping; never pinged: since it
    was armed; a process judges nothing until it has been up for one window."""
    window = 10 * MIN
    assert heartbeat_missed(T0, T0 - MIN, window, T0 + 10 * MIN) is None
    assert heartbeat_missed(T0, T0 - MIN, window, T0 + 11 * MIN) == T0
    assert heartbeat_missed(None, T0, window, T0 + 9 * MIN) is None
    assert heartbeat_missed(None, T0, window, T0 + 11 * MIN) == T0
    # down for an hour: pings went nowhere, so not judged until up for a window
    assert heartbeat_missed(T0, T0, window, T0 + 65 * MIN, up_since=T0 + 60 * MIN) is None
    assert heartbeat_missed(T0, T0, window, T0 + 71 * MIN, up_since=T0 + 60 * MIN) == T0


def test_heartbeat_notification_is_one_group_per_outage() -> None:
    """The raised group is keyed by when pings stopped, fires from when the window ran
    out, and says whose heartbeat is missing."""
    n = heartbeat_notification("watchdog", T0, 10 * MIN, never_pinged=False)
    assert n.group_key == "heartbeat:2026-12-01T14:00:00+00:00"
    assert n.starts_at == T0 + 10 * MIN and n.status == "firing"
    assert n.title == ("Your monitoring is down: no heartbeat from watchdog since "
                       "2026-12-01 14:00 UTC")
    assert "every 10 min" in n.description
    assert "yet" in heartbeat_notification("w", T0, 30 * timedelta(seconds=1), True).title
    with pytest.raises(PayloadError, match="heartbeat"):
        parse_payload("heartbeat", {})


def test_a_ping_counts_unless_it_reports_a_resolved_alert() -> None:
    """Any body is a ping except a notification whose status is resolved."""
    assert ping_counts(None) and ping_counts("text") and ping_counts({"status": "firing"})
    assert not ping_counts({"status": "resolved"})


def test_heartbeat_config() -> None:
    """`kind: heartbeat` takes a window (default 10m); window is for heartbeats only,
    must be above zero, and heartbeats take no routes."""
    config = parse_config({"alerts": {"integrations": {
        "w": {"kind": "heartbeat", "token_env": "T", "channel": "#a", "window": "5m"},
        "d": {"kind": "heartbeat", "token_env": "T", "channel": "#a"}}}})
    assert config.alerts.integrations["w"].heartbeat_window == 5 * MIN
    assert config.alerts.integrations["d"].heartbeat_window == 10 * MIN
    for spec, key in (({"kind": "generic", "window": "5m"}, "window"),
                      ({"kind": "heartbeat", "window": "0s"}, "window"),
                      ({"kind": "heartbeat", "window": "soon"}, "window"),
                      ({"kind": "heartbeat", "routes": [{"match": {"a": "b"}}]}, "routes")):
        with pytest.raises(ConfigError, match=key):
            parse_config({"alerts": {"integrations": {"x": {
                "token_env": "T", "channel": "#a", **spec}}}})


@pytest.mark.parametrize("title, clean", [
    ("[FIRING:2] CPUHigh (prod web)", "CPUHigh (prod web)"),
    ("[FIRING:1, RESOLVED:1] HighCPU (web)", "HighCPU (web)"),
    ("[RESOLVED] [FIRING:1] X", "X"),
    ("[Note] keep this", "[Note] keep this"),
])
def test_grafana_titles_lose_their_state_prefix(title: str, clean: str) -> None:
    """Grafana's default title starts with the state counts; the message shows the state
    itself, so the title is what follows."""
    from bot.domain.alerts import parse_payload

    payload = {"status": "firing", "title": title, "groupKey": "k",
               "alerts": [{"status": "firing", "labels": {"alertname": "A"}}]}
    assert parse_payload("grafana", payload).title == clean
