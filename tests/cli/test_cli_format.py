"""The pure text formatters of the `debrief` command line, and its command tree."""

from __future__ import annotations

import argparse
import itertools
import re
from datetime import UTC, datetime
from pathlib import Path

from bot.cli import build_parser
from bot.cli.incidents import format_incident, format_incident_list
from bot.cli.lint import format_findings
from bot.cli.oncall import format_apply_report, format_shifts, format_who, shift_rows
from bot.cli.stats import format_stats
from bot.domain.blameless import Finding
from bot.domain.rotations import Shift
from bot.domain.stats import Stats
from bot.services.oncall import ApplyReport


def _incident(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "number": 7, "title": "Disk full", "severity": "SEV2", "status": "investigating",
        "channel_name": "inc-7-disk-full", "declared_at": "2026-11-30T10:00:00Z",
        "declared_by": "U1", "acknowledged_at": None, "resolved_at": None, "summary": "",
        "roles": {"commander": "U1"},
        "durations": {"to_acknowledge_seconds": 125.0, "to_mitigate_seconds": None},
        "timeline": [],
    }
    return {**data, **changes}


def test_incident_list_has_one_aligned_line_per_incident() -> None:
    """Each incident is one line: number, severity, status, title and channel."""
    text = format_incident_list([_incident(), _incident(number=12, channel_name=None)])
    assert text == ("#7    SEV2  investigating  Disk full  (inc-7-disk-full)\n"
                    "#12   SEV2  investigating  Disk full  (no channel)\n")


def test_an_empty_incident_list_says_so() -> None:
    """No incidents is one line saying so, not empty output."""
    assert format_incident_list([]) == "no incidents\n"


def test_incident_shows_fields_roles_and_durations_with_dashes_for_missing() -> None:
    """Missing values show as `-`; durations are minutes and seconds."""
    lines = format_incident(_incident()).splitlines()
    assert lines[0] == "#7 Disk full"
    assert "  acknowledged_at  -" in lines and "  summary          -" in lines
    assert "  commander        U1" in lines
    assert "  to_acknowledge   2m 5s" in lines and "  to_mitigate      -" in lines
    assert lines[-1] == "  timeline (* = key):"


def test_incident_timeline_marks_key_entries_cuts_text_and_hides_deleted() -> None:
    """Key entries get `*`, text is cut at 100 characters, deleted messages are left out."""
    entry = {"at": "2026-11-30T10:05:00Z", "kind": "message", "author": "U2",
             "text": "x" * 150, "key": False, "deleted": False}
    timeline = [
        {**entry, "kind": "declared", "author": None, "text": "Declared", "key": True},
        entry,
        {**entry, "text": "gone", "deleted": True},
    ]
    lines = format_incident(_incident(timeline=timeline)).splitlines()
    assert lines[-2] == "  * 2026-11-30T10:05:00Z  declared      -            Declared"
    assert lines[-1] == "    2026-11-30T10:05:00Z  message       U2           " + "x" * 100
    assert not any("gone" in line for line in lines)


def test_stats_show_minutes_counts_and_dashes() -> None:
    """Median and p90 are minutes with one decimal; a milestone never reached shows `-`."""
    stats = Stats(
        since=datetime(2026, 11, 1, tzinfo=UTC), by_severity={"SEV1": 1, "SEV2": 2},
        seconds_to={"acknowledge": {"median": 90.0, "p90": 300.0, "count": 3},
                    "resolve": {"median": None, "p90": None, "count": 0}},
        postmortems={"due": 1}, action_items={"open": 2})
    assert format_stats(stats) == (
        "Incidents since 2026-11-01T00:00:00Z: {'SEV1': 1, 'SEV2': 2}\n"
        "  time to acknowledge  median 1.5 min      p90 5.0 min  (n=3)\n"
        "  time to resolve      median -            p90 -  (n=0)\n"
        "Postmortems: {'due': 1}\n"
        "Action items: {'open': 2}\n")


def test_stats_without_a_period_count_from_the_beginning() -> None:
    """`--period all` reads as "since the beginning"."""
    stats = Stats(since=None, by_severity={}, seconds_to={}, postmortems={}, action_items={})
    assert format_stats(stats).startswith("Incidents since the beginning: {}\n")


def test_findings_quote_the_span_with_a_one_based_column() -> None:
    """Each finding names file, line, 1-based column, category and the words found."""
    text = "Fine.\nThe engineer should have checked.\n"
    finding = Finding(line=2, start=13, end=24, category="counterfactual",
                      message="Hindsight.", suggestion="Ask why.")
    assert format_findings([finding], text, "pm.md") == (
        "pm.md:2:14: counterfactual: 'should have' — Hindsight. Try: Ask why.\n")


def test_no_findings_is_one_line() -> None:
    """A clean file says so by name."""
    assert format_findings([], "All good.", "-") == "-: no findings\n"


def test_who_names_the_person_source_and_next_change() -> None:
    """Who is on call, from which layer, and who is next."""
    data = {"schedule": "platform", "at": "2026-11-25T10:00:00Z", "on_call": "U01ALICE",
            "source": "layer:primary", "next_change": "2026-11-26T09:00:00Z",
            "next_on_call": "U02BOB"}
    assert format_who(data) == ("platform at 2026-11-25T10:00:00Z: U01ALICE (layer:primary); "
                                "next change 2026-11-26T09:00:00Z to U02BOB\n")


def test_who_in_a_gap_says_nobody() -> None:
    """A gap with no next change reads "nobody (gap)" and "-"."""
    data = {"schedule": "ops", "at": "2026-11-25T10:00:00Z", "on_call": None, "source": None,
            "next_change": None, "next_on_call": None}
    assert format_who(data) == "ops at 2026-11-25T10:00:00Z: nobody (gap); next change - to nobody\n"


def test_shifts_are_aligned_lines_with_gaps_marked() -> None:
    """Each shift is start → end, user (or `(gap)`) and source; no shifts, no output."""
    day = datetime(2026, 11, 24, tzinfo=UTC)
    rows = shift_rows([Shift(day, day.replace(hour=9), "U01ALICE", "layer:primary"),
                       Shift(day.replace(hour=9), day.replace(hour=12), None, None)])
    assert rows[1] == {"start": "2026-11-24T09:00:00Z", "end": "2026-11-24T12:00:00Z",
                       "user": None, "source": None}
    assert format_shifts(rows) == (
        "2026-11-24T00:00:00Z → 2026-11-24T09:00:00Z  U01ALICE             layer:primary\n"
        "2026-11-24T09:00:00Z → 2026-11-24T12:00:00Z  (gap)                \n")
    assert format_shifts([]) == ""


def test_apply_report_leaves_out_empty_groups_and_sorts_who_moved() -> None:
    """Only non-empty groups are listed; the people whose turns moved are sorted."""
    report = ApplyReport(created=["db"], not_in_file=["old", "older"],
                         moved={"platform": {"U2", "U1"}})
    assert format_apply_report(report) == ("created: db\n"
                                           "not in file: old, older\n"
                                           "platform: upcoming turns moved for U1, U2\n")
    assert format_apply_report(ApplyReport()) == ""


def test_every_command_has_a_handler_and_a_row_in_the_readme() -> None:
    """Each leaf command is bound to a handler (`set_defaults(func=...)`) and documented."""
    def leaves(parser: argparse.ArgumentParser, path: str) -> list[tuple[str, argparse.ArgumentParser]]:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            return [(path, parser)]
        return [leaf for name, child in subs[0].choices.items()
                for leaf in leaves(child, f"{path} {name}")]

    found = leaves(build_parser(), "debrief")
    assert all(callable(parser.get_default("func")) for _, parser in found), found
    assert {path for path, _ in found} == _readme_commands()


def _readme_commands() -> set[str]:
    """The commands in the README's command-line table, without their arguments."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    commands = set()
    for cell in re.findall(r"^\| `(debrief [^`]*)` \|", readme, flags=re.MULTILINE):
        words = itertools.takewhile(lambda w: w[0] not in "[<-", cell.split())
        commands.add(" ".join(words))
    return commands
