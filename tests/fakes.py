"""Hand-written fakes that record state (no mocks): tests assert on what ended up where."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.domain.incidents import EventRecord, Incident
from bot.errors import ChatError


@dataclass
class FakeChat:
    """Implements bot.services.ports.Chat in memory."""

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
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def fail(self, method: str, code: str, times: int = 1) -> None:
        self.failures.setdefault(method, []).extend([code] * times)

    def _maybe_fail(self, method: str) -> None:
        if self.failures.get(method):
            raise ChatError(method, self.failures[method].pop(0))

    def create_channel(self, name: str) -> str:
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

    def set_topic(self, channel_id: str, topic: str) -> None:
        self._maybe_fail("set_topic")
        self.topics[channel_id] = topic

    def post_card(self, channel_id: str, incident: Incident) -> str:
        self._maybe_fail("post_card")
        ts = f"{next(self._ids)}.000100"
        self.cards[ts] = incident
        self.card_channels[ts] = channel_id
        return ts

    def update_card(self, incident: Incident) -> None:
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
