"""Start-up does not pay for the chart: Pillow is loaded only when a chart is drawn
(`bot/charts.py` imports it inside `render_trends_png`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_start_up_and_the_cli_do_not_import_pillow() -> None:
    """The command line (every command module), the composition root, the app, the
    scheduler and the chart module itself load without Pillow."""
    loaded = _loaded_after("import bot.cli, bot.runtime, bot.app, bot.scheduler, bot.charts, "
                           "bot.slack.gateway, bot.services.weekly")
    assert "bot.charts" in loaded
    assert not {m for m in loaded if m == "PIL" or m.startswith("PIL.")}


def test_drawing_a_chart_imports_pillow() -> None:
    """The import is there, just deferred: drawing loads it."""
    loaded = _loaded_after(
        "from datetime import datetime, UTC\n"
        "from bot.domain.trends import compute_trends\n"
        "from bot.charts import render_trends_png\n"
        "t = compute_trends([], [], [], end=datetime(2026, 12, 7, tzinfo=UTC), statuses=('a', 'b'),"
        " mitigated_status='b', policies={})\n"
        "assert render_trends_png(t).startswith(b'\\x89PNG')")
    assert "PIL.Image" in loaded
