"""Time the store's corruption check (`PRAGMA quick_check`) that every writing command and `tracker status` run.

Printed against baselines measured in the same run on the same file: reading the whole file once (the I/O floor
any check of every page pays), `tracker status`'s own reads, and the full `PRAGMA integrity_check` that
quick_check leaves out (index-to-table cross-checks).

    .venv/bin/python bench/bench_store.py                  # 20,000 and 200,000 articles
    .venv/bin/python bench/bench_store.py --sizes 20000    # quicker

Seeded stores are kept in bench/out/ (gitignored) and reused; delete them to seed afresh.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT_DIR), str(PROJECT_DIR / "tests")]

from support.seed import make_articles, seed_store

from tracker import store
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_settings

OUT_DIR = PROJECT_DIR / "bench" / "out"
REPEATS = 3


def seeded_store(article_count: int) -> Path:
    """Return a store of `article_count` synthetic articles, building it on first use."""
    db_path = OUT_DIR / f"store-{article_count}.sqlite"
    if db_path.exists():
        return db_path
    settings = load_settings(hypotheses_path=DEFAULT_HYPOTHESES_PATH, environ={})
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    partial = db_path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    seed_store(partial, settings.hypotheses, make_articles(article_count, seed=42))
    partial.rename(db_path)
    print(f"  seeded {article_count:,} articles in {time.perf_counter() - started:.1f} s -> {db_path.name}")
    return db_path


def best_of(action) -> float:
    """The median of REPEATS timings of action(), in seconds."""
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def read_file(db_path: Path) -> None:
    with open(db_path, "rb") as stream:
        while stream.read(1 << 20):
            pass


def pragma(db_path: Path, name: str) -> None:
    connection = store.connect(db_path, read_only=True)
    try:
        rows = connection.execute(f"PRAGMA {name}").fetchall()
        assert [tuple(row) for row in rows] == [("ok",)], rows
    finally:
        connection.close()


def status_reads(db_path: Path) -> None:
    connection = store.connect(db_path, read_only=True)
    try:
        store.load_status_frame(connection)
        store.load_runs_frame(connection, limit=1)
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,200000")
    arguments = parser.parse_args()
    for size in (int(part) for part in arguments.sizes.split(",")):
        db_path = seeded_store(size)
        megabytes = db_path.stat().st_size / 1e6
        file_s = best_of(lambda: read_file(db_path))
        status_s = best_of(lambda: status_reads(db_path))
        quick_s = best_of(lambda: pragma(db_path, "quick_check"))
        integrity_s = best_of(lambda: pragma(db_path, "integrity_check"))
        print(f"{size:>7,} articles, {megabytes:,.0f} MB: quick_check {quick_s:.2f} s = "
              f"{quick_s / file_s:.1f}x reading the file ({file_s:.2f} s), "
              f"{quick_s / status_s:.1f}x status' own reads ({status_s:.3f} s), "
              f"{quick_s / integrity_s:.2f}x integrity_check ({integrity_s:.2f} s)")


if __name__ == "__main__":
    main()
