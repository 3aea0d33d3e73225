"""Time what reviews cost: the stance read every count goes through, without and with reviews, and one review write.

Baselines in the same run on the same file: the machine's stance rows read alone (what every page read before
reviews existed), then the one stance read (`store.load_stance_frame`) with no reviews table, and with 1,000 and
10,000 reviews; `store.write_review`, the dashboard's write, one short transaction each; and the dashboard's
Overview (AppTest) rerun from its caches against its rerun after a review, which changes the store's state and so
reloads what the page reads.

    .venv/bin/python bench/bench_reviews.py                  # 10,000 articles
    .venv/bin/python bench/bench_reviews.py --articles 50000

Seeded stores are kept in bench/out/ (gitignored) and reused; delete them to seed afresh.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT_DIR), str(PROJECT_DIR / "bench")]

from bench_dashboard import APP_PATH, REPEATS, timed_run
from bench_store import OUT_DIR, best_of, seeded_store
from streamlit.testing.v1 import AppTest
from support.pages import whole_pages  # on the path bench_dashboard sets

from tracker import store
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_settings
from tracker.models import STANCES
from tracker.analysis.reviews import Review

WRITES = 20


def stance_read(db_path: Path, machine_only: bool = False) -> None:
    with store.reading(db_path) as connection:
        read = store.load_machine_stance_frame if machine_only else store.load_stance_frame
        read(connection, columns=("stance",))


def add_reviews(db_path: Path, count: int, causes: list[str]) -> None:
    """Give the first `count` stance rows a review each (another stance), in one transaction."""
    connection = store.connect(db_path, check=False)
    try:
        machine = store.load_machine_stance_frame(connection, columns=("stance",))
        machine = machine[machine["hypothesis_id"].isin(causes)].head(count)
        reviews = [Review(int(pmid), cause, next(s for s in STANCES if s != stance), "bench",
                          f"2026-12-01T09:{number // 60 % 60:02d}:{number % 60:02d}+00:00")
                   for number, (pmid, cause, stance) in
                   enumerate(zip(machine["pmid"], machine["hypothesis_id"], machine["stance"]))]
        with store.transaction(connection):
            store.save_reviews(connection, reviews, causes, [f"review {n}" for n in range(len(reviews))])
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    arguments = parser.parse_args()
    settings = load_settings(hypotheses_path=DEFAULT_HYPOTHESES_PATH, environ={})
    causes = [h.id for h in settings.causes]
    seeded = seeded_store(arguments.articles)
    copy = OUT_DIR / f"reviews-{arguments.articles}.sqlite"
    shutil.copyfile(seeded, copy)
    with store.reading(copy) as connection:
        rows = len(store.load_machine_stance_frame(connection, columns=("stance",)))
    print(f"{arguments.articles:,} articles, {rows:,} stance rows (median of 3 runs)")
    print(f"  machine stance rows alone          {best_of(lambda: stance_read(copy, machine_only=True)):.3f} s")
    print(f"  stance read, no reviews table      {best_of(lambda: stance_read(copy)):.3f} s")
    for total in (1_000, 10_000):
        add_reviews(copy, total, causes)
        print(f"  stance read, {total:>6,} reviews        {best_of(lambda: stance_read(copy)):.3f} s")
    reviewed_pmid = serotonin_pmid(copy)
    timings = []
    for number in range(WRITES):
        review = Review(reviewed_pmid, "serotonin", STANCES[number % 4], "bench-writer",
                        f"2026-12-02T09:00:{number:02d}+00:00")
        started = time.perf_counter()
        store.write_review(copy, review, causes)
        timings.append(time.perf_counter() - started)
    print(f"  write_review (one write)           {statistics.median(timings) * 1000:.1f} ms median, "
          f"{max(timings) * 1000:.1f} ms worst of {WRITES}")
    cached, after_review = overview_reruns(copy, reviewed_pmid, causes)
    print(f"  Overview rerun, cached             {cached:.3f} s")
    print(f"  Overview rerun after a review      {after_review:.3f} s")
    copy.unlink()


def overview_reruns(db_path: Path, pmid: int, causes: list[str]) -> tuple[float, float]:
    """The median Overview rerun from the caches, and after a review (each rerun after a new one)."""
    os.environ["TRACKER_DB"] = str(db_path)
    app = whole_pages(AppTest.from_file(str(APP_PATH), default_timeout=600))
    app.run()
    cached, after_review = [], []
    for number in range(REPEATS):
        cached.append(timed_run(app))
        store.write_review(db_path, Review(pmid, "serotonin", STANCES[number % 4], "bench-dashboard",
                                           f"2026-12-03T09:00:{number:02d}+00:00"), causes)
        after_review.append(timed_run(app))
    return statistics.median(cached), statistics.median(after_review)


def serotonin_pmid(db_path: Path) -> int:
    """A PMID with a serotonin stance row: the one the timed writes review."""
    with store.reading(db_path) as connection:
        machine = store.load_machine_stance_frame(connection, columns=("stance",))
    return int(machine.loc[machine["hypothesis_id"] == "serotonin", "pmid"].iloc[0])


if __name__ == "__main__":
    main()
