"""Benchmark: a full sync and a no-change re-sync of a synthetic corpus served by the E-utilities stand-in.

    .venv/bin/python bench/bench_fetch.py [--records 20000] [--batch-size 300] [--api-key]
    .venv/bin/python bench/bench_fetch.py --records 20000 200000 --unthrottled    # is the write path linear?

Serves >= 20,000 synthetic records under the shipped hypotheses' queries (the baseline matches them all, so it
must be split into date windows under the stand-in's esearch cap, `--esearch-cap`) with NCBI's rate limit
switched on in the stand-in, runs `run_fetch` in a worker process (so its peak memory is its own), then runs it
again with nothing changed. Prints requests made vs the minimum, peak requests per second vs the cap, 429s,
records/s, the time of each phase (esearch, efetch and store, tag and read stances) and the worker's peak memory.

With several `--records` sizes it does that per size and ends with records/s and peak memory of the full syncs
side by side, each against the smallest size (issue 18: records/s at 200,000 within 0.8x of that at 20,000,
peak memory flat). `--unthrottled` switches the rate limit off in the stand-in and in the client, so that the
figures are those of the tracker's own work, not of NCBI's 3 or 10 requests a second. Nothing is asserted: the
figures are for the reader, compared with the minimum computed in the same run.
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


class _PhaseClock:
    """A fetch progress that notes when each phase starts: esearch, efetch and store, tag and read stances."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.fetching_at: float | None = None
        self.tagging_at: float | None = None

    def searched(self, hypothesis_id: str, count: int, window_count: int) -> None:
        pass

    def fetching(self, pmid_count: int, batch_count: int) -> None:
        self.fetching_at = time.perf_counter()

    def batch_done(self, record_count: int) -> None:
        pass

    def tagged(self, done: int, total: int) -> None:
        if self.tagging_at is None:
            self.tagging_at = time.perf_counter()


def run_worker() -> None:
    """Run one fetch with the environment's settings and print its figures as JSON."""
    from tracker.config import load_settings
    from tracker.jobs.fetch import run_fetch
    from tracker.pubmed.client import EutilsClient

    settings = load_settings()
    client = EutilsClient(settings, esearch_cap=int(os.environ["BENCH_ESEARCH_CAP"]))
    if os.environ.get("BENCH_UNTHROTTLED"):
        client.rate_limiter.interval_s = 0.0
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM: measure this run, not the interpreter's start
    phases = _PhaseClock()
    try:
        report = run_fetch(settings, progress=phases, client=client)
    finally:
        client.close()
    finished = time.perf_counter()
    peak_mib = next(int(line.split()[1]) / 1024 for line in Path("/proc/self/status").read_text().splitlines()
                    if line.startswith("VmHWM:"))
    fetching_at = phases.fetching_at or finished
    tagging_at = phases.tagging_at or finished
    print(json.dumps({"status": report.status, "error": report.error, "esearch": report.esearch_requests,
                      "efetch": report.efetch_requests, "records": report.fetched_records,
                      "elapsed_s": finished - phases.started, "search_s": fetching_at - phases.started,
                      "store_s": tagging_at - fetching_at, "tag_s": finished - tagging_at, "peak_mib": peak_mib}))


def measure(record_count: int, arguments: argparse.Namespace) -> dict:
    """Serve `record_count` synthetic records, sync them and sync again; print the figures, return the full sync's."""
    from support.standin import EutilsStandin, record_dates
    from support.synthetic import TOPICS, synthetic_article_xml

    from tracker.config import load_settings

    settings = load_settings(environ={})
    causes = {h.id: h for h in settings.causes}
    rng = random.Random(arguments.seed)
    members: dict[str, set[int]] = {h.id: set() for h in settings.hypotheses}
    print(f"building {record_count} synthetic records ...", flush=True)
    cap = arguments.esearch_cap
    with EutilsStandin(rate_limit=not arguments.unthrottled, esearch_cap=cap) as server:
        for index in range(record_count):
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
        minimum_esearch = sum(1 if len(p) <= cap else 1 + math.ceil(len(p) / cap) for p in members.values())
        minimum_efetch = math.ceil(unique / arguments.batch_size)
        rate_cap = 10 if arguments.api_key else 3
        with tempfile.TemporaryDirectory() as folder:
            environment = {**os.environ, "NCBI_EUTILS_URL": server.base_url, "NCBI_EMAIL": "bench@example.org",
                           "TRACKER_DB": str(Path(folder) / "bench.sqlite"),
                           "TRACKER_BATCH_SIZE": str(arguments.batch_size), "BENCH_ESEARCH_CAP": str(cap)}
            environment.pop("NCBI_API_KEY", None)
            environment.pop("BENCH_UNTHROTTLED", None)
            if arguments.api_key:
                environment["NCBI_API_KEY"] = "0123456789abcdef"
            if arguments.unthrottled:
                environment["BENCH_UNTHROTTLED"] = "1"
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
              f"batch size {arguments.batch_size}, esearch cap {cap}, "
              + ("no rate limit" if arguments.unthrottled else f"NCBI cap {rate_cap}/s"))
        for label, figures in results:
            print(f"\n{label}: {figures['status']}" + (f" ({figures['error']})" if figures["error"] else ""))
            # A re-sync also asks, per hypothesis, what was modified since the last sync: one more esearch each.
            esearch_minimum = minimum_esearch if label == "full sync" else minimum_esearch + len(members)
            print(f"  esearch requests  {figures['esearch']:>6}   (minimum {esearch_minimum})")
            efetch_minimum = minimum_efetch if label == "full sync" else 0
            print(f"  efetch requests   {figures['efetch']:>6}   (minimum {efetch_minimum})")
            print(f"  records fetched   {figures['records']:>6}   in {figures['elapsed_s']:.1f} s "
                  f"({figures['records'] / figures['elapsed_s']:.0f} records/s)")
            print(f"  phases: esearch {figures['search_s']:.1f} s, efetch and store {figures['store_s']:.1f} s, "
                  f"tag and read stances {figures['tag_s']:.1f} s")
            print(f"  worker peak memory {figures['peak_mib']:.0f} MiB")
        total_minimum = minimum_esearch + minimum_efetch
        first = results[0][1]
        print(f"\nfull sync: {first['requests']} requests vs minimum {total_minimum} "
              f"(ratio {first['requests'] / total_minimum:.2f})")
        if not arguments.unthrottled:
            print(f"peak requests per second: {server.peak_requests_per_second()} vs cap {rate_cap}; "
                  f"429 answers: {server.rate_limited_count}")
    return first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[20_000])
    parser.add_argument("--batch-size", type=int, default=300)
    parser.add_argument("--esearch-cap", type=int, default=9_999, help="the most records one esearch lists")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--api-key", action="store_true", help="send an API key: NCBI's cap becomes 10/s")
    parser.add_argument("--unthrottled", action="store_true", help="no rate limit in the stand-in or the client")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        run_worker()
        return
    full_syncs = [(count, measure(count, arguments)) for count in arguments.records]
    if len(full_syncs) > 1:
        smallest_rate = full_syncs[0][1]["records"] / full_syncs[0][1]["elapsed_s"]
        smallest_peak = full_syncs[0][1]["peak_mib"]
        print(f"\nfull syncs side by side (target: records/s within 0.8x of the smallest size's, peak memory flat)")
        print(f"  {'records':>9} {'records/s':>10} {'ratio':>6} {'store rec/s':>12} {'peak MiB':>9} {'ratio':>6}")
        for count, figures in full_syncs:
            rate = figures["records"] / figures["elapsed_s"]
            store_rate = figures["records"] / max(figures["store_s"], 1e-9)
            print(f"  {count:>9} {rate:>10.0f} {rate / smallest_rate:>6.2f} {store_rate:>12.0f} "
                  f"{figures['peak_mib']:>9.0f} {figures['peak_mib'] / smallest_peak:>6.2f}")


if __name__ == "__main__":
    main()
