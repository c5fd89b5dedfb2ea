"""Slack's own limits, enforced as Slack enforces them: Block Kit counts and lengths, a
message's text length, and a response_url's five uses in thirty minutes.

Every limit broken is also recorded in the workspace's `violations`, so a test fails on
what a lenient fake would have let through.
"""

from __future__ import annotations

import json
from typing import Any

from bot.standin.state import SlackFailure, Workspace

RESPONSE_USES, RESPONSE_WINDOW = 5, 30 * 60  # a response_url: 5 responses in 30 minutes
MAX_MESSAGE_TEXT = 40_000
# Block Kit's documented limits (api.slack.com/reference/block-kit).
TEXT_LIMITS = {"section": 3000, "header": 150, "input": 2000}  # the block's `text`/label
ELEMENT_TEXT = {"button": 75}
MAX_OPTIONS = {"static_select": 100, "multi_static_select": 100, "overflow": 5,
               "radio_buttons": 10, "checkboxes": 10}
MAX_ELEMENTS = {"actions": 25, "context": 10}
# chat.postMessage refuses blocks whose text adds up past about 12,000 characters with
# msg_blocks_too_long (undocumented; Slack's SDK maintainers give 12,000 text characters,
# slackapi/bolt-js#2509 measured 13,297): the stand-in holds posts to 12,000.
MAX_BLOCKS_TEXT = 12_000


def enforce_text(violations: list[str], where: str, args: dict[str, Any]) -> None:
    """A message's `text` is at most 40,000 characters (`msg_too_long`)."""
    text = args.get("text")
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        violations.append(f"{where}: text of {len(text)} characters")
        raise SlackFailure("msg_too_long")


def blocks_text_length(node: Any) -> int:
    """All the characters of text objects (plain_text, mrkdwn) in `node`, at any depth."""
    if isinstance(node, list):
        return sum(blocks_text_length(n) for n in node)
    if not isinstance(node, dict):
        return 0
    if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
        return len(node["text"])
    return sum(blocks_text_length(v) for v in node.values())


def check_ack(violations: list[str], body: str) -> None:
    """An acknowledgement carrying a message (a slash command's immediate answer) is held
    to a message's limits too: what breaks them goes to `violations`."""
    try:
        payload = json.loads(body) if body else None
    except ValueError:
        return
    if not isinstance(payload, dict):
        return
    text = payload.get("text")
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        violations.append(f"ack: text of {len(text)} characters")
    blocks = payload.get("blocks")
    if isinstance(blocks, list):
        violations.extend(f"ack: {p}" for p in block_kit_problems(blocks))


def check_blocks(violations: list[str], blocks: Any, *, limit: int = 50) -> list[dict[str, Any]]:
    """The blocks (a list or its JSON), or `invalid_blocks` when they break a limit."""
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    blocks = blocks or []
    found = block_kit_problems(blocks, limit)
    if found:  # record every limit the blocks break, then refuse them
        violations.extend(found)
        raise SlackFailure("invalid_blocks")
    if len(blocks) > limit:
        raise SlackFailure("invalid_blocks")
    for block in blocks:
        text = block.get("text") or {}
        max_len = 150 if block.get("type") == "header" else 3000
        if isinstance(text, dict) and len(text.get("text", "")) > max_len:
            raise SlackFailure("invalid_blocks")
        if len(block.get("fields") or []) > 10:
            raise SlackFailure("invalid_blocks")
    return list(blocks)


class ResponseUrls:
    """What a response_url accepts: at most 5 responses within 30 minutes (Slack answers
    the sixth with 404 `used_url`), each held to Block Kit's limits."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._uses: dict[str, list[float]] = {}  # response_url path -> times used

    def check(self, path: str, payload: dict[str, Any]
              ) -> tuple[int, dict[str, str], dict[str, Any]] | None:
        """None when the response is taken, else the HTTP answer refusing it."""
        now = self.workspace.clock()
        violations = self.workspace.violations
        uses = [t for t in self._uses.setdefault(path, []) if now - t < RESPONSE_WINDOW]
        if len(uses) >= RESPONSE_USES:
            violations.append(f"{path}: a 6th response within 30 minutes")
            return 404, {}, {"ok": False, "error": "used_url"}
        uses.append(now)
        self._uses[path] = uses
        try:
            enforce_text(violations, path, payload)
            check_blocks(violations, payload.get("blocks"))
        except SlackFailure as failure:
            return 400, {}, {"ok": False, "error": failure.error}
        return None


def _text_of(obj: Any) -> str:
    return str(obj.get("text") or "") if isinstance(obj, dict) else ""


def _element_problems(element: Any, where: str) -> list[str]:
    """Limits of one interactive element (button, select, overflow ...)."""
    if not isinstance(element, dict):
        return [f"{where}: not an object"]
    found: list[str] = []
    kind = str(element.get("type"))
    if kind in ELEMENT_TEXT and len(_text_of(element.get("text"))) > ELEMENT_TEXT[kind]:
        found.append(f"{where}: {kind} text over {ELEMENT_TEXT[kind]} characters")
    if len(str(element.get("value") or "")) > 2000:
        found.append(f"{where}: {kind} value over 2000 characters")
    if len(str(element.get("action_id") or "")) > 255:
        found.append(f"{where}: action_id over 255 characters")
    options = element.get("options") or []
    groups = element.get("option_groups") or []
    if kind in MAX_OPTIONS and len(options) > MAX_OPTIONS[kind]:
        found.append(f"{where}: {kind} with {len(options)} options (at most {MAX_OPTIONS[kind]})")
    if len(groups) > 100:
        found.append(f"{where}: {len(groups)} option groups (at most 100)")
    for group in groups:
        group_options = group.get("options") or [] if isinstance(group, dict) else []
        if len(group_options) > 100:
            found.append(f"{where}: an option group with {len(group_options)} options")
        options = [*options, *group_options]
    for option in options:
        if not isinstance(option, dict):
            found.append(f"{where}: an option that is not an object")
        elif len(_text_of(option.get("text"))) > 75 or len(str(option.get("value") or "")) > 150:
            found.append(f"{where}: an option over 75 characters of text or 150 of value")
    return found


def block_kit_problems(blocks: list[Any], limit: int = 50) -> list[str]:
    """Every documented Block Kit limit the blocks break (empty when they fit)."""
    found = [f"{len(blocks)} blocks (at most {limit})"] if len(blocks) > limit else []
    for index, block in enumerate(blocks):
        where = f"block {index}"
        if not isinstance(block, dict):
            found.append(f"{where}: not an object")
            continue
        kind = str(block.get("type"))
        text = _text_of(block.get("text") or block.get("label"))
        if kind in TEXT_LIMITS and len(text) > TEXT_LIMITS[kind]:
            found.append(f"{where}: {kind} text of {len(text)} characters "
                         f"(at most {TEXT_LIMITS[kind]})")
        fields = block.get("fields") or []
        if len(fields) > 10 or any(len(_text_of(f)) > 2000 for f in fields):
            found.append(f"{where}: more than 10 fields or a field over 2000 characters")
        elements = block.get("elements") or []
        if kind in MAX_ELEMENTS and len(elements) > MAX_ELEMENTS[kind]:
            found.append(f"{where}: {kind} with {len(elements)} elements")
        if len(str(block.get("block_id") or "")) > 255:
            found.append(f"{where}: block_id over 255 characters")
        interactive = [block.get("accessory"), block.get("element")]
        interactive += elements if kind == "actions" else []
        for element in filter(None, interactive):
            found += _element_problems(element, where)
    return found
