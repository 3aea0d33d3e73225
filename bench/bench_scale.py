"""Issue 18's figures on generated stores of 15,000, 200,000 and 1,000,000 articles (bench/generate_store.py).

Per size, in a fresh process each (so that peak memory is that step's own):
- the dashboard under AppTest: `store.load_catalogue` alone, the Overview's and the Cause page's cold first
  render, the first page of Citations, a filter change on it, its last page, the Emerging page's first render
  (its analysis reads the store in passes of batches), and the process's peak memory after each page;
- the Emerging page alone in a process of its own: its first render and that process's peak memory;
- single store calls on a warm file: the run list (Fetch status, Citations' run filter), and Citations' count,
  first, middle and last page for a text found in most articles;
- `tracker export --format csv`, `tracker evidence --format json` and `tracker feed`: time and peak memory;
- the store's size per article, by table and index (SQLite's dbstat).

Each time is printed with its ratio to the same figure at the smallest size and to a baseline measured in the
same run (AppTest rendering a trivial page), so a busy machine shows in both; peak memory against the peak of the
same command at the smallest size. Stores live under /tmp/tracker-bench and are generated on first use (a million
articles take about six minutes).

    .venv/bin/python bench/bench_scale.py                          # 15k, 200k, 1M
    .venv/bin/python bench/bench_scale.py --sizes 15000 200000     # quicker
    .venv/bin/python bench/bench_scale.py --copies /tmp/mine --skip-commands --skip-catalogue   # the pages only
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT_DIR), str(PROJECT_DIR / "bench"), str(PROJECT_DIR / "tests")]

from generate_store import generated_store  # noqa: E402

APP_PATH = PROJECT_DIR / "dashboard" / "app.py"
TRACKER = Path(sys.executable).with_name("tracker")
TIMEOUT_S = 900
# Issue 18's targets.
TARGETS = {
    "overview first render": "≤ 1.5× its time at 15k and < 2 s",
    "cause first render": "≤ 1.5× its time at 15k and < 2 s",
    "citations first page": "≤ 1 s",
    "citations filter change": "≤ 0.5 s",
    "dashboard peak memory": "< 1 GB at 1M",
    "emerging page alone: peak memory": "< 1 GB at 1M",
    "export csv": "peak memory at 1M ≤ 1.2× the smallest",
}
BASELINE_SCRIPT = """
import pandas as pd
import streamlit as st
st.title("Baseline")
st.metric("Rows", 10)
st.dataframe(pd.DataFrame({"a": range(10)}))
"""


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


PAGES = ("Overview", "Cause", "Citations", "Emerging")


def measure_dashboard(db_path: Path, with_catalogue: bool = True, pages: tuple[str, ...] = PAGES) -> dict[str, float]:
    """In this process: the dashboard's timings of `pages` on one store, and the process's peak memory (with
    every page, the store calls and the catalogue's read after it)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest
    from support.pages import whole_pages

    from tracker import store

    os.environ["TRACKER_DB"] = str(db_path)
    figures: dict[str, float] = {}

    def timed(app: AppTest) -> float:
        started = time.perf_counter()
        app.run()
        if app.exception:
            raise SystemExit(f"the app raised: {[e.value for e in app.exception]}")
        return time.perf_counter() - started

    baseline = []
    for _ in range(3):
        baseline.append(timed(AppTest.from_string(BASELINE_SCRIPT, default_timeout=TIMEOUT_S)))
    figures["baseline trivial page"] = statistics.median(baseline)
    for page in pages:
        st.cache_data.clear()
        st.cache_resource.clear()
        app = whole_pages(AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT_S))
        app.query_params["page"] = page
        figures[f"{page.lower()} first render"] = timed(app)
        if page == "Citations":
            figures["citations first page"] = figures.pop("citations first render")
            changes = []
            for key, value in (("filter_designs", ["rct"]), ("filter_species", "human"),
                               ("filter_text", "sleep"), ("filter_designs", [])):
                app.get_by_key(key).set_value(value)
                changes.append(timed(app))
            figures["citations filter change"] = max(changes)
            # The last page of every article: the filters cleared first (untimed), then the page chosen.
            app.get_by_key("filter_species").set_value("any")
            app.get_by_key("filter_text").set_value("")
            timed(app)
            page_input = app.get_by_key("citations_page")
            page_input.set_value(page_input.max)
            figures["citations last page"] = timed(app)
        figures[f"  peak memory after {page} MB"] = peak_mb()
    figures["dashboard peak memory MB"] = peak_mb()
    if pages != PAGES:
        return figures
    figures |= measure_store_calls(db_path)
    if not with_catalogue:
        return figures
    # What every page read before the store kept summaries, for comparison (after the peak is taken).
    with store.reading(db_path) as connection:
        started = time.perf_counter()
        store.load_catalogue(connection)
        figures["store.load_catalogue alone"] = time.perf_counter() - started
    return figures


def measure_store_calls(db_path: Path) -> dict[str, float]:
    """Single store calls, each the median of three on a warm file: the run list, and Citations on a text found in
    most articles (its count, and its first, middle and last page of 100)."""
    from tracker import store
    from tracker.outputs.selection import Selection, article_filter

    def timed(call) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    figures: dict[str, float] = {}
    with store.reading(db_path) as connection:
        figures["store.load_run_list"] = timed(lambda: store.load_run_list(connection))
        hypothesis_ids = [row[0] for row in connection.execute("SELECT DISTINCT hypothesis_id FROM summary_by_source")]
        chosen = article_filter(Selection(text="pain"), hypothesis_ids=hypothesis_ids,
                                runs=store.load_run_list(connection))
        matching = store.count_selected(connection, chosen)
        figures["citations 'pain': count"] = timed(lambda: store.count_selected(connection, chosen))
        for name, offset in (("first", 0), ("middle", matching // 2), ("last", (matching - 1) // 100 * 100)):
            # With the count, as the Citations page reads a page.
            figures[f"citations 'pain': {name} page"] = timed(
                lambda: store.select_pmids(connection, chosen, limit=100, offset=offset, matching=matching))
    return figures


def run_command(arguments: list[str]) -> tuple[float, float]:
    """Run a tracker command to /dev/null: its wall time (s) and peak memory (MB)."""
    started = time.perf_counter()
    process = subprocess.Popen([str(TRACKER), *arguments], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"tracker {' '.join(arguments)} failed: {process.stderr.read().decode()[-500:]}")
    return elapsed, usage.ru_maxrss / 1024


def measure_commands(db_path: Path) -> dict[str, float]:
    figures: dict[str, float] = {}
    for name, arguments in (("export csv", ["export", "--format", "csv", "--include-retracted"]),
                            ("export csv --with-abstract", ["export", "--format", "csv", "--with-abstract"]),
                            ("evidence json", ["evidence", "--format", "json"]),
                            ("feed (new in latest run)", ["feed", "--new-in-run", "latest"])):
        seconds, megabytes = run_command([*arguments, "--db", str(db_path)])
        figures[f"{name} s"] = seconds
        figures[f"{name} peak memory MB"] = megabytes
    return figures


def measure_size(db_path: Path) -> dict[str, float]:
    """The store's bytes per article, in all and by table (indexes counted with their table)."""
    connection = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        articles = connection.execute("SELECT count(*) FROM articles").fetchone()[0]
        owners = dict(connection.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
        by_table: dict[str, int] = {}
        try:
            for name, size in connection.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
                table = owners.get(name, name.split("_autoindex_")[0].removeprefix("sqlite_autoindex_"))
                by_table[table] = by_table.get(table, 0) + size
        except sqlite3.OperationalError:  # SQLite built without dbstat
            pass
    finally:
        connection.close()
    figures = {"store bytes per article": db_path.stat().st_size / max(articles, 1)}
    for table, size in sorted(by_table.items(), key=lambda item: -item[1])[:8]:
        figures[f"  bytes per article in {table}"] = size / max(articles, 1)
    return figures


def child(kind: str, db_path: Path) -> None:
    if kind == "emerging":
        alone = measure_dashboard(db_path, pages=("Emerging",))
        figures = {"emerging page alone: first render": alone["emerging first render"],
                   "emerging page alone: peak memory MB": alone["dashboard peak memory MB"]}
    else:
        figures = (measure_dashboard(db_path, with_catalogue=kind != "pages") if kind in ("dashboard", "pages")
                   else measure_commands(db_path))
    print(json.dumps(figures))


def in_child(kind: str, db_path: Path) -> dict[str, float]:
    output = subprocess.run([sys.executable, __file__, "--child", kind, str(db_path)], check=True,
                            capture_output=True, text=True, timeout=TIMEOUT_S * 4).stdout
    return json.loads(output.strip().splitlines()[-1])


def writable_copy(db_path: Path, copies: Path | None = None) -> Path:
    """A copy of the store the current code has migrated (the dashboard opens a store read-only and refuses one
    of an older schema), in `copies` (default: beside the store); reused while the original is unchanged."""
    from tracker import store

    copy = (copies or db_path.parent) / f"{db_path.stem}-schema{store.SCHEMA_VERSION}.sqlite"
    if not copy.exists() or copy.stat().st_mtime < db_path.stat().st_mtime:
        shutil.copyfile(db_path, copy)
        started = time.perf_counter()
        store.connect(copy, check=False).close()
        print(f"  opened (migrated) {copy.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[15_000, 200_000, 1_000_000])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--skip-commands", action="store_true", help="dashboard and size only")
    parser.add_argument("--skip-catalogue", action="store_true",
                        help="leave out store.load_catalogue alone (minutes and GBs at a million articles)")
    parser.add_argument("--copies", type=Path, help="folder of the migrated copies (default: beside the stores)")
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.child[0], Path(arguments.child[1]))
        return
    for key in [k for k in os.environ if k.startswith(("NCBI_", "TRACKER_"))]:
        del os.environ[key]
    results: dict[int, dict[str, float]] = {}
    for article_count in arguments.sizes:
        db_path = writable_copy(generated_store(article_count), arguments.copies)
        figures = in_child("pages" if arguments.skip_catalogue else "dashboard", db_path) | in_child("emerging", db_path)
        if not arguments.skip_commands:
            figures |= in_child("commands", db_path)
        figures |= measure_size(db_path)
        results[article_count] = figures
    smallest = min(results)
    for article_count, figures in results.items():
        baseline_s = figures["baseline trivial page"]
        print(f"\n{article_count:,} articles (AppTest trivial page in the same process: {baseline_s:.3f} s)")
        print(f"  {'figure':48} {'value':>9} {f'÷{smallest // 1000}k':>7} {'÷trivial':>9}  target")
        for label, value in figures.items():
            if label == "baseline trivial page":
                continue
            base = results[smallest].get(label)
            ratio = f"{value / base:.2f}" if base else "-"
            is_time = not any(word in label for word in ("MB", "bytes"))
            trivial = f"{value / baseline_s:.1f}" if is_time else "-"
            target = next((text for name, text in TARGETS.items() if label.startswith(name)), "")
            print(f"  {label:48} {value:9.2f} {ratio:>7} {trivial:>9}  {target}")


if __name__ == "__main__":
    main()
