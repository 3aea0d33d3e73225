"""The jobs at scale (issue 18): `tracker export` in each format and `tracker retag` on stores of several sizes.

Per store, each command in a fresh process (its time and peak memory from /usr/bin/time):
- `tracker export --format csv|ris|bibtex` of every article: seconds, rows a second and peak memory, the peak
  against the same format's at the smallest store (the target: at 1,000,000 articles within 1.2x of 100,000);
- with `--retag`, `tracker retag` on a copy of the store (deleted after): articles a second and peak memory.

Stores are files made by bench/generate_store.py: those named, else the generated stores of `--sizes` (made on
first use under /tmp/tracker-bench; a million articles take minutes). They are only read, except the copy that
retag writes.

    .venv/bin/python bench/bench_jobs.py                                   # 100,000 and 1,000,000, exports only
    .venv/bin/python bench/bench_jobs.py STORE [STORE ...] [--formats csv ris bibtex] [--retag]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT_DIR), str(PROJECT_DIR / "bench"), str(PROJECT_DIR / "tests")]

from generate_store import generated_store  # noqa: E402

TRACKER = Path(sys.executable).with_name("tracker")
TIME = "/usr/bin/time"


def timed(arguments: list[str]) -> tuple[float, float, str]:
    """Run a command; return its wall-clock seconds, peak resident memory in MiB and its standard error."""
    done = subprocess.run([TIME, "-f", "%e %M", *arguments], capture_output=True, text=True, check=False)
    *lines, figures = done.stderr.strip().splitlines()
    if done.returncode != 0:
        sys.exit(f"bench_jobs: {' '.join(arguments)} failed: {' '.join(lines)}")
    elapsed_s, peak_kib = figures.split()
    return float(elapsed_s), int(peak_kib) / 1024, "\n".join(lines)


def article_count(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return connection.execute("SELECT count(*) FROM articles").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stores", type=Path, nargs="*", help="store files, smallest first")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="generated stores to use when no store is named")
    parser.add_argument("--formats", nargs="*", default=["csv", "ris", "bibtex"])
    parser.add_argument("--retag", action="store_true", help="also time `tracker retag` on a copy of each store")
    arguments = parser.parse_args()
    smallest_peaks: dict[str, float] = {}
    print(f"{'articles':>9} {'command':<16} {'seconds':>8} {'rows/s':>8} {'peak MiB':>9} {'÷smallest':>9}")
    for path in arguments.stores or [generated_store(size) for size in arguments.sizes]:
        count = article_count(path)
        rows = []
        with tempfile.TemporaryDirectory() as folder:
            for export_format in arguments.formats:
                output = Path(folder) / f"export.{export_format}"
                elapsed_s, peak_mib, _ = timed([str(TRACKER), "export", "--db", str(path), "--format", export_format,
                                                "--include-retracted", "-o", str(output)])
                output.unlink()
                rows.append((f"export {export_format}", elapsed_s, peak_mib))
            if arguments.retag:
                copy = Path(folder) / "retag.sqlite"
                for suffix in ("", "-wal"):
                    if Path(f"{path}{suffix}").exists():
                        shutil.copyfile(f"{path}{suffix}", f"{copy}{suffix}")
                elapsed_s, peak_mib, _ = timed([str(TRACKER), "retag", "--db", str(copy)])
                rows.append(("retag", elapsed_s, peak_mib))
        for label, elapsed_s, peak_mib in rows:
            smallest = smallest_peaks.setdefault(label, peak_mib)
            print(f"{count:>9} {label:<16} {elapsed_s:>8.1f} {count / elapsed_s:>8.0f} {peak_mib:>9.0f} "
                  f"{peak_mib / smallest:>9.2f}", flush=True)


if __name__ == "__main__":
    main()
