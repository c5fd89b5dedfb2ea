"""Hand-written fakes that record state (no mocks): tests assert on what ended up where."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.domain.action_items import ActionItem
from bot.domain.alerts import AlertGroup
from bot.domain.factors import FactorForm
from bot.domain.home import Home
from bot.domain.incidents import EventRecord, Incident
from bot.domain.nudges import Nudge
from bot.domain.postmortem import Postmortem, SectionForm
from bot.domain.timeline import ChatMessage
from bot.domain.trends import Trends
from bot.errors import ChatError
from bot.services.ports import (
    DirectNotice,
    OverrideNotice,
    PostmortemSummary,
    PublishedSummary,
    RelatedIncident,
    ReviewRequest,
    SharedFile,
)
from bot.slack.messages import notice_text, topic_text


@dataclass
class FakeChat:
    """Implements the whole of bot.services.ports.Chat in memory (tests/structure/test_ports.py
    checks that it keeps up with the port). Each method records what Slack would show."""

    channels: dict[str, str] = field(default_factory=dict)  # id -> name
    members: dict[str, set[str]] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)
    cards: dict[str, Incident] = field(default_factory=dict)  # ts -> latest incident shown
    pins: set[str] = field(default_factory=set)
    announcements: list[tuple[str, Incident]] = field(default_factory=list)
    posted: list[tuple[str, str, bool]] = field(default_factory=list)  # (channel, kind, announce)
    failures: dict[str, list[str]] = field(default_factory=dict)
    taken_names: set[str] = field(default_factory=set)  # channels someone else made
    card_channels: dict[str, str] = field(default_factory=dict)  # card ts -> channel id
    announce_ts: dict[int, tuple[str, str]] = field(default_factory=dict)  # number -> (ch, ts)
    # People Slack knows: id -> (name, time zone); e-mail -> id for schedules' members.
    users: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    history: dict[str, list[ChatMessage]] = field(default_factory=dict)  # channel -> messages
    url: str | None = "https://fake.slack.com/"
    postmortems: list[tuple[int, str]] = field(default_factory=list)  # (number, content)
    direct: list[tuple[str, str]] = field(default_factory=list)  # (user, text)
    ephemeral: list[tuple[str, str, str]] = field(default_factory=list)  # (channel, user, text)
    digests: list[tuple[str, list[ActionItem], date]] = field(default_factory=list)
    weekly_reports: list[tuple[str, Trends]] = field(default_factory=list)
    shifts: list[tuple[str, str, datetime, datetime | None]] = field(default_factory=list)
    handoffs: list[tuple[str, str, str | None, datetime | None]] = field(default_factory=list)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    forms: list[tuple[str, str | None]] = field(default_factory=list)  # (trigger, channel)
    announcement_updates: list[Incident] = field(default_factory=list)
    cover_requests: list[tuple[str, str, str, datetime, datetime]] = field(
        default_factory=list)
    homes: dict[str, Home] = field(default_factory=dict)  # user -> their Home tab
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)  # id -> name, data, user
    said: list[tuple[str, str]] = field(default_factory=list)  # (channel, text) posted
    override_notices: list[tuple[str, OverrideNotice]] = field(default_factory=list)
    nudges: list[tuple[Incident, Nudge]] = field(default_factory=list)
    alert_messages: dict[int, AlertGroup] = field(default_factory=dict)  # group id -> shown
    alert_pages: list[tuple[str, int]] = field(default_factory=list)  # (user, group id) DMs
    alert_lines: list[tuple[str, int, str]] = field(default_factory=list)  # incident lines
    review_requests: list[tuple[str, ReviewRequest]] = field(default_factory=list)
    published: list[tuple[str, PublishedSummary, str | None]] = field(default_factory=list)
    related: list[tuple[int, list[RelatedIncident]]] = field(default_factory=list)
    archived: set[str] = field(default_factory=set)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def fail(self, method: str, code: str, times: int = 1) -> None:
        self.failures.setdefault(method, []).extend([code] * times)

    def _maybe_fail(self, method: str) -> None:
        if self.failures.get(method):
            raise ChatError(method, self.failures[method].pop(0))

    def create_channel(self, name: str, *, private: bool = False) -> str:
        self._maybe_fail("create_channel")
        if name in self.taken_names or name in self.channels.values():
            raise ChatError("conversations.create", "name_taken")
        channel_id = f"C{next(self._ids):04d}"
        self.channels[channel_id] = name
        self.members[channel_id] = set()
        return channel_id

    def invite(self, channel_id: str, user_ids: Sequence[str]) -> None:
        self._maybe_fail("invite")
        self.members[channel_id].update(user_ids)

    def set_topic(self, channel_id: str, incident: Incident) -> None:
        self._maybe_fail("set_topic")
        self.topics[channel_id] = topic_text(incident)

    def post_card(self, channel_id: str, incident: Incident) -> str:
        self._maybe_fail("post_card")
        ts = f"{next(self._ids)}.000100"
        self.cards[ts] = incident
        self.card_channels[ts] = channel_id
        return ts

    def update_card(self, incident: Incident, before: Incident | None = None) -> None:
        self._maybe_fail("update_card")
        assert incident.card_ts in self.cards
        self.cards[incident.card_ts] = incident

    def pin(self, channel_id: str, ts: str) -> None:
        self._maybe_fail("pin")
        self.pins.add(ts)

    def announce(self, channel: str, incident: Incident) -> tuple[str, str]:
        self._maybe_fail("announce")
        self.announcements.append((channel, incident))
        posted = "CANNOUNCE", f"{next(self._ids)}.000200"
        self.announce_ts[incident.number] = posted
        return posted

    def find_incident_channel(self, name: str, incident: Incident) -> str | None:
        """Channels this fake created are the bot's; `taken_names` are someone else's."""
        self._maybe_fail("find_incident_channel")
        mine = [cid for cid, n in self.channels.items() if n == name]
        foreign_card = any(self.card_channels.get(ts) in mine and shown.number != incident.number
                           for ts, shown in self.cards.items())
        return mine[0] if mine and not foreign_card else None

    def find_card(self, channel_id: str, incident: Incident) -> str | None:
        self._maybe_fail("find_card")
        return next((ts for ts, shown in self.cards.items()
                     if self.card_channels.get(ts) == channel_id
                     and shown.number == incident.number), None)

    def find_announcement(self, channel: str, incident: Incident) -> tuple[str, str] | None:
        self._maybe_fail("find_announcement")
        return self.announce_ts.get(incident.number)

    def post_event(self, incident: Incident, event: EventRecord, *, announce: bool) -> None:
        self._maybe_fail("post_event")
        self.posted.append((incident.channel_id or "", event.kind, announce))

    def user_time_zone(self, user_id: str) -> str | None:
        self._maybe_fail("user_time_zone")
        return self.users.get(user_id, ("", None))[1]

    def user_name(self, user_id: str) -> str | None:
        self._maybe_fail("user_name")
        return self.users.get(user_id, ("", None))[0] or None

    def workspace_url(self) -> str | None:
        self._maybe_fail("workspace_url")
        return self.url

    def channel_messages(self, channel_id: str) -> list[ChatMessage]:
        self._maybe_fail("channel_messages")
        return sorted(self.history.get(channel_id, []), key=lambda m: float(m.ts))

    def post_postmortem(self, incident: Incident, postmortem: Postmortem, content: str,
                        summary: PostmortemSummary,
                        replace_ts: str | None = None) -> tuple[str, str]:
        self._maybe_fail("post_postmortem")
        self.postmortems.append((incident.number, content))
        return f"F{next(self._ids):04d}", replace_ts or f"{next(self._ids)}.000100"

    def open_sections_form(self, trigger_id: str, form: SectionForm, channel_id: str,
                           message_ts: str | None) -> None:
        self.forms.append((trigger_id, channel_id))

    def open_factor_form(self, trigger_id: str, form: FactorForm, channel_id: str,
                         message_ts: str | None) -> None:
        self.forms.append((trigger_id, channel_id))

    def send_direct(self, user_id: str, text: str) -> None:
        self._maybe_fail("send_direct")
        self.direct.append((user_id, text))

    def send_notice(self, user_id: str, notice: DirectNotice) -> None:
        self.send_direct(user_id, notice_text(notice))

    def post_digest(self, channel: str, items: list[ActionItem], today: date) -> None:
        self._maybe_fail("post_digest")
        self.digests.append((channel, items, today))

    def post_weekly_report(self, channel: str, trends: Trends) -> None:
        self._maybe_fail("post_weekly_report")
        self.weekly_reports.append((channel, trends))

    def resolve_user(self, member: str) -> str | None:
        self._maybe_fail("resolve_user")
        return self.emails.get(member) if "@" in member else member

    def tell_override(self, user_id: str, notice: OverrideNotice) -> None:
        self._maybe_fail("tell_override")
        self.override_notices.append((user_id, notice))

    def remind_shift(self, user_id: str, schedule: str, start: datetime,
                     end: datetime | None) -> None:
        self._maybe_fail("remind_shift")
        self.shifts.append((user_id, schedule, start, end))

    def post_handoff(self, channel: str, schedule: str, user_id: str | None,
                     until: datetime | None) -> None:
        self._maybe_fail("post_handoff")
        self.handoffs.append((channel, schedule, user_id, until))

    def set_usergroup(self, handle: str, user_ids: list[str]) -> None:
        self._maybe_fail("set_usergroup")
        self.usergroups[handle] = list(user_ids)

    def open_item_form(self, trigger_id: str, number: int, item: ActionItem,
                       channel_id: str) -> None:
        self._maybe_fail("open_item_form")
        self.forms.append((trigger_id, channel_id))

    def open_rephrase_form(self, trigger_id: str, number: int, entry_id: int, channel_id: str,
                           text: str, advice: list[str]) -> None:
        self._maybe_fail("open_rephrase_form")
        self.forms.append((trigger_id, channel_id))

    def channel_members(self, channel_id: str) -> frozenset[str]:
        self._maybe_fail("channel_members")
        return frozenset(self.members.get(channel_id, set()))

    def usergroup_members(self, group: str) -> frozenset[str]:
        self._maybe_fail("usergroup_members")
        return frozenset(self.usergroups.get(group.lstrip("@"), []))

    def forget_members(self, channel_id: str) -> None:
        """Nothing cached here: members are read from `members` every time."""

    def rename_channel(self, channel_id: str, name: str) -> None:
        self._maybe_fail("rename_channel")
        if name in self.channels.values() and self.channels.get(channel_id) != name:
            raise ChatError("conversations.rename", "name_taken")
        self.channels[channel_id] = name

    def update_announcement(self, incident: Incident) -> None:
        self._maybe_fail("update_announcement")
        self.announcement_updates.append(incident)

    def open_declare_form(self, trigger_id: str, channel_id: str | None) -> None:
        self._maybe_fail("open_declare_form")
        self.forms.append((trigger_id, channel_id))

    def open_edit_form(self, trigger_id: str, incident: Incident) -> None:
        self._maybe_fail("open_edit_form")
        self.forms.append((trigger_id, incident.channel_id))

    def post_ephemeral(self, channel: str, user_id: str, text: str) -> bool:
        """Shown only in channels the fake knows with the person in them."""
        self._maybe_fail("post_ephemeral")
        if user_id not in self.members.get(channel, set()):
            return False
        self.ephemeral.append((channel, user_id, text))
        return True

    def ask_for_cover(self, channel: str, schedule: str, user_id: str, start: datetime,
                      end: datetime) -> None:
        self._maybe_fail("ask_for_cover")
        self.cover_requests.append((channel, schedule, user_id, start, end))

    def post_alert(self, group: AlertGroup) -> tuple[str, str]:
        self._maybe_fail("chat.postMessage")
        self.alert_messages[group.id] = group
        return "CALERTS", f"{next(self._ids)}.000100"

    def update_alert(self, group: AlertGroup) -> None:
        self._maybe_fail("chat.update")
        self.alert_messages[group.id] = group
    def ask_review(self, reviewer: str, request: ReviewRequest) -> None:
        self._maybe_fail("ask_review")
        self.review_requests.append((reviewer, request))

    def post_nudge(self, incident: Incident, nudge: Nudge) -> None:
        self._maybe_fail("post_nudge")
        self.nudges.append((incident, nudge))

    def open_update_form(self, trigger_id: str, number: int, channel_id: str | None) -> None:
        self._maybe_fail("open_update_form")
        self.forms.append((trigger_id, channel_id))

    def open_changes_form(self, trigger_id: str, number: int) -> None:
        self._maybe_fail("open_changes_form")
        self.forms.append((trigger_id, None))

    def post_published(self, channel: str, summary: PublishedSummary,
                       thread_ts: str | None = None) -> None:
        self._maybe_fail("post_published")
        self.published.append((channel, summary, thread_ts))

    def post_related(self, incident: Incident, related: Sequence[RelatedIncident]) -> None:
        self._maybe_fail("post_related")
        self.related.append((incident.number, list(related)))

    def archive_channel(self, channel_id: str) -> None:
        self._maybe_fail("archive_channel")
        if channel_id in self.archived:
            raise ChatError("conversations.archive", "already_archived")
        self.archived.add(channel_id)

    def publish_home(self, user_id: str, home: Home) -> None:
        self._maybe_fail("publish_home")
        self.homes[user_id] = home

    def file_info(self, file_id: str) -> SharedFile:
        self._maybe_fail("file_info")
        name, data, user = self.files[file_id]
        return SharedFile(file_id, name, len(data), "markdown", user, f"fake://{file_id}")

    def download_file(self, file: SharedFile, limit: int) -> bytes:
        self._maybe_fail("download_file")
        return self.files[file.id][1][:limit + 1]

    def post_in_channel(self, channel_id: str, text: str) -> None:
        self._maybe_fail("post_in_channel")
        self.said.append((channel_id, text))

    def send_alert(self, user_id: str, group: AlertGroup) -> None:
        self._maybe_fail("send_alert")
        self.alert_pages.append((user_id, group.id))

    def post_alert_line(self, channel_id: str, group: AlertGroup, what: str,
                        firing: int) -> None:
        self._maybe_fail("post_alert_line")
        self.alert_lines.append((channel_id, group.id, what))

    def open_attach_form(self, trigger_id: str, group: AlertGroup,
                         incidents: list[Incident]) -> None:
        self._maybe_fail("open_attach_form")
        self.forms.append((trigger_id, None))

    def open_alert_declare_form(self, trigger_id: str, group: AlertGroup, severity: str,
                                channel_id: str | None) -> None:
        self._maybe_fail("open_alert_declare_form")
        self.forms.append((trigger_id, channel_id))
