"""Reading an edited postmortem back from Markdown (the upload round trip). Pure.

Someone downloads the draft, edits it and uploads it again: the sections the template
declares (`postmortem.declared_sections`) are read back by their `## ` headings; every
other part of the document is Debrief's (the header table, the timeline, the action
items, the durations under Impact) and always comes from the database, so an edit
there is reported as ignored rather than stored.

To know which lines of a declared section are the team's and which the template wrote
around them, the caller renders the document twice more: `marked` with each section's
text replaced by `section_marker(key)`, and `blank` with every section empty (the
prompts a section shows until someone writes it). `known` are documents Debrief
produced for this incident (the stored versions and the current render), so a part
that equals the same part of any of them is unchanged, whenever it was downloaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.postmortem import SectionSpec

UPLOAD_LIMIT = 200 * 1024  # bytes: a postmortem is a few pages; anything bigger is not one
HEADER = ""  # the name of the part before the first `## ` heading, in `ignored`

_ATX = re.compile(r"^ {0,3}(?P<level>#{1,6})(?:[ \t]+(?P<text>.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(?P<rule>=+|-{2,})[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
_NOT_A_PARAGRAPH = re.compile(r"^\s*(?:[-*+>|#]|\d+[.)]\s|$)")
_NUMBER_IN_TITLE = re.compile(r"#(\d{1,9})\b")
_NUMBER_IN_NAME = re.compile(r"postmortem[-_ ]?#?(\d{1,9})", re.IGNORECASE)


def section_marker(key: str) -> str:
    """What stands in for a section's text in the `marked` render."""
    return f"@@debrief-section-{key}@@"


@dataclass(frozen=True)
class Block:
    """A `## ` heading and the lines under it (heading None: the part before the first)."""

    heading: str | None
    body: str

    @property
    def name(self) -> str:
        return heading_key(self.heading) if self.heading is not None else HEADER


@dataclass(frozen=True)
class Document:
    title: str | None  # the first `# ` heading's text, before any `## `
    blocks: tuple[Block, ...]

    def block(self, name: str) -> Block | None:
        return next((b for b in self.blocks if b.name == name), None)


def heading_key(heading: str) -> str:
    """How headings are compared: case, spacing, emphasis and a trailing colon don't count
    (`## **Impact:**` pasted from a wiki is `## Impact`)."""
    text = re.sub(r"\s+", " ", heading).strip().strip("*_").strip().rstrip(":").strip()
    return text.casefold()


def split_document(text: str) -> Document:
    """The document's title and its blocks, split at level-2 headings (ATX `## X` or
    setext `X` over `---`), ignoring anything inside fenced code. Deeper headings
    (`### Technical`) stay inside their section."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff").split("\n")
    blocks: list[Block] = []
    heading: str | None = None
    body: list[str] = []
    title: str | None = None
    fence: str | None = None

    def close(next_heading: str) -> None:
        nonlocal heading, body
        blocks.append(Block(heading, "\n".join(body)))
        heading, body = next_heading, []

    for line in lines:
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group("fence")[0] == fence[0] and \
                    len(opened.group("fence")) >= len(fence):
                fence = None
            body.append(line)
            continue
        if opened:
            fence = opened.group("fence")
            body.append(line)
            continue
        atx = _ATX.match(line)
        if atx and len(atx.group("level")) == 2:
            close(atx.group("text") or "")
            continue
        if atx and len(atx.group("level")) == 1 and title is None and not blocks:
            title = (atx.group("text") or "").strip()
        setext = _SETEXT.match(line)
        if setext and body and not _NOT_A_PARAGRAPH.match(body[-1]) and (
                len(body) < 2 or not body[-2].strip()):
            paragraph = body.pop()
            if setext.group("rule").startswith("-"):
                close(paragraph.strip())
                continue
            if title is None and not blocks:
                title = paragraph.strip()
            body.append(paragraph)
        body.append(line)
    blocks.append(Block(heading, "\n".join(body)))
    return Document(title, tuple(blocks))


def tidy(text: str) -> str:
    """A block's text for comparing: no trailing spaces, no leading or trailing blank
    lines, runs of blank lines as one."""
    out: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        line = line.rstrip()
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def _label(line: str) -> str:
    """What identifies a generated line whatever its values: `- **Mitigated:**` for
    `- **Mitigated:** 2026-12-01 14:30 UTC`; else the line with its numbers blanked."""
    text = line.strip()
    cut = text.find(":**")
    if 0 <= cut < 100:
        return text[:cut + 3]
    return re.sub(r"\d+", "0", text)


@dataclass(frozen=True)
class UploadedPostmortem:
    """What an uploaded file says, against the template: the declared sections found
    (key -> text; only those whose heading is in the file), and what is not stored."""

    title: str | None
    texts: dict[str, str]
    missing: tuple[str, ...]  # declared headings not in the file: kept as they are
    unknown: tuple[str, ...]  # headings the template doesn't have: their text not stored
    ignored: tuple[str, ...]  # generated parts the file changes (headings; HEADER first)
    repeated: tuple[str, ...]  # declared headings found more than once (ambiguous)


def read_postmortem(text: str, sections: tuple[SectionSpec, ...], *, marked: str, blank: str,
                    known: tuple[str, ...]) -> UploadedPostmortem:
    """Read an uploaded postmortem: see the module's docstring for `marked`, `blank` and
    `known`."""
    upload = split_document(text)
    marked_doc, blank_doc = split_document(marked), split_document(blank)
    known_docs = [split_document(k) for k in known]
    known_lines = {line.rstrip() for k in known for line in k.replace("\r\n", "\n").split("\n")}
    declared = {heading_key(s.heading): s for s in sections}
    generated = {b.name for d in (marked_doc, *known_docs) for b in d.blocks} - set(declared)

    texts: dict[str, str] = {}
    unknown: list[str] = []
    ignored: list[str] = []
    repeated: list[str] = []
    for block in upload.blocks:
        name = block.name
        if name in declared:
            spec = declared[name]
            if spec.key in texts:
                repeated.append(spec.heading)
                continue
            text, edited = _section_text(block, spec.key, marked_doc.block(name),
                                         blank_doc.block(name), known_lines)
            texts[spec.key] = text
            if edited and spec.heading not in ignored:
                ignored.append(spec.heading)
        elif name in generated or block.heading is None:
            mine = tidy(block.body)
            if block.heading is None and not mine:
                continue  # a file starting at its first section: no header to compare
            theirs = {tidy(b.body) for d in known_docs for b in d.blocks if b.name == name}
            if mine not in theirs and (block.heading or HEADER) not in ignored:
                ignored.append(block.heading if block.heading is not None else HEADER)
        else:
            unknown.append(block.heading or "")
    missing = tuple(s.heading for s in sections if s.key not in texts)
    ignored.sort(key=lambda h: h != HEADER)
    return UploadedPostmortem(upload.title, texts, missing, tuple(unknown), tuple(ignored),
                              tuple(dict.fromkeys(repeated)))


def _section_text(block: Block, key: str, marked: Block | None, blank: Block | None,
                  known_lines: set[str]) -> tuple[str, bool]:
    """The team's text in a declared section (the template's own lines around it taken
    out), and whether one of those generated lines was edited."""
    marker = section_marker(key)
    generated = {_label(line) for line in (marked.body.split("\n") if marked else ())
                 if line.strip() and marker not in line}
    kept: list[str] = []
    edited = False
    for line in block.body.split("\n"):
        if line.strip() and _label(line) in generated:
            edited = edited or line.rstrip() not in known_lines
            continue
        kept.append(line)
    text = tidy("\n".join(kept))
    if blank is not None:
        prompt = tidy("\n".join(line for line in blank.body.split("\n")
                                if not (line.strip() and _label(line) in generated)))
        if text == prompt:
            return "", edited
    return text, edited


def named_incident(title: str | None, filename: str) -> int | None:
    """The incident a file names: `#12` in its `# ` title, else `postmortem-12…` in its
    name (how Debrief names the drafts it uploads)."""
    found = _NUMBER_IN_TITLE.search(title or "") or _NUMBER_IN_NAME.search(filename)
    return int(found.group(1)) if found else None
