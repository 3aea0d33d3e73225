"""The emerging analysis read from the store a few articles at a time (a pass over the batches per step) counts
exactly what it counts in one batch: candidates, tallies, pairs and the ranking."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FIXTURES_DIR
from support.seed import make_articles, seed_store

from tracker import store
from tracker.analysis import emerging
from tracker.analysis.emerging import candidates as candidates_module
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses
from tracker.models import AbstractSection, Article, MeshHeading
from tracker.pubmed.parse import iter_pubmed_records

HYPOTHESES = load_hypotheses(DEFAULT_HYPOTHESES_PATH)
AS_OF = 2025
METHOD = emerging.Method(min_articles=2)
# Neighbours in PMID order: "kelvorin signalling" in articles on either side of the boundaries of batches of 1, 3
# and 7; every abstract ends with "zentor" and the next one begins with "Mivex", a phrase of no article.
KELVORIN_AT = (2, 3, 6, 7, 13)


def boundary_articles() -> list[Article]:
    articles = []
    for number in range(14):
        sentences = ["Mivex levels were stable."]
        if number in KELVORIN_AT:
            sentences.append("Kelvorin signalling was raised in small-fibre neuropathy.")
        sentences.append("Findings were reported for the zentor")
        articles.append(Article(
            pmid=40_000_000 + number, title=f"Boundary report {number}", pub_year=2015 + number % 10,
            entry_date=f"{2015 + number % 10}-03-01", abstract=(AbstractSection(" ".join(sentences)),),
            mesh=(MeshHeading("Fibromyalgia", "D005356"), MeshHeading("Ganglia, Spinal", "D005727")),
            keywords=("Kelvorin signaling",) if number in (3, 7) else ("Small fiber neuropathy",),
            publication_types=("Journal Article",)))
    return articles


@pytest.fixture(scope="module")
def mixed_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's PubMed fixtures, seeded articles with MeSH and keywords, and the boundary articles."""
    fixtures = [record for name in ("import_fibromyalgia.xml", "efetch_journal.xml", "efetch_dates.xml")
                for record in iter_pubmed_records((FIXTURES_DIR / name).read_bytes()) if isinstance(record, Article)]
    articles = {article.pmid: article for article in [*fixtures, *make_articles(60, seed=5), *boundary_articles()]}
    path = tmp_path_factory.mktemp("batches") / "mixed.sqlite"
    seed_store(path, HYPOTHESES, list(articles.values()))
    return path


def pairs_of(mentions: emerging.Mentions) -> list[tuple[int, str]]:
    keys = mentions.candidates["key"].to_numpy(dtype=object)
    return sorted((int(mentions.pmids[article]), keys[candidate]) for articles, candidates in mentions.pair_batches()
                  for article, candidate in zip(articles.tolist(), candidates.tolist()))


@pytest.mark.parametrize("batch_size", [1, 3, 7])
def test_a_few_articles_at_a_time_count_what_one_batch_counts(mixed_db: Path, batch_size: int) -> None:
    with store.reading(mixed_db) as connection:
        (frame,) = store.iter_emerging_batches(connection, "fibromyalgia", batch_size=1_000_000)  # one batch
        whole = emerging.extract_mentions(emerging.baseline_articles(frame, HYPOTHESES, AS_OF), HYPOTHESES, METHOD)

        def read(names: bool = True) -> object:
            return (emerging.baseline_articles(batch, HYPOTHESES, AS_OF) for batch
                    in store.iter_emerging_batches(connection, "fibromyalgia", batch_size=batch_size, names=names))

        batched = emerging.extract_mentions(read, HYPOTHESES, METHOD)
        pd.testing.assert_frame_equal(batched.candidates, whole.candidates)
        for got, expected in zip([batched.pmids, batched.pub_years, batched.available_years, *batched.tallies],
                                 [whole.pmids, whole.pub_years, whole.available_years, *whole.tallies]):
            np.testing.assert_array_equal(got, expected)
        assert pairs_of(batched) == pairs_of(whole)
        ranked_whole = emerging.find_emerging(frame, HYPOTHESES, as_of=AS_OF, current_year=AS_OF + 1, method=METHOD)
        ranked_batched = emerging.find_emerging(
            functools.partial(store.iter_emerging_batches, connection, "fibromyalgia", batch_size=batch_size),
            HYPOTHESES, as_of=AS_OF, current_year=AS_OF + 1, method=METHOD)
    for got, expected in zip(ranked_batched[:3], ranked_whole[:3]):
        pd.testing.assert_frame_equal(got, expected)

    candidates = whole.candidates.set_index("key")
    assert len(frame) > 3 * batch_size and len(ranked_whole.ranked) > 5
    assert candidates.loc["kelvorin signaling", ["kind", "articles"]].tolist() == ["keyword+phrase", len(KELVORIN_AT)]
    assert candidates.loc["ganglia spinal", "kind"] == "mesh"
    assert candidates.at["small fiber neuropathy", "kind"] == "keyword+phrase"
    # Phrases end with their article: none runs from one abstract into the next, in a batch or across two.
    assert candidates.loc[["zentor", "mivex levels"], "articles"].tolist() == [14, 14]
    assert not any("zentor mivex" in key for key in candidates.index)
    # Each length of phrase is counted in a pass of its own: all four are there.
    assert set(candidates.index.str.split().str.len()) == {1, 2, 3, 4}


def test_batches_kept_between_passes_count_what_batches_read_again_count(mixed_db: Path) -> None:
    with store.reading(mixed_db) as connection:
        passes: list[bool] = []

        def read(names: bool = True) -> object:
            passes.append(names)
            return (emerging.baseline_articles(batch, HYPOTHESES, AS_OF) for batch
                    in store.iter_emerging_batches(connection, "fibromyalgia", batch_size=7, names=names))

        everything = candidates_module._survey(candidates_module.batch_reader(read), 1 << 30)
        sizes = [batch.size_bytes() for batch in everything.kept]
        assert len(sizes) == everything.batch_count > 4
        # Room for the first half of the batches: the later passes read the others again.
        some_bytes = sum(sizes[:len(sizes) // 2]) + 1
        assert 0 < len(candidates_module._survey(candidates_module.batch_reader(read), some_bytes).kept) < len(sizes)
        found = {}
        for kept_bytes in (0, some_bytes, 1 << 30):
            passes.clear()
            mentions = emerging.extract_mentions(read, HYPOTHESES, METHOD, kept_bytes=kept_bytes)
            found[kept_bytes] = (mentions, pairs_of(mentions), list(passes))
    none, some, every = found[0], found[some_bytes], found[1 << 30]
    # Read once per pass (tokens and names; phrases of 2, 3 and 4 words; candidates; pairs), or once in all.
    assert none[2] == some[2] == [True, False, False, False, True, True] and every[2] == [True]
    for mentions, pairs, _ in (some, every):
        pd.testing.assert_frame_equal(mentions.candidates, none[0].candidates)
        for got, expected in zip([mentions.pmids, mentions.pub_years, mentions.available_years, *mentions.tallies],
                                 [none[0].pmids, none[0].pub_years, none[0].available_years, *none[0].tallies]):
            np.testing.assert_array_equal(got, expected)
        assert pairs == none[1]
    assert len(none[1]) > 100
