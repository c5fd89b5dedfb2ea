"""Search at 10,000 incidents: how long `/incident search` takes to answer from the
database, against a floor.

Seeds a database with bench/scale.py's generator through `debrief incident import`
(each incident: a title, four chat messages, a postmortem with two versions, tags from
bench.scale.TAG_SETS), then times, in this process, a few searches through the service
the Slack command and the CLI use (`search_incidents`: the ranked SQL, then the matching
incidents read with their events and action items) and the ranked SQL alone. The floor
is a plain indexed look-up of one incident by number (`tx.incidents.get`, three
statements). Prints the median and the max over `--repeat` runs, in ms, and the ratio
of each median to the floor's.

    python -m bench.search [--incidents 10000] [--repeat 7] [--database URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.scale import seed
from bot.clock import utcnow
from bot.domain.incidents import Incident
from bot.domain.related import related_query
from bot.domain.search import parse_search
from bot.services.related import CANDIDATES, related_incidents
from bot.services.search import MAX_RESULTS, search_incidents
from storage.db import make_engine
from storage.uow import UnitOfWorkFactory

SEARCHES = (
    "4242",                                 # a rare word: one title (and its prefixes)
    "rolled back",                          # words in every summary/postmortem: all match
    "configuration push tag:database sev:SEV1",  # common words narrowed by filters
    "tag:network after:2026-06-01",         # filters only, no words
    "checkout zzzz",                        # one common word, one in nothing: no match
)
SEVERITIES = ("SEV1", "SEV2", "SEV3")


def timed(run: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """Median and max ms over `repeat` runs (after one warm-up), and the last answer."""
    answer = run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        answer = run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples), answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--database", help="a database URL (default: a new SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.database or f"sqlite:///{folder / 'search.db'}"
        seed(url, args.incidents, folder, utcnow())
        engine = make_engine(url)
        uow = UnitOfWorkFactory(engine)
        target = args.incidents // 2

        def floor() -> object:
            with uow() as tx:
                return tx.incidents.get(target)

        base, base_max, _ = timed(floor, args.repeat)
        print(f"{engine.dialect.name}, {args.incidents:,} incidents; median / max of "
              f"{args.repeat} runs")
        print(f"{'floor: one incident by number':<48} {base:8.2f} {base_max:8.2f} ms   1.0×")
        for words in SEARCHES:
            query = parse_search(words, SEVERITIES)

            def ranked(query: object = query) -> object:
                with uow() as tx:
                    return tx.search.search(query, limit=MAX_RESULTS * 2)  # type: ignore[arg-type]

            def service(query: object = query) -> object:
                return search_incidents(query, uow=uow)  # type: ignore[arg-type]

            sql, sql_max, numbers = timed(ranked, args.repeat)
            whole, whole_max, found = timed(service, args.repeat)
            count = len(found.incidents)  # type: ignore[attr-defined]
            print(f"{words!r:<48} {whole:8.2f} {whole_max:8.2f} ms {whole / base:6.1f}×"
                  f"   (ranked SQL alone {sql:.2f} ms {sql / base:.1f}×; "
                  f"{count} shown, {len(numbers)} ranked)")  # type: ignore[arg-type]
        # Related past incidents on declare: the worst case, a title word ("checkout")
        # in every incident plus two tags, ranked over all of them.
        new = Incident(number=args.incidents + 1, title=RELATED_TITLE, severity="SEV2",
                       status="investigating", description="", declared_at=utcnow(),
                       declared_by="U1", tags=RELATED_TAGS)

        def related_sql() -> object:
            with uow() as tx:
                return tx.search.related(related_query(new.number, new.title, new.tags),
                                         limit=CANDIDATES)

        def related_service() -> object:
            return related_incidents(new, uow=uow, chat=_NoSlack())  # type: ignore[arg-type]

        sql, sql_max, numbers = timed(related_sql, args.repeat)
        whole, whole_max, found = timed(related_service, args.repeat)
        label = f"related to {RELATED_TITLE!r} {' '.join(RELATED_TAGS)}"
        print(f"{label[:48]:<48} {whole:8.2f} {whole_max:8.2f} ms {whole / base:6.1f}×"
              f"   (ranked SQL alone {sql:.2f} ms {sql / base:.1f}×; "
              f"{len(found)} suggested, {len(numbers)} ranked)")  # type: ignore[arg-type]
        engine.dispose()


RELATED_TITLE = "Checkout errors after payments deploy"
RELATED_TAGS = ("deploy", "service:payments")


class _NoSlack:
    """The one Chat call the related-incident service may make (for links)."""

    def workspace_url(self) -> str | None:
        return "https://example.slack.com"


if __name__ == "__main__":
    main()
