"""Benchmark: a full sync and a no-change re-sync of a synthetic corpus served by the E-utilities stand-in.

    .venv/bin/python bench/bench_fetch.py [--records 20000] [--batch-size 300] [--api-key]

Serves >= 20,000 synthetic records under the shipped hypotheses' queries (the baseline matches them all, so it
must be split into date windows) with NCBI's rate limit switched on in the stand-in, runs `run_fetch` in a
worker process (so its peak memory is its own), then runs it again with nothing changed. Prints requests made
vs the minimum, peak requests per second vs the cap, 429s, records/s and the worker's peak memory. Nothing is
asserted: the figures are for the reader, compared with the minimum computed in the same run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(PROJECT_DIR / "tests"))


def run_worker() -> None:
    """Run one fetch with the environment's settings and print its figures as JSON."""
    from tracker.config import load_settings
    from tracker.jobs.fetch import run_fetch

    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM: measure this run, not the interpreter's start
    started = time.perf_counter()
    report = run_fetch(load_settings())
    elapsed_s = time.perf_counter() - started
    peak_mib = next(int(line.split()[1]) / 1024 for line in Path("/proc/self/status").read_text().splitlines()
                    if line.startswith("VmHWM:"))
    print(json.dumps({"status": report.status, "error": report.error, "esearch": report.esearch_requests,
                      "efetch": report.efetch_requests, "records": report.fetched_records,
                      "elapsed_s": elapsed_s, "peak_mib": peak_mib}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--api-key", action="store_true", help="send an API key: NCBI's cap becomes 10/s")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        run_worker()
        return

    from support.standin import EutilsStandin, record_dates
    from support.synthetic import TOPICS, synthetic_article_xml

    from tracker.config import load_settings

    settings = load_settings(environ={})
    causes = {h.id: h for h in settings.causes}
    rng = random.Random(arguments.seed)
    members: dict[str, set[int]] = {h.id: set() for h in settings.hypotheses}
    print(f"building {arguments.records} synthetic records ...", flush=True)
    with EutilsStandin(rate_limit=True) as server:
        for index in range(arguments.records):
            pmid = 20_000_000 + index
            topic = rng.choice([t for t in TOPICS if t in causes])
            xml = synthetic_article_xml(pmid, rng, topic=topic)
            server.add_record(pmid, xml, **record_dates(xml))
            members[settings.baseline.id].add(pmid)
            members[topic].add(pmid)
            if rng.random() < 0.2:
                members[rng.choice(list(causes))].add(pmid)
        for hypothesis in settings.hypotheses:
            server.set_query(hypothesis.query, members[hypothesis.id])

        unique = len(members[settings.baseline.id])
        minimum_esearch = sum(1 if len(p) <= 9_999 else 1 + math.ceil(len(p) / 9_999) for p in members.values())
        minimum_efetch = math.ceil(unique / arguments.batch_size)
        cap = 10 if arguments.api_key else 3
        with tempfile.TemporaryDirectory() as folder:
            environment = {**os.environ, "NCBI_EUTILS_URL": server.base_url, "NCBI_EMAIL": "bench@example.org",
                           "TRACKER_DB": str(Path(folder) / "bench.sqlite"),
                           "TRACKER_BATCH_SIZE": str(arguments.batch_size)}
            environment.pop("NCBI_API_KEY", None)
            if arguments.api_key:
                environment["NCBI_API_KEY"] = "0123456789abcdef"
            results = []
            for label in ("full sync", "re-sync, nothing new"):
                before = len(server.requests)
                output = subprocess.run([sys.executable, __file__, "--worker"], env=environment, cwd=PROJECT_DIR,
                                        capture_output=True, text=True, check=True)
                figures = json.loads(output.stdout.strip().splitlines()[-1])
                figures["requests"] = len(server.requests) - before
                results.append((label, figures))

        print(f"\ncorpus: {unique} unique records, {len(members)} queries "
              f"(baseline {len(members[settings.baseline.id])}, causes "
              f"{min(len(members[c]) for c in causes)}-{max(len(members[c]) for c in causes)}), "
              f"batch size {arguments.batch_size}, NCBI cap {cap}/s")
        for label, figures in results:
            print(f"\n{label}: {figures['status']}" + (f" ({figures['error']})" if figures["error"] else ""))
            # A re-sync also asks, per hypothesis, what was modified since the last sync: one more esearch each.
            esearch_minimum = minimum_esearch if label == "full sync" else minimum_esearch + len(members)
            print(f"  esearch requests  {figures['esearch']:>6}   (minimum {esearch_minimum})")
            efetch_minimum = minimum_efetch if label == "full sync" else 0
            print(f"  efetch requests   {figures['efetch']:>6}   (minimum {efetch_minimum})")
            print(f"  records fetched   {figures['records']:>6}   in {figures['elapsed_s']:.1f} s "
                  f"({figures['records'] / figures['elapsed_s']:.0f} records/s)")
            print(f"  worker peak memory {figures['peak_mib']:.0f} MiB")
        total_minimum = minimum_esearch + minimum_efetch
        first = results[0][1]
        print(f"\nfull sync: {first['requests']} requests vs minimum {total_minimum} "
              f"(ratio {first['requests'] / total_minimum:.2f})")
        print(f"peak requests per second: {server.peak_requests_per_second()} vs cap {cap}; "
              f"429 answers: {server.rate_limited_count}")


if __name__ == "__main__":
    main()
