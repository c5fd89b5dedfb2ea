"""Reading a moment people type ("tomorrow 09:00", "fri 18:00", "2026-12-01 08:30",
or ISO 8601 with an offset) in their own zone. Pure."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from dateutil import parser as dateparser

from bot.errors import Moment, UserError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EXAMPLE = "e.g. `tomorrow 09:00`, `friday 18:00`, `2026-12-01 08:30` (your time zone)"


def parse_when(phrase: str, now: datetime, zone: tzinfo) -> datetime:
    text = phrase.strip()
    if not text:
        raise UserError(f"When? {EXAMPLE}.")
    if re.match(r"^\d{4}-\d{2}-\d{2}T", text):  # ISO 8601 instant, maybe with an offset
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise UserError(f"I couldn't read `{text[:40]}`; {EXAMPLE}.") from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=zone, fold=0)
        return _utc(parsed, text)
    local_now = now.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    words = text.lower().split()
    day = local_now.date()
    first = words[0]
    if first in ("today", "tomorrow", "yesterday"):
        day += timedelta(days={"today": 0, "tomorrow": 1, "yesterday": -1}[first])
        words = words[1:]
    elif any(w.startswith(first) for w in WEEKDAYS) and len(first) >= 3:
        target = next(i for i, w in enumerate(WEEKDAYS) if w.startswith(first))
        day += timedelta(days=(target - day.weekday()) % 7)
        words = words[1:]
    rest = " ".join(words) or "00:00"
    try:
        parsed = dateparser.parse(rest, default=datetime.combine(day, datetime.min.time()))
    except (dateparser.ParserError, ValueError, OverflowError) as exc:
        raise UserError(f"I couldn't read `{text[:40]}` as a time; {EXAMPLE}.") from exc
    return _utc(parsed.replace(tzinfo=zone, fold=0), text)


def _utc(local: datetime, text: str) -> datetime:
    """To UTC; a date at the very edge of the calendar (year 1 or 9999) cannot be
    converted and is a user error, not a crash."""
    try:
        return local.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise UserError(f"`{text[:40]}` is too far from today; {EXAMPLE}.") from exc


def describe_span(span: timedelta) -> str:
    """7 days, 48 hours, 30 minutes: how a configured limit reads in a reply."""
    seconds = int(span.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


FUTURE_GRACE = timedelta(minutes=1)  # clocks differ; a note "now" may read a minute ahead


def check_backdate(at: datetime, *, declared_at: datetime, now: datetime,
                   limit: timedelta) -> None:
    """A backdated note lies between `limit` before the declaration and a minute from
    now: earlier is almost always a typo (wrong year or month), and the timeline and its
    durations should not stretch back months because of one."""
    if at > now + FUTURE_GRACE:
        raise UserError("That time is in the future; a note can only be backdated.")
    earliest = declared_at - limit
    if at < earliest:
        raise UserError(
            f"That is more than {describe_span(limit)} before the incident was declared "
            "(", Moment(declared_at), "); a note can go back to ", Moment(earliest),
            " at the earliest.")


_CLOCK = re.compile(r"^\d{1,2}(:\d{2})?(am|pm)?$|^\d{1,2}(am|pm)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(t.*)?$")


def _one_moment(words: list[str]) -> bool:
    """Words that can name one moment on their own: at most one clock time, one date and
    one day word, and at least one of them (so `18:00 tomorrow` is not half a span)."""
    clocks = sum(bool(_CLOCK.match(w)) for w in words)
    dates = sum(bool(_DATE.match(w)) for w in words)
    days = sum(w in ("today", "tomorrow", "yesterday") or
               (len(w) >= 3 and any(d.startswith(w) for d in WEEKDAYS)) for w in words)
    return clocks <= 1 and dates <= 1 and days <= 1 and clocks + dates + days >= 1


def parse_span(words: list[str], now: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """`<from> to <to>`, or `<from> <to>` when exactly one split of the words reads as
    two times with the end after the start (`2026-12-01T18:00 2026-12-02T09:00`,
    `today 18:00 tomorrow 09:00`); an ambiguous pair asks for `to`."""
    lowered = [w.lower() for w in words]
    if "to" in lowered:
        split = lowered.index("to")
        start = parse_when(" ".join(words[:split]), now, zone)
        end = parse_when(" ".join(words[split + 1:]), now, zone)
        if end <= start:
            raise UserError("The end must be after the start.")
        return start, end
    readings: list[tuple[datetime, datetime]] = []
    for split in range(1, len(words)):
        if not (_one_moment(lowered[:split]) and _one_moment(lowered[split:])):
            continue
        try:
            start = parse_when(" ".join(words[:split]), now, zone)
            end = parse_when(" ".join(words[split:]), now, zone)
        except UserError:
            continue
        if end > start and (start, end) not in readings:
            readings.append((start, end))
    if len(readings) == 1:
        return readings[0]
    if readings:
        raise UserError(f"I can read those times more than one way; put `to` between the "
                        f"start and the end, {EXAMPLE}.")
    raise UserError(f"Give a start and an end: `<from> to <to>` (or two full times), {EXAMPLE}.")
