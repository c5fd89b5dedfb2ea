"""Settings from the environment and debrief.yaml: defaults, validation, secrecy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import DebriefConfig, Settings, load_config, parse_config
from bot.errors import ConfigError


def test_defaults_without_any_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No environment and no file: SQLite in the current folder and the documented defaults."""
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///debrief.db"
    assert settings.config_path is None and settings.port == 3000 and not settings.socket_mode
    config = load_config(None)
    assert config.announce_channel == "#incidents"
    assert config.severity_names == ("SEV1", "SEV2", "SEV3", "SEV4")
    assert config.statuses[-1] == "resolved"


def test_debrief_yaml_is_found_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """./debrief.yaml is used when DEBRIEF_CONFIG is not set."""
    (tmp_path / "debrief.yaml").write_text("channel_prefix: ops\nannounce_channel: C0123\n")
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    config = load_config(settings.config_path)
    assert (config.channel_prefix, config.announce_channel) == ("ops", "C0123")


def test_full_example_parses() -> None:
    """The README's example debrief.yaml is accepted as written."""
    config = parse_config({
        "announce_channel": "#incidents", "channel_prefix": "inc",
        "severities": [{"name": "SEV1", "description": "Critical"}, {"name": "sev2"}],
        "roles": ["commander", "comms", "scribe"],
        "statuses": ["investigating", "identified", "monitoring", "resolved"],
        "time_zone": "Europe/Berlin",
    })
    assert config.severity_names == ("SEV1", "SEV2")
    assert config.time_zone == "Europe/Berlin"


@pytest.mark.parametrize("raw, key", [
    ({"channel_prefx": "inc"}, "channel_prefx"),
    ({"channel_prefix": "Inc!"}, "channel_prefix"),
    ({"severities": []}, "severities"),
    ({"severities": [{"name": "SEV1"}, {"description": "no name"}]}, "severities[1]"),
    ({"severities": [{"name": "SEV1"}, {"name": "sev1"}]}, "severities"),
    ({"roles": ["comms"]}, "roles"),
    ({"statuses": ["Open", "closed"]}, "statuses[0]"),
    ({"statuses": ["only"]}, "statuses"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"announce_channel": 12}, "announce_channel"),
    ({"postmortem": {"required_approvals": -1}}, "postmortem.required_approvals"),
    ({"postmortem": {"required_approvals": "two"}}, "postmortem.required_approvals"),
    ({"postmortem": {"required_approvals": True}}, "postmortem.required_approvals"),
    ({"postmortem": {"publish_channel": ""}}, "postmortem.publish_channel"),
    ({"postmortem": {"archive_on_publish": "yes"}}, "postmortem.archive_on_publish"),
    ({"postmortem": {"factor_categories": "technical"}}, "postmortem.factor_categories"),
    ({"postmortem": {"factor_categories": ["process", "Process"]}},
     "postmortem.factor_categories"),
    ({"postmortem": {"factor_categories": []}}, "postmortem.factor_categories"),
    ({"postmortem": {"factor_categories": ["notes"]}}, "postmortem.factor_categories"),
    (["not", "a", "mapping"], "top level"),
])
def test_invalid_settings_name_the_bad_key(raw: object, key: str) -> None:
    """Each mistake is reported with the key that holds it."""
    with pytest.raises(ConfigError) as info:
        parse_config(raw, source="debrief.yaml")
    assert key in str(info.value)


def test_tokens_never_appear_in_repr() -> None:
    """A logged Settings object does not leak secrets."""
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-secret-1", "SLACK_SIGNING_SECRET": "s3cr3t",
                                  "SLACK_APP_TOKEN": "xapp-secret-2"})
    shown = repr(settings)
    assert "xoxb-secret-1" not in shown and "s3cr3t" not in shown and "xapp-secret-2" not in shown
    assert settings.socket_mode


def test_require_slack_explains_what_is_missing() -> None:
    """HTTP mode needs the bot token and signing secret; Socket Mode needs no secret."""
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        Settings.from_env({}).require_slack()
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}).require_slack()
    Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}).require_slack()
    with pytest.raises(ConfigError, match="PORT"):
        Settings.from_env({"PORT": "http"})
    assert Settings.from_env({"SLACK_API_URL": "http://x/api"}).api_url == "http://x/api/"
    assert Settings.from_env({"DEBRIEF_SLACK_PACE": "0"}).slack_pace == 0
    assert Settings.from_env({"DEBRIEF_SCHEDULER_INTERVAL": "0.2"}).scheduler_interval == 0.2
    for name, value in (("DEBRIEF_SLACK_PACE", "fast"), ("DEBRIEF_SCHEDULER_INTERVAL", "0"),
                        ("DEBRIEF_SCHEDULER_INTERVAL", "nan")):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: value})
    assert DebriefConfig().default_severity == "SEV4"


@pytest.mark.parametrize("env, expected", [
    ({}, "SLACK_BOT_TOKEN is not set"),
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET is not set"),
    ({"DEBRIEF_CONFIG": "/nonexistent/debrief.yaml"}, "DEBRIEF_CONFIG points at"),
])
def test_debrief_run_fails_with_one_clear_line(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    """`debrief run` with missing settings: exit 2, one line on stderr, no traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"], cwd=tmp_path, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", **env}, timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]
    assert "Traceback" not in result.stderr


def test_invalid_yaml_file_fails_with_exit_2(tmp_path: Path) -> None:
    """A bad debrief.yaml stops `debrief incident list` with the file and key named."""
    (tmp_path / "debrief.yaml").write_text("severities: nope\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "incident", "list"], cwd=tmp_path, capture_output=True,
        text=True, env={"PATH": "/usr/bin:/bin"}, timeout=60,
    )
    assert result.returncode == 2
    assert "debrief.yaml: severities must be a non-empty list" in result.stderr


def test_config_values_are_parsed_once_into_types(tmp_path: Path) -> None:
    """Due policies, durations, paths and the zone come out of the loader typed, not as text."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from bot.domain.postmortem import DuePolicy

    (tmp_path / "oncall.yaml").write_text("schedules: []\n")
    config = parse_config({
        "time_zone": "Europe/Berlin",
        "timeline": {"backdate_limit": "48h"},
        "postmortem": {"due": {"sev2": "2 business days", "SEV3": "1 day", "SEV4": "none"}},
        "oncall": {"file": "oncall.yaml", "remind_before": "1h"},
    }, source=str(tmp_path / "debrief.yaml"))
    assert config.postmortem.due == {"SEV2": DuePolicy(2, business=True),
                                     "SEV3": DuePolicy(1, business=False), "SEV4": None}
    assert config.postmortem.due_policy("SEV2") == DuePolicy(2, business=True)
    assert config.postmortem.due_policy("SEV1") is None
    assert config.zone == ZoneInfo("Europe/Berlin")
    assert config.timeline.backdate_limit == timedelta(hours=48)
    assert config.oncall.remind_before == timedelta(hours=1)
    assert config.oncall.file == (tmp_path / "oncall.yaml").resolve()
    defaults = DebriefConfig()
    assert (defaults.postmortem.required_approvals, defaults.postmortem.publish_channel,
            defaults.postmortem.archive_on_publish) == (1, None, True)
    review = parse_config({"postmortem": {"required_approvals": 0, "archive_on_publish": False,
                                          "publish_channel": " #postmortems "}}).postmortem
    assert (review.required_approvals, review.publish_channel,
            review.archive_on_publish) == (0, "#postmortems", False)
    assert defaults.postmortem.factor_categories == ("technical", "process", "organisational")
    assert parse_config({"postmortem": {"factor_categories": ["Technical", "Human factors"]}}
                        ).postmortem.factor_categories == ("technical", "human factors")
    assert defaults.postmortem.due == {"SEV1": DuePolicy(3, business=False),
                                       "SEV2": DuePolicy(5, business=True)}
    assert defaults.zone == ZoneInfo("UTC")
