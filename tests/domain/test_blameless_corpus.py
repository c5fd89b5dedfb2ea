"""The blameless checker measured on the corpus (tests/blameless/, see its README).

Development sets (tuned on; their misses may be printed): `tuning.yaml`, and
`heldout.yaml`, the first held-out set, which became development data after four
aggregate evaluations. The held-out set is `heldout2.yaml`, written independently and
never tuned on: it is only ever scored in aggregate, these tests print its per-category
figures (`-n 0 -s`) and assert the goal of issue 14, but never list its sentences, even
when they fail. Until the file is merged, its tests are skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.domain.blameless import lint_text
from tests.blameless import evaluate
from tests.blameless.evaluate import DEVELOPMENT, HELDOUT, exists, load, score, table

GOAL = 0.90  # recall and precision on blameful sentences, accuracy on near-misses


def _held_out(name: str) -> str:
    if not exists(name):
        pytest.skip(f"tests/blameless/{name}.yaml is not there yet (it is written "
                    "independently of the checker and merged on its own)")
    return name


@pytest.mark.parametrize("name", DEVELOPMENT)
def test_the_checker_meets_the_goal_on_each_development_set(name: str) -> None:
    """Precision and recall on blameful sentences, accuracy on systems-focused ones."""
    result = score(load(name))
    print(f"\nblameless checker on {name}.yaml (development):\n{table(result)}")
    assert result.precision >= GOAL, f"{name}: precision {result.precision:.3f}"
    assert result.recall >= GOAL, f"{name}: recall {result.recall:.3f}"
    assert result.accuracy >= GOAL, f"{name}: near-miss accuracy {result.accuracy:.3f}"


@pytest.mark.parametrize("name", HELDOUT)
def test_the_checker_meets_the_goal_on_the_held_out_set(name: str) -> None:
    """The goal of issue 14, on sentences never tuned on (aggregate figures only)."""
    result = score(load(_held_out(name)))
    print(f"\nblameless checker on {name}.yaml (held-out):\n{table(result)}")
    assert result.precision >= GOAL, f"{name}: precision {result.precision:.3f}"
    assert result.recall >= GOAL, f"{name}: recall {result.recall:.3f}"
    assert result.accuracy >= GOAL, f"{name}: near-miss accuracy {result.accuracy:.3f}"


@pytest.mark.parametrize("name", DEVELOPMENT)
def test_every_rewrite_in_a_development_set_comes_out_clean(name: str) -> None:
    """The corpus authors' systems-focused rewrites are what we ask people to write."""
    dirty = score(load(name)).dirty_rewrites
    assert not dirty, dirty


@pytest.mark.parametrize("name", HELDOUT)
def test_the_held_out_rewrites_mostly_come_out_clean(name: str) -> None:
    """Held-out rewrites flagged are counted, never printed."""
    result = score(load(_held_out(name)))
    blameful = sum(1 for e in load(name) if e.get("rewrite"))
    dirty = len(result.dirty_rewrites)
    assert dirty <= blameful * (1 - GOAL), f"{dirty} of {blameful} held-out rewrites flagged"


def test_figures_are_printed_with_three_decimals() -> None:
    """A recall of 103/115 = 0.8957 must read 0.896, not 0.90: a miss never prints as a
    pass of the 0.90 goal."""
    result = evaluate.Score(right={"person-cause": 103}, total={"person-cause": 115})
    printed = table(result)
    assert "recall 0.896" in printed
    assert "0.90 " not in printed and "0.90*" not in printed


def test_misses_are_never_printed_for_a_held_out_set(capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m tests.blameless.evaluate heldout2 --misses` refuses, whether or not the
    file is there, before reading it."""
    for name in HELDOUT:
        assert evaluate.main([name, "--misses"]) == 2
        assert "refused" in capsys.readouterr().out


def test_suggestions_reword_the_sentence_without_blame() -> None:
    """Each finding's suggestion starts with a rewording of *that* sentence (built from its
    words), which names nobody and passes the checker itself."""
    for entry in (e for e in load("development") if e["blameful"]):
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
