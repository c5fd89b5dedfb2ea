"""Finding and rendering Jinja templates.

`templates/` sits at the top of a checkout; in an installed wheel it is packaged as
`bot/templates/` (see pyproject's force-include). Message templates escape every
value for Slack mrkdwn, so user text stays inert.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

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


@cache
def postmortem_env(custom_dir: Path | None) -> SandboxedEnvironment:
    """Postmortem templates render in Jinja's sandbox (a team's own templates are
    user-supplied code) with StrictUndefined, so a misspelt variable is an error, not a
    blank. A team's folder comes first, so it can override or extend the built-ins."""
    loaders = [FileSystemLoader(custom_dir)] if custom_dir else []
    loaders.append(FileSystemLoader(templates_dir()))
    return SandboxedEnvironment(loader=ChoiceLoader(loaders), undefined=StrictUndefined,
                                autoescape=False, keep_trailing_newline=True)


class TemplateFailure(Exception):
    """A postmortem template could not be rendered; the message is safe to show."""


def render_postmortem(template: str, context: dict[str, Any], custom_dir: Path | None = None) -> str:
    try:
        return postmortem_env(custom_dir).get_template(template).render(**context)
    except TemplateError as exc:  # includes SecurityError, UndefinedError, TemplateNotFound
        raise TemplateFailure(f"{type(exc).__name__}: {exc}") from exc
