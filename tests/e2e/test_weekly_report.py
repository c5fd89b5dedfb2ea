"""Reports people look at (issue 16): the 12-week trends in `/incident stats`, the same
chart from `debrief stats --chart`, and the weekly report posted once with its PNG."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from freezegun import freeze_time
from PIL import Image

from bot.cli import main
from tests.conftest import Stack
from tests.helpers import declare, slash


def assert_png(data: bytes) -> Image.Image:
    """A real PNG of the chart's size, that decodes completely."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert 5_000 < len(data) < 500_000, len(data)
    image = Image.open(io.BytesIO(data))
    image.load()  # decodes every pixel: a truncated or corrupt file raises here
    assert image.format == "PNG" and image.size == (960, 480)
    assert len(image.getcolors(maxcolors=100_000) or []) > 10  # lines and text, not blank
    return image


def _two_weeks_of_incidents(stack: Stack) -> None:
    """Three weeks ago: acknowledged after 20 minutes; this week: after 4 minutes."""
    with freeze_time("2026-11-16 10:00:00", tick=True) as frozen:
        old = declare(stack, "declare sev2 Slow checkout")
        frozen.move_to("2026-11-16 10:20:00")
        slash(stack, "ack", channel=old.channel_id)
        frozen.move_to("2026-12-01 10:00:00")
        new = declare(stack, "declare sev1 Payments down")
        frozen.move_to("2026-12-01 10:04:00")
        slash(stack, "ack", channel=new.channel_id)


def test_stats_show_this_week_against_the_12_week_median(stack: Stack) -> None:
    """/incident stats ends with this week's figures against the 12-week median, with
    arrows: MTTA 4m this week, median of 20m and 4m = 12m, so down."""
    _two_weeks_of_incidents(stack)
    with freeze_time("2026-12-02 12:00:00", tick=True):
        reply = stack.client.reply_to(stack.client.slash("stats", user="U01ALICE"))
    text = json.dumps(reply["blocks"], ensure_ascii=False)
    assert "This week vs 12-week median" in text
    assert "MTTA *4m* ↓ (12m)" in text, text
    assert "Incidents *1* ↑ (0)" in text


def test_cli_chart_writes_a_valid_png(stack: Stack, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`debrief stats --chart out.png` writes the trends chart and prints the figures."""
    _two_weeks_of_incidents(stack)
    monkeypatch.setenv("DATABASE_URL", stack.runtime.engine.url.render_as_string(
        hide_password=False))
    out = tmp_path / "out.png"
    with freeze_time("2026-12-02 12:00:00"):
        assert main(["stats", "--chart", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "This week vs 12-week median: incidents 1 ↑ (0) · MTTA 4m ↓ (12m)" in printed
    assert f"Chart written to {out}" in printed
    assert_png(out.read_bytes())
    with freeze_time("2026-12-02 12:00:00"):
        assert main(["stats", "--json", "--chart", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["trends"]["weeks"]) == 12
    assert data["trends"]["this_week_vs_median"]["acknowledge"]["direction"] == "down"
