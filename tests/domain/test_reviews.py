"""Postmortem review rules (bot/domain/reviews.py): who may approve, what counts, when it
may be published, what keeps the channel open."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.action_items import ActionItem
from bot.domain.reviews import (
    MAX_REVIEWERS,
    ReviewKind,
    ReviewRecord,
    check_may_draft,
    check_publishable,
    decide,
    missing_for_archive,
    request_reviewers,
    review_state,
    top_factors,
)
from bot.errors import UserError

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
A, B, C, LEAD = "U0A", "U0B", "U0C", "U0LEAD"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def asked(*reviewers: str) -> list[ReviewRecord]:
    return [ReviewRecord(ReviewKind.REQUESTED, LEAD, T0, reviewer=r, version=1)
            for r in reviewers]


def text(error: pytest.ExceptionInfo[UserError]) -> str:
    return error.value.render(lambda s: s, lambda u: "@" + u)


def test_requesting_reviewers_adds_only_new_ones_in_order() -> None:
    """Asking again for someone already asked records nothing for them."""
    state = review_state(asked(A))
    new = request_reviewers(state, [B, A, B, C], by=LEAD, now=T0, version=2)
    assert [(r.kind, r.reviewer, r.actor, r.version) for r in new] == [
        (ReviewKind.REQUESTED, B, LEAD, 2), (ReviewKind.REQUESTED, C, LEAD, 2)]
    assert review_state([*asked(A), *new]).reviewers == (A, B, C)
    assert request_reviewers(review_state(asked(A, B)), [A], by=LEAD, now=T0,
                             version=1) == ()


def test_requesting_needs_someone_and_has_a_limit() -> None:
    with pytest.raises(UserError, match="Who should review it"):
        request_reviewers(review_state([]), [], by=LEAD, now=T0, version=1)
    many = [f"U{i:03}" for i in range(MAX_REVIEWERS + 1)]
    with pytest.raises(UserError, match=f"at most {MAX_REVIEWERS} reviewers"):
        request_reviewers(review_state([]), many, by=LEAD, now=T0, version=1)


def test_only_requested_reviewers_decide() -> None:
    """The commander is not a reviewer unless asked; the refusal names the reviewers."""
    state = review_state(asked(A, B))
    with pytest.raises(UserError) as refused:
        decide(state, LEAD, ReviewKind.APPROVED, now=T0, version=1)
    assert text(refused) == ("Only the postmortem's requested reviewers can approve or request "
                             f"changes: @{A}, @{B}.")
    with pytest.raises(UserError, match="nobody has been asked yet"):
        decide(review_state([]), A, ReviewKind.APPROVED, now=T0, version=1)


def test_latest_verdict_counts_and_approvals_stand_across_versions_and_reopen() -> None:
    """Approve on v1, the postmortem is re-drafted, published, reopened: the approval
    stands. Requesting changes later replaces it."""
    log = asked(A, B)
    log.append(ReviewRecord(ReviewKind.APPROVED, A, at(1), version=1))
    log.append(ReviewRecord(ReviewKind.PUBLISHED, LEAD, at(2), version=3))
    log.append(ReviewRecord(ReviewKind.REOPENED, LEAD, at(3), version=3))
    state = review_state(log)
    assert state.approvals == (A,) and not state.published
    check_publishable(state, required=1)
    change = decide(state, A, ReviewKind.CHANGES_REQUESTED, now=at(4), version=4,
                    comment="  Say what the timeout was.  ")
    assert change is not None and change.comment == "Say what the timeout was."
    after = review_state([*log, change])
    assert after.approvals == () and after.changes_requested == (A,)


def test_approving_twice_records_nothing_new() -> None:
    log = [*asked(A), ReviewRecord(ReviewKind.APPROVED, A, at(1), version=1)]
    assert decide(review_state(log), A, ReviewKind.APPROVED, now=at(2), version=2) is None


def test_publish_needs_the_required_approvals() -> None:
    """One clear line naming how many more and who the reviewers are."""
    state = review_state(asked(A, B))
    with pytest.raises(UserError) as refused:
        check_publishable(state, required=1)
    assert text(refused) == f"The postmortem needs 1 more approval; reviewers: @{A}, @{B}."
    with pytest.raises(UserError) as refused:
        check_publishable(review_state([]), required=2)
    assert text(refused) == ("The postmortem needs 2 more approvals; nobody is reviewing it yet:"
                             " `/incident postmortem review @someone`.")
    check_publishable(review_state([]), required=0)
    approved = [*asked(A, B), ReviewRecord(ReviewKind.APPROVED, B, at(1))]
    check_publishable(review_state(approved), required=1)
    with pytest.raises(UserError, match="1 more approval"):
        check_publishable(review_state(approved), required=2)


def test_an_outstanding_change_request_blocks_publishing() -> None:
    log = [*asked(A, B), ReviewRecord(ReviewKind.APPROVED, A, at(1)),
           ReviewRecord(ReviewKind.CHANGES_REQUESTED, B, at(2), comment="Add impact")]
    with pytest.raises(UserError) as refused:
        check_publishable(review_state(log), required=1)
    assert text(refused) == f"@{B} asked for changes; their approval is needed before publishing."
    log.append(ReviewRecord(ReviewKind.APPROVED, B, at(3)))
    check_publishable(review_state(log), required=2)


def test_nothing_changes_a_published_postmortem_until_reopened() -> None:
    log = [*asked(A), ReviewRecord(ReviewKind.APPROVED, A, at(1)),
           ReviewRecord(ReviewKind.PUBLISHED, LEAD, at(2))]
    state = review_state(log)
    assert state.published
    for attempt in (lambda: check_publishable(state, 1),
                    lambda: decide(state, A, ReviewKind.CHANGES_REQUESTED, now=at(3), version=1),
                    lambda: request_reviewers(state, [B], by=LEAD, now=at(3), version=1),
                    lambda: check_may_draft("published")):
        with pytest.raises(UserError, match="reopen"):
            attempt()
    check_may_draft("draft")
    check_may_draft("in_review")


def test_archiving_waits_for_owners_and_due_dates_on_open_items() -> None:
    def item(n: int, owner: str | None, due: date | None, status: str = "open") -> ActionItem:
        return ActionItem(n, f"item {n}", owner, due, "prevent", status, T0, LEAD)

    items = [item(1, A, date(2026, 12, 9)), item(2, None, date(2026, 12, 9)),
             item(3, B, None), item(4, None, None, status="done")]
    missing = missing_for_archive(items)
    assert [(m.item.id, m.owner, m.due) for m in missing] == [(2, True, False), (3, False, True)]
    assert missing_for_archive(items[:1] + items[3:]) == ()


def test_top_factors_are_the_sections_first_lines() -> None:
    section = ("- The validator is a manual step.\n\n* Nothing alerted on EU 5xx.\n"
               "1. The push went to every region at once.\n2) A fourth line\n")
    assert top_factors(section) == ("The validator is a manual step.",
                                    "Nothing alerted on EU 5xx.",
                                    "The push went to every region at once.")
    assert top_factors("1.5 seconds of retries piled up") == ("1.5 seconds of retries piled up",)
    assert top_factors("x" * 300, width=10) == ("xxxxxxxxx…",)
    assert top_factors("") == ()
