"""Postmortem review and publishing: who was asked, who approved or asked for changes,
whether it may be published, and what publishing needs before the channel is archived.

The record is a log (`ReviewRecord`s, oldest first) that `review_state` folds into the
current `ReviewState`. The rules, decided here once:

- Only the requested reviewers approve or request changes (not the commander, not an
  admin: they publish, they do not stand in for a review).
- Each reviewer's latest verdict counts, and it stands across later versions of the
  postmortem and across a reopen: re-drafting does not withdraw an approval. A reviewer
  who wants another look requests changes, which replaces their approval.
- Publishing needs `required` approvals and no reviewer whose latest verdict is "changes
  requested".
- A published postmortem is not drafted, edited or reviewed until it is reopened.

Pure: plain values in, plain values out; the caller passes `now`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.domain.action_items import ActionItem
from bot.errors import Mention, UserError

MAX_REVIEWERS = 10
_MARKER = re.compile(r"^(?:[-*•]|\d{1,2}[.)])\s+")  # a Markdown list item's marker
MAX_COMMENT = 2900  # a change request's comment: it is posted in the incident channel


class ReviewKind(StrEnum):
    """One step of a postmortem's review, as recorded (the values are stored)."""

    REQUESTED = "requested"            # `reviewer` was asked by `actor`
    APPROVED = "approved"              # `actor` (a reviewer) approved
    CHANGES_REQUESTED = "changes_requested"  # `actor` asked for changes (`comment`)
    PUBLISHED = "published"
    REOPENED = "reopened"
    ARCHIVED = "archived"              # the incident channel was archived after publishing


VERDICTS = (ReviewKind.APPROVED, ReviewKind.CHANGES_REQUESTED)


@dataclass(frozen=True)
class ReviewRecord:
    kind: ReviewKind
    actor: str
    at: datetime
    reviewer: str | None = None   # REQUESTED: who was asked
    comment: str = ""
    version: int | None = None    # the postmortem version it was about


@dataclass(frozen=True)
class ReviewState:
    """Where the review stands: everyone asked (in the order asked), each reviewer's
    latest verdict, and whether it is published (and the channel archived)."""

    reviewers: tuple[str, ...] = ()
    verdicts: dict[str, ReviewRecord] = field(default_factory=dict)
    published: bool = False
    archived: bool = False

    @property
    def approvals(self) -> tuple[str, ...]:
        return tuple(r for r in self.reviewers
                     if (v := self.verdicts.get(r)) and v.kind is ReviewKind.APPROVED)

    @property
    def changes_requested(self) -> tuple[str, ...]:
        return tuple(r for r in self.reviewers
                     if (v := self.verdicts.get(r)) and v.kind is ReviewKind.CHANGES_REQUESTED)


def review_state(records: Iterable[ReviewRecord]) -> ReviewState:
    """Fold the log (oldest first) into where the review stands now."""
    reviewers: list[str] = []
    verdicts: dict[str, ReviewRecord] = {}
    published = archived = False
    for record in records:
        match record.kind:
            case ReviewKind.REQUESTED if record.reviewer and record.reviewer not in reviewers:
                reviewers.append(record.reviewer)
            case ReviewKind.APPROVED | ReviewKind.CHANGES_REQUESTED:
                verdicts[record.actor] = record
            case ReviewKind.PUBLISHED:
                published = True
            case ReviewKind.REOPENED:  # reopening unarchives the channel (it is told)
                published = archived = False
            case ReviewKind.ARCHIVED:
                archived = True
    return ReviewState(tuple(reviewers), verdicts, published, archived)


def _not_published(state: ReviewState, doing: str) -> None:
    if state.published:
        raise UserError(f"The postmortem is published; `/incident postmortem reopen` it "
                        f"before {doing}.")


def check_may_draft(status: str) -> None:
    """Drafting, editing or uploading changes nothing once published, until reopened."""
    if status == "published":
        raise UserError("The postmortem is published, so it can't be changed: "
                        "`/incident postmortem reopen` first (the commander or a reviewer).")


def request_reviewers(state: ReviewState, wanted: Sequence[str], *, by: str, now: datetime,
                      version: int | None) -> tuple[ReviewRecord, ...]:
    """The REQUESTED records for those of `wanted` not asked yet (none when all were)."""
    _not_published(state, "asking for reviews")
    if not wanted:
        raise UserError("Who should review it? Mention them: "
                        "`/incident postmortem review @alice @bob`.")
    new = [u for u in dict.fromkeys(wanted) if u not in state.reviewers]
    if len(state.reviewers) + len(new) > MAX_REVIEWERS:
        raise UserError(f"A postmortem can have at most {MAX_REVIEWERS} reviewers.")
    return tuple(ReviewRecord(ReviewKind.REQUESTED, by, now, reviewer=u, version=version)
                 for u in new)


def decide(state: ReviewState, reviewer: str, kind: ReviewKind, *, now: datetime,
           version: int | None, comment: str = "") -> ReviewRecord | None:
    """A reviewer's verdict (approve or request changes); None when it repeats their
    standing approval. Only a requested reviewer may give one, before publishing."""
    if kind not in VERDICTS:
        raise ValueError(kind)
    if reviewer not in state.reviewers:
        names = [Mention(r) for r in state.reviewers]
        if not names:
            raise UserError("Only the postmortem's requested reviewers can approve or request "
                            "changes, and nobody has been asked yet.")
        raise UserError("Only the postmortem's requested reviewers can approve or request "
                        "changes: ", *_listed(names), ".")
    _not_published(state, "reviewing it again")
    comment = " ".join(comment.split()) if kind is ReviewKind.APPROVED else comment.strip()
    if len(comment) > MAX_COMMENT:
        raise UserError(f"A comment is at most {MAX_COMMENT:,} characters "
                        f"(this is {len(comment):,}).")
    standing = state.verdicts.get(reviewer)
    if kind is ReviewKind.APPROVED and standing and standing.kind is kind:
        return None
    return ReviewRecord(kind, reviewer, now, version=version, comment=comment)


def _listed(parts: list[Mention]) -> list[str | Mention]:
    out: list[str | Mention] = []
    for i, part in enumerate(parts):
        if i:
            out.append(", ")
        out.append(part)
    return out


def check_publishable(state: ReviewState, required: int) -> None:
    """Refused, in one line, unless `required` reviewers approved and none of them still
    asks for changes: "needs 1 more approval; reviewers: @a, @b"."""
    _not_published(state, "publishing it again")
    missing = required - len(state.approvals)
    reviewers = [Mention(r) for r in state.reviewers]
    if missing > 0:
        who: list[str | Mention] = (["; reviewers: ", *_listed(reviewers)] if reviewers else
                                    ["; nobody is reviewing it yet: "
                                     "`/incident postmortem review @someone`"])
        raise UserError(f"The postmortem needs {missing} more approval"
                        f"{'s' * (missing != 1)}", *who, ".")
    if state.changes_requested:
        raise UserError(*_listed([Mention(r) for r in state.changes_requested]),
                        " asked for changes; their approval is needed before publishing.")


@dataclass(frozen=True)
class Missing:
    """An open action item without an owner and/or a due date."""

    item: ActionItem
    owner: bool
    due: bool


def missing_for_archive(items: Iterable[ActionItem]) -> tuple[Missing, ...]:
    """What keeps the channel open after publishing: open action items lacking an owner
    or a due date (done and removed items need neither)."""
    return tuple(Missing(i, not i.owner, i.due_on is None) for i in items
                 if i.is_open and (not i.owner or i.due_on is None))


def top_factors(section_text: str, limit: int = 3, width: int = 200) -> tuple[str, ...]:
    """The first lines of the "Contributing factors" section, as a short list for the
    published summary: list markers dropped, each line shortened to `width`."""
    found: list[str] = []
    for line in section_text.splitlines():
        line = _MARKER.sub("", line.strip()).strip()
        if not line:
            continue
        found.append(line if len(line) <= width else line[:width - 1].rstrip() + "…")
        if len(found) == limit:
            break
    return tuple(found)
