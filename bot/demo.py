"""`debrief demo`: a complete scripted incident, with no Slack workspace.

It runs the real Bolt app over real HTTP (waitress) and the real Web API client
against the local Slack stand-in, on a SQLite database in a temporary folder, and
prints what people did, what the bot did in Slack, and what it stored.
"""

from __future__ import annotations

import json
import re
import secrets
import tempfile
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.config import (
    OncallConfig,
    PostmortemConfig,
    ReportsConfig,
    Settings,
    WeeklyReportConfig,
    parse_config,
)
from bot.domain.blameless import lint_text
from bot.domain.incidents import as_dict
from bot.domain.timeline import build_timeline, durations, format_duration, timeline_as_dicts
from bot.runtime import build_runtime
from bot.services.alerts import alert_report
from bot.services.oncall import apply_schedules, load_schedule_file, who_is_on_call
from bot.services.reminders import send_due
from bot.slack.home import home_as_text
from bot.slack.ids import Action
from bot.standin.client import Reply, SlackClient
from bot.standin.server import FakeSlack
from bot.standin.state import Call

PEOPLE = {"U01ALICE": "alice", "U02BOB": "bob", "U03CAROL": "carol"}
ONCALL_YAML = """\
schedules:
  platform:
    channel: "#platform-oncall"
    usergroup: platform-oncall
    layers:
      - name: primary
        time_zone: UTC
        rotation:
          unit: hours
          interval: 12
          first_handoff: 2025-01-06T03:00
          members: [U02BOB, carol@example.com]
"""


ALERTS_CONFIG = {"alerts": {
    "integrations": {"prod-alertmanager": {
        "kind": "alertmanager", "token_env": "ALERTS_TOKEN", "schedule": "platform",
        "channel": "#alerts", "escalation": "default"}},
    "escalations": {"default": [{"notify": "oncall"}, {"wait": "5m"},
                                {"notify": {"users": ["U01ALICE"]}}]}}}


class SimulatedClock:
    """The demo's story runs on its own clock (today from 14:05 UTC), so durations and
    the timeline read like a real incident instead of a few milliseconds."""

    def __init__(self) -> None:
        today = datetime.now(UTC).date()
        self.now = datetime(today.year, today.month, today.day, 14, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def timestamp(self) -> float:
        return self.now.timestamp()

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


class Demo:
    def __init__(self, slack: FakeSlack, client: SlackClient, quiet: bool,
                 clock: SimulatedClock) -> None:
        self.slack, self.client, self.quiet, self.clock = slack, client, quiet, clock
        self.seen = 0

    def say(self, text: str = "") -> None:
        if not self.quiet:
            print(text)

    def step(self, who: str, what: str, reply: Reply) -> dict[str, Any]:
        self.say(f"\n▶ {self.clock.now:%H:%M} {PEOPLE[who]}: {what}")
        self.say(f"  HTTP {reply.status}, acked in {reply.elapsed_ms:.0f} ms")
        acked = reply.text if reply.status == 200 else ""
        answer = {"text": acked} if acked else self.client.reply_to(reply)
        lines = [line for line in str(answer.get("text") or "").splitlines() if line.strip()]
        if lines:
            self.say(f"  ↳ (only {PEOPLE[who]} sees) {lines[0]}")
            for line in lines[1:]:
                self.say(f"      {line}")
        self.flush()
        return answer

    def flush(self) -> None:
        for call in self.slack.calls[self.seen:]:
            line = narrate(self.slack, call)
            if line:
                self.say(f"  • bot {line}")
        self.seen = len(self.slack.calls)


def narrate(slack: FakeSlack, call: Call) -> str | None:
    """What the bot did in Slack with one Web API call, in a sentence for the demo's
    reader (None for calls not worth telling, such as lookups)."""
    a = call.args
    name = lambda ref: "#" + slack.name_of(ref)  # noqa: E731
    if call.error:
        return f"{call.method} -> error {call.error}"
    match call.method:
        case "conversations.create":
            return f"created channel #{a['name']}"
        case "conversations.invite":
            return f"invited {a['users']} to {name(a['channel'])}"
        case "conversations.setTopic":
            return f"set topic of {name(a['channel'])}: {a['topic']}"
        case "chat.postMessage":
            where = name(a["channel"]) + (" (thread)" if a.get("thread_ts") else "")
            if str(a["channel"]) in slack.users:
                where = f"a DM to {slack.users[str(a['channel'])]['name']}"
            return f"posted in {where}: {str(a.get('text', '')).splitlines()[0][:160]}"
        case "chat.update":
            what = {"incidents": "announcement", "alerts": "alert's message"}.get(
                slack.name_of(a["channel"]), "summary card")
            return (f"updated the {what} in {name(a['channel'])}: "
                    f"{str(a.get('text', '')).splitlines()[0]}")
        case "pins.add":
            return f"pinned the summary card in {name(a['channel'])}"
        case "conversations.archive":
            return f"archived {name(a['channel'])}"
        case "views.open":
            view = json.loads(a["view"]) if isinstance(a.get("view"), str) else a.get("view")
            if isinstance(view, dict) and view.get("callback_id") == "postmortem-write":
                headings = ", ".join(b["label"]["text"] for b in view.get("blocks", []))
                return f"opened the postmortem form ({headings})"
            if isinstance(view, dict) and view.get("callback_id") == "factor-add":
                fields = ", ".join(b["label"]["text"] for b in view.get("blocks", []))
                return f"opened the contributing factor form ({fields})"
            return "opened the declare form"
        case "views.publish":
            who = slack.users.get(str(a.get("user_id")), {}).get("name", a.get("user_id"))
            return f"published {who}'s Home tab"
        case "usergroups.users.update":
            handle = slack.usergroups.get(str(a["usergroup"]), {}).get("handle")
            return f"set @{handle} to {a['users']}"
        case "files.info":
            found = slack.files.get(str(a.get("file")), {})
            return f"read {found.get('name', 'a file')} (files.info, then its url_private)"
        case "files.completeUploadExternal":
            names = ", ".join(slack.files[f["id"]]["name"] for f in json.loads(a["files"])
                              ) if isinstance(a.get("files"), str) else "a file"
            return f"uploaded {names} to {name(a.get('channel_id'))}"
    return None


def run_demo(quiet: bool = False) -> int:
    clock = SimulatedClock()
    slack = FakeSlack(clock=clock.timestamp).start()
    for user_id, name in PEOPLE.items():
        slack.add_user(user_id, name, tz="Europe/Berlin" if name == "bob" else "UTC")
    general = slack.add_channel("general", members=tuple(PEOPLE))
    slack.add_channel("incidents")
    slack.add_channel("platform-oncall")
    slack.add_channel("postmortems")
    slack.add_channel("alerts", members=tuple(PEOPLE))
    slack.add_usergroup("platform-oncall")
    with tempfile.TemporaryDirectory(prefix="debrief-demo-") as folder:
        db_url = f"sqlite:///{Path(folder) / 'debrief.db'}"
        secret = secrets.token_hex(16)
        settings = Settings(bot_token=slack.token, signing_secret=secret,
                            api_url=slack.api_url, database_url=db_url,
                            alert_secrets={"ALERTS_TOKEN": ALERTS_TOKEN})
        schedules = Path(folder) / "oncall.yaml"
        schedules.write_text(ONCALL_YAML)
        config = replace(parse_config(ALERTS_CONFIG),
                         oncall=OncallConfig(file=schedules, invite_on_declare=("platform",)),
                         postmortem=PostmortemConfig(publish_channel="#postmortems"))
        runtime = build_runtime(settings, config, migrate=True, now=clock)
        apply_schedules(load_schedule_file(schedules), effective=clock.now,
                        uow=runtime.deps.uow, now=clock.now)
        server = runtime.http_server().start()
        try:
            demo = Demo(slack, SlackClient(server.url, secret, slack), quiet, clock)
            return _script(demo, runtime, general, db_url, server.url)
        finally:
            if runtime.deps.home is not None:
                runtime.deps.home.stop()
            if runtime.alerts is not None:
                runtime.alerts.sync.stop()
            server.stop()
            runtime.engine.dispose()
            slack.stop()


def _handoff(demo: Demo, runtime: Any) -> None:
    """The scheduler's ticks around the next handoff: a reminder, then the notice."""
    answer = who_is_on_call("platform", demo.clock.now, runtime.deps.uow)
    handoff = answer.next_change
    if handoff is None:
        return
    for at in (handoff - timedelta(minutes=15), handoff):
        sent = send_due(runtime.deps, at)
        demo.say(f"\n▶ {at:%H:%M} scheduler tick: {', '.join(sent) or 'nothing due'}")
        demo.flush()


def _safety(demo: Demo, general: str) -> None:
    """What an attacker and a careless message get: nothing acted on, nobody pinged."""
    client, slack = demo.client, demo.slack
    demo.say(f"\n▶ {demo.clock.now:%H:%M} someone who is not Slack posts a /incident declare "
             "signed with the wrong secret")
    before = len(slack.calls)
    forged = client.slash("declare sev1 Forged", user="U03CAROL", channel=general,
                          secret="not-the-signing-secret")
    demo.say(f"  HTTP {forged.status}: refused before Bolt parsed it; "
             f"{len(slack.calls) - before} Slack calls, nothing stored")
    demo.step("U03CAROL", "/incident severity #1 @channel  (Slack sends <!channel>; nobody may be pinged)",
              client.slash("severity #1 <!channel>", user="U03CAROL", channel=general))


def _drafts(slack: FakeSlack) -> list[dict[str, Any]]:
    """The postmortem drafts Debrief uploaded (not people's files, not the charts)."""
    return [f for f in slack.files.values()
            if f["shared_in"] and not f.get("user") and str(f["name"]).endswith(".md")]


def _weekly_report(demo: Demo, runtime: Any) -> bool:
    """The team turns on the weekly report (`reports.weekly` in debrief.yaml) and the
    scheduler posts it at its time: the text, and the trends chart as a PNG."""
    at = (demo.clock.now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    weekly = WeeklyReportConfig(channel="#incidents", day=at.weekday(), at=at.time())
    deps = replace(runtime.deps, config=replace(runtime.deps.config,
                                                reports=ReportsConfig(weekly)))
    demo.say(f"\n▶ {at:%a %H:%M} the team has set reports.weekly: {{channel: '#incidents', "
             f"day: {at:%A}, time: '{at:%H:%M}'}}; scheduler tick:")
    sent = send_due(deps, at)
    demo.say(f"  claimed and sent: {', '.join(sent) or 'nothing'}")
    demo.flush()
    channel = demo.slack.channel_named("incidents")
    posted = [m for m in channel.messages.values() if m.files] if channel else []
    if not posted:
        return False
    stored = demo.slack.files[posted[-1].files[0]["id"]]
    data = bytes(stored["data"] or b"")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    demo.say(f"  The report in #incidents, with {stored['name']} attached "
             f"({len(data):,} bytes, a {width}×{height} PNG; `debrief stats --chart out.png` "
             "draws the same):")
    for line in posted[-1].text.splitlines():
        demo.say(f"  │ {line}")
    return bool(sent) and data.startswith(b"\x89PNG")


def _home(demo: Demo, who: str) -> None:
    """A person opens Debrief's Home tab in Slack; what it shows them, as text."""
    slack = demo.slack
    demo.say(f"\n▶ {demo.clock.now:%H:%M} {PEOPLE[who]} opens Debrief's Home tab in Slack")
    before = slack.homes.get(who, {}).get("id")
    reply = demo.client.open_home(who)
    demo.say(f"  HTTP {reply.status}, acked in {reply.elapsed_ms:.0f} ms")
    view = slack.wait_for(lambda: (v := slack.homes.get(who)) is not None
                          and v["id"] != before and v)
    demo.flush()
    names = {**PEOPLE, **{c.id: c.name for c in slack.channels.values()}}
    demo.say(f"  What {PEOPLE[who]} sees ({len(view['blocks'])} blocks of Slack's 100):")
    for line in home_as_text(view, names).splitlines():
        demo.say(f"  │ {line}")


def _write_section(demo: Demo, who: str, channel: str, section: str, text: str) -> None:
    """A person opens the "Write postmortem" modal for one section and saves their words."""
    client, slack = demo.client, demo.slack
    demo.say(f"\n▶ {demo.clock.now:%H:%M} {PEOPLE[who]}: /incident postmortem edit {section}")
    seen = len(slack.views)
    reply = client.slash(f"postmortem edit {section}", user=who, channel=channel)
    demo.say(f"  HTTP {reply.status}, acked in {reply.elapsed_ms:.0f} ms")
    view = slack.wait_for(lambda: slack.views[-1] if len(slack.views) > seen else None)
    demo.flush()
    [block] = view["blocks"]
    demo.say(f"▶ {demo.clock.now:%H:%M} {PEOPLE[who]} writes “{block['label']['text']}” in the "
             "form and saves")
    answered = len(slack.ephemerals)
    client.submit(view, {block["block_id"]: {block["element"]["action_id"]: {
        "type": "plain_text_input", "value": text}}}, user=who)
    said = slack.wait_for(lambda: slack.ephemerals[answered:])
    lines = [line for line in str(said[-1]["text"]).splitlines() if line.strip()]
    demo.say(f"  ↳ (only {PEOPLE[who]} sees) {lines[0]}")
    for line in lines[1:]:
        demo.say(f"      {line}")
    demo.flush()


def _add_factors(demo: Demo, channel: str) -> None:
    """Structured contributing factors: Bob through the draft's "Add contributing factor"
    button (linking the key chat message and the CI action item), Carol and Alice with
    the command; each updates the draft message."""
    client, slack = demo.client, demo.slack
    [draft] = [m for m in slack.channels[channel].messages.values()
               if "Postmortem draft" in m.text]
    demo.say(f"\n▶ {demo.clock.now:%H:%M} bob: clicks [Add contributing factor] on the draft")
    seen = len(slack.views)
    client.click(Action.FACTOR_ADD, user="U02BOB", channel=channel, message_ts=draft.ts,
                 value="1")
    view = slack.wait_for(lambda: slack.views[-1] if len(slack.views) > seen else None)
    demo.flush()
    blocks = {b["block_id"]: b for b in view["blocks"]}
    entry = next(o for o in blocks["factor-timeline"]["element"]["options"]
                 if "5xx started" in o["text"]["text"])
    item = blocks["factor-items"]["element"]["options"][0]
    category = blocks["factor-category"]["element"]["options"][0]
    text = ("A config push reaches every region at once; nothing stages it or checks the "
            "error rate before it goes wider.")
    demo.say(f"▶ {demo.clock.now:%H:%M} bob picks “{category['text']['text']}”, writes the "
             f"factor, links “{entry['text']['text'][:40]}…” and “{item['text']['text']}”, "
             "saves")
    answered = len(slack.ephemerals)
    client.submit(view, {
        "factor-category": {"factor_category": {"type": "static_select",
                                                "selected_option": category}},
        "factor-text": {"factor_text": {"type": "plain_text_input", "value": text}},
        "factor-timeline": {"factor_timeline": {"type": "multi_static_select",
                                                "selected_options": [entry]}},
        "factor-items": {"factor_items": {"type": "multi_static_select",
                                          "selected_options": [item]}}}, user="U02BOB")
    said = slack.wait_for(lambda: slack.ephemerals[answered:])
    demo.say(f"  ↳ (only bob sees) {str(said[-1]['text']).splitlines()[0]}")
    demo.flush()
    demo.step("U03CAROL", "/incident postmortem factor process The config validator is a "
              "manual step; the deploy pipeline does not require it",
              client.slash("postmortem factor process The config validator is a manual step; "
                           "the deploy pipeline does not require it", user="U03CAROL",
                           channel=channel))
    demo.step("U01ALICE", "/incident postmortem factor organisational Only the payments team "
              "knows how to roll back its config, and they were off shift",
              client.slash("postmortem factor organisational Only the payments team knows "
                           "how to roll back its config, and they were off shift",
                           user="U01ALICE", channel=channel))


def _upload_edit(demo: Demo, who: str, channel: str) -> None:
    """A person downloads the draft, writes two sections in their editor (and, by habit,
    fixes a time in the generated timeline), and uploads the file to the channel."""
    client, slack = demo.client, demo.slack
    [draft] = _drafts(slack)[-1:]
    name = str(draft["name"])
    edited = (str(draft["content"])
              .replace("## What went well\n\n- \n",
                       "## What went well\n\n- The rollback took two minutes: the previous "
                       "config was one command away.\n- Carol's note at 14:00 made the "
                       "timeline easy to rebuild.\n")
              .replace("## Where we got lucky\n\n- \n",
                       "## Where we got lucky\n\n- The push happened at a quiet hour; "
                       "Bob just missed the validator warning, which was easy to miss.\n")
              .replace("rolling back the config", "rolling back the config (14:20)"))
    demo.say(f"\n▶ {demo.clock.now:%H:%M} {PEOPLE[who]} downloads {name}, writes “What went "
             "well” and “Where we got lucky” in their editor (and fixes a time in the "
             "timeline), and uploads it to the channel")
    answered = len(slack.ephemerals)
    _, reply = client.share_file(channel, who, name, edited)
    demo.say(f"  file_shared: HTTP {reply.status}, acked in {reply.elapsed_ms:.0f} ms "
             "(the download happens after)")
    said = slack.wait_for(lambda: [e for e in slack.ephemerals[answered:] if e["user"] == who])
    demo.flush()
    lines = [line for line in str(said[-1]["text"]).splitlines() if line.strip()]
    demo.say(f"  ↳ (only {PEOPLE[who]} sees) {lines[0]}")
    for line in lines[1:]:
        demo.say(f"      {line}")
    demo.flush()


def _review_and_publish(demo: Demo, channel: str) -> None:
    """Alice asks Bob and Carol to review; publishing before anyone approved is refused;
    both approve from their DMs; Alice publishes: the summary goes to the announcement's
    thread and #postmortems, and the channel is archived (every item has an owner and a
    due date)."""
    client, slack = demo.client, demo.slack
    demo.clock.advance(60)
    demo.step("U01ALICE", "/incident postmortem review @bob @carol",
              client.slash("postmortem review <@U02BOB|bob> <@U03CAROL|carol>",
                           user="U01ALICE", channel=channel))
    demo.step("U01ALICE", "/incident postmortem publish  (nobody has approved yet)",
              client.slash("postmortem publish", user="U01ALICE", channel=channel))
    for who in ("U02BOB", "U03CAROL"):
        demo.clock.advance(30)
        dm = "D" + who[1:]
        [request] = [m for m in slack.channels[dm].messages.values() if m.blocks]
        demo.step(who, "clicks [Approve] in the bot's direct message",
                  client.click(Action.POSTMORTEM_APPROVE, user=who, channel=dm,
                               message_ts=request.ts, value="1"))
    demo.step("U01ALICE", "/incident postmortem publish",
              client.slash("postmortem publish", user="U01ALICE", channel=channel))
    demo.step("U02BOB", "/incident postmortem  (a new draft after publishing)",
              client.slash("postmortem", user="U02BOB", channel=channel))


def _related(demo: Demo, runtime: Any, general: str) -> bool:
    """Weeks later the same service breaks again: the new incident's channel gets the
    related past incident (#1, with its published postmortem) right after set-up."""
    demo.clock.advance(60 * 24 * 30)
    title = "Checkout 500s after a payments-api config push"
    demo.step("U02BOB", f"/incident declare sev2 {title} service:payments-api  (a month "
              "later)", demo.client.slash(f"declare sev2 {title} service:payments-api",
                                          user="U02BOB", channel=general))
    with runtime.deps.uow() as tx:
        second = tx.incidents.get(2)
    if second is None or not second.channel_id:
        return False
    channel = demo.slack.channels[second.channel_id]
    text = demo.slack.wait_for(lambda: next(
        (m.text for m in list(channel.messages.values())
         if "Related past incidents" in (m.text or "")), None))
    demo.flush()
    names = {c.id: c.name for c in demo.slack.channels.values()}
    for line in str(text).splitlines()[1:]:
        line = re.sub(r"<!date\^\d+\^[^|]*\|([^>]*)>", r"\1", line)
        line = re.sub(r"<#(\w+)>", lambda m: "#" + names.get(m.group(1), m.group(1)), line)
        demo.say("      " + re.sub(r"<([^|>]+)\|([^>]+)>", r"\2 (\1)", line))
    return "*#1*" in str(text)


ALERTS_TOKEN = "demo-alertmanager-token"


def alertmanager_notification(starts_at: datetime) -> bytes:
    """What Prometheus Alertmanager POSTs to its webhook receiver (payload version 4)."""
    common = {"alertname": "CheckoutErrorRate", "severity": "critical", "service": "checkout",
              "region": "eu"}
    return json.dumps({
        "version": "4", "groupKey": '{}:{alertname="CheckoutErrorRate"}', "status": "firing",
        "receiver": "debrief", "truncatedAlerts": 0,
        "groupLabels": {"alertname": "CheckoutErrorRate"}, "commonLabels": common,
        "commonAnnotations": {"summary": "EU checkout 5xx above 5% for 2 minutes"},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [{"status": "firing", "labels": {**common, "instance": f"checkout-{i}"},
                    "annotations": {}, "startsAt": starts_at.isoformat(),
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus.example/graph?g0.expr=checkout_5xx",
                    "fingerprint": f"c{i:015d}"} for i in range(3)]}).encode()


def _alert(demo: Demo, runtime: Any, server_url: str) -> tuple[int | None, list[str]]:
    """An alert fires in Alertmanager, pages the on-call (who does not answer), escalates
    to Alice, who acknowledges it from her DM and declares an incident from the alert's
    message. Returns the incident's number and its timeline's first lines."""
    from bot.services.alerts import escalate_due
    from bot.slack.ids import Block, Field

    slack, client, deps = demo.slack, demo.client, runtime.deps
    demo.say(f"\n▶ {demo.clock.now:%H:%M} Prometheus Alertmanager POSTs a firing group to "
             "/alerts/prod-alertmanager (bearer token)")
    request = urllib.request.Request(
        f"{server_url}/alerts/prod-alertmanager", method="POST",
        data=alertmanager_notification(demo.clock.now - timedelta(minutes=2)),
        headers={"Authorization": f"Bearer {ALERTS_TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        demo.say(f"  HTTP {response.status} {response.read().decode()}")
    alerts_channel = next(c for c in slack.channels.values() if c.name == "alerts")
    message = slack.wait_for(lambda: next(iter(alerts_channel.messages.values()), None))
    # The first step (whoever is on call) is due at once: paged right after the message.
    slack.wait_for(lambda: _settled(deps, steps=1))
    demo.flush()
    demo.say("  (nobody answers the page; the policy waits 5 minutes)")
    demo.clock.advance(5)
    fired = escalate_due(deps)
    demo.say(f"\n▶ {demo.clock.now:%H:%M} scheduler tick: {', '.join(fired) or 'nothing due'}")
    slack.wait_for(lambda: _settled(deps, steps=2))
    demo.flush()
    demo.clock.advance(1)
    dm = slack.channels["D01ALICE"]
    page = [m for m in dm.messages.values() if "paged" in m.text][-1]
    demo.step("U01ALICE", "clicks [Acknowledge] in the page",
              client.click(Action.ALERT_ACK, user="U01ALICE", channel=dm.id,
                           message_ts=page.ts, value="1"))
    demo.clock.advance(5)
    demo.say(f"\n▶ {demo.clock.now:%H:%M} scheduler tick: "
             f"{', '.join(escalate_due(deps)) or 'nothing due (acknowledged: escalation stopped)'}")
    demo.clock.advance(2)
    seen = len(slack.views)
    demo.say(f"\n▶ {demo.clock.now:%H:%M} alice: clicks [Declare incident] on the alert in "
             "#alerts")
    reply = client.click(Action.ALERT_DECLARE, user="U01ALICE", channel=alerts_channel.id,
                         message_ts=message.ts, value="1")
    demo.say(f"  HTTP {reply.status}, acked in {reply.elapsed_ms:.0f} ms")
    view = slack.wait_for(lambda: slack.views[-1] if len(slack.views) > seen else None)
    demo.flush()
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    title = blocks[Block.TITLE.value]["element"]["initial_value"]
    severity = blocks[Block.SEVERITY.value]["element"]["initial_option"]["value"]
    demo.say(f"▶ {demo.clock.now:%H:%M} alice sees the form prefilled (title “{title}”, "
             f"{severity}) and submits it")
    submitted = client.submit(view, {
        Block.TITLE: {Field.TITLE: {"type": "plain_text_input", "value": title}},
        Block.SEVERITY: {Field.SEVERITY: {"type": "static_select",
                                          "selected_option": {"value": severity}}}},
        user="U01ALICE")
    assert submitted.status == 200, submitted.body
    group = slack.wait_for(lambda: next((g for g in _groups(deps) if g.incident_number
                                         and g.synced_version >= g.version), None), timeout=30)
    number = group.incident_number
    slack.wait_for(lambda: _incident_ready(deps, number), timeout=30)
    demo.flush()
    with deps.uow() as tx:
        incident = tx.incidents.get(number)
        items = build_timeline(incident, tx.timeline.entries(number))
    lines = [f"{item.at:%H:%M} {item.kind:<12} {item.text[:90]}" for item in items]
    demo.say(f"\nIncident #{number}'s timeline starts with the alert:")
    for line in lines[:3]:
        demo.say(f"    {line}")
    report = alert_report(group.id, deps.uow)
    demo.say("\n`debrief alerts show 1 --json` (abridged): " + json.dumps({
        k: report[k] for k in ("status", "acknowledged_by", "incident")}))
    for step in report["escalation_steps"]:
        demo.say(f"    step {step['step']} at {step['at'][11:16]}: {step['target']} → "
                 f"{', '.join(PEOPLE.get(u, u) for u in step['notified']) or 'nobody'}")
    return number, lines


def _settled(deps: Any, steps: int) -> bool:
    """The alert group has fired `steps` escalation steps and its message shows them."""
    return any(len(g.steps) == steps and g.synced_version >= g.version for g in _groups(deps))


def _groups(deps: Any) -> list[Any]:
    with deps.uow() as tx:
        return list(tx.alerts.groups())


def _incident_ready(deps: Any, number: int) -> bool:
    with deps.uow() as tx:
        incident = tx.incidents.get(number)
    return incident is not None and incident.card_ts is not None


def _script(demo: Demo, runtime: Any, general: str, db_url: str, server_url: str) -> int:
    client, slack = demo.client, demo.slack
    demo.say("Debrief demo: a scripted incident against a local Slack stand-in.")
    demo.say(f"Database: {db_url} (temporary)")
    demo.step("U01ALICE", "/incident help", client.slash("help", user="U01ALICE", channel=general))
    demo.step("U01ALICE", "/incident declare sev2 Checkout returns 500 for EU customers",
              client.slash("declare sev2 Checkout returns 500 for EU customers",
                           user="U01ALICE", channel=general))
    with runtime.deps.uow() as tx:
        incident = tx.incidents.get(1)
    channel, card = incident.channel_id, incident.card_ts
    demo.clock.advance(4)
    demo.step("U02BOB", "clicks [Acknowledge] on the pinned card",
              client.click(Action.ACKNOWLEDGE, user="U02BOB", channel=channel,
                           message_ts=card, value="1"))
    demo.clock.advance(3)
    demo.say(f"\n▶ {demo.clock.now:%H:%M} people talk in the channel (the bot hears it "
             "through the Events API)")
    clue = client.say(channel, "U02BOB", "5xx started at 14:02, right after the payments-api config push")
    client.say(channel, "U03CAROL", "EU region only; US looks clean", thread_ts=clue)
    typo = client.say(channel, "U02BOB", "rolling back the confg")
    client.edit(channel, typo, "rolling back the config")
    demo.clock.advance(2)
    client.react(channel, clue, "U01ALICE", "pushpin")
    client.pin(channel, typo, "U03CAROL")
    demo.say("  • bob: 5xx started at 14:02 ... (alice reacts :pushpin: → key event)")
    demo.say("  • carol (in thread): EU region only; US looks clean")
    demo.say("  • bob: rolling back the confg → edited to 'config' (carol pins it → key event)")
    demo.step("U01ALICE", "/incident note at 14:00 Alert: EU checkout error rate above 5%",
              client.slash("note at 14:00 Alert: EU checkout error rate above 5%",
                           user="U01ALICE", channel=channel))
    demo.clock.advance(1)
    demo.step("U01ALICE", "/incident role comms @bob",
              client.slash("role comms <@U02BOB|bob>", user="U01ALICE", channel=channel))
    demo.step("U01ALICE", "/incident role scribe @carol",
              client.slash("role scribe <@U03CAROL|carol>", user="U01ALICE", channel=channel))
    demo.clock.advance(6)
    demo.step("U01ALICE", "/incident status identified Bad config push to payments-api",
              client.slash("status identified Bad config push to payments-api",
                           user="U01ALICE", channel=channel))
    demo.clock.advance(2)
    demo.step("U02BOB", "/incident severity sev1  (bob is not the commander)",
              client.slash("severity sev1", user="U02BOB", channel=channel))
    demo.step("U01ALICE", "/incident severity sev1  (alice is)",
              client.slash("severity sev1", user="U01ALICE", channel=channel))
    demo.clock.advance(5)
    demo.step("U02BOB", "/incident update Rolling back the config; EU checkout still failing",
              client.slash("update Rolling back the config; EU checkout still failing",
                           user="U02BOB", channel=channel))
    demo.clock.advance(12)
    demo.step("U01ALICE", "picks 'Monitoring' in the card's status menu",
              client.click(Action.SET_STATUS, user="U01ALICE", channel=channel,
                           message_ts=card, selected="1:monitoring"))
    demo.step("U03CAROL", "/incident status bogus  (a typo)",
              client.slash("status bogus", user="U03CAROL", channel=channel))
    demo.clock.advance(30)
    # 30 minutes on a SEV1 without a status update: the scheduler's tick nudges the commander.
    sent = send_due(runtime.deps)
    demo.say(f"\n▶ {demo.clock.now:%H:%M} scheduler tick (30 min without an update on a SEV1): "
             f"{', '.join(sent) or 'nothing due'}")
    demo.flush()
    demo.step("U01ALICE", "/incident resolve Config rolled back; error rate at baseline",
              client.slash("resolve Config rolled back; error rate at baseline",
                           user="U01ALICE", channel=channel))
    demo.step("U01ALICE", "/incident tag config service:payments-api",
              client.slash("tag config service:payments-api", user="U01ALICE",
                           channel=channel))
    demo.clock.advance(2)
    demo.step("U03CAROL", "/incident note Bob should have run the config validator first",
              client.slash("note Bob should have run the config validator first",
                           user="U03CAROL", channel=channel))
    demo.step("U01ALICE", "/incident action Validate configs in CI before deploy @bob due "
              "in 2 weeks type prevent",
              client.slash("action Validate configs in CI before deploy <@U02BOB|bob> due "
                           "in 2 weeks type prevent", user="U01ALICE", channel=channel))
    demo.step("U01ALICE", "/incident action Page on EU checkout 5xx @carol due friday type detect",
              client.slash("action Page on EU checkout 5xx <@U03CAROL|carol> due friday "
                           "type detect", user="U01ALICE", channel=channel))
    demo.clock.advance(20)
    _write_section(demo, "U02BOB", channel, "impact",
                   "EU customers could not complete checkout for about 30 minutes; every "
                   "payment attempt returned a 500. Other regions were not affected.")
    _write_section(demo, "U03CAROL", channel, "contributing factors",
                   "The config push skipped validation: the validator is a manual step and "
                   "the deploy pipeline does not require it. Nothing alerted on EU checkout "
                   "5xx, so customers noticed before we did.")
    demo.step("U01ALICE", "/incident postmortem",
              client.slash("postmortem", user="U01ALICE", channel=channel))
    _add_factors(demo, channel)
    demo.clock.advance(15)
    _upload_edit(demo, "U03CAROL", channel)
    demo.step("U01ALICE", "/incident timeline",
              client.slash("timeline", user="U01ALICE", channel=channel))
    demo.step("U01ALICE", "/oncall platform",
              client.slash("platform", user="U01ALICE", channel=general, command="/oncall"))
    _handoff(demo, runtime)
    demo.step("U01ALICE", "/incident list (from #general)",
              client.slash("list", user="U01ALICE", channel=general))
    demo.step("U01ALICE", "/incident title #1 Checkout returns 500 for EU customers after "
              "a config push  (a correction)",
              client.slash("title #1 Checkout returns 500 for EU customers after a config push",
                           user="U01ALICE", channel=general))
    _safety(demo, general)
    _review_and_publish(demo, channel)
    _home(demo, "U02BOB")
    demo.clock.advance(60 * 24 * 3)
    found = demo.step("U02BOB", "/incident search validator service:payments-api  (days "
                      "later, from #general: a word of the postmortem, and a service)",
                      client.slash("search validator service:payments-api", user="U02BOB",
                                   channel=general))
    searched = "*#1*" in json.dumps(found.get("blocks"))
    demo.say("      " + ("finds #1: its postmortem says “validator”, and it is "
                         "tagged service:payments-api" if searched else "#1 was not found"))
    related = _related(demo, runtime, general)
    alert_number, alert_timeline = _alert(demo, runtime, server_url)
    _home(demo, "U01ALICE")  # her acknowledged alert and the incident it became
    reported = _weekly_report(demo, runtime)
    with runtime.deps.uow() as tx:
        incident = tx.incidents.get(1)
        stored: dict[str, Any] = as_dict(incident)  # JSON-shaped: lists under its keys
        items = build_timeline(incident, tx.timeline.entries(1))
    spans = durations(incident, runtime.deps.config.statuses,
                      runtime.deps.config.timeline.mitigated_status)
    demo.say("\nTimeline (what `debrief incident show 1` prints; * = key event):")
    for item in items:
        mark = "*" if item.key else " "
        author = PEOPLE.get(item.author or "", item.author or "-")
        demo.say(f"  {mark} {item.at:%H:%M} {item.kind:<12} {author:<6} {item.text[:80]}")
    demo.say(f"Time to acknowledge {format_duration(spans.to_acknowledge)}, to mitigate "
             f"{format_duration(spans.to_mitigate)}, to resolve {format_duration(spans.to_resolve)}")
    stored["timeline"] = timeline_as_dicts(items)
    card_text = slack.channels[channel].messages[card].text
    demo.say("\nPinned summary card now reads: " + card_text)
    demo.say("Channel topic: " + slack.channels[channel].topic)
    demo.say("\nStored in the database (debrief incident show 1 --json, abridged):")
    demo.say(json.dumps({k: v for k, v in stored.items()
                         if k not in ("events", "timeline", "action_items")}, indent=2))
    documents = _drafts(slack)
    if documents:
        demo.say(f"\nThe postmortem draft uploaded to the channel ({documents[-1]['name']}):")
        demo.say("─" * 78)
        demo.say(documents[-1]["content"].rstrip())
        demo.say("─" * 78)
        findings = lint_text(documents[-1]["content"])
        demo.say(f"Blameless check on this draft ({len(findings)} finding(s), shown to the "
                 "drafter only):")
        doc_lines = documents[-1]["content"].splitlines()
        for f in findings:
            demo.say(f"  line {f.line} [{f.category}] “{doc_lines[f.line - 1][f.start:f.end]}”: "
                     f"{f.suggestion}")
    problems = list(slack.violations)
    with runtime.deps.uow() as tx:
        postmortem = tx.postmortems.get(1)
        factors = [f for f in tx.postmortems.factors(1) if not f.removed]
    published = postmortem is not None and postmortem.status == "published"
    archived = slack.channels[channel].is_archived
    print(f"\nDemo finished: incident #{stored['number']} '{stored['title']}' "
          f"{stored['status']}, postmortem {'published' if published else 'NOT published'}"
          f"{', channel archived' if archived else ', channel NOT archived'}, "
          f"{len(stored['events'])} events recorded, "
          f"{len(stored['timeline'])} timeline entries ({sum(i.key for i in items)} key), "
          f"{len(stored['action_items'])} action items, {len(factors)} contributing factors, "
          f"{len(documents)} postmortem draft(s), "
          f"{len(slack.calls)} Slack API calls, {len(problems)} API misuse(s).")
    alert = alert_report(1, runtime.deps.uow)
    from_alert = bool(alert_timeline) and "Alert from prod-alertmanager" in alert_timeline[0]
    paged = [PEOPLE.get(u, u) for step in alert["escalation_steps"] for u in step["notified"]]
    print(f"Alert: fired from Alertmanager, paged {' then '.join(paged) or 'nobody'}, "
          f"acknowledged by {PEOPLE.get(alert['acknowledged_by'] or '', 'nobody')}, became "
          f"incident #{alert_number} whose timeline "
          f"{'starts' if from_alert else 'does NOT start'} with the alert.")
    for problem in problems:
        print("  ! " + problem)
    if not searched:
        print("  ! the search for the postmortem's words did not find incident #1")
    if not related:
        print("  ! incident #2 was not pointed at #1 as a related past incident")
    grouped = bool(documents) and "### Technical" in documents[-1]["content"]
    if not grouped:
        print("  ! the last postmortem draft lists no structured contributing factors")
    if not reported:
        print("  ! the weekly report was not posted with its chart")
    return 0 if (not problems and searched and related and stored["status"] == "resolved"
                 and published and archived and len(factors) >= 2 and grouped and from_alert
                 and len(paged) >= 2 and alert["acknowledged_by"] == "U01ALICE"
                 and reported) else 1
