"""The Slack stand-in is its own package beside the product: the bot's Slack adapter and
everything the bot runs never import it (only `debrief demo` does)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The one product module allowed to use the stand-in: the demo plays Slack with it.
USES_STANDIN = {ROOT / "bot/demo.py"}


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports (absolute names, relative ones resolved)."""
    names: set[str] = set()
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}".rstrip(".")
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_no_product_module_imports_the_standin() -> None:
    """Nothing in bot/ outside bot/standin (bar the demo) imports a stand-in module."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "bot").rglob("*.py"))
        if (ROOT / "bot/standin") not in path.parents and path not in USES_STANDIN
        and any("standin" in m.split(".") for m in _imported_modules(path))
    ]
    assert offenders == []


def test_running_the_bot_loads_no_standin_module() -> None:
    """Importing what `debrief run` serves with, in a fresh interpreter, loads no stand-in."""
    code = ("import sys, bot.app, bot.runtime, bot.server, bot.scheduler; "
            "print(sorted(m for m in sys.modules if 'standin' in m.split('.')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
