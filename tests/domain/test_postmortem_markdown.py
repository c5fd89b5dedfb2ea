"""Reading an uploaded postmortem back (bot/domain/postmortem_markdown.py): sections by
their headings, the template's own lines taken out, generated parts compared."""

from __future__ import annotations

from bot.domain.postmortem import SectionSpec
from bot.domain.postmortem_markdown import (
    HEADER,
    heading_key,
    named_incident,
    read_postmortem,
    section_marker,
    split_document,
)

SECTIONS = (SectionSpec("impact", "Impact"), SectionSpec("went_well", "What went well"))


def render(impact: str, went_well: str, *, mitigated: str = "14:30") -> str:
    """A miniature of the default template: Impact keeps generated lines under the text."""
    return (f"# Postmortem: #7 Checkout errors\n\n| Severity | SEV2 |\n\n## Impact\n\n"
            f"{impact or '- **Who was affected:** _who?_'}\n\n- **Mitigated:** {mitigated}\n"
            f"\n## Timeline (UTC)\n\n- **14:02** — Rolled back\n\n"
            f"## What went well\n\n{went_well or '- '}\n")


MARKED = render(section_marker("impact"), section_marker("went_well"))
BLANK = render("", "")
STORED = render("EU shoppers could not pay.", "")


def read(text: str) -> object:
    return read_postmortem(text, SECTIONS, marked=MARKED, blank=BLANK, known=(STORED,))


def test_an_unchanged_download_reads_back_as_stored() -> None:
    """The team's text without the template's lines; an unwritten section's prompt is ""."""
    got = read_postmortem(STORED, SECTIONS, marked=MARKED, blank=BLANK, known=(STORED,))
    assert got.texts == {"impact": "EU shoppers could not pay.", "went_well": ""}
    assert (got.missing, got.unknown, got.ignored, got.repeated) == ((), (), (), ())
    assert got.title == "Postmortem: #7 Checkout errors"


def test_edits_in_sections_are_read_and_edits_to_generated_parts_reported() -> None:
    """New text is the section's; a changed timeline or generated line is ignored."""
    edited = (STORED.replace("EU shoppers could not pay.", "EU shoppers could not pay.\n\n"
                             "Card payments failed for 40 minutes.")
              .replace("- \n", "- The rollback took two minutes.\n")
              .replace("Rolled back", "Rolled back (by Bob)")
              .replace("**Mitigated:** 14:30", "**Mitigated:** 14:25"))
    got = read_postmortem(edited, SECTIONS, marked=MARKED, blank=BLANK, known=(STORED,))
    assert got.texts == {
        "impact": "EU shoppers could not pay.\n\nCard payments failed for 40 minutes.",
        "went_well": "- The rollback took two minutes."}
    assert got.ignored == ("Impact", "Timeline (UTC)")


def test_generated_lines_from_any_known_version_are_not_edits() -> None:
    """Times that changed since the download are the database's, not the uploader's."""
    older = render("EU shoppers could not pay.", "", mitigated="not yet")
    got = read_postmortem(older, SECTIONS, marked=MARKED, blank=BLANK, known=(STORED, older))
    assert got.ignored == () and got.texts["impact"] == "EU shoppers could not pay."


def test_missing_unknown_and_repeated_headings() -> None:
    """A heading not in the file is missing (kept); an unknown one is named; a section
    written twice is ambiguous."""
    text = ("## impact:\n\nA.\n\n## Lessons\n\nWrite more tests.\n\n## **Impact**\n\nB.\n")
    got = read(text)
    assert got.texts == {"impact": "A."}
    assert got.missing == ("What went well",)
    assert got.unknown == ("Lessons",)
    assert got.repeated == ("Impact",)
    assert got.ignored == ()  # no header in the file: nothing to compare


def test_headings_in_code_fences_setext_headings_and_windows_newlines() -> None:
    text = ("\ufeff# Postmortem: #7 x\r\n\r\nWhat went well\r\n--------------\r\n\r\n"
            "```\r\n## Impact\r\n```\r\n")
    doc = split_document(text)
    assert [b.heading for b in doc.blocks] == [None, "What went well"]
    assert doc.title == "Postmortem: #7 x"
    assert "## Impact" in doc.blocks[1].body
    assert heading_key("  **What   went well:** ") == "what went well"


def test_an_edited_header_is_reported_once() -> None:
    got = read(STORED.replace("SEV2", "SEV1"))
    assert got.ignored == (HEADER,)


def test_the_incident_a_file_names() -> None:
    assert named_incident("Postmortem: #12 Fix #3", "x.md") == 12
    assert named_incident("Checkout", "postmortem-12-v3.md") == 12
    assert named_incident(None, "notes.md") is None
