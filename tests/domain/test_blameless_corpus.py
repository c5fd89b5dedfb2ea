"""The blameless checker measured on the independent corpus (tests/blameless/).

`tuning.yaml` is the development set; `heldout.yaml` was written before any tuning and is
only ever scored in aggregate: these tests print per-category figures (`-s`) and assert
the goal of issue 14, but never list held-out sentences, even when they fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.domain.blameless import lint_text
from tests.blameless.evaluate import load, score, table

GOAL = 0.90  # recall and precision on blameful sentences, accuracy on near-misses
# Measured on the held-out set at the end of issue 14 (precision 0.97, recall 0.87,
# near-miss accuracy 0.97, 3 of 107 rewrites flagged): the recall goal is not met yet.
# These floors catch regressions; the goal test below is an expected failure until a
# better checker meets it (strict: it then fails as XPASS and the marker must go).
HELDOUT_FLOOR = {"precision": 0.95, "recall": 0.85, "accuracy": 0.95}
HELDOUT_DIRTY_REWRITES = 3
NOT_YET = pytest.mark.xfail(strict=True, reason="issue 14: held-out recall 0.87 < 0.90, "
                                                "3 held-out rewrites flagged")


@pytest.mark.parametrize("name", ["tuning", pytest.param("heldout", marks=NOT_YET)])
def test_the_checker_meets_the_goal_on_each_set(name: str) -> None:
    """Precision and recall on blameful sentences, accuracy on systems-focused ones."""
    result = score(load(name))
    print(f"\nblameless checker on {name}.yaml:\n{table(result)}")
    assert result.precision >= GOAL, f"{name}: precision {result.precision:.2f}"
    assert result.recall >= GOAL, f"{name}: recall {result.recall:.2f}"
    assert result.accuracy >= GOAL, f"{name}: near-miss accuracy {result.accuracy:.2f}"


def test_the_held_out_figures_do_not_regress() -> None:
    """The figures reported in the README, as floors (aggregate only)."""
    result = score(load("heldout"))
    print(f"\nblameless checker on heldout.yaml:\n{table(result)}")
    assert result.precision >= HELDOUT_FLOOR["precision"]
    assert result.recall >= HELDOUT_FLOOR["recall"]
    assert result.accuracy >= HELDOUT_FLOOR["accuracy"]
    assert len(result.dirty_rewrites) <= HELDOUT_DIRTY_REWRITES


@pytest.mark.parametrize("name", ["tuning", pytest.param("heldout", marks=NOT_YET)])
def test_every_rewrite_in_the_corpus_comes_out_clean(name: str) -> None:
    """The corpus authors' systems-focused rewrites are what we ask people to write."""
    dirty = score(load(name)).dirty_rewrites
    # Held-out sentences are never printed: only how many.
    assert not dirty, dirty if name == "tuning" else f"{len(dirty)} held-out rewrites flagged"


def test_suggestions_reword_the_sentence_without_blame() -> None:
    """Each finding's suggestion starts with a rewording of *that* sentence (built from its
    words), which names nobody and passes the checker itself."""
    for entry in (e for e in load("tuning") if e["blameful"]):
        for finding in lint_text(entry["text"]):
            rewrite = re.search(r"“([^”]+)”", finding.suggestion)
            assert rewrite, finding.suggestion
            if finding.category == "hindsight":
                assert entry["text"][finding.start:finding.end] not in rewrite.group(1)
                continue
            assert lint_text(rewrite.group(1)) == [], (entry["text"], rewrite.group(1))


def test_the_developers_probe_sentences_stay_right() -> None:
    """Regression cases written while tuning (not independent, see the file's header)."""
    probes = yaml.safe_load((Path(__file__).parent.parent / "blameless" / "developer_probes.yaml")
                            .read_text(encoding="utf-8"))
    wrong = [p["text"] for p in probes if bool(lint_text(p["text"])) != p["blameful"]]
    assert len(wrong) <= len(probes) // 50, wrong
