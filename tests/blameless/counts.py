"""Print per-category and per-voice counts of the blameless corpus files as Markdown tables.

Usage: python3 tests/blameless/counts.py
"""
from collections import Counter
from pathlib import Path

import yaml

HERE = Path(__file__).parent
# heldout2.yaml (the held-out set) is counted once it is merged: counts, never sentences.
FILES = tuple(f for f in ("heldout2.yaml", "heldout.yaml", "tuning.yaml") if (HERE / f).is_file())
BLAMEFUL = ("person-cause", "counterfactual", "judgement", "group-blame",
            "rhetorical", "contrast", "passive-blame", "human-error")
SYSTEMS = ("quoted-rejection", "neutral-action", "ruled-out", "system-condition",
           "improvement", "timeline-fact")


def load(name):
    return yaml.safe_load((HERE / name).read_text(encoding="utf-8"))


def table(key, rows, data):
    counts = {name: Counter(entry[key] for entry in entries) for name, entries in data.items()}
    lines = [f"| {key} | " + " | ".join(FILES) + " |", "|---|" + "---:|" * len(FILES)]
    for row in rows:
        lines.append(f"| {row} | " + " | ".join(str(counts[f][row]) for f in FILES) + " |")
    return lines


def main():
    data = {name: load(name) for name in FILES}
    out = table("category", BLAMEFUL, data)
    out.append("| **blameful total** | " + " | ".join(
        str(sum(e["blameful"] for e in data[f])) for f in FILES) + " |")
    out += table("category", SYSTEMS, data)[2:]
    out.append("| **systems-focused total** | " + " | ".join(
        str(sum(not e["blameful"] for e in data[f])) for f in FILES) + " |")
    out.append("| **total** | " + " | ".join(str(len(data[f])) for f in FILES) + " |")
    print("\n".join(out))
    print()
    voices = sorted({e["voice"] for f in FILES for e in data[f]})
    print("\n".join(table("voice", voices, data)))


if __name__ == "__main__":
    main()
