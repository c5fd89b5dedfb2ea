"""Pure parsers for interactive payloads (modal submissions, button clicks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config import DebriefConfig
from bot.domain.commands import MAX_TEXT
from bot.domain.factors import check_factor
from bot.domain.incidents import MAX_TITLE, normalise_severity
from bot.domain.postmortem import SECTION_TEXT_LIMIT
from bot.domain.reviews import MAX_COMMENT
from bot.domain.tags import MAX_TAGS, with_tags
from bot.domain.text import strip_bidi
from bot.errors import UserError
from bot.slack.ids import Block, Field
from bot.slack.text import error_text


@dataclass(frozen=True)
class DeclareForm:
    title: str
    severity: str
    description: str
    commander: str | None
    channel_id: str | None
    private: bool = False
    test: bool = False
    tags: tuple[str, ...] = ()


def _value(values: dict[str, Any], block: Block, field: Field) -> dict[str, Any]:
    entry = values.get(block.value, {}).get(field.value)
    return entry if isinstance(entry, dict) else {}


def parse_declare_form(view: dict[str, Any], config: DebriefConfig) -> DeclareForm | dict[str, str]:
    """The form, or `{block_id: message}` errors that Slack shows next to each field."""
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values", {}) if isinstance(state, dict) else {}
    if not isinstance(values, dict):
        values = {}
    title = " ".join(strip_bidi(str(_value(values, Block.TITLE, Field.TITLE).get("value")
                                    or "")).split())
    errors: dict[str, str] = {}
    if not title:
        errors[Block.TITLE.value] = "Give the incident a title."
    elif len(title) > MAX_TITLE:
        errors[Block.TITLE.value] = f"Keep the title under {MAX_TITLE + 1} characters."
    selected = _value(values, Block.SEVERITY, Field.SEVERITY).get("selected_option") or {}
    severity_word = selected.get("value") if isinstance(selected, dict) else None
    severity = config.default_severity
    if severity_word:
        try:
            severity = normalise_severity(str(severity_word), config.severity_names)
        except UserError as exc:
            errors[Block.SEVERITY.value] = error_text(exc)
    description = strip_bidi(str(_value(values, Block.DESCRIPTION, Field.DESCRIPTION)
                                 .get("value") or ""))
    if len(description) > 2900:
        errors[Block.DESCRIPTION.value] = "Keep the description under 2900 characters."
    tags: tuple[str, ...] = ()
    try:
        tags = parse_tags_field(str(_value(values, Block.TAGS, Field.TAGS).get("value") or ""))
    except UserError as exc:
        errors[Block.TAGS.value] = error_text(exc)
    commander = _value(values, Block.COMMANDER, Field.COMMANDER).get("selected_user")
    checked = _value(values, Block.PRIVATE, Field.PRIVATE).get("selected_options") or []
    private = isinstance(checked, list) and any(
        isinstance(o, dict) and o.get("value") == "private" for o in checked)
    if errors:
        return errors
    metadata = view.get("private_metadata") or None
    return DeclareForm(
        title=title,
        severity=severity,
        description=description.strip(),
        commander=str(commander) if commander else None,
        channel_id=str(metadata) if metadata else None,
        private=private,
        test=bool(_value(values, Block.TEST, Field.TEST).get("selected_options")),
        tags=tags,
    )


def parse_tags_field(text: str) -> tuple[str, ...]:
    """The declare form's "Tags and services" (`database service:payments`, spaces or
    commas between), by the rules of `/incident tag`; `UserError` saying why not."""
    names = [n for n in strip_bidi(text).replace(",", " ").split() if n]
    if len(names) > MAX_TAGS:
        raise UserError(f"An incident can have at most {MAX_TAGS} tags.")
    return with_tags((), names)


@dataclass(frozen=True)
class EditForm:
    number: int
    changes: dict[str, str]  # every field of the form; the rule keeps what differs


def parse_edit_form(view: dict[str, Any], config: DebriefConfig) -> EditForm | dict[str, str]:
    """The edit modal: the same checks as declaring, or errors by block id."""
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values", {}) if isinstance(state, dict) else {}
    if not isinstance(values, dict):
        values = {}
    metadata = str(view.get("private_metadata") or "") if isinstance(view, dict) else ""
    if not metadata.isdigit() or len(metadata) > 9:
        return {Block.TITLE.value: "This form lost track of its incident; run /incident edit again."}
    declared = parse_declare_form(view, config)
    if isinstance(declared, dict):
        return declared
    summary = strip_bidi(str(_value(values, Block.SUMMARY, Field.SUMMARY).get("value") or ""))
    if len(summary) > 2900:
        return {Block.SUMMARY.value: "Keep the summary under 2900 characters."}
    # Only what the form sent: a field missing from its state is left as it is (a
    # missing severity must not fall back to the default one).
    sent = {"title": (Block.TITLE, declared.title),
            "severity": (Block.SEVERITY, declared.severity),
            "description": (Block.DESCRIPTION, declared.description),
            "summary": (Block.SUMMARY, summary.strip())}
    return EditForm(int(metadata), {name: value for name, (block, value) in sent.items()
                                    if block.value in values})


def on_home_tab(body: dict[str, Any]) -> bool:
    """Whether a click came from the Home tab (which has no response_url to answer)."""
    view = body.get("view")
    return isinstance(view, dict) and view.get("type") == "home"


def parse_action_value(body: dict[str, Any], what: str = "incident",
                       ) -> tuple[int, str | None]:
    """A card button's value is `"<number>"`; a status option's is `"<number>:<status>"`.
    `what` the number names, for the one line a malformed value gets."""
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        raise UserError(f"That button didn't say which {what} it is for.")
    action = actions[0]
    raw = action.get("value")
    if raw is None and isinstance(action.get("selected_option"), dict):
        raw = action["selected_option"].get("value")
    number_text, _, extra = str(raw or "").partition(":")
    if not number_text.isdigit():
        raise UserError(f"That button didn't say which {what} it is for.")
    return int(number_text), extra or None


PAGE_KINDS = ("timeline", "incidents", "items", "mine", "search")


def parse_page_value(body: dict[str, Any]) -> tuple[str, str, int]:
    """A page button's value is `"<kind>:<ref>:<page>"` (see blocks._pager)."""
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions else None
    raw = str(action.get("value") or "") if isinstance(action, dict) else ""
    kind, _, rest = raw.partition(":")
    ref, _, page = rest.rpartition(":")
    if kind not in PAGE_KINDS or not page.isdigit() or len(page) > 6 or (
            kind in ("timeline", "items") and not (ref.isdigit() and len(ref) <= 9)):
        raise UserError("That button didn't say which page to show.")
    return kind, ref, int(page)


@dataclass(frozen=True)
class SectionsForm:
    """The "Write postmortem" modal as submitted: the sections it showed, by key."""
    number: int
    channel_id: str
    message_ts: str | None
    texts: dict[str, str]


def parse_sections_form(view: dict[str, Any]) -> SectionsForm | dict[str, str]:
    """The modal's texts by section key, or `{block_id: message}` errors — a text longer
    than Slack's input allows (3,000 characters) is refused here too, with its length."""
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values", {}) if isinstance(state, dict) else {}
    if not isinstance(values, dict):
        values = {}
    metadata = str(view.get("private_metadata") or "") if isinstance(view, dict) else ""
    number, _, rest = metadata.partition(":")
    channel_id, _, message_ts = rest.partition(":")
    blocks = [b for b in values if isinstance(b, str) and b.startswith(Block.SECTION.value)]
    if not number.isdigit() or len(number) > 9:
        first = blocks[0] if blocks else f"{Block.SECTION.value}impact"
        return {first: "This form lost track of its incident; run "
                       "/incident postmortem edit again."}
    texts: dict[str, str] = {}
    errors: dict[str, str] = {}
    for block in blocks:
        entry = values[block].get(Field.SECTION_TEXT.value) if isinstance(values[block], dict) \
            else None
        text = strip_bidi(str((entry or {}).get("value") or "")) if isinstance(entry, dict) \
            else ""
        if len(text) > SECTION_TEXT_LIMIT:
            errors[block] = (f"At most {SECTION_TEXT_LIMIT:,} characters (this is "
                             f"{len(text):,}): shorten it or move some to another section.")
        texts[block.removeprefix(Block.SECTION.value)] = text
    if errors:
        return errors
    return SectionsForm(int(number), channel_id, message_ts or None, texts)


@dataclass(frozen=True)
class FactorInput:
    """The "Add contributing factor" modal as submitted (checked: category and text)."""
    number: int
    channel_id: str
    message_ts: str | None
    category: str
    description: str
    timeline: tuple[int, ...]
    action_items: tuple[int, ...]


def _selected(values: dict[str, Any], block: Block, field: Field) -> tuple[int, ...]:
    options = _value(values, block, field).get("selected_options")
    if not isinstance(options, list):
        return ()
    return tuple(int(o["value"]) for o in options
                 if isinstance(o, dict) and str(o.get("value") or "").isdigit()
                 and len(str(o["value"])) <= 9)


def parse_factor_form(view: dict[str, Any],
                      categories: tuple[str, ...]) -> FactorInput | dict[str, str]:
    """The factor, or `{block_id: message}` errors shown next to the field (an unknown
    category, an empty or over-long description), so the modal stays open to fix it."""
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values", {}) if isinstance(state, dict) else {}
    if not isinstance(values, dict):
        values = {}
    metadata = str(view.get("private_metadata") or "") if isinstance(view, dict) else ""
    number, _, rest = metadata.partition(":")
    channel_id, _, message_ts = rest.partition(":")
    if not number.isdigit() or len(number) > 9:
        return {Block.FACTOR_TEXT.value: "This form lost track of its incident; click "
                                         "Add contributing factor again."}
    chosen = _value(values, Block.FACTOR_CATEGORY, Field.FACTOR_CATEGORY).get("selected_option")
    category = str(chosen.get("value") or "") if isinstance(chosen, dict) else ""
    text = strip_bidi(str(_value(values, Block.FACTOR_TEXT, Field.FACTOR_TEXT).get("value")
                          or ""))
    if not category:
        return {Block.FACTOR_CATEGORY.value: "Choose a category."}
    try:
        factor = check_factor(category, text, categories)
    except UserError as exc:
        block = Block.FACTOR_CATEGORY if "category" in str(exc) else Block.FACTOR_TEXT
        return {block.value: error_text(exc)}
    return FactorInput(int(number), channel_id, message_ts or None, factor.category,
                       factor.description,
                       _selected(values, Block.FACTOR_TIMELINE, Field.FACTOR_TIMELINE),
                       _selected(values, Block.FACTOR_ITEMS, Field.FACTOR_ITEMS))


def parse_changes_form(view: dict[str, Any]) -> tuple[int, str] | dict[str, str]:
    """(incident number, comment) of the Request changes modal, or `{block_id: message}`
    errors (a comment longer than the input allows is refused next to it)."""
    metadata = str(view.get("private_metadata") or "") if isinstance(view, dict) else ""
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values", {}) if isinstance(state, dict) else {}
    block = values.get(Block.REVIEW_COMMENT.value) if isinstance(values, dict) else None
    entry = block.get(Field.REVIEW_COMMENT.value) if isinstance(block, dict) else None
    comment = strip_bidi(str(entry.get("value") or "")) if isinstance(entry, dict) else ""
    if not metadata.isdigit() or len(metadata) > 9:
        return {Block.REVIEW_COMMENT.value: "This form lost track of its incident; click "
                                            "Request changes in the message again."}
    if len(comment) > MAX_COMMENT:
        return {Block.REVIEW_COMMENT.value: f"At most {MAX_COMMENT:,} characters (this is "
                                            f"{len(comment):,})."}
    return int(metadata), comment


def parse_update_form(view: dict[str, Any]) -> tuple[int, str | None, str] | dict[str, str]:
    """(incident number, channel the nudge was in, text) of the Post update modal, or
    `{block_id: message}` errors shown next to the field (the modal stays open)."""
    metadata = str(view.get("private_metadata") or "") if isinstance(view, dict) else ""
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values", {}) if isinstance(state, dict) else {}
    block = values.get(Block.UPDATE_TEXT.value) if isinstance(values, dict) else None
    entry = block.get(Field.UPDATE_TEXT.value) if isinstance(block, dict) else None
    text = strip_bidi(str(entry.get("value") or "")).strip() if isinstance(entry, dict) else ""
    number, _, channel = metadata.partition(":")
    if not number.isdigit() or len(number) > 9:
        return {Block.UPDATE_TEXT.value: "This form lost track of its incident; use "
                                         "`/incident update` instead."}
    if not text:
        return {Block.UPDATE_TEXT.value: "Write where things stand."}
    if len(text) > MAX_TEXT:
        return {Block.UPDATE_TEXT.value: f"At most {MAX_TEXT:,} characters (this is "
                                         f"{len(text):,})."}
    return int(number), channel or None, text
