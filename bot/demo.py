"""`debrief demo`: a complete scripted incident, with no Slack workspace.

It runs the real Bolt app over real HTTP (waitress) and the real Web API client
against the local Slack stand-in, on a SQLite database in a temporary folder, and
prints what people did, what the bot did in Slack, and what it stored.
"""

from __future__ import annotations

import json
import secrets
import tempfile
from pathlib import Path
from typing import Any

from bot.config import DebriefConfig, Settings
from bot.domain.incidents import as_dict
from bot.runtime import build_runtime
from bot.slack.ids import Action
from bot.slack.standin.client import Reply, SlackClient
from bot.slack.standin.server import FakeSlack

PEOPLE = {"U01ALICE": "alice", "U02BOB": "bob", "U03CAROL": "carol"}


class Demo:
    def __init__(self, slack: FakeSlack, client: SlackClient, quiet: bool) -> None:
        self.slack, self.client, self.quiet = slack, client, quiet
        self.seen = 0

    def say(self, text: str = "") -> None:
        if not self.quiet:
            print(text)

    def step(self, who: str, what: str, reply: Reply) -> dict[str, Any]:
        self.say(f"\n▶ {PEOPLE[who]}: {what}")
        self.say(f"  HTTP {reply.status}, acked in {reply.elapsed_ms:.0f} ms")
        acked = reply.text if reply.status == 200 else ""
        answer = {"text": acked} if acked else self.client.reply_to(reply)
        if answer.get("text"):
            self.say(f"  ↳ (only {PEOPLE[who]} sees) {answer['text'].splitlines()[0]}")
        self.flush()
        return answer

    def flush(self) -> None:
        for call in self.slack.calls[self.seen:]:
            line = self.slack.describe(call)
            if line:
                self.say(f"  • bot {line}")
        self.seen = len(self.slack.calls)


def run_demo(quiet: bool = False) -> int:
    slack = FakeSlack().start()
    for user_id, name in PEOPLE.items():
        slack.add_user(user_id, name, tz="Europe/Berlin" if name == "bob" else "UTC")
    general = slack.add_channel("general", members=tuple(PEOPLE))
    slack.add_channel("incidents")
    with tempfile.TemporaryDirectory(prefix="debrief-demo-") as folder:
        db_url = f"sqlite:///{Path(folder) / 'debrief.db'}"
        secret = secrets.token_hex(16)
        settings = Settings(bot_token=slack.token, signing_secret=secret,
                            api_url=slack.api_url, database_url=db_url)
        runtime = build_runtime(settings, DebriefConfig(), migrate=True)
        server = runtime.http_server().start()
        try:
            return _script(Demo(slack, SlackClient(server.url, secret, slack), quiet), runtime,
                           general, db_url)
        finally:
            server.stop()
            runtime.engine.dispose()
            slack.stop()


def _script(demo: Demo, runtime: Any, general: str, db_url: str) -> int:
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
    demo.step("U02BOB", "clicks [Acknowledge] on the pinned card",
              client.click(Action.ACKNOWLEDGE, user="U02BOB", channel=channel,
                           message_ts=card, value="1"))
    demo.step("U01ALICE", "/incident role comms @bob",
              client.slash("role comms <@U02BOB|bob>", user="U01ALICE", channel=channel))
    demo.step("U01ALICE", "/incident role scribe @carol",
              client.slash("role scribe <@U03CAROL|carol>", user="U01ALICE", channel=channel))
    demo.step("U01ALICE", "/incident status identified Bad config push to payments-api",
              client.slash("status identified Bad config push to payments-api",
                           user="U01ALICE", channel=channel))
    demo.step("U02BOB", "/incident severity sev1",
              client.slash("severity sev1", user="U02BOB", channel=channel))
    demo.step("U02BOB", "/incident update Rolling back the config; EU checkout still failing",
              client.slash("update Rolling back the config; EU checkout still failing",
                           user="U02BOB", channel=channel))
    demo.step("U01ALICE", "picks 'Monitoring' in the card's status menu",
              client.click(Action.SET_STATUS, user="U01ALICE", channel=channel,
                           message_ts=card, selected="1:monitoring"))
    demo.step("U03CAROL", "/incident status bogus  (a typo)",
              client.slash("status bogus", user="U03CAROL", channel=channel))
    demo.step("U01ALICE", "/incident resolve Config rolled back; error rate at baseline",
              client.slash("resolve Config rolled back; error rate at baseline",
                           user="U01ALICE", channel=channel))
    demo.step("U01ALICE", "/incident list (from #general)",
              client.slash("list", user="U01ALICE", channel=general))
    with runtime.deps.uow() as tx:
        stored = as_dict(tx.incidents.get(1))
    card_text = slack.channels[channel].messages[card].text
    demo.say("\nPinned summary card now reads: " + card_text)
    demo.say("Channel topic: " + slack.channels[channel].topic)
    demo.say("\nStored in the database (debrief incident show 1 --json):")
    demo.say(json.dumps(stored, indent=2))
    problems = list(slack.violations)
    print(f"\nDemo finished: incident #{stored['number']} '{stored['title']}' "
          f"{stored['status']}, {len(stored['events'])} events recorded, "
          f"{len(slack.calls)} Slack API calls, {len(problems)} API misuse(s).")
    for problem in problems:
        print("  ! " + problem)
    return 0 if not problems and stored["status"] == "resolved" else 1
