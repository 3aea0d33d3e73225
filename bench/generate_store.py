"""Build a large synthetic store quickly: articles, hypothesis links, tags, facets and stances written straight
through the store's batch functions (no tagging or stance reading, which would take hours at a million).

The articles are `tests/support/seed.make_articles`' (realistic titles, abstracts, authors, MeSH); each one is
linked to the baseline and to 0-3 causes (by query, text or both), gets a random design, species and retraction
(4 %), and most (article, cause) pairs a stance row with a sample size. Deterministic for a size.

    .venv/bin/python bench/generate_store.py 200000            # -> /tmp/tracker-bench/store-200000.sqlite
    .venv/bin/python bench/generate_store.py 1000000 --out /tmp/x.sqlite

Used by the benches of issue 18 (bench_scale.py); kept out of the test suite: a million articles take minutes.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT_DIR), str(PROJECT_DIR / "tests")]

import pandas as pd
from support.seed import make_articles

from tracker import store
from tracker.config import DEFAULT_HYPOTHESES_PATH, Hypothesis, load_settings
from tracker.models import STANCES
from tracker.vocabulary import DESIGNS, FACET_COLUMNS, SPECIES

OUT_DIR = Path("/tmp/tracker-bench")
# make_articles numbers a seed's articles from 20,000,000 + seed × 1,000,000: chunks of this many per seed
# never overlap.
CHUNK = 10_000
RULES_VERSION = "bench-generated"
# Designs weighted roughly as PubMed's fibromyalgia records are: few meta-analyses, many observational studies.
DESIGN_WEIGHTS = (2, 3, 6, 5, 8, 6, 20, 5, 12, 8, 25)
SPECIES_WEIGHTS = (70, 10, 3, 17)
EVIDENCE_KINDS = ("comparison", "association", "intervention", "review", "other")


def store_path(article_count: int) -> Path:
    return OUT_DIR / f"store-{article_count}.sqlite"


def generated_store(article_count: int, hypotheses: tuple[Hypothesis, ...] | None = None) -> Path:
    """Return the generated store of `article_count` articles under /tmp, building it on first use."""
    path = store_path(article_count)
    if not path.exists():
        generate(path, article_count, hypotheses)
    return path


def generate(path: Path, article_count: int, hypotheses: tuple[Hypothesis, ...] | None = None) -> None:
    """Write a store of `article_count` synthetic articles at `path` (replaced if it exists)."""
    hypotheses = hypotheses or load_settings(hypotheses_path=DEFAULT_HYPOTHESES_PATH, environ={}).hypotheses
    baseline_id = next(h.id for h in hypotheses if h.baseline)
    causes = [h.id for h in hypotheses if not h.baseline]
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    rng = random.Random(article_count)
    started = time.perf_counter()
    connection = store.connect(partial)
    try:
        run_id = store.start_run(connection, full_sync=True)
        now = store.utc_now()
        for chunk_number, first in enumerate(range(0, article_count, CHUNK)):
            articles = make_articles(min(CHUNK, article_count - first), seed=chunk_number)
            with store.transaction(connection):
                outcomes = store.save_articles(connection, articles, "pubmed", now=now)
                store.record_run_articles(connection, run_id, outcomes)
                _write_tags(connection, [a.pmid for a in articles], baseline_id, causes, rng, now)
            done = first + len(articles)
            if chunk_number % 10 == 9 or done == article_count:
                print(f"  {done:,} articles, {time.perf_counter() - started:.0f} s", file=sys.stderr)
        store.finish_run(connection, run_id, "succeeded", None, requests=0, efetch_requests=0)
        store.checkpoint(connection)
    finally:
        connection.close()
    partial.rename(path)
    for leftover in (Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    print(f"  generated {article_count:,} articles in {time.perf_counter() - started:.0f} s -> {path}",
          file=sys.stderr)


def _write_tags(connection, pmids: list[int], baseline_id: str, causes: list[str], rng: random.Random,
                now: str) -> None:
    links: dict[str, list[int]] = {baseline_id: list(pmids)}
    tags, facets, stances = [], [], []
    for pmid in pmids:
        facets.append((pmid, rng.choices(DESIGNS, DESIGN_WEIGHTS)[0], rng.choices(SPECIES, SPECIES_WEIGHTS)[0],
                       False, rng.random() < 0.04, False, rng.random() < 0.03, False))
        for cause in rng.sample(causes, k=rng.choice((0, 0, 1, 1, 1, 2, 3))):
            source = rng.choice(("query", "text", "query+text"))
            if source != "text":
                links.setdefault(cause, []).append(pmid)
            if source != "query":
                tags.append((pmid, cause, source, [{"term": cause, "field": "abstract"}]))
            if rng.random() < 0.85:
                stances.append((pmid, cause, rng.choice(STANCES), rng.choice(EVIDENCE_KINDS), rng.random() < 0.2,
                                "RESULTS", "Levels were significantly higher than in healthy controls.",
                                "significantly higher", rng.randint(12, 400) if rng.random() < 0.6 else None,
                                None, "high", None))
    for hypothesis_id, linked in links.items():
        store.link_hypothesis(connection, hypothesis_id, linked, now)
    store.save_tags(connection,
                    pd.DataFrame(tags, columns=["pmid", "hypothesis_id", "source", "matched_terms"]),
                    pd.DataFrame(facets, columns=["pmid", *FACET_COLUMNS]), RULES_VERSION)
    store.save_stances(connection,
                       pd.DataFrame(stances, columns=["pmid", "hypothesis_id", *store.STANCE_COLUMNS]),
                       pmids, RULES_VERSION)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", type=int, nargs="+")
    parser.add_argument("--out", type=Path, help="the store's path (one size only); default under /tmp")
    arguments = parser.parse_args()
    for article_count in arguments.sizes:
        generate(arguments.out or store_path(article_count), article_count)


if __name__ == "__main__":
    main()
