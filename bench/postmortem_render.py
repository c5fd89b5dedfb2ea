"""Postmortem rendering for an incident with 10,000 timeline entries: Debrief's path
(build the context, render in the sandbox with StrictUndefined) vs a bare Jinja2 render
of the same template and the same context.

    python -m bench.postmortem_render [--entries 10000] [--repeat 10]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from jinja2 import Environment

from bot.config import DebriefConfig
from bot.domain.incidents import EventRecord, Incident
from bot.domain.postmortem import postmortem_context
from bot.domain.timeline import TimelineEntry, build_timeline, durations
from bot.templating import render_postmortem, templates_dir


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    config = DebriefConfig()
    start = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    incident = Incident(
        number=1, title="Bench", severity="SEV1", status="resolved", description="d",
        declared_at=start, declared_by="U1", resolved_at=start + timedelta(hours=5),
        roles={"commander": "U1"}, channel_id="C1",
        events=(EventRecord(start, "declared", "U1", {"title": "Bench", "severity": "SEV1"}),))
    entries = [TimelineEntry(at=start + timedelta(seconds=i), kind="message", author="U2",
                             text=f"entry {i} with some words about the system", channel_id="C1",
                             ts=f"{1_800_000_000 + i}.000100", marked_by=("U1",) if i % 2 else ())
               for i in range(args.entries)]

    def build_context() -> dict:  # type: ignore[type-arg]
        return postmortem_context(
            incident, timeline=build_timeline(incident, entries, key_only=True), actions=[],
            spans=durations(
                incident, config.statuses, config.timeline.mitigated_status),
            names={"U1": "Alice", "U2": "Bob"}, severity_description="Critical",
            document_status="draft", version=1, generated_at=start, due_at=None,
            workspace_url="https://x.slack.com", roles=config.roles)

    def ours() -> str:
        return render_postmortem("postmortem.md.j2", build_context())

    context = build_context()
    bare = Environment(keep_trailing_newline=True).from_string(
        (templates_dir() / "postmortem.md.j2").read_text())

    def cpu_ms(fn) -> float:  # type: ignore[no-untyped-def]
        """CPU time of this thread: a shared machine's other work does not count."""
        t = time.thread_time()
        fn()
        return (time.thread_time() - t) * 1000

    ours()  # warm the template cache
    # Alternate the contenders run by run, so a noisy stretch hits each of them.
    runs: dict[str, list[float]] = {"ours": [], "bare": [], "context": [], "sandbox": []}
    for _ in range(args.repeat):
        runs["ours"].append(cpu_ms(ours))
        runs["bare"].append(cpu_ms(lambda: bare.render(**context)))
        runs["context"].append(cpu_ms(build_context))
        runs["sandbox"].append(cpu_ms(lambda: render_postmortem("postmortem.md.j2", context)))
    ours_ms, bare_ms, context_ms, sandbox_ms = (min(runs[k]) for k in runs)
    ratios = sorted(o / b for o, b in zip(runs["ours"], runs["bare"], strict=True))
    size = len(ours())
    print(f"{args.entries} timeline entries ({args.entries // 2} key), best of {args.repeat} "
          f"(thread CPU time): Debrief {ours_ms:.1f} ms (context + sandboxed render), bare "
          f"Jinja2 render {bare_ms:.1f} ms, document {size / 1024:.0f} KiB")
    print(f"of which: context {context_ms:.1f} ms, sandboxed render {sandbox_ms:.1f} ms "
          f"({sandbox_ms / bare_ms:.2f}x the bare render); run-by-run ratios "
          f"{ratios[0]:.2f}-{ratios[-1]:.2f}")
    print(f"RESULT entries={args.entries} debrief_ms={ours_ms:.1f} bare_jinja_ms={bare_ms:.1f} "
          f"ratio={ours_ms / bare_ms:.2f} median_run_ratio={ratios[len(ratios) // 2]:.2f}")

if __name__ == "__main__":
    main()
