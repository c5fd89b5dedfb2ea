"""The layering rules, checked two ways so they cannot regress: each layer is imported
in a fresh interpreter and the modules it loaded are listed, and every import statement
(including ones inside functions) is read with `ast`.

    bot.domain    standard library, dateutil and itself (plus bot.errors) only
    bot.services  no Slack SDK, no SQLAlchemy, no storage, no Slack adapter
    storage       no Slack SDK and no Slack adapter

Services word nothing a person reads in Slack: they return typed outcomes and the
Slack layer builds the sentences (`bot/slack/messages.py`), so they import no part of
`bot.slack`, not even its escaping.
"""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What each layer may not load or import, as module names or prefixes (`x` bans `x.*`).
FORBIDDEN = {
    "bot.domain": ("slack_sdk", "slack_bolt", "sqlalchemy", "alembic", "jinja2", "markupsafe", "yaml",
                   "bot.config", "bot.templating", "bot.yamlfile", "bot.observability", "storage",
                   "bot.slack", "bot.services"),
    "bot.services": ("slack_sdk", "slack_bolt", "sqlalchemy", "alembic", "storage", "bot.slack"),
    "storage": ("slack_sdk", "slack_bolt", "bot.slack"),
}
# The domain's whole world: the standard library, dateutil (and what it loads itself).
DOMAIN_THIRD_PARTY = ("dateutil", "six")
DOMAIN_OWN = ("bot", "bot.domain", "bot.errors")


def _stdlib(name: str) -> bool:
    top = name.split(".")[0]  # `_sysconfigdata_<platform>` is the stdlib's, per platform
    return top in sys.stdlib_module_names or top.startswith("_sysconfigdata_")


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _modules_of(package: str) -> list[str]:
    """Every module of a layer (storage's Alembic scripts excluded: they run on import)."""
    folder = ROOT / package.replace(".", "/")
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in folder.rglob("*.py")
        if "migrations" not in path.parts and "standin" not in path.parts
    )


def _fresh_modules(names: list[str]) -> set[str]:
    """Import `names` in a fresh interpreter; every module loaded then."""
    code = ("import importlib, json, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=True)
    return set(json.loads(done.stdout))


@functools.cache
def _loaded_by(package: str) -> frozenset[str]:
    """The modules importing every module of `package` loads, beyond what a bare
    interpreter has already (site hooks of the environment)."""
    return frozenset(_fresh_modules(_modules_of(package)) - _fresh_modules([]))


def _banned(package: str, names: Iterable[str]) -> list[str]:
    return sorted(n for n in names if _within(n, FORBIDDEN[package]))


def _imports_in(package: str) -> dict[str, set[str]]:
    """Every module named by an import statement anywhere in each file of `package`."""
    found: dict[str, set[str]] = {}
    for name in _modules_of(package):
        path = ROOT / name.replace(".", "/")
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[name] = names
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_loads_nothing_it_must_not(package: str) -> None:
    """Importing every module of a layer in a fresh interpreter loads none of its banned modules."""
    assert _modules_of(package), package
    assert _banned(package, _loaded_by(package)) == []


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_statement_reaches_a_banned_module(package: str) -> None:
    """No import statement in a layer, even one inside a function, names a banned module."""
    offending = {module: _banned(package, names) for module, names in _imports_in(package).items()}
    assert {m: names for m, names in offending.items() if names} == {}


def test_the_domain_loads_only_the_standard_library_and_dateutil() -> None:
    """The pure core needs nothing but the standard library, dateutil and itself."""
    loaded = _loaded_by("bot.domain")
    outside = sorted(
        name for name in loaded
        if not _stdlib(name) and not _within(name, DOMAIN_THIRD_PARTY) and not _within(name, DOMAIN_OWN)
    )
    assert outside == []
    assert sorted(n for n in loaded if _within(n, ("bot",)) and not _within(n, DOMAIN_OWN[1:])) \
        == ["bot"]


def test_the_domain_imports_only_the_standard_library_and_dateutil() -> None:
    """Every import statement in bot/domain names the standard library, dateutil or the domain."""
    outside = {
        module: sorted(n for n in names if not _stdlib(n)
                       and not _within(n, DOMAIN_THIRD_PARTY) and not _within(n, DOMAIN_OWN[1:]))
        for module, names in _imports_in("bot.domain").items()
    }
    assert {m: names for m, names in outside.items() if names} == {}


def test_the_checks_see_a_violation() -> None:
    """The checks are not vacuous: the Slack adapter does load what the domain may not."""
    assert "slack_sdk" in _banned("bot.domain", _loaded_by("bot.slack"))


def test_services_word_nothing_for_slack() -> None:
    """No service module mentions Slack's mrkdwn helpers or writes a Slack mention: the
    sentences people read are built in bot/slack (the exception this file once listed)."""
    found = {
        name: [n for n in names if _within(n, ("bot.slack",))]
        for name, names in _imports_in("bot.services").items()
    }
    assert {m: names for m, names in found.items() if names} == {}
    marked = sorted(
        str(path.relative_to(ROOT)) for path in (ROOT / "bot" / "services").glob("*.py")
        if "<@" in path.read_text(encoding="utf-8") or "<#" in path.read_text(encoding="utf-8"))
    assert marked == []
