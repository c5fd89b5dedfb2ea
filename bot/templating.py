"""Finding and rendering Jinja templates.

`templates/` sits at the top of a checkout; in an installed wheel it is packaged as
`bot/templates/` (see pyproject's force-include). Message templates escape every
value for Slack mrkdwn, so user text stays inert.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.domain.text import escape_mrkdwn


def templates_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "messages").is_dir():
            return candidate
    raise FileNotFoundError("Debrief's templates/ folder is missing from this installation")


def _finalize(value: Any) -> Any:
    return escape_mrkdwn(value) if isinstance(value, str) else value


@cache
def message_env() -> Environment:
    return Environment(
        loader=FileSystemLoader(templates_dir()),
        undefined=StrictUndefined,
        finalize=_finalize,
        keep_trailing_newline=False,
        autoescape=False,
    )


def render_message(name: str, **context: Any) -> str:
    return message_env().get_template(name).render(**context).strip()
