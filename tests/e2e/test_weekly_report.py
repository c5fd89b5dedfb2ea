"""Reports people look at (issue 16): the 12-week trends in `/incident stats`, the same
chart from `debrief stats --chart`, and the weekly report posted once with its PNG."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from freezegun import freeze_time
from PIL import Image
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.charts import render_trends_png
from bot.cli import main
from bot.config import parse_config
from bot.domain.trends import compute_trends
from bot.services.reminders import send_due
from tests.conftest import Stack, start_stack
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
    for bad, said in ((tmp_path / "out.jpg", "name it FILE.png"),
                      (tmp_path / "missing" / "out.png", "does not exist"),
                      (tmp_path / "dir.png", "is a folder")):
        if bad.name == "dir.png":
            bad.mkdir()
        with pytest.raises(SystemExit) as exited:
            main(["stats", "--chart", str(bad)])
        assert exited.value.code == 2
        captured = capsys.readouterr()
        assert said in captured.err and captured.out == ""  # refused before any figure


WEEKLY = """
time_zone: Europe/Paris
reports:
  weekly: {channel: "#incidents", day: monday, time: "09:00"}
nudges: {update_after: none, commander_after: none, open_after: none}  # only the report
"""


def _report_messages(stack: Stack) -> list[Any]:
    return [m for m in stack.slack.channels[stack.announce].messages.values() if m.files]


def _uploaded_png(stack: Stack, message: Any) -> bytes:
    [shared] = message.files
    stored = stack.slack.files[shared["id"]]
    assert stored["name"].endswith(".png") and stored["data"] is not None
    return bytes(stored["data"])


def test_weekly_report_posts_once_with_its_chart(engine: Engine, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Monday 09:00 Paris: once at 09:00 however often the scheduler ticks, a valid PNG
    attached, the figures in the text; the same image as `debrief stats --chart` at that
    moment. A report whose time passed while the bot was not running is posted once
    when it starts (here the first tick posts last Monday's); after three weeks down,
    one report (the latest), not three."""
    config = parse_config(yaml.safe_load(WEEKLY))
    stack = start_stack(engine, config)
    try:
        _two_weeks_of_incidents(stack)
        with freeze_time("2026-12-07 07:59:00") as frozen:  # 08:59 in Paris
            assert send_due(stack.runtime.deps) == ["weekly-report:2026-11-30"]
            assert send_due(stack.runtime.deps) == []
            frozen.move_to("2026-12-07 08:00:00")
            assert send_due(stack.runtime.deps) == ["weekly-report:2026-12-07"]
            frozen.move_to("2026-12-07 08:00:30")
            assert send_due(stack.runtime.deps) == []
            frozen.move_to("2026-12-10 12:00:00")
            assert send_due(stack.runtime.deps) == []
            frozen.move_to("2026-12-07 08:00:00")
            monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
            monkeypatch.setenv("DEBRIEF_CONFIG", str(tmp_path / "debrief.yaml"))
            (tmp_path / "debrief.yaml").write_text(WEEKLY)
            assert main(["stats", "--chart", str(tmp_path / "local.png")]) == 0
        [last_week, report] = _report_messages(stack)
        assert "to Mon 30 Nov 09:00" in last_week.text
        png = _uploaded_png(stack, report)
        assert_png(png)
        assert png == (tmp_path / "local.png").read_bytes()  # the same picture locally
        assert "Weekly incident report" in report.text
        assert "Mon 30 Nov 09:00 to Mon 07 Dec 09:00 (CET)" in report.text
        assert "*Incidents*: 1 (SEV1: 1)" in report.text
        assert "MTTA *4m* ↓ (12m)" in report.text
        assert "*Action items*: 0 opened · 0 closed · 0 overdue now" in report.text
        upload = stack.slack.calls_of("files.getUploadURLExternal")[-1]
        assert upload.args["filename"] == "debrief-weekly-2026-12-07.png"
        assert "MTTA this week 4 min" in str(upload.args["alt_txt"])
    finally:
        stack.close()
    assert stack.slack.violations == []
    restarted = start_stack(engine, config)  # back after three missed Mondays
    try:
        with freeze_time("2026-12-30 10:00:00"):
            assert send_due(restarted.runtime.deps) == ["weekly-report:2026-12-28"]
            assert send_due(restarted.runtime.deps) == []
        [late] = _report_messages(restarted)
        assert_png(_uploaded_png(restarted, late))
        assert "to Mon 28 Dec 09:00" in late.text
    finally:
        restarted.close()


def test_a_failed_upload_is_retried_on_the_next_tick(engine: Engine) -> None:
    """Slack refusing the upload releases the claim: the next tick posts the report."""
    stack = start_stack(engine, parse_config(yaml.safe_load(WEEKLY)))
    try:
        stack.slack.fail("files.completeUploadExternal", "internal_error", times=1)
        with freeze_time("2026-12-07 08:05:00"):
            assert send_due(stack.runtime.deps) == []
            assert send_due(stack.runtime.deps) == ["weekly-report:2026-12-07"]
        assert len(_report_messages(stack)) == 1
    finally:
        stack.close()


def test_the_stand_in_refuses_a_png_that_is_not_one(stack: Stack) -> None:
    """A `.png` upload must decode: a truncated chart is refused and recorded."""
    client = WebClient(token=stack.slack.token, base_url=stack.slack.api_url)
    good = render_trends_png(compute_trends(
        [], [], [], end=datetime(2026, 12, 7, tzinfo=UTC), statuses=("open", "resolved"),
        mitigated_status="resolved", policies={}))
    client.files_upload_v2(channel=stack.announce, content=good, filename="ok.png")
    with pytest.raises(SlackApiError) as refused:
        client.files_upload_v2(channel=stack.announce, content=good[:-30], filename="bad.png")
    assert refused.value.response["error"] == "invalid_file_type"
    assert stack.slack.violations and "not a valid PNG" in stack.slack.violations[-1]
    stack.slack.violations.clear()


def test_weekly_report_config_is_validated() -> None:
    """Bad reports.weekly settings name the key."""
    from bot.errors import ConfigError

    for weekly, key in (({"day": "monday"}, "reports.weekly.channel"),
                        ({"channel": "#x", "day": "funday"}, "reports.weekly.day"),
                        ({"channel": "#x", "time": "25:00"}, "reports.weekly.time"),
                        ({"channel": "#x", "time": 9}, "reports.weekly.time"),  # 00:09?
                        ({"channel": "#x", "time_zone": "Mars/Base"}, "reports.weekly.time_zone"),
                        ({"channel": "#x", "every": "week"}, "reports.weekly.every")):
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            parse_config({"reports": {"weekly": weekly}})
    from bot.yamlfile import parse_yaml

    for typed in (900, 60, 1439, 0):  # 09:00 as 0900? 01:00? refused, not guessed at
        with pytest.raises(ConfigError, match="not a time of day"):
            parse_config({"reports": {"weekly": {"channel": "#x", "time": typed}}})
    parsed = parse_config(parse_yaml(  # debrief.yaml's loader: unquoted 16:30 is text
        "reports: {weekly: {channel: '#eng', day: Fri, time: 16:30}}", "debrief.yaml"))
    assert parsed.reports.weekly is not None and parsed.reports.weekly.day == 4
    assert parsed.reports.weekly.at.isoformat() == "16:30:00"
