"""Blameless check of a 10,000-word postmortem, against a plain regex scan of the same text.

The document is built from the tuning corpus (blameful and systems-focused sentences,
mixed with Markdown: headings, bullets, a code block, a quote), repeated to 10,000 words.
The floor is one compiled regex of the checker's blame keywords run over every line
(what a keyword linter costs); the ratio says what agent detection, clause analysis and
the rewording of each finding cost on top. Pure domain code: no database, no Slack.

    python -m bench.blameless [--words 10000] [--n 5]
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import yaml

from bot.domain.blameless import lint_text

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "blameless" / "tuning.yaml"
FLOOR = re.compile(r"\b(?:forgot|failed to|should have|could have|ignored|careless|sloppy|"
                   r"human error|operator error|instead of|rather than|broke|caused|who)\b",
                   re.IGNORECASE)


def document(words: int) -> str:
    entries = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    parts, count, section = ["# Postmortem: checkout outage\n"], 0, 0
    while count < words:
        for i, entry in enumerate(entries):
            if i % 40 == 0:
                section += 1
                parts.append(f"\n## Section {section}\n\n```\n$ kubectl rollout undo\n```\n"
                             "> The customer wrote that someone broke it.\n")
            parts.append(("- " if i % 3 else "") + entry["text"] + "\n")
            count += len(entry["text"].split())
            if count >= words:
                break
    return "".join(parts)


def best_of(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--n", type=int, default=5)
    args = parser.parse_args()
    text = document(args.words)
    findings = lint_text(text)
    assert findings == lint_text(text), "the checker must be deterministic"
    check = best_of(lambda: lint_text(text), args.n)
    floor = best_of(lambda: [FLOOR.findall(line) for line in text.splitlines()], args.n)
    print(f"{len(text.split())} words, {len(text.splitlines())} lines, {len(findings)} findings")
    print(f"blameless check {check * 1000:.1f} ms; regex scan floor {floor * 1000:.2f} ms; "
          f"ratio {check / floor:.0f}x")


if __name__ == "__main__":
    main()
