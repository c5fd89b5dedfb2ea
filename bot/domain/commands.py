"""Parsing `/incident` text, once, into a typed command: one frozen dataclass per
subcommand, together the `IncidentCommand` union that `bot/services/dispatch.py`
matches on. Pure: everything the text alone can refuse raises `UserError` here, so the
listener answers it in the ack, before any I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

from bot.domain.action_items import TYPES, check_action_item
from bot.domain.corrections import ItemField
from bot.domain.factors import FACTOR_TEXT_LIMIT, check_factor, find_category
from bot.domain.incidents import (
    normalise_role,
    normalise_severity,
    normalise_status,
    validate_title,
)
from bot.domain.search import USAGE as SEARCH_USAGE
from bot.domain.search import SearchQuery, parse_search
from bot.domain.tags import MAX_TAGS, normalise_tag
from bot.domain.text import parse_user_ref, plain_from_slack, some
from bot.domain.timeline import NOTE_TIME_EXAMPLE, NoteClock, parse_note_clock
from bot.errors import Echo, UserError

SUBCOMMANDS = (
    "help", "declare", "ack", "status", "severity", "role", "update", "resolve", "list", "retry",
    "note", "timeline", "postmortem", "action", "actions", "stats",
    # corrections (h12b): notes, timeline entries, action items
    "hide", "unhide",
    # corrections (h12a): title, edit form, cancel
    "title", "edit", "cancel",
    # tags and services (issue 13)
    "tag", "search",
)
ALIASES = {"sev": "severity", "acknowledge": "ack", "new": "declare", "open": "declare",
           "pm": "postmortem", "ai": "action", "todo": "action"}
# Commands where a bare number can only be an incident reference; elsewhere use `#N`.
_BARE_NUMBER_REF = {"ack", "status", "severity", "role", "retry", "edit"}
_SEV_LIKE = re.compile(r"^sev\d+$", re.IGNORECASE)
# Caps on what people type, checked here so an over-long text is refused before any
# I/O with a one-line reply. Free text (updates, notes, status notes, resolution
# summaries) fits one Slack section with room to spare; a whole command is bounded too.
MAX_TEXT = 2900
MAX_COMMAND = 4000
MAX_SEARCH = 300  # a search travels in its page buttons' values (Slack: 2,000 characters)


def capped(text: str, what: str, limit: int = MAX_TEXT) -> str:
    """`text` unchanged, or a `UserError` saying how long it is and what fits."""
    if len(text) > limit:
        raise UserError(f"That {what} is {len(text):,} characters; keep it to {limit:,} or fewer.")
    return text


class Vocabulary(Protocol):
    """The configured words a command may use (`DebriefConfig` is one): the parser needs
    only these, so it does not depend on how configuration is loaded."""

    @property
    def severity_names(self) -> tuple[str, ...]: ...
    @property
    def statuses(self) -> tuple[str, ...]: ...
    @property
    def roles(self) -> tuple[str, ...]: ...
    @property
    def factor_categories(self) -> tuple[str, ...]: ...


# One frozen value per subcommand. `ref` is the `#N` typed, or None for "this channel's
# incident"; `usage` is the example a reply shows when the incident can't be found.
@dataclass(frozen=True)
class Help:
    unknown: str | None = None  # the unknown subcommand typed, if any


@dataclass(frozen=True)
class Declare:
    title: str = ""  # empty: open the declare form
    severity: str | None = None
    private: bool = False  # `--private`: a private channel, listed only to its members
    test: bool = False  # `--test`: a drill, left out of stats, lists and reminders


@dataclass(frozen=True)
class List:
    pass


@dataclass(frozen=True)
class Stats:
    period: str = ""


@dataclass(frozen=True)
class Ack:
    ref: int | None = None
    usage: ClassVar[str] = "/incident ack #12"


@dataclass(frozen=True)
class Status:
    status: str
    note: str = ""
    ref: int | None = None
    usage: ClassVar[str] = "/incident status #12 monitoring"


@dataclass(frozen=True)
class Severity:
    severity: str
    ref: int | None = None
    usage: ClassVar[str] = "/incident severity #12 SEV1"


@dataclass(frozen=True)
class Role:
    role: str
    user_id: str
    ref: int | None = None
    usage: ClassVar[str] = "/incident role #12 comms @person"


@dataclass(frozen=True)
class Update:
    text: str
    ref: int | None = None
    usage: ClassVar[str] = "/incident update #12 Rolled back"


@dataclass(frozen=True)
class Resolve:
    summary: str = ""
    ref: int | None = None
    usage: ClassVar[str] = "/incident resolve #12 Fixed by rollback"


@dataclass(frozen=True)
class Retry:
    ref: int | None = None
    usage: ClassVar[str] = "/incident retry #12"


@dataclass(frozen=True)
class Note:
    """`text` is everything typed after `note` (what the wording check reads); `at` is
    the backdating time, read in the author's zone after the ack; `body` what is noted."""
    text: str
    body: str
    at: NoteClock | None = None
    ref: int | None = None
    usage: ClassVar[str] = "/incident note #12 Paged the DB team"


@dataclass(frozen=True)
class Timeline:
    ref: int | None = None
    usage: ClassVar[str] = "/incident timeline #12"


@dataclass(frozen=True)
class TimelineRebuild:
    ref: int | None = None
    usage: ClassVar[str] = "/incident timeline #12"


@dataclass(frozen=True)
class Postmortem:
    ref: int | None = None
    usage: ClassVar[str] = "/incident postmortem #12"


@dataclass(frozen=True)
class PostmortemEdit:
    """`/incident postmortem edit [section]`: the modal to write the narrative sections."""
    section: str = ""
    ref: int | None = None
    usage: ClassVar[str] = "/incident postmortem edit #12 impact"


@dataclass(frozen=True)
class PostmortemUpload:
    """`/incident postmortem upload`: says how to upload an edited Markdown copy (drop
    the file in the channel), once the caller may."""
    ref: int | None = None
    usage: ClassVar[str] = "/incident postmortem #12 upload"


PostmortemSteps = Literal["publish", "reopen"]
_STEPS: dict[str, PostmortemSteps] = {"publish": "publish", "reopen": "reopen"}


@dataclass(frozen=True)
class PostmortemReview:
    """`/incident postmortem review @alice @bob`: ask them to review (each gets a DM with
    Approve / Request changes)."""
    reviewers: tuple[str, ...] = ()
    ref: int | None = None
    usage: ClassVar[str] = "/incident postmortem #12 review @alice @bob"

@dataclass(frozen=True)
class PostmortemFactor:
    """`/incident postmortem factor [category] [text]`: with a category and a text, add
    that contributing factor; otherwise open the form, prefilled with what was typed."""
    category: str | None = None
    text: str = ""
    ref: int | None = None
    usage: ClassVar[str] = "/incident postmortem #12 factor process Config changes skip the canary"


@dataclass(frozen=True)
class PostmortemFactors:
    """`/incident postmortem factors`: the standing factors, with Remove buttons."""
    ref: int | None = None
    usage: ClassVar[str] = "/incident postmortem #12 factors"


@dataclass(frozen=True)
class RemoveFactor:
    """`/incident postmortem factor remove <n>`."""
    factor_id: int
    ref: int | None = None
    usage: ClassVar[str] = "/incident postmortem #12 factor remove 3"


@dataclass(frozen=True)
class PostmortemStep:
    step: PostmortemSteps
    ref: int | None = None
    usage: ClassVar[str] = "/incident postmortem #12"


@dataclass(frozen=True)
class AddActionItem:
    """`text` keeps Slack's escaped mentions (the owner); the due date is read against
    the author's today after the ack, its syntax already checked here."""
    text: str
    ref: int | None = None
    usage: ClassVar[str] = "/incident action #12 Add an alert @alice due friday"


@dataclass(frozen=True)
class ListActionItems:
    ref: int | None = None
    usage: ClassVar[str] = "/incident actions #12"


# --- corrections (h12b): notes, timeline entries and action items ---------------------
# Entries and items are named by their own number (shown in `/incident timeline` and
# `/incident actions`), never `#N`, which names an incident.

@dataclass(frozen=True)
class EditNote:
    entry_id: int
    text: str
    ref: int | None = None
    usage: ClassVar[str] = "/incident note edit 7 Paged the DB team at 14:05"


@dataclass(frozen=True)
class DeleteNote:
    entry_id: int
    ref: int | None = None
    usage: ClassVar[str] = "/incident note delete 7"


@dataclass(frozen=True)
class HideEntry:
    """Hide a timeline entry from the postmortem (`hidden`), or show it again."""
    entry_id: int
    hidden: bool = True
    ref: int | None = None
    usage: ClassVar[str] = "/incident hide 7"


@dataclass(frozen=True)
class ChangeActionItem:
    """`action <field> <id> <value>`: `text` keeps Slack's escaped mentions (the owner);
    a due date is read against the author's today after the ack."""
    item_id: int
    field: ItemField
    value: str = ""
    ref: int | None = None
    usage: ClassVar[str] = "/incident action owner 3 @bob"


ITEM_FIELDS: dict[str, ItemField] = {"text": "text", "owner": "owner", "reassign": "owner",
                                     "due": "due", "type": "type", "delete": "deleted",
                                     "remove": "deleted"}
_ID = re.compile(r"^\d{1,9}$")


# --- corrections (issue 12): title, edit form, cancel ---
@dataclass(frozen=True)
class Retitle:
    title: str
    ref: int | None = None
    usage: ClassVar[str] = "/incident title #12 Checkout errors in EU"


@dataclass(frozen=True)
class Edit:
    ref: int | None = None
    usage: ClassVar[str] = "/incident edit #12"


@dataclass(frozen=True)
class Cancel:
    reason: str = ""
    ref: int | None = None
    usage: ClassVar[str] = "/incident cancel #12 declared by mistake"


@dataclass(frozen=True)
class Tag:
    """Add tags (`service:x` for a service) or remove them; normalised here."""
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    ref: int | None = None
    usage: ClassVar[str] = "/incident tag #12 database service:payments"


@dataclass(frozen=True)
class Search:
    """Full-text search of past incidents (bot/domain/search.py reads the query)."""
    query: SearchQuery
    usage: ClassVar[str] = SEARCH_USAGE


IncidentCommand = (
    Help | Declare | List | Stats | Ack | Status | Severity | Role | Update | Resolve | Retry
    | Note | Timeline | TimelineRebuild | Postmortem | PostmortemEdit | PostmortemReview
    | PostmortemStep | PostmortemFactor | PostmortemFactors | RemoveFactor | PostmortemUpload
    | AddActionItem
    | ListActionItems
    | EditNote | DeleteNote | HideEntry | ChangeActionItem
    | Retitle | Edit | Cancel | Tag | Search
)
DECLARE_FLAGS = {"--test": "test", "—test": "test",  # Slack may turn `--` into a dash
                 "--private": "private", "—private": "private"}


def _review(words: list[str], ref: int | None) -> PostmortemReview:
    """The reviewers of `/incident postmortem review @a @b`: mentions only."""
    reviewers = []
    for word in words:
        user = parse_user_ref(word)
        if user is None:
            raise UserError("Mention the reviewers: `/incident postmortem review @alice @bob` "
                            "(", Echo(_plain_word(word)[:40]), " is not a mention).")
        reviewers.append(user)
    return PostmortemReview(reviewers=tuple(dict.fromkeys(reviewers)), ref=ref)


def _factor(words: list[str], ref: int | None,
            config: Vocabulary) -> PostmortemFactor | RemoveFactor:
    """`factor remove 3`; `factor <category> <text>` (checked here: a known category, a
    description within bounds); `factor [category]` or `factor <text>` (no category
    first) open the form with that much filled in."""
    if words and words[0].lower() in ("remove", "delete"):
        if len(words) != 2 or not _ID.match(words[1].lstrip("#")):
            raise UserError("Which factor? `/incident postmortem factor remove 3`: "
                            "`/incident postmortem factors` shows their numbers.")
        return RemoveFactor(int(words[1].lstrip("#")), ref=ref)
    categories = config.factor_categories
    category = find_category(words[0], categories) if words else None
    text = plain_from_slack(" ".join(words[1:] if category else words)).strip()
    capped(text, "contributing factor", FACTOR_TEXT_LIMIT)
    if category and text:
        check_factor(category, text, categories)  # refused in the ack, before any I/O
    return PostmortemFactor(category=category, text=text, ref=ref)


def _take_ref(subcommand: str, words: list[str]) -> tuple[int | None, list[str]]:
    if words:
        first = words[0]
        if re.fullmatch(r"#\d{1,9}", first) or (
            subcommand in _BARE_NUMBER_REF and re.fullmatch(r"\d{1,9}", first)
        ):
            return int(first.lstrip("#")), words[1:]
    return None, words


def _plain_word(word: str) -> str:
    """A word as plain text. A mention typed out literally (`<@U1>`, which Slack sends as
    `&lt;@U1&gt;`) becomes its inert label (`@U1`): it must not pass for a real mention."""
    plain = plain_from_slack(word)
    return plain_from_slack(plain) if plain.startswith("<") and parse_user_ref(plain) else plain


def parse_incident_command(raw_text: str, config: Vocabulary) -> IncidentCommand:
    """The one typed command `raw_text` asks for. Raise `UserError` (with an example) for
    anything the text alone shows is malformed; change nothing."""
    capped(raw_text or "", "command", MAX_COMMAND)
    words = (raw_text or "").split()
    if not words:
        return Help()
    head = words[0].lower()
    subcommand = ALIASES.get(head, head)
    if subcommand not in SUBCOMMANDS:
        return Help(unknown=plain_from_slack(words[0])[:40])
    ref, rest = _take_ref(subcommand, words[1:])

    def text_of(parts: list[str]) -> str:
        return plain_from_slack(" ".join(parts)).strip()

    match subcommand:
        case "help":
            return Help()
        case "list":
            return List()
        case "ack":
            return Ack(ref=ref)
        case "retry":
            return Retry(ref=ref)
        case "actions":
            return ListActionItems(ref=ref)
        case "declare":
            flags = {DECLARE_FLAGS[w.lower()] for w in rest if w.lower() in DECLARE_FLAGS}
            rest = [w for w in rest if w.lower() not in DECLARE_FLAGS]
            severity = None
            if rest and (_SEV_LIKE.match(rest[0]) or rest[0].upper() in config.severity_names):
                severity = normalise_severity(rest[0], config.severity_names)
                rest = rest[1:]
            title = text_of(rest)
            if not title and "test" in flags:
                raise UserError("A drill needs a title too, e.g. "
                                "`/incident declare --test sev2 Failover drill`.")
            return Declare(title=validate_title(title) if title else "", severity=severity,
                           private="private" in flags, test="test" in flags)
        case "status":
            if not rest:
                raise UserError(
                    f"Which status? e.g. `/incident status monitoring Fix deployed`. "
                    f"Statuses: {some(config.statuses)}."
                )
            status = normalise_status(rest[0], config.statuses)
            return Status(status=status, note=capped(text_of(rest[1:]), "status note"), ref=ref)
        case "severity":
            if not rest:
                raise UserError(
                    f"Which severity? e.g. `/incident severity {config.severity_names[0]}`.")
            return Severity(severity=normalise_severity(rest[0], config.severity_names), ref=ref)
        case "role":
            if not rest:
                raise UserError(
                    f"Usage: `/incident role <role> @person`. Roles: {some(config.roles)}.")
            role = normalise_role(rest[0], config.roles)
            user_id = parse_user_ref(rest[1]) if len(rest) > 1 else None
            if user_id is None:
                raise UserError(
                    f"Who should be {role}? Mention them: `/incident role {role} @person`.")
            return Role(role=role, user_id=user_id, ref=ref)
        case "update":
            text = text_of(rest)
            if not text:
                raise UserError("What's the update? e.g. `/incident update Rolled back to v41`.")
            return Update(text=capped(text, "update"), ref=ref)
        case "note":
            return _note(capped(text_of(rest), "note"), ref)
        case "timeline":
            sub = rest[0].lower() if rest else ""
            if sub not in ("", "rebuild"):
                raise UserError("Use `/incident timeline` to see key events, or "
                                "`/incident timeline rebuild` to re-read the channel history.")
            return TimelineRebuild(ref=ref) if sub else Timeline(ref=ref)
        case "postmortem":
            sub = rest[0].lower() if rest else ""
            if sub == "":
                return Postmortem(ref=ref)
            if sub in ("edit", "write"):
                return PostmortemEdit(section=" ".join(rest[1:]), ref=ref)
            if sub == "review":
                return _review(rest[1:], ref)
            if sub == "factors" and len(rest) == 1:
                return PostmortemFactors(ref=ref)
            if sub == "factor":
                return _factor(rest[1:], ref, config)
            if sub == "upload" and len(rest) == 1:
                return PostmortemUpload(ref=ref)
            step = _STEPS.get(sub)
            if step is not None and len(rest) == 1:
                return PostmortemStep(step=step, ref=ref)
            raise UserError("Use `/incident postmortem` to draft (again), "
                            "`/incident postmortem edit [section]` to write its sections "
                            "(or `upload` to bring back an edited copy), "
                            "`/incident postmortem factor [category] <text>` to add a "
                            "contributing factor (`factors` lists them), "
                            "`/incident postmortem review @alice @bob` to ask for reviews, "
                            "then `/incident postmortem publish` (and `reopen` to revise it).")
        case "action" if len(rest) >= 2 and rest[0].lower() in ITEM_FIELDS and _ID.match(rest[1]):
            return _change_item(ITEM_FIELDS[rest[0].lower()], int(rest[1]), rest[2:], ref)
        case "hide" | "unhide":
            if len(rest) != 1 or not _ID.match(rest[0]):
                raise UserError(f"Which entry? `/incident {subcommand} 7`: "
                                "`/incident timeline` shows each entry's number.")
            return HideEntry(entry_id=int(rest[0]), hidden=subcommand == "hide", ref=ref)
        case "action":
            if not rest:
                raise UserError("What needs doing? e.g. `/incident action Add an alert on "
                                "replication lag @alice due friday type detect`.")
            # Keep Slack's escaped mentions intact for the owner; the rest becomes plain text.
            text = " ".join(w if w.startswith("<@") and parse_user_ref(w) else _plain_word(w)
                            for w in rest)
            check_action_item(text.split())
            return AddActionItem(text=text, ref=ref)
        case "stats":
            return Stats(period=rest[0] if rest else "")
        # --- corrections (issue 12) ---
        case "title":
            title = text_of(rest)
            if not title:
                raise UserError("What should the title be? e.g. "
                                "`/incident title Checkout errors in EU`.")
            return Retitle(title=validate_title(title), ref=ref)
        case "edit":
            return Edit(ref=ref)
        case "cancel":
            return Cancel(reason=capped(text_of(rest), "reason"), ref=ref)
        case "tag":
            return _tag(rest, ref)
        case "search":
            return Search(parse_search(capped(text_of(words[1:]), "search", MAX_SEARCH),
                                       config.severity_names))
        case _:  # "resolve": the last of SUBCOMMANDS
            return Resolve(summary=capped(text_of(rest), "summary"), ref=ref)


def _change_item(field: ItemField, item_id: int, words: list[str],
                 ref: int | None) -> ChangeActionItem:
    """`action text|owner|due|type|delete <id> [value]`, its syntax checked here."""
    match field:
        case "deleted":
            if words:
                raise UserError(f"To remove action item {item_id}: `/incident action delete "
                                f"{item_id}` (nothing after the number).")
            return ChangeActionItem(item_id, field, "", ref)
        case "owner":
            owner = parse_user_ref(words[0]) if len(words) == 1 and words[0].startswith("<@") \
                else None
            if owner is None:
                raise UserError(f"Who owns it now? Mention them: `/incident action owner "
                                f"{item_id} @person`.")
            return ChangeActionItem(item_id, field, owner, ref)
        case "type":
            if len(words) != 1 or words[0].lower() not in TYPES:
                raise UserError(f"Which type? `/incident action type {item_id} detect`: "
                                f"{', '.join(TYPES)}.")
            return ChangeActionItem(item_id, field, words[0].lower(), ref)
        case "due":
            if not words:
                raise UserError(f"Due when? `/incident action due {item_id} friday`.")
            check_action_item(["x", "due", *words])
            return ChangeActionItem(item_id, field, " ".join(words), ref)
        case "text":
            text = " ".join(_plain_word(w) for w in words).strip()
            if not text:
                raise UserError(f"What should it say? `/incident action text {item_id} "
                                "Add an alert on replication lag`.")
            if len(text) > 500:
                raise UserError("Keep an action item under 500 characters.")
            return ChangeActionItem(item_id, field, text, ref)


def _note(text: str, ref: int | None) -> Note | EditNote | DeleteNote:
    """`note <text>`, `note at <time> <text>` (the time's syntax is checked here), or a
    correction: `note edit <id> <text>`, `note delete <id>`."""
    if not text:
        raise UserError("What should the note say? e.g. `/incident note Paged the DB team` "
                        "or `/incident note at 14:05 Paged the DB team`.")
    words = text.split()
    head = words[0].lower()
    if head == "edit" and len(words) >= 3 and _ID.match(words[1]):
        return EditNote(entry_id=int(words[1]), text=" ".join(words[2:]), ref=ref)
    if head in ("delete", "remove") and len(words) == 2 and _ID.match(words[1]):
        return DeleteNote(entry_id=int(words[1]), ref=ref)
    if words[0].lower() != "at":
        return Note(text=text, body=" ".join(words), ref=ref)
    clock, rest = parse_note_clock(words[1:])
    if not rest:
        raise UserError(f"What happened at {clock.clock}? {NOTE_TIME_EXAMPLE}.")
    return Note(text=text, body=" ".join(rest), at=clock, ref=ref)


def _tag(words: list[str], ref: int | None) -> Tag:
    removing = bool(words) and words[0].lower() in ("remove", "rm", "delete")
    if removing:
        words = words[1:]
    names = [plain_from_slack(w).strip(",") for w in words]
    names = [n for n in names if n]
    if not names:
        raise UserError("Which tags? e.g. `/incident tag database service:payments`, or "
                        "`/incident tag remove database`.")
    if len(names) > MAX_TAGS:
        raise UserError(f"An incident can have at most {MAX_TAGS} tags.")
    tags = tuple(dict.fromkeys(normalise_tag(n) for n in names))
    return Tag(remove=tags, ref=ref) if removing else Tag(add=tags, ref=ref)
