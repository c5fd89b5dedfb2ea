"""The stand-in client sends Slack's real payload shapes (tests/payloads/ from Slack's SDK)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from bot.standin.client import SlackClient
from bot.standin.server import FakeSlack

PAYLOADS = Path(__file__).parent.parent / "payloads"


class Capture(SlackClient):
    """Keeps the bodies instead of sending them (the stand-in only mints response URLs)."""

    def __init__(self) -> None:
        self.fake = FakeSlack().start()
        super().__init__("http://unused", "secret", self.fake)
        self.bodies: list[bytes] = []

    def post(self, body: bytes, content_type: str, **kwargs: Any) -> Any:  # type: ignore[override]
        self.bodies.append(body)
        return type("R", (), {"response_url": None})()


def sample(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


def test_slash_command_has_every_field_slack_sends() -> None:
    """A slash command carries all of Slack's form fields."""
    capture = Capture()
    capture.slash("help", user="U1", channel="C1")
    capture.fake.stop()
    sent = dict(parse_qsl(capture.bodies[0].decode(), keep_blank_values=True))
    assert set(sample("SlashCommandPayload.json")) <= set(sent)


def test_block_action_and_view_submission_shapes() -> None:
    """Button clicks and form submissions carry Slack's top-level keys."""
    capture = Capture()
    capture.click("incident-resolve", user="U1", channel="C1", message_ts="1.0", value="1")
    capture.submit({"callback_id": "x"}, {}, user="U1")
    capture.fake.stop()
    click = json.loads(dict(parse_qsl(capture.bodies[0].decode(), keep_blank_values=True))["payload"])
    submit = json.loads(dict(parse_qsl(capture.bodies[1].decode(), keep_blank_values=True))["payload"])
    # The sample is a union: these keys appear only for clicks in modals, workflow
    # functions, unfurls or Enterprise Grid, never on a channel message's buttons.
    conditional = {"enterprise", "state", "is_enterprise_install", "view", "function_data",
                   "bot_access_token", "app_unfurl", "interactivity"}
    expected_click = set(sample("BlockActionPayload.json")) - conditional
    assert expected_click <= set(click)
    assert {"type", "team", "user", "view", "api_app_id"} <= set(submit)
    assert set(sample("ViewSubmissionPayload.json")["view"]) >= {"state", "callback_id"}


def test_event_envelope_shape() -> None:
    """Events arrive in Slack's event_callback envelope."""
    capture = Capture()
    capture.event({"type": "message", "text": "hi"})
    capture.fake.stop()
    sent = json.loads(capture.bodies[0])
    # authed_users/authed_teams are deprecated by Slack; the others are Grid/Connect only.
    expected = set(sample("MessagePayload.json")) - {"enterprise_id", "authed_users", "authed_teams",
                                                     "is_ext_shared_channel"}
    assert expected <= set(sent)
