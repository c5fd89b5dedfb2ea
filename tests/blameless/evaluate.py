"""Score the blameless checker on a corpus file: per-category figures as a Markdown table.

Usage: python -m tests.blameless.evaluate [tuning|heldout|all] [--misses]

Blameful categories report recall (share flagged); systems-focused categories report
accuracy (share left clean). The totals give precision and recall on blameful sentences
and accuracy on systems-focused ones. `--misses` lists the sentences it got wrong and is
refused for heldout.yaml: the held-out set is only ever scored in aggregate (README.md).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.domain.blameless import lint_text

HERE = Path(__file__).parent
SETS = {"tuning": ("tuning.yaml",), "heldout": ("heldout.yaml",),
        "all": ("tuning.yaml", "heldout.yaml")}
BLAMEFUL = ("person-cause", "counterfactual", "judgement", "group-blame",
            "rhetorical", "contrast", "passive-blame", "human-error")
SYSTEMS = ("quoted-rejection", "neutral-action", "ruled-out", "system-condition",
           "improvement", "timeline-fact")


def load(name: str) -> list[dict]:
    """The entries of one corpus set (`tuning`, `heldout` or `all`)."""
    return [e for f in SETS[name] for e in yaml.safe_load((HERE / f).read_text("utf-8"))]


@dataclass
class Score:
    """Counts per category, and the sentences the checker got wrong."""
    right: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    wrong: list[dict] = field(default_factory=list)
    dirty_rewrites: list[str] = field(default_factory=list)

    def rate(self, categories: tuple[str, ...]) -> float:
        n = sum(self.total.get(c, 0) for c in categories)
        return sum(self.right.get(c, 0) for c in categories) / max(n, 1)

    @property
    def recall(self) -> float:
        return self.rate(BLAMEFUL)

    @property
    def accuracy(self) -> float:
        """Share of systems-focused sentences left clean."""
        return self.rate(SYSTEMS)

    @property
    def precision(self) -> float:
        tp = sum(self.right.get(c, 0) for c in BLAMEFUL)
        fp = sum(self.total.get(c, 0) - self.right.get(c, 0) for c in SYSTEMS)
        return tp / max(tp + fp, 1)


def score(entries: list[dict]) -> Score:
    result = Score()
    for entry in entries:
        cat = entry["category"]
        flagged = bool(lint_text(entry["text"]))
        result.total[cat] = result.total.get(cat, 0) + 1
        if flagged == entry["blameful"]:
            result.right[cat] = result.right.get(cat, 0) + 1
        else:
            result.wrong.append(entry)
        if entry.get("rewrite") and lint_text(entry["rewrite"]):
            result.dirty_rewrites.append(entry["rewrite"])
    return result


def table(result: Score) -> str:
    lines = ["| category | sentences | figure |", "|---|---:|---|"]
    for cat in BLAMEFUL:
        lines.append(f"| {cat} | {result.total.get(cat, 0)} | recall {result.rate((cat,)):.2f} |")
    for cat in SYSTEMS:
        lines.append(f"| {cat} | {result.total.get(cat, 0)} | "
                     f"accuracy {result.rate((cat,)):.2f} |")
    n_blame = sum(result.total.get(c, 0) for c in BLAMEFUL)
    n_sys = sum(result.total.get(c, 0) for c in SYSTEMS)
    lines.append(f"| **blameful** | {n_blame} | **precision {result.precision:.2f}, "
                 f"recall {result.recall:.2f}** |")
    lines.append(f"| **systems-focused** | {n_sys} | **accuracy {result.accuracy:.2f}** |")
    lines.append(f"| rewrites flagged | {n_blame} | {len(result.dirty_rewrites)} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    name = next((a for a in argv if not a.startswith("-")), "tuning")
    if name not in SETS:
        print(f"unknown set {name!r}; use one of {', '.join(SETS)}")
        return 2
    result = score(load(name))
    print(f"blameless checker on {name}:\n")
    print(table(result))
    if "--misses" in argv:
        if name != "tuning":
            print("\n--misses is only for tuning: the held-out set is scored in aggregate.")
            return 2
        for entry in result.wrong:
            print(f"- [{entry['category']}] {entry['text']}")
        for rewrite in result.dirty_rewrites:
            print(f"- [rewrite flagged] {rewrite}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
