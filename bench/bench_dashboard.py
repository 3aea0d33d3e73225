"""Time the dashboard with AppTest on seeded stores: first full render, then filter changes once cached.

Targets (issue 4): first full render < 2 s with 15,000 articles and < 5 s with 200,000; a filter change < 0.5 s
once cached. Each figure is printed with its ratio to the target and to a baseline measured in the same run: the
same AppTest harness rendering a trivial page, so a slow or busy machine shows up in both.

    .venv/bin/python bench/bench_dashboard.py                 # 15,000 and 200,000 articles
    .venv/bin/python bench/bench_dashboard.py --sizes 15000   # quicker

Seeded stores are kept in bench/out/ (gitignored) and reused; delete them to seed afresh.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT_DIR), str(PROJECT_DIR / "tests")]

import streamlit as st
from support.pages import whole_pages
from support.seed import make_articles, seed_store
from streamlit.testing.v1 import AppTest

from tracker import store
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_settings

APP_PATH = PROJECT_DIR / "dashboard" / "app.py"
OUT_DIR = PROJECT_DIR / "bench" / "out"
FIRST_RENDER_TARGETS_S = {15_000: 2.0, 200_000: 5.0}
FILTER_CHANGE_TARGET_S = 0.5
REPEATS = 3
TIMEOUT_S = 600
BASELINE_SCRIPT = """
import pandas as pd
import streamlit as st
st.title("Baseline")
st.metric("Rows", 10)
st.dataframe(pd.DataFrame({"a": range(10)}))
"""
# Each step sets one widget (by key) on the Citations page; the last one returns to a filter seen before.
FILTER_STEPS = [
    ("cause: serotonin", "filter_causes", ["serotonin"]),
    ("species: human", "filter_species", "human"),
    ("design: RCT", "filter_designs", ["rct"]),
    ("text: sleep", "filter_text", "sleep"),
    ("years 2000-2015", "filter_years", (2000, 2015)),
    ("retracted included", "include_retracted", True),
    ("only retracted", "filter_only_retracted", True),
    ("back to cause only", "filter_causes", ["serotonin"]),
]


def seeded_store(article_count: int) -> Path:
    """Return a store of `article_count` synthetic articles, building it on first use."""
    db_path = OUT_DIR / f"dashboard-{article_count}.sqlite"
    if db_path.exists():
        # Tags made by older rules time the same: the dashboard reads whatever tags are stored.
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


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


def timed_run(app: AppTest) -> float:
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    if app.exception:
        raise SystemExit(f"the app raised: {[e.value for e in app.exception]}")
    return elapsed


def measure_baseline() -> float:
    """Median AppTest time of a trivial page: the harness's own cost on this machine right now."""
    times = []
    for _ in range(REPEATS):
        app = AppTest.from_string(BASELINE_SCRIPT, default_timeout=TIMEOUT_S)
        times.append(timed_run(app))
    return statistics.median(times)


def measure_store(db_path: Path) -> dict[str, float]:
    """Cold first render, every page's first visit, and each filter change, in seconds."""
    os.environ["TRACKER_DB"] = str(db_path)
    figures: dict[str, float] = {}
    connection = store.connect(db_path, read_only=True)
    started = time.perf_counter()
    store.load_catalogue(connection)
    figures["store.load_catalogue alone"] = time.perf_counter() - started
    connection.close()

    clear_caches()
    app = whole_pages(AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT_S))
    figures["first full render (overview, cold)"] = timed_run(app)
    figures["overview rerun (cached)"] = timed_run(app)
    for page in ("Cause", "Citations"):
        app.sidebar.radio(key="page").set_value(page)
        figures[f"{page} page first visit"] = timed_run(app)
    for label, key, value in FILTER_STEPS:
        app.get_by_key(key).set_value(value)
        figures[f"filter change: {label}"] = timed_run(app)

    # The dashboard's own share of a first render: every cache cold except the catalogue read by the store.
    st.cache_data.clear()
    app = whole_pages(AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT_S))
    figures["first render, catalogue already read"] = timed_run(app)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=sorted(FIRST_RENDER_TARGETS_S))
    arguments = parser.parse_args()
    for key in [k for k in os.environ if k.startswith(("NCBI_", "TRACKER_"))]:
        del os.environ[key]

    baseline_s = measure_baseline()
    print(f"baseline: AppTest render of a trivial page {baseline_s:.3f} s (median of {REPEATS})")
    for article_count in arguments.sizes:
        print(f"\n{article_count:,} articles")
        figures = measure_store(seeded_store(article_count))
        first_target_s = FIRST_RENDER_TARGETS_S.get(article_count)
        print(f"  {'step':44} {'seconds':>8} {'target':>7} {'÷target':>8} {'÷baseline':>10}")
        for label, seconds in figures.items():
            if label.startswith("filter change"):
                target_s = FILTER_CHANGE_TARGET_S
            elif label.startswith("first"):
                target_s = first_target_s
            else:
                target_s = None
            target_text = f"{target_s:.1f}" if target_s else "-"
            ratio_text = f"{seconds / target_s:.2f}" if target_s else "-"
            print(f"  {label:44} {seconds:8.3f} {target_text:>7} {ratio_text:>8} {seconds / baseline_s:10.1f}")
        filter_times = [s for label, s in figures.items() if label.startswith("filter change")]
        print(f"  filter changes: median {statistics.median(filter_times):.3f} s, worst {max(filter_times):.3f} s")


if __name__ == "__main__":
    main()
