"""The ports keep their implementations honest. One road to Slack: every Web API call
goes through the `Chat` port and its gateway, and the test fake implements the same port.
Storage implements every repository of the unit of work with the port's signatures."""

from __future__ import annotations

import ast
import inspect
import re
import typing
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import text

from bot.services import ports
from bot.services.ports import Chat
from bot.slack.gateway import SlackGateway
from bot.slack.ids import Block, Field
from bot.slack.replies import APOLOGY
from storage import repositories
from storage.uow import UnitOfWorkFactory
from tests.conftest import Stack
from tests.fakes import FakeChat

ROOT = Path(__file__).resolve().parents[2]
ALICE = "U01ALICE"
# Every Web API method slack-sdk's WebClient has (`chat_postMessage`, `views_open`, ...).
WEB_API = {name for name, value in vars(WebClient).items()
           if callable(value) and not name.startswith("_")} | {"api_call"}
GATEWAY = ROOT / "bot" / "slack" / "gateway.py"


def port_methods(protocol: type) -> list[str]:
    return sorted(name for name, value in vars(protocol).items()
                  if callable(value) and not name.startswith("_"))


def port_properties(protocol: type) -> list[str]:
    return sorted(name for name, value in vars(protocol).items() if isinstance(value, property))


def shape(fn: Any) -> tuple[list[tuple[str, Any, Any, Any]], Any]:
    """Parameters (name, kind, default, resolved type) and the resolved return type."""
    hints = typing.get_type_hints(fn)
    params = [(p.name, p.kind, p.default, hints.get(p.name))
              for p in inspect.signature(fn).parameters.values()]
    return params, hints.get("return")


@pytest.mark.parametrize("implementation", [SlackGateway, FakeChat])
def test_implementations_have_every_chat_method_with_its_signature(implementation: type
                                                                   ) -> None:
    """SlackGateway and FakeChat each implement every method of the Chat port, with the
    port's parameters and types, so a service tested against the fake runs on Slack."""
    for name in port_methods(Chat):
        assert hasattr(implementation, name), f"{implementation.__name__} lacks {name}"
        assert shape(getattr(implementation, name)) == shape(getattr(Chat, name)), name


def test_storage_implements_the_unit_of_work_port(engine: Any) -> None:
    """An open SqlUnitOfWork offers every repository the port names, and each repository
    has every method of its port with the port's parameters and types."""
    names = port_properties(ports.UnitOfWork)
    assert names, "the unit of work names its repositories as read-only properties"
    with UnitOfWorkFactory(engine)() as tx:
        for name in names:
            protocol = typing.get_type_hints(getattr(ports.UnitOfWork, name).fget)["return"]
            implementation = type(getattr(tx, name))
            # storage.repositories, or a module of its own for a larger one (storage.archive)
            assert implementation.__module__.split(".")[0] == repositories.__name__.split(".")[0], name
            for method in port_methods(protocol):
                assert shape(getattr(implementation, method)) == shape(
                    getattr(protocol, method)), f"{implementation.__name__}.{method}"

def test_gateway_offers_nothing_the_port_does_not_declare() -> None:
    """Every public method of the gateway is part of the port: nothing reaches around it."""
    public = {name for name, value in vars(SlackGateway).items()
              if callable(value) and not name.startswith("_")}
    assert public - set(port_methods(Chat)) == set()


def _product_modules() -> list[Path]:
    """The product's Python files, except the gateway and the Slack stand-in (a fake
    Slack server, which answers the Web API rather than calling it)."""
    return [path for path in sorted((ROOT / "bot").rglob("*.py"))
            if path != GATEWAY and "standin" not in path.relative_to(ROOT).parts]


def test_only_the_gateway_calls_the_web_api() -> None:
    """No module but bot/slack/gateway.py calls a Web API method or makes a WebClient, and
    no Bolt listener asks for Bolt's `client` or `say` (both reach the raw Web API)."""
    problems: list[str] = []
    for path in _product_modules():
        where = path.relative_to(ROOT)
        tree = ast.parse(path.read_text(), str(where))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in WEB_API:
                problems.append(f"{where}:{node.lineno} calls {node.attr}")
            elif isinstance(node, ast.Name) and node.id == "WebClient" and isinstance(
                    node.ctx, ast.Load) and path.name != "app.py":
                problems.append(f"{where}:{node.lineno} uses WebClient")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and re.match(
                    r"handle_", node.name):
                names = {a.arg for a in node.args.args + node.args.kwonlyargs}
                problems += [f"{where}:{node.lineno} {node.name} takes {n}"
                             for n in sorted(names & {"client", "say"})]
    assert problems == []


def _slack_calls_counted(stack: Stack, method: str) -> float:
    """What /metrics says about `method`'s successful calls (the gateway counts each)."""
    with urllib.request.urlopen(stack.server.url + "/metrics", timeout=10) as response:
        metrics = response.read().decode()
    line = rf'^debrief_slack_api_calls_total\{{method="{re.escape(method)}",outcome="ok"\}} (\S+)$'
    found = re.search(line, metrics, re.M)
    return float(found.group(1)) if found else 0.0


def test_failed_modal_submission_is_answered_by_a_direct_message_through_the_gateway(
        stack: Stack) -> None:
    """A modal submission has no response_url: when it fails, the person gets the usual
    apology as a direct message, sent (and counted in /metrics) like every other post."""
    stack.client.slash("declare", user=ALICE, channel=stack.general)
    view = stack.slack.wait_for(lambda: stack.slack.views[-1] if stack.slack.views else None)
    with stack.runtime.engine.begin() as conn:
        conn.execute(text("DROP TABLE incident_events"))
    posts_before = _slack_calls_counted(stack, "chat.postMessage")
    values: dict[str, dict[str, Any]] = {
        Block.TITLE: {Field.TITLE: {"type": "plain_text_input", "value": "Search down"}},
        Block.SEVERITY: {Field.SEVERITY: {"type": "static_select",
                                          "selected_option": {"value": "SEV2"}}}}
    assert stack.client.submit(view, values, user=ALICE).status == 200
    dm = stack.slack.wait_for(lambda: stack.slack.channels.get("D" + ALICE[1:]))
    [message] = stack.slack.wait_for(lambda: list(dm.messages.values()))
    assert message.text == APOLOGY
    assert stack.slack.wait_for(
        lambda: _slack_calls_counted(stack, "chat.postMessage") == posts_before + 1)
    assert stack.incident() is None
