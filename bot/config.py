"""Settings from the environment (12-factor) and the optional `debrief.yaml`.

Both are read once, by the composition root, and passed down; nothing else reads
`os.environ`. Tokens are kept out of `repr` so a logged Settings never leaks them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.alerts import KINDS as ALERT_KINDS
from bot.domain.alerts import Notify, Repeat, Route, Step, Wait
from bot.domain.alerts import Policy as EscalationPolicy
from bot.domain.factors import DEFAULT_CATEGORIES, check_categories
from bot.domain.incidents import Severity
from bot.domain.nudges import NudgePolicy
from bot.domain.permissions import Admins, Policy, parse_rule
from bot.domain.postmortem import DuePolicy, parse_due_policy
from bot.domain.trends import WeeklySchedule, parse_weekday
from bot.errors import ConfigError
from bot.templating import templates_dir
from bot.yamlfile import read_yaml

DEFAULT_DATABASE_URL = "sqlite:///debrief.db"
DEFAULT_CONFIG_FILE = "debrief.yaml"


DEFAULT_SEVERITIES: tuple[Severity, ...] = (
    Severity("SEV1", "Critical: customers cannot use the product"),
    Severity("SEV2", "Major: a key feature is degraded"),
    Severity("SEV3", "Minor: limited impact"),
    Severity("SEV4", "Low: no customer impact yet"),
)


@dataclass(frozen=True)
class TimelineConfig:
    marker_emoji: str = "pushpin"        # reacting with it marks a message as key
    mitigated_status: str = "monitoring"  # reaching it stops the time-to-mitigate clock
    backdate_limit: timedelta = timedelta(days=7)  # how far before the declaration a note may go


@dataclass(frozen=True)
class PostmortemConfig:
    templates_dir: Path | None = None      # a team's own templates; rendered in the sandbox
    template: str = "postmortem.md.j2"
    template_by_severity: Mapping[str, str] = field(default_factory=dict)
    # Parsed at load ("5 business days" -> DuePolicy(5, True); "none" -> None), so the
    # scheduler's every tick only looks the policy up.
    due: Mapping[str, DuePolicy | None] = field(
        default_factory=lambda: {"SEV1": DuePolicy(3, business=False),
                                 "SEV2": DuePolicy(5, business=True)})
    required_approvals: int = 1          # reviewers' approvals needed to publish (0: none)
    publish_channel: str | None = None   # where the published summary goes too
    archive_on_publish: bool = True      # archive the channel once published and items settled
    factor_categories: tuple[str, ...] = DEFAULT_CATEGORIES  # contributing factors' categories

    def template_for(self, severity: str) -> str:
        return self.template_by_severity.get(severity, self.template)

    def due_policy(self, severity: str) -> DuePolicy | None:
        return self.due.get(severity)


@dataclass(frozen=True)
class OncallConfig:
    file: Path | None = None                     # schedules as code (YAML)
    invite_on_declare: tuple[str, ...] = ()      # schedules whose on-call joins new incidents
    remind_before: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class AlertIntegration:
    """One alert source (`alerts.integrations.<name>`): how its sender proves itself
    (the bearer token in the environment variable `token_env`; for `generic`, optionally
    an HMAC-SHA256 signature keyed by `secret_env`), and where its alerts go."""

    name: str
    kind: str
    token_env: str
    channel: str
    schedule: str | None = None
    escalation: str | None = None
    alertmanager_url: str | None = None  # for silences; default: the payload's externalURL
    secret_env: str | None = None
    routes: tuple[Route, ...] = ()
    heartbeat_window: timedelta = timedelta(minutes=10)  # kind: heartbeat: `window`


@dataclass(frozen=True)
class AlertsConfig:
    integrations: Mapping[str, AlertIntegration] = field(default_factory=dict)
    escalations: Mapping[str, EscalationPolicy] = field(default_factory=dict)


@dataclass(frozen=True)
class WeeklyReportConfig:
    """`reports.weekly`: where and when the weekly report is posted."""

    channel: str
    day: int = 0                # 0 = Monday
    at: time = time(9, 0)       # local time in `time_zone`
    time_zone: str | None = None  # default: the team's `time_zone`

    def schedule(self, team_zone: str) -> WeeklySchedule:
        return WeeklySchedule(self.day, self.at, ZoneInfo(self.time_zone or team_zone))


@dataclass(frozen=True)
class ReportsConfig:
    weekly: WeeklyReportConfig | None = None  # unset: no weekly report


@dataclass(frozen=True)
class DebriefConfig:
    """What a team may tune in `debrief.yaml`; every field has a sensible default."""

    announce_channel: str = "#incidents"
    # A private incident's announcement: "redacted" ("a private SEV1 was declared") or "none".
    private_announcement: str = "redacted"
    channel_prefix: str = "inc"
    rename_channel: bool = False  # a corrected title renames the incident channel too
    severities: tuple[Severity, ...] = DEFAULT_SEVERITIES
    roles: tuple[str, ...] = ("commander", "comms", "scribe")
    statuses: tuple[str, ...] = ("investigating", "identified", "monitoring", "resolved")
    time_zone: str = "UTC"
    timeline: TimelineConfig = TimelineConfig()
    postmortem: PostmortemConfig = PostmortemConfig()
    oncall: OncallConfig = OncallConfig()
    permissions: Policy = Policy()
    alerts: AlertsConfig = AlertsConfig()
    nudges: NudgePolicy = NudgePolicy()
    # False: a declaration that names no commander leaves the role empty until someone
    # takes it (the `commander` nudge asks the channel); True: the declarer holds it.
    declarer_is_commander: bool = True
    reports: ReportsConfig = ReportsConfig()

    @property
    def zone(self) -> ZoneInfo:
        """The team's time zone (`time_zone` is checked at load; ZoneInfo caches it)."""
        return ZoneInfo(self.time_zone)

    @property
    def severity_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.severities)

    @property
    def factor_categories(self) -> tuple[str, ...]:
        """Contributing factors' categories (`postmortem.factor_categories`)."""
        return self.postmortem.factor_categories

    @property
    def default_severity(self) -> str:
        """The least severe level: declaring without one should not wake everybody."""
        return self.severities[-1].name

    @property
    def resolved_status(self) -> str:
        """The last status in the list is the one that means "over"."""
        return self.statuses[-1]


@dataclass(frozen=True)
class Settings:
    """Process settings from the environment."""

    bot_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    config_path: Path | None = None
    port: int = 3000
    log_format: str = "text"
    scheduler_interval: float = 30.0
    slack_pace: float = 1.0  # chat.postMessage per second per channel (0: no pacing)
    host: str = "0.0.0.0"  # interface `run` listens on (DEBRIEF_HOST; --host overrides)
    metrics_token: str | None = field(default=None, repr=False)  # bearer token for /metrics
    # Alert integrations' secrets, read from the variables debrief.yaml names (token_env,
    # secret_env): variable name -> value.
    alert_secrets: Mapping[str, str] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        """The dataclass repr, but the database URL's password is masked (tokens are
        left out altogether)."""
        shown = [f"{f.name}={hide_password(self.database_url)!r}" if f.name == "database_url"
                 else f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr]
        return f"Settings({', '.join(shown)})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        port_text = environ.get("PORT", "3000")
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigError(f"PORT must be a TCP port number (1-65535), not {port_text!r}.")
        config_path: Path | None
        if environ.get("DEBRIEF_CONFIG"):
            config_path = Path(environ["DEBRIEF_CONFIG"])
            if not config_path.is_file():
                raise ConfigError(
                    f"DEBRIEF_CONFIG points at {config_path}, which is not a file: "
                    "fix the path or unset DEBRIEF_CONFIG to use the defaults."
                )
        else:
            default = Path(DEFAULT_CONFIG_FILE)
            config_path = default if default.is_file() else None
        api_url = environ.get("SLACK_API_URL") or None
        if api_url and not api_url.endswith("/"):
            api_url += "/"
        log_format = environ.get("DEBRIEF_LOG_FORMAT", "text")
        if log_format not in ("text", "json"):
            raise ConfigError(f"DEBRIEF_LOG_FORMAT must be 'text' or 'json', not {log_format!r}.")
        interval = _number(environ, "DEBRIEF_SCHEDULER_INTERVAL", 30, 0.05, 3600, "seconds")
        pace = _number(environ, "DEBRIEF_SLACK_PACE", 1, 0, 100,
                       "messages per second per channel (0 turns pacing off)")
        return cls(
            scheduler_interval=interval,
            slack_pace=pace,
            bot_token=environ.get("SLACK_BOT_TOKEN") or None,
            signing_secret=environ.get("SLACK_SIGNING_SECRET") or None,
            app_token=environ.get("SLACK_APP_TOKEN") or None,
            api_url=api_url,
            database_url=environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            config_path=config_path,
            port=int(port_text),
            log_format=log_format,
            host=_host(environ),
            metrics_token=environ.get("DEBRIEF_METRICS_TOKEN") or None,
        )

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    def require_slack(self) -> None:
        """Fail with one clear line when `debrief run` lacks what its mode needs."""
        if not self.bot_token:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from "
                "your Slack app's 'OAuth & Permissions' page."
            )
        if not self.socket_mode and not self.signing_secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set (needed in HTTP mode): copy it from your Slack "
                "app's 'Basic Information' page, or set SLACK_APP_TOKEN to use Socket Mode."
            )


_USERINFO_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^\s/]*@")


def mask_url_passwords(text: str) -> str:
    """Every `scheme://user:password@` in `text` with the password as *** (up to the last
    @ of the authority, so an unescaped @ in a password does not leak the rest)."""
    return _USERINFO_PASSWORD.sub(r"\1***@", text)


def hide_password(url: str) -> str:
    """A database URL fit to show: SQLAlchemy's own rendering with the password as ***."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        pass
    return mask_url_passwords(url)


_HOST = re.compile(r"^[A-Za-z0-9.:_-]{1,253}$")


def _host(environ: Mapping[str, str]) -> str:
    host = environ.get("DEBRIEF_HOST") or "0.0.0.0"
    if not _HOST.match(host):
        raise ConfigError(f"DEBRIEF_HOST must be an IP address or host name, not {host!r}.")
    return host


def _number(environ: Mapping[str, str], name: str, default: float, low: float, high: float,
            unit: str) -> float:
    text = environ.get(name, str(default))
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # also false for NaN
        raise ConfigError(f"{name} must be {unit}, from {low:g} to {high:g}; not {text!r}.")
    return value


_SEV_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,19}$")
_WORD = re.compile(r"^[a-z][a-z0-9_-]{0,29}$")
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_-]{0,19}$")
KNOWN_KEYS = {"announce_channel", "private_announcement", "channel_prefix", "rename_channel",
              "severities", "roles", "statuses", "time_zone", "timeline", "postmortem", "oncall",
              "permissions", "alerts", "nudges", "declarer_is_commander", "reports"}
_EMOJI = re.compile(r"^:?[a-z0-9_+'-]{1,100}:?$")


def load_config(path: Path | None) -> DebriefConfig:
    """Read and validate `debrief.yaml`; errors name the file and the bad key."""
    if path is None:
        return DebriefConfig()
    return parse_config(read_yaml(path), source=str(path))  # bounded: see bot/yamlfile.py


def parse_config(raw: Any, *, source: str = "debrief.yaml") -> DebriefConfig:
    """The YAML document as typed, frozen values, one parser per section (parsed once, at
    load); each error names `source` and the bad key."""
    if raw is None:
        return DebriefConfig()
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of settings.")

    def bad(key: str, why: str) -> ConfigError:
        return ConfigError(f"{source}: {key} {why}")

    unknown = sorted(set(raw) - KNOWN_KEYS)
    if unknown:
        raise bad(unknown[0], f"is not a known setting (known: {', '.join(sorted(KNOWN_KEYS))}).")
    values: dict[str, Any] = {}
    if "announce_channel" in raw:
        values["announce_channel"] = _parse_announce_channel(raw["announce_channel"], bad)
    if "private_announcement" in raw:
        if raw["private_announcement"] not in ("redacted", "none"):
            raise bad("private_announcement", "must be 'redacted' or 'none'.")
        values["private_announcement"] = raw["private_announcement"]
    if "channel_prefix" in raw:
        values["channel_prefix"] = _parse_channel_prefix(raw["channel_prefix"], bad)
    if "rename_channel" in raw:
        if not isinstance(raw["rename_channel"], bool):
            raise bad("rename_channel", "must be true or false.")
        values["rename_channel"] = raw["rename_channel"]
    if "severities" in raw:
        values["severities"] = _parse_severities(raw["severities"], bad)
    for key in ("roles", "statuses"):
        if key in raw:
            values[key] = _parse_words(key, raw[key], bad)
    if "statuses" in values and len(values["statuses"]) < 2:
        raise bad("statuses", "needs at least two: an open one and, last, the resolved one.")
    if "roles" in values and "commander" not in values["roles"]:
        raise bad("roles", "must include 'commander': every incident has one.")
    if "time_zone" in raw:
        values["time_zone"] = _parse_time_zone(raw["time_zone"], bad)
    if "timeline" in raw:
        values["timeline"] = _parse_timeline(raw["timeline"], values.get("statuses"), bad)
    if "postmortem" in raw:
        values["postmortem"] = _parse_postmortem(raw["postmortem"], source, bad)
    if "oncall" in raw:
        values["oncall"] = _parse_oncall(raw["oncall"], source, bad)
    if "permissions" in raw:
        values["permissions"] = _parse_permissions(raw["permissions"], bad)
    if "alerts" in raw:
        values["alerts"] = _parse_alerts(raw["alerts"], bad)
    if "nudges" in raw:
        values["nudges"] = _parse_nudges(
            raw["nudges"], tuple(s.name for s in values.get("severities", DEFAULT_SEVERITIES)),
            bad)
    if "declarer_is_commander" in raw:
        if not isinstance(raw["declarer_is_commander"], bool):
            raise bad("declarer_is_commander", "must be true or false.")
        values["declarer_is_commander"] = raw["declarer_is_commander"]
    if "reports" in raw:
        values["reports"] = _parse_reports(raw["reports"], bad)
    return DebriefConfig(**values)


Bad = Callable[[str, str], ConfigError]  # (key, why) -> the error naming the file and key


def _parse_announce_channel(raw: Any, bad: Bad) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise bad("announce_channel", "must be a channel name like '#incidents' or an id.")
    return raw.strip()


def _parse_channel_prefix(raw: Any, bad: Bad) -> str:
    if not isinstance(raw, str) or not _PREFIX.match(raw):
        raise bad("channel_prefix", "must be 1-20 lowercase letters, digits, '-' or '_'.")
    return raw


def _parse_severities(raw: Any, bad: Bad) -> tuple[Severity, ...]:
    if not isinstance(raw, list) or not raw:
        raise bad("severities", "must be a non-empty list, most severe first.")
    parsed: list[Severity] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise bad(f"severities[{i}]", "must be a mapping with a 'name'.")
        if not _SEV_NAME.match(item["name"]):
            raise bad(f"severities[{i}].name", "must be a short word such as SEV1.")
        description = item.get("description", "")
        if not isinstance(description, str):
            raise bad(f"severities[{i}].description", "must be text.")
        parsed.append(Severity(item["name"].upper(), description))
    if len({s.name for s in parsed}) != len(parsed):
        raise bad("severities", "has the same name twice.")
    return tuple(parsed)


def _parse_words(key: str, raw: Any, bad: Bad) -> tuple[str, ...]:
    """`roles` and `statuses`: distinct lowercase words."""
    if not isinstance(raw, list) or not raw:
        raise bad(key, "must be a non-empty list of lowercase words.")
    for i, word in enumerate(raw):
        if not isinstance(word, str) or not _WORD.match(word):
            raise bad(f"{key}[{i}]", "must be a lowercase word (a-z, 0-9, '-', '_').")
    if len(set(raw)) != len(raw):
        raise bad(key, "has the same word twice.")
    return tuple(raw)


def _parse_time_zone(raw: Any, bad: Bad, key: str = "time_zone") -> str:
    """An IANA name, checked here so `DebriefConfig.zone` cannot fail later."""
    try:
        ZoneInfo(str(raw))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise bad(key, f"is not an IANA time zone name: {raw!r}.") from exc
    return str(raw)


_DURATION = re.compile(r"^(\d{1,4})\s*(m|min|h)$")


def _beside(source: str, raw: Any) -> Path:
    """A path from the file, resolved against the file's folder (the working directory
    when the settings did not come from a YAML file)."""
    base = Path(source).parent if source.endswith((".yaml", ".yml")) else Path(".")
    return (base / str(raw)).resolve()


_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _parse_reports(raw: Any, bad: Bad) -> ReportsConfig:
    if not isinstance(raw, dict):
        raise bad("reports", "must be a mapping (weekly).")
    unknown = sorted(set(raw) - {"weekly"})
    if unknown:
        raise bad(f"reports.{unknown[0]}", "is not a known setting (known: weekly).")
    weekly = raw.get("weekly")
    if weekly is None:
        return ReportsConfig()
    keys = {"channel", "day", "time", "time_zone"}
    if not isinstance(weekly, dict):
        raise bad("reports.weekly", f"must be a mapping ({', '.join(sorted(keys))}).")
    unknown = sorted(set(weekly) - keys)
    if unknown:
        raise bad(f"reports.weekly.{unknown[0]}",
                  f"is not a known setting (known: {', '.join(sorted(keys))}).")
    channel = weekly.get("channel")
    if not isinstance(channel, str) or not channel.strip():
        raise bad("reports.weekly.channel", "must be a channel name like '#incidents' or an id.")
    values: dict[str, Any] = {"channel": channel.strip()}
    if "day" in weekly:
        day = parse_weekday(str(weekly["day"]))
        if day is None:
            raise bad("reports.weekly.day", "must be a weekday such as monday.")
        values["day"] = day
    if "time" in weekly:
        # debrief.yaml's loader keeps an unquoted 9:00 as text (bot/yamlfile.py), so a
        # number here was typed as one: 9, 900 or 0900 is refused, not guessed at.
        given = weekly["time"]
        if isinstance(given, int | float) and not isinstance(given, bool):
            raise bad("reports.weekly.time", f"{given} is not a time of day: write it "
                      "like \"09:00\" (24-hour).")
        match = _CLOCK.match(str(given).strip())
        if not match:
            raise bad("reports.weekly.time", "must be a time of day like \"09:00\" (24-hour).")
        values["at"] = time(int(match.group(1)), int(match.group(2)))
    if "time_zone" in weekly:
        values["time_zone"] = _parse_time_zone(weekly["time_zone"], bad, "reports.weekly.time_zone")
    return ReportsConfig(WeeklyReportConfig(**values))


def _parse_oncall(raw: Any, source: str, bad: Bad) -> OncallConfig:
    if not isinstance(raw, dict):
        raise bad("oncall", "must be a mapping (file, invite_on_declare, remind_before).")
    unknown = sorted(set(raw) - {"file", "invite_on_declare", "remind_before"})
    if unknown:
        raise bad(f"oncall.{unknown[0]}", "is not a known setting.")
    values: dict[str, Any] = {}
    if "file" in raw:
        path = _beside(source, raw["file"])
        if not path.is_file():
            raise bad("oncall.file", f"is not a file: {path}.")
        values["file"] = path
    if "invite_on_declare" in raw:
        names = raw["invite_on_declare"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise bad("oncall.invite_on_declare", "must be a list of schedule names.")
        values["invite_on_declare"] = tuple(names)
    if "remind_before" in raw:
        match = _DURATION.match(str(raw["remind_before"]).strip())
        if not match:
            raise bad("oncall.remind_before", "must be like 15m or 1h.")
        n = int(match.group(1))
        values["remind_before"] = timedelta(hours=n) if match.group(2) == "h" else timedelta(minutes=n)
    return OncallConfig(**values)


_NUDGE_AFTER = re.compile(r"^(\d{1,4})\s*(m|min|h|d)$")
NUDGE_KEYS = ("update_after", "commander_after", "open_after")


def _parse_nudge_after(key: str, raw: Any, bad: Bad) -> timedelta | None:
    """`30m`, `2h`, `7d` (1 minute to 365 days), or `none` (off)."""
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in ("none", "off")) \
            or raw is False:
        return None
    match = _NUDGE_AFTER.match(str(raw).strip())
    if not match:
        raise bad(key, f"must be a duration like 30m, 2h or 7d, or none (got {str(raw)[:30]!r}).")
    n, unit = int(match.group(1)), match.group(2)
    after = {"h": timedelta(hours=n), "d": timedelta(days=n)}.get(unit, timedelta(minutes=n))
    if not timedelta(minutes=1) <= after <= timedelta(days=365):
        raise bad(key, "must be between 1m and 365d (or none).")
    return after


def _parse_nudges(raw: Any, severities: tuple[str, ...], bad: Bad) -> NudgePolicy:
    """`nudges:` `update_after` (one duration for every severity, or a mapping severity ->
    duration; a severity left out gets none), `commander_after`, `open_after`."""
    if not isinstance(raw, dict):
        raise bad("nudges", f"must be a mapping ({', '.join(NUDGE_KEYS)}).")
    unknown = sorted(set(raw) - set(NUDGE_KEYS))
    if unknown:
        raise bad(f"nudges.{unknown[0]}", f"is not a known setting (known: {', '.join(NUDGE_KEYS)}).")
    values: dict[str, Any] = {}
    if "update_after" in raw:
        spec = raw["update_after"]
        if isinstance(spec, dict):
            update: dict[str, timedelta] = {}
            for name, after in spec.items():
                severity = next((s for s in severities if s.lower() == str(name).lower()), None)
                if severity is None:
                    raise bad(f"nudges.update_after.{name}",
                              f"is not a severity (known: {', '.join(severities)}).")
                found = _parse_nudge_after(f"nudges.update_after.{name}", after, bad)
                if found is not None:
                    update[severity] = found
            values["update_after"] = update
        else:
            every = _parse_nudge_after("nudges.update_after", spec, bad)
            values["update_after"] = {s: every for s in severities} if every else {}
    for key in ("commander_after", "open_after"):
        if key in raw:
            values[key] = _parse_nudge_after(f"nudges.{key}", raw[key], bad)
    return NudgePolicy(**values)


_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP = re.compile(r"^@?[a-z0-9][a-z0-9._-]{0,79}$|^S[A-Z0-9]{2,}$")


def _parse_permissions(raw: Any, bad: Bad) -> Policy:
    """`permissions:`: `incident_admins` and `oncall_admins` (a user group's handle or
    id, or a list of user ids) and `rules` (action: [who may, ...]) over the defaults."""
    if not isinstance(raw, dict):
        raise bad("permissions", "must be a mapping (incident_admins, oncall_admins, rules).")
    unknown = sorted(set(raw) - {"incident_admins", "oncall_admins", "rules"})
    if unknown:
        raise bad(f"permissions.{unknown[0]}", "is not a known setting.")
    values: dict[str, Any] = {}
    for key in ("incident_admins", "oncall_admins"):
        if key in raw:
            values[key] = _parse_admins(f"permissions.{key}", raw[key], bad)
    if "rules" in raw:
        if not isinstance(raw["rules"], dict):
            raise bad("permissions.rules", "must map actions to who may, e.g. "
                      "resolve: [commander, incident_admins].")
        rules = dict(Policy().rules)
        for name, parties in raw["rules"].items():
            try:
                act, who = parse_rule(str(name), parties)
            except ValueError as exc:
                raise bad(f"permissions.rules.{name}", str(exc)) from None
            rules[act] = who
        values["rules"] = rules
    return Policy(**values)


def _parse_admins(key: str, raw: Any, bad: Bad) -> Admins:
    if isinstance(raw, str) and _GROUP.match(raw.strip()):
        return Admins(usergroup=raw.strip().lstrip("@"))
    if isinstance(raw, list) and all(isinstance(u, str) and _USER_ID.match(u) for u in raw):
        return Admins(users=frozenset(raw))
    raise bad(key, "must be a user group (its handle, e.g. '@incident-admins', or id) "
                   "or a list of user ids such as [U012ABCDEF].")


def _parse_postmortem(raw: Any, source: str, bad: Bad) -> PostmortemConfig:
    if not isinstance(raw, dict):
        raise bad("postmortem", "must be a mapping (templates_dir, template, ...).")
    allowed = {"templates_dir", "template", "template_by_severity", "due", "required_approvals",
               "publish_channel", "archive_on_publish", "factor_categories"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise bad(f"postmortem.{unknown[0]}", f"is not a known setting ({', '.join(sorted(allowed))}).")
    values: dict[str, Any] = {}
    folder: Path | None = None
    if "templates_dir" in raw:
        folder = _beside(source, raw["templates_dir"])
        if not folder.is_dir():
            raise bad("postmortem.templates_dir", f"is not a folder: {folder}.")
        values["templates_dir"] = folder
    names: list[tuple[str, Any]] = []
    if "template" in raw:
        names.append(("postmortem.template", raw["template"]))
        values["template"] = raw["template"]
    if "template_by_severity" in raw:
        mapping = raw["template_by_severity"]
        if not isinstance(mapping, dict):
            raise bad("postmortem.template_by_severity", "must map severities to template files.")
        values["template_by_severity"] = {str(k).upper(): v for k, v in mapping.items()}
        names += [(f"postmortem.template_by_severity.{k}", v) for k, v in mapping.items()]
    for key, name in names:
        if not isinstance(name, str) or not name or Path(name).name != name:
            raise bad(key, "must be a template file name in the templates folder.")
        if not ((folder and (folder / name).is_file()) or (templates_dir() / name).is_file()):
            raise bad(key, f"names {name!r}, which is in neither templates folder.")
    if "due" in raw:
        due = raw["due"]
        if not isinstance(due, dict):
            raise bad("postmortem.due", "must map severities to '3 days', '5 business days' or none.")
        values["due"] = _parse_due(due, bad)
    if "required_approvals" in raw:
        count = raw["required_approvals"]
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 10:
            raise bad("postmortem.required_approvals", "must be a whole number from 0 to 10.")
        values["required_approvals"] = count
    if "publish_channel" in raw and raw["publish_channel"] is not None:
        channel = raw["publish_channel"]
        if not isinstance(channel, str) or not channel.strip():
            raise bad("postmortem.publish_channel",
                      "must be a channel name like '#postmortems' or an id.")
        values["publish_channel"] = channel.strip()
    if "archive_on_publish" in raw:
        if not isinstance(raw["archive_on_publish"], bool):
            raise bad("postmortem.archive_on_publish", "must be true or false.")
        values["archive_on_publish"] = raw["archive_on_publish"]
    if "factor_categories" in raw:
        listed = raw["factor_categories"]
        if not isinstance(listed, list):
            raise bad("postmortem.factor_categories",
                      "must be a list, e.g. [technical, process, organisational].")
        try:
            values["factor_categories"] = check_categories(listed)
        except ValueError as exc:
            raise bad("postmortem.factor_categories", f"is not valid: {exc}.") from exc
    return PostmortemConfig(**values)


def _parse_due(raw: dict[Any, Any], bad: Bad) -> dict[str, DuePolicy | None]:
    """`postmortem.due`: severity -> its policy, parsed once here rather than on every
    scheduler tick; `none` is kept as None (no postmortem due)."""
    policies: dict[str, DuePolicy | None] = {}
    for severity, text in raw.items():
        try:
            policy = parse_due_policy(str(text))
        except ValueError as exc:
            raise bad(f"postmortem.due.{severity}", f"is not valid: {exc}.") from exc
        policies[str(severity).upper()] = policy
    return policies


def _parse_timeline(raw: Any, statuses: tuple[str, ...] | None, bad: Bad) -> TimelineConfig:
    if not isinstance(raw, dict):
        raise bad("timeline", "must be a mapping (marker_emoji, mitigated_status, "
                  "backdate_limit).")
    unknown = sorted(set(raw) - {"marker_emoji", "mitigated_status", "backdate_limit"})
    if unknown:
        raise bad(f"timeline.{unknown[0]}", "is not a known setting.")
    values: dict[str, Any] = {}
    if "marker_emoji" in raw:
        emoji = raw["marker_emoji"]
        if not isinstance(emoji, str) or not _EMOJI.match(emoji):
            raise bad("timeline.marker_emoji", "must be an emoji name such as pushpin.")
        values["marker_emoji"] = emoji.strip(":")
    if "mitigated_status" in raw:
        status = raw["mitigated_status"]
        known = statuses or DebriefConfig().statuses
        if status not in known:
            raise bad("timeline.mitigated_status", f"must be one of the statuses: {', '.join(known)}.")
        values["mitigated_status"] = status
    if "backdate_limit" in raw:
        values["backdate_limit"] = _parse_backdate_limit(raw["backdate_limit"], bad)
    return TimelineConfig(**values)


_SPAN = re.compile(r"^(\d{1,5})\s*(m|min|h|d)$")
MAX_BACKDATE = timedelta(days=365)


def _parse_backdate_limit(raw: Any, bad: Bad) -> timedelta:
    """`timeline.backdate_limit`: like 7d, 48h or 30m; at most a year."""
    match = _SPAN.match(str(raw).strip())
    if not match:
        raise bad("timeline.backdate_limit", "must be like 7d, 48h or 30m.")
    n, unit = int(match.group(1)), match.group(2)
    limit = {"d": timedelta(days=n), "h": timedelta(hours=n)}.get(unit, timedelta(minutes=n))
    if limit > MAX_BACKDATE:
        raise bad("timeline.backdate_limit", "must be at most 365d.")
    return limit


def settings_and_config(environ: Mapping[str, str] | None = None) -> tuple[Settings, DebriefConfig]:
    environ = os.environ if environ is None else environ
    settings = Settings.from_env(environ)
    config = load_config(settings.config_path)
    names = {n for i in config.alerts.integrations.values() for n in (i.token_env, i.secret_env)
             if n}
    secrets = {n: environ[n] for n in names if environ.get(n)}
    if secrets:
        from dataclasses import replace

        settings = replace(settings, alert_secrets=secrets)
    return settings, config


def missing_alert_secrets(settings: Settings, config: DebriefConfig) -> list[str]:
    """The environment variables alert integrations name that are not set (`run` stops
    on them: an integration without its token would refuse every sender)."""
    return sorted({n for i in config.alerts.integrations.values()
                   for n in (i.token_env, i.secret_env) if n and n not in settings.alert_secrets})


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
_INTEGRATION = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
_CHANNEL = re.compile(r"^#?[a-z0-9][a-z0-9_-]{0,79}$|^[CG][A-Z0-9]{2,}$")
_WAIT = re.compile(r"^(\d{1,4})\s*(s|m|min|h)$")
MAX_STEPS = 50


def _parse_alerts(raw: Any, bad: Bad) -> AlertsConfig:
    """`alerts:` — integrations (one per sender) and escalation policies."""
    if not isinstance(raw, dict):
        raise bad("alerts", "must be a mapping (integrations, escalations).")
    unknown = sorted(set(raw) - {"integrations", "escalations"})
    if unknown:
        raise bad(f"alerts.{unknown[0]}", "is not a known setting (integrations, escalations).")
    escalations: dict[str, EscalationPolicy] = {}
    for name, steps in (raw.get("escalations") or {}).items():
        escalations[str(name)] = _parse_escalation(f"alerts.escalations.{name}", steps, bad)
    integrations: dict[str, AlertIntegration] = {}
    raw_integrations = raw.get("integrations") or {}
    if not isinstance(raw_integrations, dict):
        raise bad("alerts.integrations", "must map integration names to their settings.")
    for name, spec in raw_integrations.items():
        key = f"alerts.integrations.{name}"
        if not isinstance(name, str) or not _INTEGRATION.match(name):
            raise bad(key, "must be named with 1-50 lowercase letters, digits, '-' or '_' "
                      "(it is the URL path /alerts/<name>).")
        integrations[name] = _parse_integration(name, key, spec, escalations, bad)
    return AlertsConfig(integrations=integrations, escalations=escalations)


def _parse_integration(name: str, key: str, spec: Any,
                       escalations: Mapping[str, EscalationPolicy], bad: Bad) -> AlertIntegration:
    allowed = {"kind", "token_env", "schedule", "channel", "escalation", "alertmanager_url",
               "secret_env", "routes", "window"}
    if not isinstance(spec, dict):
        raise bad(key, f"must be a mapping ({', '.join(sorted(allowed))}).")
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise bad(f"{key}.{unknown[0]}", f"is not a known setting ({', '.join(sorted(allowed))}).")
    kind = spec.get("kind")
    if kind not in ALERT_KINDS:
        raise bad(f"{key}.kind", f"must be one of {', '.join(ALERT_KINDS)}.")
    for env in ("token_env", "secret_env"):
        if env in spec and (not isinstance(spec[env], str) or not _ENV_NAME.match(spec[env])):
            raise bad(f"{key}.{env}", "must be the name of an environment variable.")
    if "token_env" not in spec:
        raise bad(f"{key}.token_env", "is required: the environment variable holding the "
                  "sender's bearer token.")
    if "secret_env" in spec and kind != "generic":
        raise bad(f"{key}.secret_env", "is only for kind: generic.")
    channel = spec.get("channel")
    if not isinstance(channel, str) or not _CHANNEL.match(channel.strip()):
        raise bad(f"{key}.channel", "is required: a channel name like '#alerts' or an id.")
    schedule = spec.get("schedule")
    if schedule is not None and not isinstance(schedule, str):
        raise bad(f"{key}.schedule", "must be a schedule name.")
    escalation = spec.get("escalation")
    if escalation is not None and escalation not in escalations:
        raise bad(f"{key}.escalation", f"names {escalation!r}, which is not under "
                  "alerts.escalations.")
    url = spec.get("alertmanager_url")
    if url is not None and (not isinstance(url, str)
                            or not url.startswith(("http://", "https://"))):
        raise bad(f"{key}.alertmanager_url", "must be an http(s) URL such as "
                  "http://alertmanager:9093.")
    routes: list[Route] = []
    for i, item in enumerate(spec.get("routes") or []):
        where = f"{key}.routes[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("match"), dict) or \
                set(item) - {"match", "schedule", "channel", "escalation"}:
            raise bad(where, "must be {match: {label: value}, schedule?, channel?, escalation?}.")
        match = {str(k): str(v) for k, v in item["match"].items()}
        for label, value in match.items():
            if value.startswith("~"):
                try:
                    re.compile(value[1:])
                except re.error as exc:
                    raise bad(f"{where}.match.{label}",
                              f"is not a regular expression ({exc}).") from None
        if item.get("escalation") is not None and item["escalation"] not in escalations:
            raise bad(f"{where}.escalation", "is not under alerts.escalations.")
        if item.get("channel") is not None and not _CHANNEL.match(str(item["channel"])):
            raise bad(f"{where}.channel", "must be a channel name like '#alerts' or an id.")
        routes.append(Route(match, item.get("schedule"), item.get("channel"),
                            item.get("escalation")))
    window = timedelta(minutes=10)
    if "window" in spec:
        if kind != "heartbeat":
            raise bad(f"{key}.window", "is only for kind: heartbeat.")
        window = _parse_wait(f"{key}.window", spec["window"], bad)
        if not window:
            raise bad(f"{key}.window", "must be longer than 0s (like 10m).")
    if kind == "heartbeat" and routes:
        raise bad(f"{key}.routes", "are not for kind: heartbeat (its pings carry no labels).")
    return AlertIntegration(name=name, kind=kind, token_env=spec["token_env"],
                            channel=channel.strip(), schedule=schedule, escalation=escalation,
                            alertmanager_url=url.rstrip("/") if url else None,
                            secret_env=spec.get("secret_env"), routes=tuple(routes),
                            heartbeat_window=window)


def _parse_wait(key: str, raw: Any, bad: Bad) -> timedelta:
    match = _WAIT.match(str(raw).strip())
    if not match:
        raise bad(key, "must be like 30s, 5m or 1h.")
    n, unit = int(match.group(1)), match.group(2)
    return {"s": timedelta(seconds=n), "h": timedelta(hours=n)}.get(unit, timedelta(minutes=n))


def _parse_escalation(key: str, raw: Any, bad: Bad) -> EscalationPolicy:
    """A policy: a list of `notify: oncall | {users: [...]} | {usergroup: x} | {layer: x}`,
    `wait: 5m` and `repeat: N` (repeat everything before it N more times)."""
    if not isinstance(raw, list) or not raw:
        raise bad(key, "must be a list of steps (notify, wait, repeat).")
    steps: list[Step] = []
    for i, item in enumerate(raw):
        where = f"{key}[{i}]"
        if not isinstance(item, dict) or len(item) != 1:
            raise bad(where, "must be one of notify: ..., wait: 5m, repeat: N.")
        (verb, arg), = item.items()
        if verb == "wait":
            steps.append(Wait(_parse_wait(where + ".wait", arg, bad)))
        elif verb == "repeat":
            if not isinstance(arg, int) or isinstance(arg, bool) or not 1 <= arg <= 10:
                raise bad(where + ".repeat", "must be a whole number from 1 to 10.")
            if not any(isinstance(s, Wait) for s in steps):
                raise bad(where + ".repeat", "needs a wait before it: without one every "
                          "round pages at once, a burst of the same messages.")
            steps.append(Repeat(arg))
        elif verb == "notify":
            steps.append(_parse_notify(where + ".notify", arg, bad))
        else:
            raise bad(where, f"{verb!r} is not a step (notify, wait, repeat).")
    policy = EscalationPolicy(str(key.rsplit(".", 1)[-1]), tuple(steps))
    if not any(isinstance(s, Notify) for s in steps):
        raise bad(key, "notifies nobody: add a notify step.")
    if len(policy.expanded()) > MAX_STEPS:
        raise bad(key, f"has more than {MAX_STEPS} steps once repeats are unrolled.")
    return policy


def _parse_notify(key: str, raw: Any, bad: Bad) -> Notify:
    if raw == "oncall":
        return Notify(oncall=True)
    if isinstance(raw, dict) and len(raw) == 1:
        (what, arg), = raw.items()
        if what == "users" and isinstance(arg, list) and arg and \
                all(isinstance(u, str) and _USER_ID.match(u) for u in arg):
            return Notify(users=tuple(arg))
        if what == "usergroup" and isinstance(arg, str) and _GROUP.match(arg):
            return Notify(usergroup=arg.lstrip("@"))
        if what == "layer" and isinstance(arg, str) and arg:
            return Notify(layer=arg)
    raise bad(key, "must be oncall, {users: [U012ABCDEF]}, {usergroup: handle} or "
              "{layer: name}.")
