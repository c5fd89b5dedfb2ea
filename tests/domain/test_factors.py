"""Structured contributing factors: validation, grouping, and the Markdown round trip."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.factors import (
    DEFAULT_CATEGORIES,
    FACTOR_TEXT_LIMIT,
    Factor,
    ParsedFactor,
    check_categories,
    check_factor,
    diff_factors,
    find_category,
    group_factors,
    parse_factors_markdown,
    render_factors_markdown,
    resolve_factor,
    timeline_labels,
    top_factor_lines,
)
from bot.errors import UserError

AT = datetime(2026, 12, 1, 14, 2, tzinfo=UTC)


def test_categories_are_checked_and_normalised() -> None:
    """Configured categories are lowercased; duplicates, blanks, `notes` and odd names are refused."""
    assert check_categories(["Technical", "Human factors"]) == ("technical", "human factors")
    for bad in ([], ["a", "A"], [""], ["notes"], ["1st"], [3], ["x" * 41]):
        with pytest.raises(ValueError):
            check_categories(bad)


def test_find_category_is_forgiving() -> None:
    """Any case, a trailing colon and US spelling name the same category."""
    assert find_category("Organizational:", DEFAULT_CATEGORIES) == "organisational"
    assert find_category("TECHNICAL", DEFAULT_CATEGORIES) == "technical"
    assert find_category("people", DEFAULT_CATEGORIES) is None


def test_check_factor_refusals() -> None:
    """Unknown category, empty or over-long text, link-like endings and foreign links are refused."""
    ok = check_factor("Process", "  No canary\n\n  for config  ", DEFAULT_CATEGORIES,
                      timeline=[3, 3], action_items=[2])
    assert ok == Factor("process", "No canary\nfor config", (3,), (2,))
    with pytest.raises(UserError, match="not a contributing-factor category"):
        check_factor("people", "x", DEFAULT_CATEGORIES)
    with pytest.raises(UserError, match="Describe"):
        check_factor("process", "   ", DEFAULT_CATEGORIES)
    with pytest.raises(UserError, match="at most 1,000"):
        check_factor("process", "x" * (FACTOR_TEXT_LIMIT + 1), DEFAULT_CATEGORIES)
    with pytest.raises(UserError, match="choose links in the form"):
        check_factor("process", "foo (timeline: 14:02 UTC)", DEFAULT_CATEGORIES)
    with pytest.raises(UserError, match="Timeline entry 9"):
        check_factor("process", "x", DEFAULT_CATEGORIES, timeline=[9], known_timeline={1})
    with pytest.raises(UserError, match="Action item 4"):
        check_factor("process", "x", DEFAULT_CATEGORIES, action_items=[4],
                     known_action_items={1})
    # A description that merely ends in parentheses is fine.
    assert check_factor("process", "a lag (about 5 min)", DEFAULT_CATEGORIES).description \
        == "a lag (about 5 min)"


def test_grouping_keeps_configured_order_and_unknown_last() -> None:
    """Groups follow the configured order; removed factors are left out; a retired category comes last."""
    factors = [Factor("process", "p"), Factor("legacy", "l"), Factor("technical", "t1"),
               Factor("technical", "gone", removed_at=AT), Factor("technical", "t2")]
    groups = group_factors(factors, DEFAULT_CATEGORIES)
    assert [(g.title, [f.description for f in g.factors]) for g in groups] == [
        ("Technical", ["t1", "t2"]), ("Process", ["p"]), ("Legacy", ["l"])]


def test_render_format() -> None:
    """Grouped subheadings, bullets, links in parentheses at the end, prose under Notes."""
    factors = [Factor("technical", "Pool had no limit\non waiting requests", (7,), (2, 5)),
               Factor("organisational", "One person knew the failover", (), (3,))]
    text = render_factors_markdown(factors, DEFAULT_CATEGORIES, labels={7: "14:02 UTC"},
                                   prose="We also saw load.")
    assert text == (
        "## Contributing factors\n\n### Technical\n\n"
        "- Pool had no limit\n  on waiting requests (timeline: 14:02 UTC; action items: #2, #5)\n\n"
        "### Organisational\n\n- One person knew the failover (action item: #3)\n\n"
        "### Notes\n\nWe also saw load.\n")
    assert render_factors_markdown([], DEFAULT_CATEGORIES, prose="Just prose.") == \
        "## Contributing factors\n\nJust prose.\n"


def test_round_trip() -> None:
    """Render then parse gives back every factor, its links and the prose, inside a whole document."""
    factors = [Factor("technical", "Retries (with no backoff) amplified load", (7, 9), (2,)),
               Factor("technical", "Line one\nline two"),
               Factor("process", "Config changes skip the canary", (), (5,)),
               Factor("organisational", "Failover knowledge sat with one person")]
    labels = timeline_labels([(7, AT), (9, AT.replace(minute=5)), (11, AT.replace(minute=9))])
    section = render_factors_markdown(factors, DEFAULT_CATEGORIES, labels=labels,
                                      prose="Prose the team wrote.\n\n- a bullet of prose")
    document = "# Postmortem\n\n## Impact\n\nBad.\n\n" + section + "\n## What went well\n\n- x\n"
    parsed = parse_factors_markdown(document, DEFAULT_CATEGORIES)
    assert parsed.prose == "Prose the team wrote.\n\n- a bullet of prose"
    resolved = [resolve_factor(p, labels, {2, 5}) for p in parsed.factors]
    assert [(f.category, f.description, f.timeline, f.action_items) for f in resolved] == [
        (f.category, f.description, f.timeline, f.action_items) for f in factors]
    assert diff_factors(factors, resolved) == ([], [])


def test_parse_is_forgiving() -> None:
    """Other bullets, heading case, US spelling, paragraphs and continuation lines are all read."""
    text = ("Some prose first.\n\n### technical:\n\n* star bullet\n+ plus bullet\n"
            "1. numbered (action items: 4)\ncontinued here\n\n### ORGANIZATIONAL\n\n"
            "A paragraph, no bullet.\n")
    parsed = parse_factors_markdown(text, DEFAULT_CATEGORIES)
    assert parsed.prose == "Some prose first."
    assert [(f.category, f.description, f.action_items) for f in parsed.factors] == [
        ("technical", "star bullet", ()), ("technical", "plus bullet", ()),
        ("technical", "numbered (action items: 4)\ncontinued here", ()),
        ("organisational", "A paragraph, no bullet.", ())]
    one = parse_factors_markdown("### Process\n- x (action items: #4)\n", DEFAULT_CATEGORIES)
    assert one.factors == (ParsedFactor("process", "x", (), (4,), 2),)


def test_parse_errors_name_the_line() -> None:
    """An unknown category heading or a bad action item number is an error with its line."""
    with pytest.raises(UserError, match=r"Line 3: “### People” is not a contributing-factor"):
        parse_factors_markdown("## Contributing factors\n\n### People\n- x\n")
    with pytest.raises(UserError, match="Line 2: “soon” is not an action item"):
        parse_factors_markdown("### Process\n- x (action items: soon)\n")


def test_parse_without_the_section() -> None:
    """A document with other headings but no contributing factors says so; guidance lines are skipped."""
    assert not parse_factors_markdown("# T\n\n## Impact\n\nx\n").found
    parsed = parse_factors_markdown("## Contributing factors\n\n_Prompt._\n\nReal words.\n",
                                    skip={"_Prompt._"})
    assert parsed.prose == "Real words."


def test_timeline_labels_tell_entries_apart() -> None:
    """Labels are the minute, with seconds or the id only where needed, and dates across days."""
    labels = timeline_labels([(1, AT), (2, AT.replace(second=30)), (3, AT.replace(minute=3)),
                              (4, AT.replace(minute=3))])
    assert labels == {1: "14:02:00 UTC", 2: "14:02:30 UTC", 3: "14:03:00 UTC entry 3",
                      4: "14:03:00 UTC entry 4"}
    assert timeline_labels([(1, AT), (2, AT.replace(day=2))]) == {
        1: "2026-12-01 14:02 UTC", 2: "2026-12-02 14:02 UTC"}


def test_resolve_factor_refuses_unknown_links() -> None:
    """A timeline label matching no entry, or an action item not the incident's, is refused."""
    labels = {7: "14:02 UTC"}
    assert resolve_factor(ParsedFactor("process", "x", ("14:02",), (), 1), labels, set()) \
        .timeline == (7,)
    assert resolve_factor(ParsedFactor("process", "x", ("#7",), (), 1), labels, set()) \
        .timeline == (7,)
    assert resolve_factor(ParsedFactor("process", "x", ("Entry 9",), (), 1), labels, set(),
                          timeline_ids={9}).timeline == (9,)
    with pytest.raises(UserError, match="no entry at “15:00 UTC”"):
        resolve_factor(ParsedFactor("process", "x", ("15:00 UTC",), (), 1), labels, set())
    with pytest.raises(UserError, match="action item #3"):
        resolve_factor(ParsedFactor("process", "x", (), (3,), 1), labels, {2})


def test_diff_factors() -> None:
    """Unchanged factors stay (keeping who added them); changed ones are removed and added."""
    old = [Factor("process", "a", id=1, added_by="U1"), Factor("technical", "b", id=2)]
    new = [Factor("process", "A "), Factor("technical", "b", (3,))]
    added, removed = diff_factors(old, new)
    assert added == [Factor("technical", "b", (3,))]
    assert [f.id for f in removed] == [2]


def test_top_factor_lines() -> None:
    """The published summary's top factors: document order, category named, first line, shortened."""
    factors = [Factor("process", "p1"), Factor("technical", "t1\nmore"),
               Factor("technical", "x" * 300)]
    assert top_factor_lines(factors, DEFAULT_CATEGORIES, limit=2) == (
        "Technical: t1", "Technical: " + "x" * 188 + "…")
    assert top_factor_lines([], DEFAULT_CATEGORIES) == ()
