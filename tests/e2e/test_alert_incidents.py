"""Alerts attached to incidents (issue 15), end to end: webhooks over real HTTP, Slack
clicks and form submissions signed into the real endpoint, the stand-in answering.

An alert group linked to an open incident (declared from it, matched by label, or
attached by hand) goes to the incident's timeline and channel and pages nobody; once
the incident is resolved it pages again. A private incident's title never reaches the
alert channel, and only its members can choose it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.services.alerts import escalate_due, sync_pending
from bot.services.timeline import timeline_of
from bot.slack.ids import Action, Block, Field
from tests.conftest import Stack
from tests.e2e.test_alerts import (
    ESCALATING,
    alertmanager_payload,
    messages,
    post,
    running_alert_stack,
    synced,
)
from tests.helpers import ALICE, BOB, all_text, slash

CONFIG = ESCALATING.replace("""      alertmanager_url: http://127.0.0.1:9/
""", """      alertmanager_url: http://127.0.0.1:9/
      escalation: default
""")


@pytest.fixture
def stack(engine: Engine, tmp_path: Path) -> Iterator[Stack]:
    yield from running_alert_stack(engine, tmp_path, CONFIG)


def alerts_channel(stack: Stack) -> str:
    return next(c.id for c in stack.slack.channels.values() if c.name == "alerts")


def message_of(stack: Stack, group_id: int) -> Any:
    """The group's message (once its ts is stored: the post lands before that)."""
    ts = stack.slack.wait_for(lambda: group(stack, group_id).message_ts)
    return stack.slack.channels[alerts_channel(stack)].messages[ts]


def group(stack: Stack, group_id: int) -> Any:
    with stack.runtime.deps.uow() as tx:
        return tx.alerts.get(group_id)


def settle(stack: Stack) -> None:
    """Every stored change shown in Slack (the worker, else the scheduler's sweep: run
    here every 2 s for up to 20 s, as the sweep runs each tick, so a sync the worker
    lost to a race or a failed post is retried rather than waited on)."""
    for attempt in range(10):
        sync_pending(stack.runtime.deps)  # outside wait_for: it posts to the stand-in
        try:
            stack.slack.wait_for(lambda: synced(stack), timeout=2)
            return
        except TimeoutError:
            if attempt == 9:
                raise


def declare_from_alert(stack: Stack, group_id: int, user: str = ALICE) -> None:
    message = message_of(stack, group_id)
    click = stack.client.click(Action.ALERT_DECLARE, user=user, channel=alerts_channel(stack),
                               message_ts=message.ts, value=str(group_id))
    assert click.status == 200
    view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
    title = next(b for b in view["blocks"] if b["block_id"] == Block.TITLE.value)
    values = {Block.TITLE: {Field.TITLE: {"type": "plain_text_input",
                                          "value": title["element"]["initial_value"]}},
              Block.SEVERITY: {Field.SEVERITY: {"type": "static_select",
                                                "selected_option": {"value": "SEV1"}}}}
    assert stack.client.submit(view, values, user=user).status == 200
    stack.slack.wait_for(lambda: group(stack, group_id).attached or None)


LINES = ("More alerts firing", "Alert resolved", "Alert firing again", "Alert attached")


def texts(stack: Stack, number: int = 1) -> list[str]:
    return [i.text for i in timeline_of(number, stack.runtime.deps.uow)[1]]


def channel_lines(stack: Stack, number: int = 1) -> list[str]:
    incident = stack.incident(number)
    with stack.slack.lock:
        return [m.text for m in stack.slack.channels[incident.channel_id].messages.values()]


def alert_lines(stack: Stack, number: int = 1) -> list[str]:
    return [t for t in channel_lines(stack, number) if any(w in t for w in LINES)]


def claimed(deps: Any, key: str) -> bool:
    """Whether an escalation step's claim is taken (by the alert worker, which pages a
    step due at once right after the message, or by a tick). Probed by trying to claim
    it in a transaction that is rolled back."""
    with deps.uow() as tx:
        return not tx.notifications.claim(key, deps.now())


def test_a_linked_alert_goes_to_the_incident_and_pages_nobody_until_it_resolves(
        stack: Stack) -> None:
    """Declared from an alert: more alerts firing, resolving and firing again are on the
    incident's timeline and in its channel (once each), nobody is paged, and the alert
    message says escalation is stopped. Once the incident is resolved, the alert firing
    again pages on-call as usual."""
    deps = stack.runtime.deps
    assert post(stack, "/alerts/prod-alertmanager", alertmanager_payload())[0] == 202
    stack.slack.wait_for(lambda: messages(stack) or None)
    start = deps.now()
    escalate_due(deps, start)  # Alice paged before anyone acts (by the worker or this tick)
    stack.slack.wait_for(lambda: claimed(deps, "alert-step:1:0"))
    declare_from_alert(stack, 1)
    settle(stack)
    shown = json.dumps(message_of(stack, 1).blocks)
    assert "Attached to Incident #1" in shown and "Escalation is stopped" in shown
    assert Action.ALERT_DECLARE.value not in shown and Action.ALERT_ATTACH.value not in shown

    assert post(stack, "/alerts/prod-alertmanager", alertmanager_payload(n=3))[0] == 202
    assert post(stack, "/alerts/prod-alertmanager", alertmanager_payload(n=3))[0] == 202  # a repeat
    assert post(stack, "/alerts/prod-alertmanager", alertmanager_payload("resolved"))[0] == 202
    assert post(stack, "/alerts/prod-alertmanager", alertmanager_payload())[0] == 202
    settle(stack)
    assert escalate_due(deps, start + timedelta(hours=2)) == []  # attached: nobody paged
    assert not stack.slack.channels.get("D02BOB")
    timeline = texts(stack)
    assert [t.split(":")[0] for t in timeline if t.startswith(LINES)] == [
        "More alerts firing", "Alert resolved", "Alert firing again"], timeline
    lines = stack.slack.wait_for(lambda: (found := alert_lines(stack)) and
                                 len(found) >= 3 and found or None)
    assert [next(w for w in LINES if w in t) for t in lines] == [
        "More alerts firing", "Alert resolved", "Alert firing again"]
    assert all("&lt;!channel&gt;" in t or "<!channel>" not in t for t in lines)
    items = timeline_of(1, deps.uow)[1]
    assert all(i.key for i in items if i.kind == "alert")

    incident = stack.incident()
    slash(stack, "resolve fixed the pool", channel=incident.channel_id)
    settle(stack)
    shown = json.dumps(message_of(stack, 1).blocks)
    assert "(resolved)" in shown and "Escalation is stopped" not in shown
    # Still firing and unanswered after the incident: it escalates again, this round.
    escalate_due(deps, start + timedelta(hours=3))
    stack.slack.wait_for(lambda: claimed(deps, "alert-step:1:r1:0"))
    post(stack, "/alerts/prod-alertmanager", alertmanager_payload("resolved"))
    post(stack, "/alerts/prod-alertmanager", alertmanager_payload())  # a later firing
    settle(stack)
    escalate_due(deps, deps.now())
    stack.slack.wait_for(lambda: claimed(deps, "alert-step:1:r2:0"))  # pages normally
    assert len(texts(stack)) == len(timeline)  + 1  # the resolve; no later alert entries
    report = group(stack, 1)
    assert report.incident_number == 1 and not report.attached


def test_new_groups_matching_an_open_incident_are_attached_by_label(stack: Stack) -> None:
    """A new group of the same integration sharing `alertname` (or `service`) with a
    group of an open incident joins it; one sharing neither, or from another
    integration, pages as usual; after the incident resolves, matching groups page."""
    deps = stack.runtime.deps
    post(stack, "/alerts/prod-alertmanager", alertmanager_payload(labels={"service": "checkout"}))
    stack.slack.wait_for(lambda: messages(stack) or None)
    declare_from_alert(stack, 1)
    post(stack, "/alerts/prod-alertmanager", alertmanager_payload(
        key='{}:{alertname="HighLatency",zone="b"}', labels={"zone": "b"}))
    other = alertmanager_payload(key='{}:{alertname="DiskFull"}',
                                 labels={"alertname": "DiskFull", "service": "search"})
    post(stack, "/alerts/prod-alertmanager", other)
    post(stack, "/alerts/paging", {"title": "HighLatency", "status": "firing",
                                   "dedup_key": "x", "labels": {"alertname": "HighLatency"}})
    settle(stack)
    assert [group(stack, i).incident_number for i in (2, 3, 4)] == [1, None, None]
    assert "Alert attached: HighLatency" in " ".join(texts(stack))
    assert "Attached to Incident #1" in json.dumps(message_of(stack, 2).blocks)
    escalate_due(deps, deps.now())
    stack.slack.wait_for(lambda: claimed(deps, "alert-step:3:0") and claimed(deps, "alert-step:4:0"))
    assert not claimed(deps, "alert-step:2:0")
    with deps.uow() as tx:
        events = tx.alerts.events(2)
    assert [d for _, k, _, d in events if k == "attached"] == [{"incident": 1, "by": "labels"}]

    slash(stack, "resolve", channel=stack.incident().channel_id)
    post(stack, "/alerts/prod-alertmanager", alertmanager_payload(
        key='{}:{alertname="HighLatency",zone="c"}', labels={"zone": "c"}))
    settle(stack)
    assert group(stack, 5).incident_number is None


def test_attach_by_hand_offers_only_incidents_the_clicker_may_see(stack: Stack) -> None:
    """"Attach to incident" opens a select of the open incidents the clicker may see: a
    private one only for its members. Attached to a private incident, the alert message
    names it by number only; a forged choice of a private incident by a non-member is
    refused and changes nothing."""
    public = slash(stack, "declare sev2 Checkout errors", user=ALICE)
    assert "#1" in public
    private = slash(stack, "declare --private sev2 Secret payroll leak", user=ALICE)
    assert "#2" in private
    post(stack, "/alerts/prod-alertmanager", alertmanager_payload(
        labels={"alertname": "PayrollExport"}, key="payroll"))
    stack.slack.wait_for(lambda: messages(stack) or None)
    message = message_of(stack, 1)
    assert Action.ALERT_ATTACH.value in json.dumps(message.blocks)
    channel = alerts_channel(stack)

    def choices(user: str) -> tuple[dict[str, Any], list[str]]:
        before = len(stack.slack.views)
        click = stack.client.click(Action.ALERT_ATTACH, user=user, channel=channel,
                                   message_ts=message.ts, value="1")
        assert click.status == 200
        view = stack.slack.wait_for(lambda: stack.slack.views[-1]
                                    if len(stack.slack.views) > before else None)
        select = view["blocks"][1]["element"]
        return view, [o["text"]["text"] for o in select["options"]]

    bob_view, bob_sees = choices(BOB)
    assert bob_sees == ["#1 Checkout errors"]
    alice_view, alice_sees = choices(ALICE)
    assert alice_sees == ["#2 Secret payroll leak", "#1 Checkout errors"]

    forged = {Block.ATTACH_INCIDENT: {Field.ATTACH_INCIDENT: {
        "type": "static_select", "selected_option": {"value": "2"}}}}
    assert stack.client.submit(bob_view, forged, user=BOB).status == 200
    stack.slack.wait_for(lambda: "There is no incident #2" in all_text(stack) or None)
    assert group(stack, 1).incident_number is None

    assert stack.client.submit(alice_view, forged, user=ALICE).status == 200
    stack.slack.wait_for(lambda: group(stack, 1).attached or None)
    settle(stack)
    shown = json.dumps(message_of(stack, 1).blocks) + message_of(stack, 1).text
    assert "Attached to Incident #2." in shown and "Secret" not in shown
    to_alerts = [c.args for c in stack.slack.calls if c.args.get("channel") == channel]
    assert to_alerts and "Secret" not in json.dumps(to_alerts)
    assert any("Alert attached" in t for t in texts(stack, 2))
    stack.slack.wait_for(lambda: any("Alert attached" in t for t in channel_lines(stack, 2))
                         or None)
    assert not any("Alert attached" in t for t in channel_lines(stack, 1))
    again = stack.client.click(Action.ALERT_ATTACH, user=ALICE, channel=channel,
                               message_ts=message.ts, value="1")
    assert "already attached to incident #2" in stack.client.reply_to(again)["text"]


def test_cli_shows_the_linked_incident_and_the_incidents_alerts(
        stack: Stack, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli import main

    post(stack, "/alerts/prod-alertmanager", alertmanager_payload())
    stack.slack.wait_for(lambda: messages(stack) or None)
    declare_from_alert(stack, 1)
    monkeypatch.setenv("DATABASE_URL", stack.runtime.engine.url.render_as_string(
        hide_password=False))
    assert main(["alerts", "show", "1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["incident"] == 1 and shown["attached"] is True
    assert main(["incident", "show", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(a["id"], a["attached"]) for a in report["alerts"]] == [(1, True)]
    assert main(["incident", "show", "1"]) == 0
    assert "attached" in capsys.readouterr().out


def test_stats_time_to_acknowledge_per_schedule_and_person(
        stack: Stack, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`/incident stats` and `debrief stats --json` give median and p90 time from an
    alert's first page (unpaged: its firing) to its acknowledgement, per schedule and
    per person, over the window only (an acknowledgement older than it is not counted)."""
    from freezegun import freeze_time

    from bot.cli import main

    channel = alerts_channel(stack)

    def fire_and_ack(key: str, user: str, minutes: int, integration: str = "paging") -> None:
        before = stack.runtime.deps.now()
        post(stack, f"/alerts/{integration}", {"title": f"Alert {key}", "status": "firing",
                                                "dedup_key": key})
        settle(stack)
        with stack.runtime.deps.uow() as tx:
            found = next(g for g in tx.alerts.groups() if g.group_key == key)
        frozen.move_to(before + timedelta(minutes=minutes))
        click = stack.client.click(Action.ALERT_ACK, user=user, channel=channel,
                                   message_ts=message_of(stack, found.id).ts,
                                   value=str(found.id))
        assert "escalation stops" in stack.client.reply_to(click)["text"]

    with freeze_time("2026-10-01 09:00:00", tick=True) as frozen:
        fire_and_ack("old", BOB, 60)  # two months before: outside the 30-day window
        frozen.move_to("2026-12-01 09:00:00")
        fire_and_ack("a", ALICE, 2)
        frozen.move_to("2026-12-01 10:00:00")
        fire_and_ack("b", ALICE, 4)
        frozen.move_to("2026-12-01 11:00:00")
        fire_and_ack("c", BOB, 10)
        frozen.move_to("2026-12-01 14:05:00")  # the Alertmanager group fired at 14:00
        post(stack, "/alerts/prod-alertmanager", alertmanager_payload())
        settle(stack)
        stack.slack.wait_for(lambda: group(stack, 5).steps, timeout=10)  # paged at 14:05
        frozen.move_to("2026-12-01 14:07:00")  # acknowledged 2 minutes after the page
        click = stack.client.click(Action.ALERT_ACK, user=BOB, channel=channel,
                                   message_ts=message_of(stack, 5).ts, value="5")
        stack.client.reply_to(click)
        reply = stack.client.reply_to(stack.client.slash("stats", user=ALICE))
        monkeypatch.setenv("DATABASE_URL", stack.runtime.engine.url.render_as_string(
            hide_password=False))
        assert main(["stats", "--json"]) == 0
        data = json.loads(capsys.readouterr().out)["alert_seconds_to_acknowledge"]
        assert main(["stats", "--period", "all", "--json"]) == 0
        every = json.loads(capsys.readouterr().out)["alert_seconds_to_acknowledge"]
        assert main(["stats"]) == 0
        printed = capsys.readouterr().out
    by_schedule, by_person = data["by_schedule"], data["by_person"]
    assert set(by_schedule) == {"(no schedule)", "platform"}
    assert by_schedule["(no schedule)"]["count"] == 3
    assert abs(by_schedule["(no schedule)"]["median"] - 240) < 5
    assert abs(by_schedule["(no schedule)"]["p90"] - 600) < 5
    assert abs(by_schedule["platform"]["median"] - 120) < 5  # from the page, not startsAt
    assert by_person["U01ALICE"]["count"] == 2 and abs(by_person["U01ALICE"]["median"] - 180) < 5
    assert by_person["U02BOB"]["count"] == 2
    assert every["by_person"]["U02BOB"]["count"] == 3  # `all` reaches the old one
    shown = json.dumps(reply["blocks"])
    assert "time to acknowledge" in shown and "<@U01ALICE>: median 3m" in shown
    assert "platform: median 2m" in shown
    assert "Alert time to acknowledge, by person:" in printed and "U02BOB" in printed
