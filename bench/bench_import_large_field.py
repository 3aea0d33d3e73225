"""Benchmark: peak memory and time of `tracker import` on a file with one field far beyond PubMed's sizes.

    .venv/bin/python bench/bench_import_large_field.py [--field-mb 200]

Writes, in a temporary folder, a MEDLINE file whose abstract is one line of `--field-mb` MB, a MEDLINE file with
the same abstract wrapped in PubMed's 80-column lines, and a PubMed XML file with it as one AbstractText; then
imports each (they must be refused) and, as the baseline, the project's small paired fixture (which must be
read). Each import runs in a fresh subprocess; its peak memory is the worker's VmHWM (Linux /proc) and "over
baseline" divides it by the baseline's in the same run. A flat parser refuses the huge field with about the
baseline's memory; one that builds the field first needs several times the field's size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

PAIRED_FIXTURE = PROJECT_DIR / "tests" / "fixtures" / "medline_paired.nbib"
WORD = "pain "


def _worker(path: str) -> None:
    """Import one file into a fresh store and print the outcome, the time and the peak memory as JSON."""
    from tracker import store
    from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses
    from tracker.errors import TrackerError
    from tracker.jobs.importer import import_files

    hypotheses = load_hypotheses(DEFAULT_HYPOTHESES_PATH)
    with tempfile.TemporaryDirectory() as folder:
        connection = store.connect(Path(folder) / "store.db")
        started = time.perf_counter()
        try:
            report = import_files(connection, [Path(path)], hypotheses)
            outcome = f"read {report.new} new"
        except TrackerError as error:
            outcome = f"refused: {str(error)[:160]}"
        elapsed_s = time.perf_counter() - started
        connection.close()
    peak_mib = next(int(line.split()[1]) / 1024 for line in Path("/proc/self/status").read_text().splitlines()
                    if line.startswith("VmHWM:"))
    print(json.dumps({"outcome": outcome, "elapsed_s": elapsed_s, "peak_mib": peak_mib}))


def _measure(path: Path) -> dict:
    result = subprocess.run([sys.executable, __file__, "--worker", str(path)], capture_output=True, text=True,
                            check=True, cwd=PROJECT_DIR)
    return json.loads(result.stdout)


def _write_files(folder: Path, field_bytes: int) -> dict[str, Path]:
    words = field_bytes // len(WORD)
    one_line = folder / "one_line.nbib"
    with one_line.open("w", encoding="utf-8") as handle:
        handle.write("PMID- 39600091\nTI  - Huge abstract.\nAB  - ")
        for _ in range(words // 100_000):
            handle.write(WORD * 100_000)
        handle.write("\nSO  - Nowhere.\n")
    wrapped = folder / "wrapped.nbib"
    line = (WORD * 14).strip()  # 69 characters, as PubMed wraps at about 80
    with wrapped.open("w", encoding="utf-8") as handle:
        handle.write("PMID- 39600092\nTI  - Huge abstract.\nAB  - start\n")
        block = "".join(f"      {line}\n" for _ in range(10_000))
        for _ in range(field_bytes // (len(block))):
            handle.write(block)
        handle.write("SO  - Nowhere.\n")
    xml = folder / "huge.xml"
    with xml.open("w", encoding="utf-8") as handle:
        handle.write("<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>39600093</PMID><Article>"
                     "<ArticleTitle>Huge abstract.</ArticleTitle><Abstract><AbstractText>")
        for _ in range(words // 100_000):
            handle.write(WORD * 100_000)
        handle.write("</AbstractText></Abstract></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>\n")
    return {"MEDLINE, one line": one_line, "MEDLINE, wrapped lines": wrapped, "PubMed XML": xml}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--field-mb", type=int, default=200)
    parser.add_argument("--worker")
    arguments = parser.parse_args()
    if arguments.worker:
        _worker(arguments.worker)
        return
    baseline = _measure(PAIRED_FIXTURE)
    print(f"baseline (paired fixture, 2 records): {baseline['outcome']}, {baseline['elapsed_s']:.2f} s, "
          f"peak {baseline['peak_mib']:.0f} MiB")
    with tempfile.TemporaryDirectory() as folder:
        files = _write_files(Path(folder), arguments.field_mb * 1_000_000)
        for label, path in files.items():
            figures = _measure(path)
            print(f"{label} ({path.stat().st_size / 1e6:.0f} MB file): {figures['elapsed_s']:.2f} s, peak "
                  f"{figures['peak_mib']:.0f} MiB = {figures['peak_mib'] / baseline['peak_mib']:.2f} x baseline; "
                  f"{figures['outcome']}")


if __name__ == "__main__":
    main()
