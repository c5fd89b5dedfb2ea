"""The shape a Slack payload must have before Bolt or a listener reads it.

Bolt's matchers and context builders index into payloads (`body["actions"][0]
["action_id"]`, `view["state"]`, ...) and raise on a wrong shape, which would turn a
bad request into a 500 and an apology sent on its behalf. `payload_problem` names the
first structural problem, so the HTTP layer answers 400 and nothing runs. It checks
only structure (which keys are objects, lists or strings), never content; listeners
still validate values themselves.
"""

from __future__ import annotations

from typing import Any

# Top-level keys that, when present, Slack always sends as objects (Bolt reads them with
# `body.get(key, {}).get(...)`, so even null breaks it).
_OBJECTS = ("user", "channel", "container", "message", "view", "state", "event")
# Objects that may also be a plain id.
_OBJECT_OR_ID = ("team", "enterprise")
# Top-level keys that, when present, are strings (or null).
_STRINGS = ("type", "command", "text", "user_id", "channel_id", "team_id", "response_url",
            "trigger_id", "callback_id", "api_app_id", "token", "challenge", "action_id",
            "block_id", "enterprise_id")
_LISTS_OF_OBJECTS = ("authorizations", "response_urls")


def payload_problem(body: Any) -> str | None:
    """None when `body` has the structure Slack sends; otherwise what is wrong."""
    if not isinstance(body, dict):
        return "the payload is not an object"
    for key in _OBJECTS:
        if key in body and not isinstance(body[key], dict):
            return f"{key} is not an object"
    for key in _OBJECT_OR_ID:
        if body.get(key) is not None and not isinstance(body[key], dict | str):
            return f"{key} is not an object"
    for key in _STRINGS:
        if body.get(key) is not None and not isinstance(body[key], str):
            return f"{key} is not a string"
    for key in _LISTS_OF_OBJECTS:
        value = body.get(key)
        if value is not None and not (isinstance(value, list)
                                      and all(isinstance(v, dict) for v in value)):
            return f"{key} is not a list of objects"
    kind = body.get("type")
    if "actions" in body or kind in ("block_actions", "interactive_message"):
        problem = _actions_problem(body.get("actions"), need_id=kind == "block_actions")
        if problem:
            return problem
    if kind in ("view_submission", "view_closed"):
        problem = _view_problem(body.get("view"))
        if problem:
            return problem
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "event has no type"
    return None


def _actions_problem(actions: Any, *, need_id: bool) -> str | None:
    if not isinstance(actions, list) or not actions:
        return "actions is not a non-empty list"
    for action in actions:
        if not isinstance(action, dict):
            return "an action is not an object"
        if need_id and not isinstance(action.get("action_id"), str):
            return "an action has no action_id"
        for key in ("action_id", "block_id", "type"):
            if action.get(key) is not None and not isinstance(action[key], str):
                return f"an action's {key} is not a string"
        for key in ("selected_option", "text"):
            if action.get(key) is not None and not isinstance(action[key], dict | str):
                return f"an action's {key} is not an object"
    return None


def _view_problem(view: Any) -> str | None:
    if not isinstance(view, dict):
        return "view is not an object"
    for key in ("callback_id", "private_metadata", "id", "hash", "type"):
        if view.get(key) is not None and not isinstance(view[key], str):
            return f"view.{key} is not a string"
    state = view.get("state")
    if state is None:
        return None
    if not isinstance(state, dict):
        return "view.state is not an object"
    values = state.get("values")
    if values is None:
        return None
    if not isinstance(values, dict) or not all(
            isinstance(block, dict) and all(isinstance(v, dict) for v in block.values())
            for block in values.values()):
        return "view.state.values is not an object of objects"
    return None
