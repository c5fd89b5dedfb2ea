"""The pure parsers of what people type: due dates of action items, moments and spans in
a person's own zone, stats periods and postmortem due policies. Explicit dates, no clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.action_items import parse_due
from bot.domain.postmortem import DuePolicy, parse_due_policy
from bot.domain.stats import parse_period
from bot.domain.when import parse_span, parse_when
from bot.errors import UserError

WEDNESDAY = date(2026, 11, 25)
NEW_YORK = ZoneInfo("America/New_York")  # UTC-5 in November, UTC-4 from 8 March 2026
NOON_UTC = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # 07:00 on Wednesday in New York


@pytest.mark.parametrize(("phrase", "expected"), [
    ("today", date(2026, 11, 25)),
    ("Tomorrow", date(2026, 11, 26)),
    ("in 3 days", date(2026, 11, 28)),
    ("in 1 day", date(2026, 11, 26)),
    ("in 2 weeks", date(2026, 12, 9)),
    ("IN 1 MONTH", date(2026, 12, 25)),
    ("friday", date(2026, 11, 27)),
    ("wednesday", date(2026, 11, 25)),  # the coming one, today included
    ("tuesday", date(2026, 12, 1)),
    ("next friday", date(2026, 11, 27)),  # strictly after today: this week's Friday
    ("next wednesday", date(2026, 12, 2)),  # strictly after today: a week on
    ("2026-12-15", date(2026, 12, 15)),
    ("Dec 15", date(2026, 12, 15)),
    ("15 January 2027", date(2027, 1, 15)),
])
def test_parse_due_reads_relative_and_absolute_dates(phrase: str, expected: date) -> None:
    """Relative words, weekdays and dates all resolve against the given day."""
    assert parse_due(phrase, WEDNESDAY) == expected


def test_parse_due_in_months_stays_within_the_month() -> None:
    """"in 1 month" from 31 January is the last day of February, not March."""
    assert parse_due("in 1 month", date(2026, 1, 31)) == date(2026, 2, 28)


def test_parse_due_refuses_a_past_date_with_examples() -> None:
    """A due date before today is refused, naming the date and giving examples."""
    with pytest.raises(UserError) as caught:
        parse_due("2026-11-01", WEDNESDAY)
    assert "2026-11-01 is in the past" in str(caught.value)
    assert "due friday" in str(caught.value)


@pytest.mark.parametrize("phrase", ["whenever", "next blursday", "in 2 fortnights"])
def test_parse_due_refuses_what_it_cannot_read(phrase: str) -> None:
    """Unreadable phrases are a user error that quotes the phrase back."""
    with pytest.raises(UserError) as caught:
        parse_due(phrase, WEDNESDAY)
    assert "couldn't read" in str(caught.value) and phrase in str(caught.value)


@pytest.mark.parametrize(("phrase", "expected"), [
    ("tomorrow 09:00", datetime(2026, 11, 26, 14, 0, tzinfo=UTC)),
    ("today 14:15", datetime(2026, 11, 25, 19, 15, tzinfo=UTC)),
    ("14:15", datetime(2026, 11, 25, 19, 15, tzinfo=UTC)),
    ("yesterday 23:30", datetime(2026, 11, 25, 4, 30, tzinfo=UTC)),
    ("fri 18:00", datetime(2026, 11, 27, 23, 0, tzinfo=UTC)),
    ("friday 18:00", datetime(2026, 11, 27, 23, 0, tzinfo=UTC)),
    ("wed 06:00", datetime(2026, 11, 25, 11, 0, tzinfo=UTC)),  # today's weekday is today
    ("tomorrow", datetime(2026, 11, 26, 5, 0, tzinfo=UTC)),  # midnight, local
    ("2026-12-01 08:30", datetime(2026, 12, 1, 13, 30, tzinfo=UTC)),
    ("2026-03-09 09:00", datetime(2026, 3, 9, 13, 0, tzinfo=UTC)),  # daylight time: UTC-4
    ("2026-11-25T10:00:00+01:00", datetime(2026, 11, 25, 9, 0, tzinfo=UTC)),
    ("2026-11-25T10:00:00Z", datetime(2026, 11, 25, 10, 0, tzinfo=UTC)),
    ("2026-11-25T10:00", datetime(2026, 11, 25, 15, 0, tzinfo=UTC)),  # no offset: local
])
def test_parse_when_reads_moments_in_the_persons_zone(phrase: str, expected: datetime) -> None:
    """Moments are read in the person's zone and returned as UTC instants."""
    assert parse_when(phrase, NOON_UTC, NEW_YORK) == expected


@pytest.mark.parametrize(("phrase", "words"), [
    ("", "When?"),
    ("   ", "When?"),
    ("2026-13-45T10:00", "couldn't read"),
    ("tomorrow banana", "couldn't read"),
])
def test_parse_when_refuses_empty_and_unreadable_text(phrase: str, words: str) -> None:
    """Empty or unreadable moments are a user error with examples."""
    with pytest.raises(UserError) as caught:
        parse_when(phrase, NOON_UTC, NEW_YORK)
    assert words in str(caught.value) and "tomorrow 09:00" in str(caught.value)


def test_parse_span_reads_both_ends_and_orders_them() -> None:
    """`<from> to <to>` gives two UTC instants; an end before the start is refused."""
    assert parse_span("tomorrow 09:00 to tomorrow 17:00".split(), NOON_UTC, NEW_YORK) == (
        datetime(2026, 11, 26, 14, 0, tzinfo=UTC), datetime(2026, 11, 26, 22, 0, tzinfo=UTC))
    with pytest.raises(UserError, match="end must be after the start"):
        parse_span("fri 18:00 to fri 09:00".split(), NOON_UTC, NEW_YORK)
    with pytest.raises(UserError, match="start and an end"):
        parse_span("tomorrow 09:00".split(), NOON_UTC, NEW_YORK)


@pytest.mark.parametrize(("text", "expected"), [
    (None, timedelta(days=30)),
    ("", timedelta(days=30)),
    ("30d", timedelta(days=30)),
    (" 7D ", timedelta(days=7)),
    ("12w", timedelta(weeks=12)),
    ("all", None),
])
def test_parse_period(text: str | None, expected: timedelta | None) -> None:
    """Stats periods: days, weeks or all; 30 days when none is given."""
    assert parse_period(text) == expected


@pytest.mark.parametrize("text", ["3m", "30", "d30", "12345d", "forever"])
def test_parse_period_refuses_other_shapes(text: str) -> None:
    """Anything but `<n>d`, `<n>w` or `all` is a user error with examples."""
    with pytest.raises(UserError, match="30d"):
        parse_period(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("3 days", DuePolicy(3, business=False)),
    ("1 day", DuePolicy(1, business=False)),
    ("5 business days", DuePolicy(5, business=True)),
    ("2 Business Days", DuePolicy(2, business=True)),
    ("none", None),
    (" None ", None),
])
def test_parse_due_policy(text: str, expected: DuePolicy | None) -> None:
    """Postmortem due policies: calendar days, business days, or none."""
    assert parse_due_policy(text) == expected


@pytest.mark.parametrize("text", ["soon", "3 weeks", "business days", "-1 days"])
def test_parse_due_policy_refuses_other_shapes(text: str) -> None:
    """Other shapes are refused with the expected form."""
    with pytest.raises(ValueError, match="5 business days"):
        parse_due_policy(text)


def test_due_policy_counts_business_days_across_a_weekend() -> None:
    """Resolved on a Friday: 2 business days is Tuesday, 3 calendar days is Monday."""
    friday = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    assert DuePolicy(2, business=True).due_at(friday) == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert DuePolicy(3, business=False).due_at(friday) == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    saturday = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    assert DuePolicy(1, business=True).due_at(saturday) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert str(DuePolicy(5, business=True)) == "5 business days"
    assert str(DuePolicy(1, business=False)) == "1 day"
