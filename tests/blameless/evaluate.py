"""Score the blameless checker on a corpus file: per-category figures as a Markdown table.

Usage: python -m tests.blameless.evaluate [NAME] [--misses]

NAME is a corpus file in this folder without `.yaml` (`tuning`, `heldout`, `heldout2`),
or `development` (every development set together). Blameful categories report recall
(share flagged); systems-focused categories report accuracy (share left clean). The
totals give precision and recall on blameful sentences and accuracy on systems-focused
ones. `--misses` lists the sentences it got wrong, and is refused for the held-out sets
(`HELDOUT`): they are only ever scored in aggregate (README.md). `heldout.yaml` was the
first held-out set; after four aggregate evaluations it became development data.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.domain.blameless import lint_text

HERE = Path(__file__).parent
DEVELOPMENT = ("tuning", "heldout")  # tuned on; misses may be printed
HELDOUT = ("heldout2",)  # never tuned on: aggregate figures only
BLAMEFUL = ("person-cause", "counterfactual", "judgement", "group-blame",
            "rhetorical", "contrast", "passive-blame", "human-error")
SYSTEMS = ("quoted-rejection", "neutral-action", "ruled-out", "system-condition",
           "improvement", "timeline-fact")


def files(name: str) -> tuple[Path, ...]:
    """The corpus files of a set name (`development` is every development set)."""
    names = DEVELOPMENT if name == "development" else (name,)
    return tuple(HERE / f"{n}.yaml" for n in names)


def exists(name: str) -> bool:
    return all(f.is_file() for f in files(name))


def load(name: str) -> list[dict]:
    """The entries of one corpus set, by name (see `files`)."""
    return [e for f in files(name) for e in yaml.safe_load(f.read_text("utf-8"))]


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
        lines.append(f"| {cat} | {result.total.get(cat, 0)} | recall {result.rate((cat,)):.3f} |")
    for cat in SYSTEMS:
        lines.append(f"| {cat} | {result.total.get(cat, 0)} | "
                     f"accuracy {result.rate((cat,)):.3f} |")
    n_blame = sum(result.total.get(c, 0) for c in BLAMEFUL)
    n_sys = sum(result.total.get(c, 0) for c in SYSTEMS)
    lines.append(f"| **blameful** | {n_blame} | **precision {result.precision:.3f}, "
                 f"recall {result.recall:.3f}** |")
    lines.append(f"| **systems-focused** | {n_sys} | **accuracy {result.accuracy:.3f}** |")
    lines.append(f"| rewrites flagged | {n_blame} | {len(result.dirty_rewrites)} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    name = next((a for a in argv if not a.startswith("-")), "tuning").removesuffix(".yaml")
    if "--misses" in argv and name not in (*DEVELOPMENT, "development"):
        # Default deny: only the development sets may have their sentences printed.
        print(f"--misses is refused for {name}: a held-out set is only scored in aggregate.")
        return 2
    if "/" in name or not re.fullmatch(r"[\w-]+", name) or not exists(name):
        known = sorted({*DEVELOPMENT, *HELDOUT, "development"} - {n for n in HELDOUT
                                                                  if not exists(n)})
        print(f"no corpus set {name!r} in {HERE}; use one of {', '.join(known)}")
        return 2
    entries = load(name)
    if not all(isinstance(e, dict) and "category" in e for e in entries):
        print(f"{name}.yaml is not a labelled corpus set (entries need a category)")
        return 2
    result = score(entries)
    print(f"blameless checker on {name}:\n")
    print(table(result))
    if "--misses" in argv:
        for entry in result.wrong:
            print(f"- [{entry['category']}] {entry['text']}")
        for rewrite in result.dirty_rewrites:
            print(f"- [rewrite flagged] {rewrite}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
