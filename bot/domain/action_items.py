"""Action items: parsing `/incident action`, due dates in people's own zones, and when
reminders are due. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from dateutil import parser as dateparser
from dateutil.relativedelta import relativedelta

from bot.domain.text import parse_user_ref
from bot.errors import Echo, UserError

TYPES = ("prevent", "mitigate", "detect", "process")
DEFAULT_TYPE = "prevent"
REMIND_AT = time(9, 0)  # "the morning of the due date", in the owner's zone
DUE_EXAMPLES = "e.g. `due friday`, `due in 2 weeks`, `due 2026-12-15`"


@dataclass(frozen=True)
class ActionItem:
    id: int
    text: str
    owner: str | None
    due_on: date | None
    type: str
    status: str  # open | done
    created_at: datetime
    created_by: str
    closed_at: datetime | None = None
    incident_number: int | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def overdue(self, today: date) -> bool:
        return self.is_open and self.due_on is not None and self.due_on < today


@dataclass(frozen=True)
class ActionRequest:
    text: str
    owner: str | None
    due_on: date | None
    type: str


_IN = re.compile(r"^in\s+(\d{1,3})\s+(day|days|week|weeks|month|months)$", re.IGNORECASE)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_due(phrase: str, today: date) -> date:
    """`today`, `tomorrow`, `in 2 weeks`, `friday` (the coming one, today included),
    `next friday` (strictly after today), or a date such as `2026-12-15` / `Dec 15`."""
    words = phrase.lower().split()
    text = " ".join(words)
    if text == "today":
        return today
    if text == "tomorrow":
        return today + timedelta(days=1)
    match = _IN.match(text)
    if match:
        n, unit = int(match.group(1)), match.group(2).rstrip("s")
        step = {"day": relativedelta(days=n), "week": relativedelta(weeks=n),
                "month": relativedelta(months=n)}[unit]
        due: date = today + step
        return due
    strict = words[:1] == ["next"]
    day = words[-1] if words else ""
    if len(words) in (1, 2) and day in _WEEKDAYS and (len(words) == 1 or strict):
        ahead = (_WEEKDAYS.index(day) - today.weekday()) % 7
        if strict and ahead == 0:
            ahead = 7
        return today + timedelta(days=ahead)
    try:
        parsed: datetime = dateparser.parse(phrase, default=datetime(today.year, today.month,
                                                                     today.day))
    except (dateparser.ParserError, ValueError, OverflowError) as exc:
        raise UserError("I couldn't read `", Echo(phrase[:40]),
                        f"` as a date; {DUE_EXAMPLES}.") from exc
    if parsed.date() < today:
        raise UserError(f"{parsed.date():%Y-%m-%d} is in the past; {DUE_EXAMPLES}.")
    return parsed.date()


# The most forgiving day to read a date against (a leap year, a 31-day month, the 1st):
# a date phrase that fails here fails on every day, so it is refused before any I/O.
_ANY_DAY = datetime(2000, 1, 1)


def _check_due_syntax(phrase: str) -> None:
    """Raise `parse_due`'s error for a phrase no day could read as a date."""
    words = phrase.lower().split()
    text = " ".join(words)
    if text in ("today", "tomorrow") or _IN.match(text):
        return
    if len(words) in (1, 2) and words[-1] in _WEEKDAYS and (len(words) == 1 or words[0] == "next"):
        return
    try:
        dateparser.parse(phrase, default=_ANY_DAY)
    except (dateparser.ParserError, ValueError, OverflowError) as exc:
        raise UserError("I couldn't read `", Echo(phrase[:40]),
                        f"` as a date; {DUE_EXAMPLES}.") from exc


def check_action_item(words: list[str]) -> None:
    """Refuse, from the text alone, what `parse_action_item` would refuse on any day: an
    unknown type, a `due` with no date, a short due phrase that is no date at all (and,
    with no `due` at all, everything). A date in the past needs the author's today."""
    rest = list(words)
    if len(rest) >= 2 and rest[-2].lower() == "type":
        if rest[-1].lower() not in TYPES:
            raise UserError("Type `", Echo(rest[-1][:20]), f"` isn't one I know: {', '.join(TYPES)}.")
        rest = rest[:-2]
    dues = [i for i in range(1, len(rest)) if rest[i].lower() == "due"]
    if not dues:
        parse_action_item(words, _ANY_DAY.date())
        return
    # Only the last `due` can fail outright: an earlier one's phrase has more than two words.
    phrase = " ".join(w for w in rest[dues[-1] + 1:] if _mention(w) is None)
    if not phrase:
        raise UserError(f"Due when? {DUE_EXAMPLES}.")
    if len(phrase.split()) <= 2:
        _check_due_syntax(phrase)


def _mention(word: str) -> str | None:
    """The user id of a Slack mention (`<@U1|bob>`). A bare word such as `UTF8` that
    merely looks like an id stays text: it must not turn into an owner and a ping."""
    return parse_user_ref(word) if word.startswith("<@") else None


def parse_action_item(words: list[str], today: date) -> ActionRequest:
    """`<text> [@owner] [due <when>] [type prevent|mitigate|detect|process]`.

    The options come after the text; a `due` whose remainder is not a date stays text
    ("errors due to retries")."""
    rest = list(words)
    kind = DEFAULT_TYPE
    if len(rest) >= 2 and rest[-2].lower() == "type":
        if rest[-1].lower() not in TYPES:
            raise UserError("Type `", Echo(rest[-1][:20]), f"` isn't one I know: {', '.join(TYPES)}.")
        kind = rest[-1].lower()
        rest = rest[:-2]
    due_on = None
    for i in range(len(rest) - 1, -1, -1):
        if rest[i].lower() == "due" and i > 0:
            phrase = " ".join(w for w in rest[i + 1:] if _mention(w) is None)
            owners = [w for w in rest[i + 1:] if _mention(w)]
            if not phrase:
                raise UserError(f"Due when? {DUE_EXAMPLES}.")
            try:
                due_on = parse_due(phrase, today)
            except UserError:
                if len(phrase.split()) <= 2:
                    raise
                continue
            rest = rest[:i] + owners
            break
    owner = None
    mentions = [w for w in rest if _mention(w)]
    if mentions:
        owner = parse_user_ref(mentions[-1])
        rest.remove(mentions[-1])
    text = " ".join(rest).strip()
    if not text:
        raise UserError("What needs doing? e.g. `/incident action Add an alert on replication "
                        "lag @alice due friday type detect`.")
    if len(text) > 500:
        raise UserError("Keep an action item under 500 characters.")
    return ActionRequest(text=text, owner=owner, due_on=due_on, type=kind)


def remind_at(due_on: date, zone: tzinfo) -> datetime:
    """09:00 on the due date in the owner's zone, as a UTC instant."""
    return datetime.combine(due_on, REMIND_AT, tzinfo=zone).astimezone(UTC)


def digest_window(now: datetime, zone: tzinfo) -> tuple[str, datetime] | None:
    """The weekly digest goes out on Monday from 09:00 (team zone) until the day ends;
    returns the week's key and the start, or None outside the window."""
    local = now.astimezone(zone)
    if local.weekday() != 0 or local.time() < REMIND_AT:
        return None
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}", datetime.combine(local.date(), REMIND_AT, tzinfo=zone)

